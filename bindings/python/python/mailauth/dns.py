"""DNS as the checks see it: queries, resolvers and the answer kinds.

A resolver is a bundled one (:class:`ZoneResolver`, :class:`StubResolver`) or
any object with a ``lookup(query)`` method, plain or ``async``. ``lookup``
returns a list of records of ``query.record_type`` (an empty list means the
name has no such records) or raises :class:`NXDomain`, :class:`NoData`,
:class:`TempFail` or :class:`PermFail`. ``TimeoutError`` counts as a
temporary timeout and any other ``OSError`` as a temporary network failure;
other exceptions propagate to the caller of the check.

Records by type: TXT as ``bytes`` or ``str`` (one string) or a tuple of them
(the character-strings, kept apart as on the wire); A and AAAA as ``str`` or
:mod:`ipaddress` objects; MX as ``(preference, exchange)``; PTR as ``str``.
"""

from __future__ import annotations

import ipaddress
from typing import Awaitable, Protocol, Sequence, Tuple, Union

from mailauth._native import (
    DnsError,
    NoData,
    NXDomain,
    PermFail,
    Query,
    StubResolver,
    TempFail,
    ZoneResolver,
)

#: One record as a resolver may return it.
Record = Union[
    str,
    bytes,
    Tuple[Union[str, bytes], ...],
    Tuple[int, str],
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
]


class Resolver(Protocol):
    """Anything with a blocking ``lookup``."""

    def lookup(self, query: Query, /) -> Sequence[Record]: ...


class AsyncResolver(Protocol):
    """Anything with an ``async`` ``lookup``."""

    def lookup(self, query: Query, /) -> Awaitable[Sequence[Record]]: ...


_system_resolver: StubResolver | None = None


def system_resolver() -> StubResolver:
    """The :class:`StubResolver` configured from ``/etc/resolv.conf``, made once."""
    global _system_resolver
    if _system_resolver is None:
        _system_resolver = StubResolver()
    return _system_resolver


__all__ = [
    "AsyncResolver",
    "DnsError",
    "NXDomain",
    "NoData",
    "PermFail",
    "Query",
    "Record",
    "Resolver",
    "StubResolver",
    "TempFail",
    "ZoneResolver",
    "system_resolver",
]
