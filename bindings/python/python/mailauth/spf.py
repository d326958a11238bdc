"""SPF (RFC 7208): is this client allowed to send for this domain?

>>> from mailauth import dns, spf
>>> zone = dns.ZoneResolver('$ORIGIN example.org.\\n@ TXT "v=spf1 ip4:192.0.2.0/24 -all"\\n')
>>> spf.check("198.51.100.1", helo="mx.example.net", mail_from="a@example.org", resolver=zone)
SpfResult(result='fail', identity='mailfrom', domain='example.org', reason='mechanism -all matched in example.org')
"""

from __future__ import annotations

import ipaddress
from typing import Literal, TypedDict, Union

from mailauth._driver import AnyResolver, Timestamp, Unpack, resolve, resolve_async, unix_time, validate_options
from mailauth._native import Check, Settings, SpfResult, spf_check
from mailauth.dns import Resolver

IpAddress = Union[str, ipaddress.IPv4Address, ipaddress.IPv6Address]


class _SpfRequired(TypedDict):
    helo: str


class SpfOptions(_SpfRequired, total=False):
    """The keyword arguments of :func:`start`, :func:`check` and
    :func:`check_async` (besides ``resolver``), with their defaults. The
    limits and ``receiver`` given replace those of ``settings``.

    ``helo`` (required)
        The HELO/EHLO name the client gave.
    ``mail_from = ""``
        The MAIL FROM address; the null sender ``""`` (a bounce) checks
        ``postmaster@helo``.
    ``identity = "mailfrom"``
        The identity checked: ``"mailfrom"`` (``mail_from``) or ``"helo"``
        (the HELO name).
    ``now = None``
        The time of the ``%{t}`` macro: seconds since the epoch or an aware
        :class:`datetime.datetime`; None is the current time.
    ``settings = None``
        A :class:`mailauth.Settings` whose ``[spf]`` section the check
        starts from (``receiver``, ``max_void_lookups``,
        ``max_dns_mechanisms`` and the other limits); None is the defaults
        below.
    ``receiver = "unknown"``
        The ``%{r}`` macro: this host's name.
    ``max_void_lookups = 2``
        Lookups answering NXDOMAIN or no data allowed; one more is a
        ``permerror`` (RFC 7208 section 4.6.4).
    ``max_dns_mechanisms = 10``
        Terms that query DNS allowed in one evaluation, includes and
        redirects counted; one more is a ``permerror`` (section 4.6.4).
    """

    mail_from: str
    identity: Literal["mailfrom", "helo"]
    now: Timestamp
    receiver: str
    max_void_lookups: int
    max_dns_mechanisms: int
    settings: Settings


def start(ip: IpAddress, **options: Unpack[SpfOptions]) -> Check:
    """The check as a :class:`mailauth.Check`, for callers that drive it
    themselves. The options are those of :class:`SpfOptions`."""
    validate_options(options, SpfOptions)
    return spf_check(
        ip,
        helo=options["helo"],
        mail_from=options.get("mail_from", ""),
        identity=options.get("identity", "mailfrom"),
        now=unix_time(options.get("now")),
        receiver=options.get("receiver"),
        max_void_lookups=options.get("max_void_lookups"),
        max_dns_mechanisms=options.get("max_dns_mechanisms"),
        settings=options.get("settings"),
    )


def check(ip: IpAddress, *, resolver: Resolver | None = None, **options: Unpack[SpfOptions]) -> SpfResult:
    """Checks whether ``ip`` may send for the MAIL FROM identity or, with
    ``identity="helo"``, the HELO name, asking ``resolver`` (the system's by
    default). The options are those of :class:`SpfOptions`."""
    result: SpfResult = resolve(start(ip, **options), resolver)
    return result


async def check_async(
    ip: IpAddress, *, resolver: AnyResolver | None = None, **options: Unpack[SpfOptions]
) -> SpfResult:
    """:func:`check` for asyncio: ``resolver.lookup`` may be a coroutine function."""
    result: SpfResult = await resolve_async(start(ip, **options), resolver)
    return result


__all__ = ["IpAddress", "SpfOptions", "SpfResult", "check", "check_async", "start"]
