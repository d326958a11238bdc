from __future__ import annotations

import ipaddress
from typing import Any

import pytest

import mailauth
from mailauth import dns, spf
from conftest import NOW

ZONE = dns.ZoneResolver(
    "$ORIGIN example.org.\n"
    '@        TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.org -all"\n'
    '_spf     TXT "v=spf1 a:relay.example.org ~all"\n'
    "relay    A   198.51.100.25\n"
    'mx       TXT "v=spf1 a -all"\n'
    "mx       A   192.0.2.1\n"
    'broken   TXT "v=spf1 ip4:192.0.2.300 -all"\n'
    'exp      TXT "v=spf1 -all exp=why.exp.example.org"\n'
    'why.exp  TXT "%{i} may not send for %{d}"\n'
)


def check(ip: Any, **kwargs: Any) -> spf.SpfResult:
    kwargs.setdefault("helo", "mx.example.org")
    return spf.check(ip, resolver=ZONE, now=NOW, **kwargs)


def test_pass_fail_softfail() -> None:
    assert check("192.0.2.7", mail_from="alice@example.org").result == "pass"
    assert check("2001:db8::5", mail_from="alice@example.org").result == "pass"
    assert check("203.0.113.9", mail_from="alice@example.org").result == "fail"


def test_result_fields_and_repr() -> None:
    result = check("192.0.2.7", mail_from="alice@example.org")
    assert result.identity == "mailfrom"
    assert result.client_ip == "192.0.2.7"
    assert result.sender == "alice@example.org"
    assert result.domain == "example.org"
    assert result.helo == "mx.example.org"
    assert "ip4:192.0.2.0/24" in result.reason
    assert result.explanation is None
    assert repr(result) == (
        "SpfResult(result='pass', identity='mailfrom', domain='example.org', "
        "reason='mechanism ip4:192.0.2.0/24 matched in example.org')"
    )
    assert str(result) == "pass"


def test_results_are_frozen() -> None:
    result = check("192.0.2.7", mail_from="alice@example.org")
    with pytest.raises(AttributeError):
        result.result = "fail"  # type: ignore[misc]


def test_ipaddress_objects_are_accepted() -> None:
    assert check(ipaddress.ip_address("192.0.2.9"), mail_from="a@example.org").result == "pass"
    assert check(ipaddress.IPv6Address("2001:db8::1"), mail_from="a@example.org").result == "pass"


def test_helo_identity_and_null_sender() -> None:
    helo = check("192.0.2.1", identity="helo")
    assert (helo.result, helo.identity, helo.sender) == ("pass", "helo", "postmaster@mx.example.org")
    bounce = check("192.0.2.1", mail_from="")
    assert (bounce.result, bounce.identity, bounce.domain) == ("pass", "mailfrom", "mx.example.org")


def test_permerror_and_explanation() -> None:
    broken = check("192.0.2.1", mail_from="a@broken.example.org")
    assert broken.result == "permerror"
    assert "broken.example.org" in broken.reason
    failed = check("192.0.2.1", mail_from="a@exp.example.org")
    assert failed.result == "fail"
    assert failed.explanation == "192.0.2.1 may not send for exp.example.org"


def test_none_without_record() -> None:
    assert check("192.0.2.1", mail_from="a@nowhere.example.com").result == "none"


def test_received_spf() -> None:
    field = check("192.0.2.7", mail_from="alice@example.org").received_spf("mx.example.net")
    assert field.startswith("Received-SPF: pass (mx.example.net: domain of alice@example.org")
    assert "client-ip=192.0.2.7;" in field


class RaisingResolver:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def lookup(self, query: dns.Query) -> list[Any]:
        raise self.error


@pytest.mark.parametrize(
    ("error", "result"),
    [
        (dns.TempFail("servfail"), "temperror"),
        (TimeoutError(), "temperror"),
        (ConnectionRefusedError(), "temperror"),
        (dns.NXDomain(), "none"),
        (dns.NoData(), "none"),
        (dns.PermFail(), "temperror"),  # RFC 7208 §4.4: any DNS error
    ],
)
def test_python_resolver_exceptions_map_to_answer_kinds(error: BaseException, result: str) -> None:
    outcome = spf.check(
        "192.0.2.1", helo="h.example.org", mail_from="a@example.org", resolver=RaisingResolver(error)
    )
    assert outcome.result == result


def test_temperror_reason_names_the_failure() -> None:
    outcome = spf.check(
        "192.0.2.1",
        helo="h.example.org",
        mail_from="a@example.org",
        resolver=RaisingResolver(TimeoutError()),
    )
    assert "timeout" in outcome.reason


def test_other_resolver_exceptions_propagate() -> None:
    with pytest.raises(ZeroDivisionError):
        spf.check(
            "192.0.2.1",
            helo="h.example.org",
            mail_from="a@example.org",
            resolver=RaisingResolver(ZeroDivisionError()),
        )


def test_bad_arguments() -> None:
    with pytest.raises(mailauth.ConfigError, match="invalid ip address"):
        check("192.0.2.300", mail_from="a@example.org")
    with pytest.raises(TypeError):
        check(1234, mail_from="a@example.org")
    with pytest.raises(mailauth.ConfigError, match="identity"):
        check("192.0.2.1", mail_from="a@example.org", identity="from")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        spf.check("192.0.2.1", "mx.example.org")  # type: ignore[misc]
    with pytest.raises(TypeError):
        check("192.0.2.1", mail_from=b"a@example.org")
    with pytest.raises(TypeError):
        spf.check("192.0.2.1", helo="h", resolver=ZONE, now="yesterday")  # type: ignore[arg-type]


def test_null_mx_through_a_python_resolver() -> None:
    zone = dns.ZoneResolver(
        "$ORIGIN nomail.example.\n"
        '@ TXT "v=spf1 mx a:v1.nomail.example a:v2.nomail.example -all"\n'
        "@ MX 0 .\n"
    )
    assert zone.lookup(dns.Query("nomail.example", "MX")) == [(0, ".")]

    class Relay:
        """Hands the bundled zone's answers over as Python values."""

        def lookup(self, query: dns.Query) -> list[Any]:
            return zone.lookup(query)

    # The null MX is one record: no void lookup, so the two void `a` terms
    # stay within the limit and `-all` decides.
    result = spf.check("192.0.2.1", helo="h.example", mail_from="a@nomail.example", resolver=Relay())
    assert result.result == "fail"
