"""DMARC (RFC 9989; RFC 7489 mode): does the author domain's policy accept
what SPF and DKIM found?

:func:`check` discovers the policy of the message's From domain and weighs
SPF and DKIM results computed before. :func:`mailauth.authenticate` runs all
three in one pipeline and is what a receiving MTA usually wants.
"""

from __future__ import annotations

import random
from typing import Literal

from mailauth._driver import AnyResolver, resolve, resolve_async
from mailauth._native import Check, DkimResult, DmarcResult, SpfResult, dmarc_check
from mailauth.dkim import Message
from mailauth.dns import Resolver



def draw_sample() -> int:
    """A random draw 0..99 for the ``pct`` tag of RFC 7489 mode."""
    return random.randrange(100)


def start(
    message: Message | None = None,
    *,
    author_domain: str | None = None,
    spf: SpfResult | None = None,
    dkim: DkimResult | None = None,
    mode: Literal["rfc9989", "rfc7489"] = "rfc9989",
    sample: int | None = None,
) -> Check:
    """The check as a :class:`mailauth.Check`, for callers that drive it themselves."""
    return dmarc_check(
        message,
        author_domain=author_domain,
        spf=spf,
        dkim=dkim,
        mode=mode,
        sample=draw_sample() if sample is None else sample,
    )


def check(
    message: Message | None = None,
    *,
    author_domain: str | None = None,
    spf: SpfResult | None = None,
    dkim: DkimResult | None = None,
    resolver: Resolver | None = None,
    mode: Literal["rfc9989", "rfc7489"] = "rfc9989",
    sample: int | None = None,
) -> DmarcResult:
    """Checks DMARC for the From domain of ``message`` (only its header is
    used) or for ``author_domain``, with the ``spf`` result of the MAIL FROM
    identity and the ``dkim`` result of the message.

    ``mode`` picks RFC 9989 (DNS tree walk) or RFC 7489 (public suffix
    list, ``pct``); ``sample`` (0..99, random by default) is the draw for
    ``pct`` in RFC 7489 mode.
    """
    result: DmarcResult = resolve(
        start(message, author_domain=author_domain, spf=spf, dkim=dkim, mode=mode, sample=sample),
        resolver,
    )
    return result


async def check_async(
    message: Message | None = None,
    *,
    author_domain: str | None = None,
    spf: SpfResult | None = None,
    dkim: DkimResult | None = None,
    resolver: AnyResolver | None = None,
    mode: Literal["rfc9989", "rfc7489"] = "rfc9989",
    sample: int | None = None,
) -> DmarcResult:
    """:func:`check` for asyncio: ``resolver.lookup`` may be a coroutine function."""
    result: DmarcResult = await resolve_async(
        start(message, author_domain=author_domain, spf=spf, dkim=dkim, mode=mode, sample=sample),
        resolver,
    )
    return result


__all__ = ["DmarcResult", "check", "check_async", "draw_sample", "start"]
