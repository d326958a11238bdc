"""The inbound pipeline: SPF, DKIM and DMARC for one received message."""

from __future__ import annotations

import ipaddress
from typing import Iterable, Literal, Union

from mailauth._driver import AnyResolver, Timestamp, resolve, resolve_async, unix_time
from mailauth._native import AuthResult, Check, authenticate_start
from mailauth.dkim import Message
from mailauth.dmarc import draw_sample
from mailauth.dns import Resolver

IpAddress = Union[str, ipaddress.IPv4Address, ipaddress.IPv6Address]


def start_authenticate(
    message: Message,
    *,
    ip: IpAddress,
    helo: str,
    mail_from: str,
    authserv_id: str,
    now: Timestamp = None,
    authenticated: bool = False,
    internal: bool = False,
    check_helo: bool = True,
    internal_networks: Iterable[str] = (),
    trusted_authserv_ids: Iterable[str] = (),
    dmarc_mode: Literal["rfc9989", "rfc7489"] = "rfc9989",
    dmarc_sample: int | None = None,
) -> Check:
    """Reads the message and returns the pipeline as a :class:`mailauth.Check`."""
    return authenticate_start(
        message,
        ip=ip,
        helo=helo,
        mail_from=mail_from,
        authserv_id=authserv_id,
        now=unix_time(now),
        authenticated=authenticated,
        internal=internal,
        check_helo=check_helo,
        internal_networks=list(internal_networks),
        trusted_authserv_ids=list(trusted_authserv_ids),
        dmarc_mode=dmarc_mode,
        dmarc_sample=draw_sample() if dmarc_sample is None else dmarc_sample,
    )


def authenticate(
    message: Message,
    *,
    ip: IpAddress,
    helo: str,
    mail_from: str,
    authserv_id: str,
    resolver: Resolver | None = None,
    now: Timestamp = None,
    authenticated: bool = False,
    internal: bool = False,
    check_helo: bool = True,
    internal_networks: Iterable[str] = (),
    trusted_authserv_ids: Iterable[str] = (),
    dmarc_mode: Literal["rfc9989", "rfc7489"] = "rfc9989",
    dmarc_sample: int | None = None,
) -> AuthResult:
    """Runs SPF (MAIL FROM and HELO), DKIM and DMARC on a received message.

    ``ip``, ``helo`` and ``mail_from`` are the SMTP facts (``mail_from`` is
    ``""`` for a bounce); ``authserv_id`` names this host in the
    Authentication-Results field. Mail from ``authenticated`` or
    ``internal`` clients, or from ``internal_networks`` (CIDR strings), is
    not checked. Every lookup of a round is asked before any answer is
    awaited, so a resolver that answers in parallel waits one round trip.
    """
    result: AuthResult = resolve(
        start_authenticate(
            message,
            ip=ip,
            helo=helo,
            mail_from=mail_from,
            authserv_id=authserv_id,
            now=now,
            authenticated=authenticated,
            internal=internal,
            check_helo=check_helo,
            internal_networks=internal_networks,
            trusted_authserv_ids=trusted_authserv_ids,
            dmarc_mode=dmarc_mode,
            dmarc_sample=dmarc_sample,
        ),
        resolver,
    )
    return result


async def authenticate_async(
    message: Message,
    *,
    ip: IpAddress,
    helo: str,
    mail_from: str,
    authserv_id: str,
    resolver: AnyResolver | None = None,
    now: Timestamp = None,
    authenticated: bool = False,
    internal: bool = False,
    check_helo: bool = True,
    internal_networks: Iterable[str] = (),
    trusted_authserv_ids: Iterable[str] = (),
    dmarc_mode: Literal["rfc9989", "rfc7489"] = "rfc9989",
    dmarc_sample: int | None = None,
) -> AuthResult:
    """:func:`authenticate` for asyncio (aiosmtpd handlers): the lookups of
    each round run concurrently, and ``resolver.lookup`` may be a coroutine
    function."""
    result: AuthResult = await resolve_async(
        start_authenticate(
            message,
            ip=ip,
            helo=helo,
            mail_from=mail_from,
            authserv_id=authserv_id,
            now=now,
            authenticated=authenticated,
            internal=internal,
            check_helo=check_helo,
            internal_networks=internal_networks,
            trusted_authserv_ids=trusted_authserv_ids,
            dmarc_mode=dmarc_mode,
            dmarc_sample=dmarc_sample,
        ),
        resolver,
    )
    return result
