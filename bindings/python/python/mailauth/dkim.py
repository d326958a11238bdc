"""DKIM (RFC 6376, 8301, 8463): verify and sign messages, generate keys.

A message is ``bytes``, a binary file-like object (read in chunks), or an
iterable of ``bytes`` chunks: it never has to be in memory at once. Hashing,
signing and verifying run without the GIL.
"""

from __future__ import annotations

from typing import BinaryIO, Iterable, Sequence, TypedDict, Union

from mailauth._driver import AnyResolver, Timestamp, Unpack, resolve, resolve_async, unix_time, validate_options
from mailauth._native import (
    DEFAULT_HEADERS,
    Check,
    DkimResult,
    PrivateKey,
    Settings,
    SignatureResult,
    dkim_sign,
    dkim_verify,
    generate_key,
)
from mailauth.dns import Resolver

Message = Union[bytes, bytearray, memoryview, BinaryIO, Iterable[bytes]]


class VerifyOptions(TypedDict, total=False):
    """The keyword arguments of :func:`start_verify`, :func:`verify` and
    :func:`verify_async` (besides ``resolver``), with their defaults. The
    options given replace those of ``settings``.

    ``settings = None``
        A :class:`mailauth.Settings` whose ``[verify]`` section the
        verification starts from (``min_key_bits``, ``allow_sha1``,
        ``max_signatures``, ``clock_skew``, the header limits, the key
        cache); None is the defaults below.
    ``now = None``
        The time that decides ``x=`` expiry: seconds since the epoch or an
        aware :class:`datetime.datetime`; None is the current time.
    ``allow_sha1 = False``
        Accept rsa-sha1 signatures, which RFC 8301 refuses.
    ``min_rsa_bits = 1024``
        The smallest RSA key accepted, in bits (RFC 8301).
    ``max_signatures = 5``
        The most signatures checked, from the top; the others are reported
        as not checked.
    """

    now: Timestamp
    allow_sha1: bool
    min_rsa_bits: int
    max_signatures: int
    settings: Settings


def start_verify(message: Message, **options: Unpack[VerifyOptions]) -> Check:
    """Reads the message and returns the key lookups as a
    :class:`mailauth.Check`. The options are those of :class:`VerifyOptions`."""
    validate_options(options, VerifyOptions)
    return dkim_verify(
        message,
        now=unix_time(options.get("now")),
        allow_sha1=options.get("allow_sha1"),
        min_rsa_bits=options.get("min_rsa_bits"),
        max_signatures=options.get("max_signatures"),
        settings=options.get("settings"),
    )


def verify(message: Message, *, resolver: Resolver | None = None, **options: Unpack[VerifyOptions]) -> DkimResult:
    """Verifies every DKIM-Signature of ``message``, asking ``resolver`` (the
    system's by default) for the keys. The options are those of
    :class:`VerifyOptions`."""
    result: DkimResult = resolve(start_verify(message, **options), resolver)
    return result


async def verify_async(
    message: Message, *, resolver: AnyResolver | None = None, **options: Unpack[VerifyOptions]
) -> DkimResult:
    """:func:`verify` for asyncio: ``resolver.lookup`` may be a coroutine function."""
    result: DkimResult = await resolve_async(start_verify(message, **options), resolver)
    return result


def sign(
    message: Message,
    *,
    key: PrivateKey | bytes | str,
    domain: str,
    selector: str,
    identity: str | None = None,
    headers: Sequence[str] | None = None,
    oversign: Sequence[str] | None = None,
    canonicalization: str | None = None,
    now: Timestamp = None,
    timestamp: bool | None = None,
    expire_after: int | None = None,
    body_length: bool | None = None,
    linesep: str = "\r\n",
    settings: Settings | None = None,
) -> str:
    """Signs ``message`` and returns the ``DKIM-Signature`` field to prepend
    (name, folded value and final ``linesep``).

    ``key`` is a :class:`PrivateKey` or PEM text. The algorithm follows the
    key: rsa-sha256 or ed25519-sha256. ``headers`` are signed when present
    (default :data:`DEFAULT_HEADERS`; From always); ``oversign`` names are
    listed once more than they occur (default ``["from"]``).
    ``canonicalization`` is ``"header/body"`` with ``simple`` or ``relaxed``
    (default ``"relaxed/relaxed"``). ``t=`` is written unless ``timestamp``
    is false (default true); ``x=`` is ``now + expire_after``, and not
    written by default or for ``expire_after=0``; ``l=`` is written when
    ``body_length`` is true (default false).

    ``settings``, a :class:`mailauth.Settings`, gives the defaults of these
    options instead: its ``[signing]`` section (``canonicalization``,
    ``headers``, ``oversign_headers``, ``timestamp``, ``signature_ttl``,
    ``body_length``). The options given (not None) replace them.
    """
    if not isinstance(key, PrivateKey):
        key = PrivateKey.from_pem(key)
    return dkim_sign(
        message,
        key=key,
        domain=domain,
        selector=selector,
        now=unix_time(now),
        identity=identity,
        headers=None if headers is None else list(headers),
        oversign=None if oversign is None else list(oversign),
        canonicalization=canonicalization,
        timestamp=timestamp,
        expire_after=expire_after,
        body_length=body_length,
        linesep=linesep,
        settings=settings,
    )


__all__ = [
    "DEFAULT_HEADERS",
    "DkimResult",
    "Message",
    "PrivateKey",
    "SignatureResult",
    "VerifyOptions",
    "generate_key",
    "sign",
    "start_verify",
    "verify",
    "verify_async",
]
