"""SPF (RFC 7208): is this client allowed to send for this domain?

>>> from mailauth import dns, spf
>>> zone = dns.ZoneResolver('$ORIGIN example.org.\\n@ TXT "v=spf1 ip4:192.0.2.0/24 -all"\\n')
>>> spf.check("198.51.100.1", helo="mx.example.net", mail_from="a@example.org", resolver=zone)
SpfResult(result='fail', identity='mailfrom', domain='example.org', reason='mechanism -all matched in example.org')
"""

from __future__ import annotations

import ipaddress
from typing import Literal, Union

from mailauth._driver import AnyResolver, Timestamp, resolve, resolve_async, unix_time
from mailauth._native import Check, SpfResult, spf_check
from mailauth.dns import Resolver

IpAddress = Union[str, ipaddress.IPv4Address, ipaddress.IPv6Address]


def start(
    ip: IpAddress,
    *,
    helo: str,
    mail_from: str = "",
    identity: Literal["mailfrom", "helo"] = "mailfrom",
    now: Timestamp = None,
    receiver: str = "unknown",
    max_void_lookups: int = 2,
    max_dns_mechanisms: int = 10,
) -> Check:
    """The check as a :class:`mailauth.Check`, for callers that drive it themselves."""
    return spf_check(
        ip,
        helo=helo,
        mail_from=mail_from,
        identity=identity,
        now=unix_time(now),
        receiver=receiver,
        max_void_lookups=max_void_lookups,
        max_dns_mechanisms=max_dns_mechanisms,
    )


def check(
    ip: IpAddress,
    *,
    helo: str,
    mail_from: str = "",
    identity: Literal["mailfrom", "helo"] = "mailfrom",
    resolver: Resolver | None = None,
    now: Timestamp = None,
    receiver: str = "unknown",
    max_void_lookups: int = 2,
    max_dns_mechanisms: int = 10,
) -> SpfResult:
    """Checks the MAIL FROM identity (``mail_from``; the null sender ``""``
    checks ``postmaster@helo``) or, with ``identity="helo"``, the HELO name.

    ``now`` is the time for the ``%{t}`` macro (default: the current time);
    ``receiver`` is the ``%{r}`` macro.
    """
    result: SpfResult = resolve(
        start(
            ip,
            helo=helo,
            mail_from=mail_from,
            identity=identity,
            now=now,
            receiver=receiver,
            max_void_lookups=max_void_lookups,
            max_dns_mechanisms=max_dns_mechanisms,
        ),
        resolver,
    )
    return result


async def check_async(
    ip: IpAddress,
    *,
    helo: str,
    mail_from: str = "",
    identity: Literal["mailfrom", "helo"] = "mailfrom",
    resolver: AnyResolver | None = None,
    now: Timestamp = None,
    receiver: str = "unknown",
    max_void_lookups: int = 2,
    max_dns_mechanisms: int = 10,
) -> SpfResult:
    """:func:`check` for asyncio: ``resolver.lookup`` may be a coroutine function."""
    result: SpfResult = await resolve_async(
        start(
            ip,
            helo=helo,
            mail_from=mail_from,
            identity=identity,
            now=now,
            receiver=receiver,
            max_void_lookups=max_void_lookups,
            max_dns_mechanisms=max_dns_mechanisms,
        ),
        resolver,
    )
    return result


__all__ = ["IpAddress", "SpfResult", "check", "check_async", "start"]
