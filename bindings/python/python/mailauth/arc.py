"""ARC, the Authenticated Received Chain (RFC 8617): validate a message's
chain and seal it with a new ARC set before relaying it.

:func:`verify` validates the chain (``none``, ``pass`` or ``fail``, with a
summary of every set). An :class:`ArcSealer` adds this hop's set: give it the
result of validating the same message and the Authentication-Results to
record. :func:`mailauth.authenticate` validates the chain too with
``arc=True``, and lets trusted sealers set a DMARC failure aside
(``trusted_arc_sealers``).
"""

from __future__ import annotations

from typing import TypedDict

from mailauth._driver import AnyResolver, Timestamp, Unpack, resolve, resolve_async, unix_time, validate_options
from mailauth._native import ArcResult, ArcSeal, ArcSealer, ArcSet, Check, PrivateKey, Settings, arc_validate
from mailauth.dkim import Message
from mailauth.dns import Resolver


class VerifyOptions(TypedDict, total=False):
    """The keyword arguments of :func:`start_verify`, :func:`verify` and
    :func:`verify_async` (besides ``resolver``), with their defaults. The
    options given replace those of ``settings``.

    ``settings = None``
        A :class:`mailauth.Settings` whose ``[arc]`` section (when its
        ``verify`` is on) the validation starts from; None is the defaults
        below.
    ``allow_sha1 = False``
        Accept rsa-sha1 signatures, which RFC 8301 refuses.
    ``min_rsa_bits = 1024``
        The smallest RSA key accepted, in bits (RFC 8301).
    ``max_sets = 50``
        The most ARC sets accepted (1 to 50); a longer chain fails.
    ``oldest_pass = False``
        Also verify the older ARC-Message-Signatures, to report
        ``oldest_pass`` (``header.oldest-pass``; with one set it is reported
        anyway). Costs one signature check per older set.
    """

    allow_sha1: bool
    min_rsa_bits: int
    max_sets: int
    oldest_pass: bool
    settings: Settings


def start_verify(message: Message, **options: Unpack[VerifyOptions]) -> Check:
    """Reads the message and returns the key lookups of its chain as a
    :class:`mailauth.Check`. The options are those of :class:`VerifyOptions`."""
    validate_options(options, VerifyOptions)
    return arc_validate(
        message,
        allow_sha1=options.get("allow_sha1"),
        min_rsa_bits=options.get("min_rsa_bits"),
        max_sets=options.get("max_sets"),
        oldest_pass=options.get("oldest_pass"),
        settings=options.get("settings"),
    )


def verify(message: Message, *, resolver: Resolver | None = None, **options: Unpack[VerifyOptions]) -> ArcResult:
    """Validates the ARC chain of ``message``, asking ``resolver`` (the
    system's by default) for the keys of every set at once. The options are
    those of :class:`VerifyOptions`."""
    result: ArcResult = resolve(start_verify(message, **options), resolver)
    return result


async def verify_async(
    message: Message, *, resolver: AnyResolver | None = None, **options: Unpack[VerifyOptions]
) -> ArcResult:
    """:func:`verify` for asyncio: ``resolver.lookup`` may be a coroutine function."""
    result: ArcResult = await resolve_async(start_verify(message, **options), resolver)
    return result


def seal(
    message: Message,
    *,
    sealer: ArcSealer,
    chain: ArcResult,
    results: str | None = None,
    now: Timestamp = None,
) -> ArcSeal:
    """Seals ``message`` with ``sealer``: ``chain`` is the result of
    :func:`verify` on the same message, ``results`` the value of the
    Authentication-Results field to record (``"authserv-id; spf=pass
    ..."``), or None to record the message's own Authentication-Results
    fields that carry the sealer's authserv-id. ``now`` is the sealing time
    (``t=``; None is the current time)."""
    return sealer.seal(message, chain=chain, results=results, now=unix_time(now))


__all__ = [
    "ArcResult",
    "ArcSeal",
    "ArcSealer",
    "ArcSet",
    "PrivateKey",
    "VerifyOptions",
    "seal",
    "start_verify",
    "verify",
    "verify_async",
]
