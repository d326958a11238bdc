"""Drivers over the poll/supply seam of a :class:`mailauth.Check` (and of a
:class:`mailauth.Session` stage), and what the checks share: times, resolver
types and keyword options."""

from __future__ import annotations

import asyncio
import datetime
import inspect
import sys
import time
from typing import Any, Mapping, Protocol, TypeVar, Union

from mailauth._native import Check, ConfigError, DnsError, Query, StubResolver, TempFail
from mailauth.dns import AsyncResolver, Resolver, system_resolver

if sys.version_info >= (3, 11):
    from typing import Unpack as Unpack
else:
    from typing_extensions import Unpack as Unpack

AnyResolver = Union[Resolver, AsyncResolver]
Timestamp = Union[int, float, datetime.datetime, None]


T_co = TypeVar("T_co", covariant=True)


class Pollable(Protocol[T_co]):
    """What the drivers run: a :class:`mailauth.Check` or a
    :class:`mailauth.Session` stage."""

    def poll(self) -> list[Query]: ...

    def supply(self, query: Query, answer: object, /) -> None: ...

    def outcome(self) -> T_co: ...


class OptionsType(Protocol):
    """A ``TypedDict`` class: the keys it requires and the keys it allows."""

    __required_keys__: frozenset[str]
    __optional_keys__: frozenset[str]


def validate_options(options: Mapping[str, object], known: OptionsType) -> None:
    """Raises :class:`TypeError`, as a call with a wrong keyword argument
    does, when ``options`` (the ``**options`` of a call) holds a key that
    ``known`` does not list or lacks one that it requires."""
    for name in options:
        if name not in known.__required_keys__ and name not in known.__optional_keys__:
            raise TypeError(f"unexpected keyword argument {name!r}")
    missing = known.__required_keys__ - options.keys()
    if missing:
        names = ", ".join(repr(name) for name in sorted(missing))
        plural = "s" if len(missing) > 1 else ""
        raise TypeError(f"missing required keyword argument{plural}: {names}")


def unix_time(now: Timestamp) -> int:
    """``now`` as whole seconds since the Unix epoch; the current time for None."""
    if now is None:
        return int(time.time())
    if isinstance(now, datetime.datetime):
        if now.tzinfo is None:
            raise ConfigError("now must be an aware datetime (with tzinfo)")
        return int(now.timestamp())
    if isinstance(now, bool) or not isinstance(now, (int, float)):
        raise TypeError(f"now must be a number, a datetime or None, not {type(now).__name__}")
    if now < 0:
        raise ConfigError("now must not be before 1970")
    return int(now)


def resolve(check: Check, resolver: Resolver | None = None) -> Any:
    """Runs ``check`` to its end with a blocking resolver (the system's by default)."""
    return check.resolve(resolver if resolver is not None else system_resolver())


async def resolve_async(check: Pollable[T_co], resolver: AnyResolver | None = None) -> T_co:
    """Runs ``check`` to its end from asyncio.

    The queries of each round are looked up concurrently. ``resolver.lookup``
    may be a coroutine function or a plain one; a :class:`StubResolver` runs
    in a worker thread so that the event loop is never blocked.
    """
    if resolver is None:
        resolver = system_resolver()
    while True:
        queries = check.poll()
        if not queries:
            return check.outcome()
        answers = await asyncio.gather(*(_lookup(resolver, query) for query in queries))
        for query, answer in zip(queries, answers):
            check.supply(query, answer)


async def _lookup(resolver: AnyResolver, query: Any) -> Any:
    try:
        if isinstance(resolver, StubResolver):
            return await asyncio.to_thread(resolver.lookup, query)
        answer = resolver.lookup(query)
        if inspect.isawaitable(answer):
            answer = await answer
        return answer
    except asyncio.TimeoutError:
        return TempFail("timeout")
    except (DnsError, OSError) as error:
        return error
