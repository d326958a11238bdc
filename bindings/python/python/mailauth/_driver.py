"""Drivers over the poll/supply seam of a :class:`mailauth.Check`."""

from __future__ import annotations

import asyncio
import datetime
import inspect
import time
from typing import Any, Union

from mailauth._native import Check, ConfigError, DnsError, StubResolver, TempFail
from mailauth.dns import AsyncResolver, Resolver, system_resolver

AnyResolver = Union[Resolver, AsyncResolver]
Timestamp = Union[int, float, datetime.datetime, None]


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


async def resolve_async(check: Check, resolver: AnyResolver | None = None) -> Any:
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
