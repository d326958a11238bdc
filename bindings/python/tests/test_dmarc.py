from __future__ import annotations

import asyncio

import pytest

import mailauth
from mailauth import dkim, dmarc, dns, spf
from conftest import MESSAGE, NOW, zone_with

POLICY = (
    '_dmarc      TXT "v=DMARC1; p=reject; sp=quarantine"\n'
    '@           TXT "v=spf1 ip4:192.0.2.0/24 -all"\n'
    'news        TXT "v=spf1 ip4:198.51.100.0/24 -all"\n'
)


def test_pass_on_aligned_dkim(ed25519_key: dkim.PrivateKey) -> None:
    zone = zone_with((ed25519_key, "sel"), extra=POLICY)
    message = dkim.sign(MESSAGE, key=ed25519_key, domain="example.org", selector="sel", now=NOW).encode() + MESSAGE
    spf_result = spf.check("203.0.113.1", helo="h.example.net", mail_from="a@example.org", resolver=zone)
    dkim_result = dkim.verify(message, resolver=zone, now=NOW)
    result = dmarc.check(message, spf=spf_result, dkim=dkim_result, resolver=zone)
    assert result.result == "pass"
    assert result.aligned == [("dkim", "example.org")]
    assert (result.author_domain, result.policy_domain, result.policy) == ("example.org", "example.org", "reject")
    assert result.disposition == "none"
    assert str(result) == "pass"


def test_relaxed_spf_alignment_of_a_subdomain() -> None:
    zone = zone_with(extra=POLICY)
    spf_result = spf.check("198.51.100.7", helo="h", mail_from="bounce@news.example.org", resolver=zone)
    assert spf_result.result == "pass"
    result = dmarc.check(author_domain="example.org", spf=spf_result, resolver=zone)
    assert result.result == "pass"
    assert result.aligned == [("spf", "news.example.org")]
    assert result.policy_source == "p"
    sub = dmarc.check(author_domain="news.example.org", spf=spf_result, resolver=zone)
    assert (sub.result, sub.policy, sub.policy_source) == ("pass", "quarantine", "sp")


def test_fail_and_the_disposition() -> None:
    zone = zone_with(extra=POLICY)
    spf_result = spf.check("203.0.113.1", helo="h", mail_from="a@example.org", resolver=zone)
    result = dmarc.check(MESSAGE, spf=spf_result, resolver=zone)
    assert (result.result, result.disposition) == ("fail", "reject")
    assert repr(result).startswith("DmarcResult(result='fail', author_domain='example.org', policy='reject'")


def test_none_temperror_permerror() -> None:
    assert dmarc.check(author_domain="example.com", resolver=dns.ZoneResolver()).result == "none"

    class Failing:
        def lookup(self, query: dns.Query) -> list[str]:
            raise dns.TempFail("timeout")

    assert dmarc.check(author_domain="example.org", resolver=Failing()).result == "temperror"
    two_from = b"From: a@example.org\r\nFrom: b@example.net\r\n\r\nbody\r\n"
    result = dmarc.check(two_from, resolver=dns.ZoneResolver())
    assert result.result == "permerror"
    assert result.author_domain is None


def test_rfc7489_mode_and_pct_sample() -> None:
    zone = dns.ZoneResolver('$ORIGIN example.org.\n_dmarc TXT "v=DMARC1; p=reject; pct=50"\n')
    inside = dmarc.check(author_domain="example.org", resolver=zone, mode="rfc7489", sample=10)
    outside = dmarc.check(author_domain="example.org", resolver=zone, mode="rfc7489", sample=90)
    assert (inside.result, inside.disposition, inside.testing) == ("fail", "reject", False)
    assert (outside.result, outside.disposition, outside.testing) == ("fail", "quarantine", True)


def test_check_async() -> None:
    zone = zone_with(extra=POLICY)

    class Async:
        async def lookup(self, query: dns.Query) -> object:
            return zone.lookup(query)

    result = asyncio.run(dmarc.check_async(author_domain="example.org", resolver=Async()))
    assert (result.result, result.disposition) == ("fail", "reject")


def test_bad_arguments() -> None:
    with pytest.raises(mailauth.ConfigError, match="either a message or an author_domain"):
        dmarc.check(resolver=dns.ZoneResolver())
    with pytest.raises(mailauth.ConfigError, match="either"):
        dmarc.check(MESSAGE, author_domain="example.org", resolver=dns.ZoneResolver())
    with pytest.raises(mailauth.ConfigError, match="mode"):
        dmarc.check(MESSAGE, resolver=dns.ZoneResolver(), mode="dmarcbis")  # type: ignore[arg-type]
    with pytest.raises(mailauth.ConfigError, match="sample"):
        dmarc.check(MESSAGE, resolver=dns.ZoneResolver(), sample=100)
    with pytest.raises(TypeError):
        dmarc.check(MESSAGE, spf="pass", resolver=dns.ZoneResolver())  # type: ignore[arg-type]


def test_record_tags_of_the_policy_that_applied() -> None:
    zone = zone_with(
        extra='_dmarc TXT "v=DMARC1; p=reject; rua=mailto:agg@example.org; ruf=mailto:f@example.org; fo=1:d; adkim=s"\n'
    )
    result = dmarc.check(author_domain="example.org", resolver=zone)
    assert result.record_tag("rua") == "mailto:agg@example.org"
    assert result.record_tag("ruf") == "mailto:f@example.org"
    assert result.record_tag("fo") == "1:d"
    assert (result.record_tag("adkim"), result.record_tag("aspf")) == ("s", "r")
    assert result.record_tag("pct") == "100"
    assert result.record_tag("sp") is None
    with pytest.raises(ValueError):
        result.record_tag("x")
    assert dmarc.check(author_domain="example.com", resolver=dns.ZoneResolver()).record_tag("p") is None
