"""The keyword options of each check: one TypedDict each, shared by the
start, blocking and async functions, and checked as a call's keywords are."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Callable

import pytest

import mailauth
from mailauth import _native, dkim, dmarc, dns, spf
from conftest import MESSAGE, NOW

EMPTY = dns.ZoneResolver()
SMTP: dict[str, Any] = dict(ip="192.0.2.25", helo="mx1.example.org", mail_from="alice@example.org", authserv_id="mx")

# (function, positional arguments, the least keyword arguments it takes)
CALLS: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = [
    (spf.start, ("192.0.2.1",), {"helo": "h.example.org"}),
    (spf.check, ("192.0.2.1",), {"helo": "h.example.org", "resolver": EMPTY}),
    (spf.check_async, ("192.0.2.1",), {"helo": "h.example.org", "resolver": EMPTY}),
    (dkim.start_verify, (MESSAGE,), {}),
    (dkim.verify, (MESSAGE,), {"resolver": EMPTY}),
    (dkim.verify_async, (MESSAGE,), {"resolver": EMPTY}),
    (dmarc.start, (), {"author_domain": "example.org"}),
    (dmarc.check, (), {"author_domain": "example.org", "resolver": EMPTY}),
    (dmarc.check_async, (), {"author_domain": "example.org", "resolver": EMPTY}),
    (mailauth.start_authenticate, (MESSAGE,), SMTP),
    (mailauth.authenticate, (MESSAGE,), {**SMTP, "resolver": EMPTY}),
    (mailauth.authenticate_async, (MESSAGE,), {**SMTP, "resolver": EMPTY}),
]


def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    result = function(*args, **kwargs)
    return asyncio.run(result) if inspect.iscoroutine(result) else result


@pytest.mark.parametrize(("function", "args", "kwargs"), CALLS)
def test_an_unknown_keyword_is_a_type_error(
    function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    call(function, *args, **kwargs)
    with pytest.raises(TypeError, match="unexpected keyword argument 'nwo'"):
        call(function, *args, **kwargs, nwo=NOW)


@pytest.mark.parametrize(("function", "args", "kwargs"), [c for c in CALLS if "helo" in c[2]])
def test_a_missing_required_keyword_is_a_type_error(
    function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(TypeError, match="missing required keyword argument: 'helo'$"):
        call(function, *args, **{k: v for k, v in kwargs.items() if k != "helo"})
    if "ip" in kwargs:
        fewer = {k: v for k, v in kwargs.items() if k not in ("ip", "authserv_id")}
        with pytest.raises(TypeError, match="missing required keyword arguments: 'authserv_id', 'ip'$"):
            call(function, *args, **fewer)


@pytest.mark.parametrize(
    ("options", "native"),
    [
        (spf.SpfOptions, _native.spf_check),
        (dkim.VerifyOptions, _native.dkim_verify),
        (dmarc.DmarcOptions, _native.dmarc_check),
        (mailauth.AuthenticateOptions, _native.authenticate_start),
    ],
)
def test_the_options_are_the_keywords_of_the_native_check(options: Any, native: Callable[..., Any]) -> None:
    keywords = [
        p.name for p in inspect.signature(native).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    assert options.__required_keys__ | options.__optional_keys__ == set(keywords)


def test_one_options_dict_serves_every_form() -> None:
    zone = dns.ZoneResolver('$ORIGIN example.org.\n@ TXT "v=spf1 ip4:192.0.2.0/24 -all"\n')
    options: spf.SpfOptions = {"helo": "h.example.org", "mail_from": "a@example.org", "now": NOW}
    assert spf.check("192.0.2.1", resolver=zone, **options).result == "pass"
    assert asyncio.run(spf.check_async("192.0.2.1", resolver=zone, **options)).result == "pass"
    assert spf.start("192.0.2.1", **options).resolve(zone).result == "pass"
    assert options == {"helo": "h.example.org", "mail_from": "a@example.org", "now": NOW}
