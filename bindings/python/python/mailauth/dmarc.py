"""DMARC (RFC 9989; RFC 7489 mode): does the author domain's policy accept
what SPF and DKIM found?

:func:`check` discovers the policy of the message's From domain and weighs
SPF and DKIM results computed before. :func:`mailauth.authenticate` runs all
three in one pipeline and is what a receiving MTA usually wants.
"""

from __future__ import annotations

import random
from typing import Literal, TypedDict

from mailauth._driver import AnyResolver, Unpack, resolve, resolve_async, validate_options
from mailauth._native import Check, DkimResult, DmarcResult, PolicyOverride, Settings, SpfResult, dmarc_check
from mailauth.dkim import Message
from mailauth.dns import Resolver


def draw_sample() -> int:
    """A random draw 0..99 for the ``pct`` tag of RFC 7489 mode."""
    return random.randrange(100)


class DmarcOptions(TypedDict, total=False):
    """The keyword arguments of :func:`start`, :func:`check` and
    :func:`check_async` (besides ``message`` and ``resolver``), with their
    defaults.

    ``author_domain = None``
        The From domain, for a check without ``message``; give one of the two.
    ``spf = None``
        The :class:`mailauth.spf.SpfResult` of the MAIL FROM identity, if checked.
    ``dkim = None``
        The :class:`mailauth.dkim.DkimResult` of the message, if verified.
    ``settings = None``
        A :class:`mailauth.Settings` whose ``[dmarc]`` section the check
        starts from (``mode``, the public suffix list, the limits); None is
        the defaults. A ``mode`` given replaces the settings' mode.
    ``mode = "rfc9989"``
        ``"rfc9989"`` (DNS tree walk) or ``"rfc7489"`` (public suffix list,
        ``pct``).
    ``sample = None``
        The draw (0..99) for ``pct`` in RFC 7489 mode; None draws at random.
    """

    author_domain: str | None
    spf: SpfResult | None
    dkim: DkimResult | None
    mode: Literal["rfc9989", "rfc7489"]
    sample: int | None
    settings: Settings


def start(message: Message | None = None, **options: Unpack[DmarcOptions]) -> Check:
    """The check as a :class:`mailauth.Check`, for callers that drive it
    themselves. The options are those of :class:`DmarcOptions`."""
    validate_options(options, DmarcOptions)
    sample = options.get("sample")
    return dmarc_check(
        message,
        author_domain=options.get("author_domain"),
        spf=options.get("spf"),
        dkim=options.get("dkim"),
        mode=options.get("mode"),
        sample=draw_sample() if sample is None else sample,
        settings=options.get("settings"),
    )


def check(
    message: Message | None = None, *, resolver: Resolver | None = None, **options: Unpack[DmarcOptions]
) -> DmarcResult:
    """Checks DMARC for the From domain of ``message`` (only its header is
    used) or for ``author_domain``, weighing the ``spf`` and ``dkim``
    results, and asking ``resolver`` (the system's by default) for the
    policy. The options are those of :class:`DmarcOptions`."""
    result: DmarcResult = resolve(start(message, **options), resolver)
    return result


async def check_async(
    message: Message | None = None, *, resolver: AnyResolver | None = None, **options: Unpack[DmarcOptions]
) -> DmarcResult:
    """:func:`check` for asyncio: ``resolver.lookup`` may be a coroutine function."""
    result: DmarcResult = await resolve_async(start(message, **options), resolver)
    return result


__all__ = ["DmarcOptions", "DmarcResult", "PolicyOverride", "check", "check_async", "draw_sample", "start"]
