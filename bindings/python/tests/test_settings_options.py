"""The ``settings`` option of the standalone checks: a :class:`mailauth.Settings`
gives the check's configuration, and the options given beside it win."""

from __future__ import annotations

import asyncio
import inspect
import re
from typing import Any, Callable

import pytest

import mailauth
from mailauth import dkim, dmarc, dns, spf
from conftest import MESSAGE, NOW, zone_with

ZONE = (
    '@ TXT "v=spf1 a mx -all"\n'
    "@ A 192.0.2.1\n"
    "@ MX 10 mx.example.org.\n"
    "mx A 192.0.2.2\n"
    '_dmarc TXT "v=DMARC1; p=reject; pct=0"\n'
)
SPF_ZONE = dns.ZoneResolver("$ORIGIN example.org.\n" + ZONE)
SMTP: dict[str, Any] = dict(ip="192.0.2.2", helo="mx.example.org", mail_from="alice@example.org", authserv_id="mx")


def settings(text: str) -> mailauth.Settings:
    return mailauth.Settings.from_toml(text, origin="test.toml")


def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    result = function(*args, **kwargs)
    return asyncio.run(result) if inspect.iscoroutine(result) else result


NO_DNS_MECHANISMS = settings("[spf]\nmax_dns_mechanisms = 0\n")
RFC7489 = settings('[dmarc]\nmode = "rfc7489"\n')
BIG_KEYS = settings("[verify]\nmin_key_bits = 4096\n")


@pytest.mark.parametrize("function", [spf.check, spf.check_async])
def test_spf_limits_come_from_the_settings(function: Callable[..., Any]) -> None:
    facts: dict[str, Any] = dict(helo="mx.example.org", mail_from="alice@example.org", resolver=SPF_ZONE, now=NOW)
    assert call(function, "192.0.2.2", **facts).result == "pass"
    limited = call(function, "192.0.2.2", **facts, settings=NO_DNS_MECHANISMS)
    assert limited.result == "permerror"
    assert call(function, "192.0.2.2", **facts, settings=NO_DNS_MECHANISMS, max_dns_mechanisms=10).result == "pass"


def test_spf_start_takes_the_settings() -> None:
    check = spf.start("192.0.2.2", helo="mx.example.org", mail_from="alice@example.org", settings=NO_DNS_MECHANISMS)
    assert check.resolve(SPF_ZONE).result == "permerror"


def test_spf_receiver_of_the_settings_and_given() -> None:
    named = settings('[spf]\nreceiver = "gate.example.net"\n')
    zone = dns.ZoneResolver('$ORIGIN example.org.\n@ TXT "v=spf1 -all exp=why.example.org"\nwhy TXT "refused by %{r}"\n')
    facts: dict[str, Any] = dict(helo="mx.example.org", mail_from="alice@example.org", resolver=zone, now=NOW)
    assert spf.check("192.0.2.9", **facts).explanation == "refused by unknown"
    assert spf.check("192.0.2.9", **facts, settings=named).explanation == "refused by gate.example.net"
    given = spf.check("192.0.2.9", **facts, settings=named, receiver="other.example.net")
    assert given.explanation == "refused by other.example.net"


@pytest.mark.parametrize("function", [dkim.verify, dkim.verify_async])
def test_dkim_key_size_comes_from_the_settings(function: Callable[..., Any], rsa_key: dkim.PrivateKey) -> None:
    signed = dkim.sign(MESSAGE, key=rsa_key, domain="example.org", selector="big", now=NOW).encode() + MESSAGE
    zone = zone_with((rsa_key, "big"))
    assert call(function, signed, resolver=zone, now=NOW).result == "pass"
    refused = call(function, signed, resolver=zone, now=NOW, settings=BIG_KEYS)
    assert refused.result != "pass"
    assert refused.signatures[0].key_bits == 2048
    assert call(function, signed, resolver=zone, now=NOW, settings=BIG_KEYS, min_rsa_bits=1024).result == "pass"


def test_dkim_start_verify_takes_the_settings(rsa_key: dkim.PrivateKey) -> None:
    signed = dkim.sign(MESSAGE, key=rsa_key, domain="example.org", selector="big", now=NOW).encode() + MESSAGE
    check = dkim.start_verify(signed, now=NOW, settings=BIG_KEYS)
    assert check.resolve(zone_with((rsa_key, "big"))).result != "pass"


def tag(field: str, name: str) -> str | None:
    found = re.search(rf"[;\s]{name}=([^;]*)", field)
    return None if found is None else re.sub(r"\s", "", found.group(1))


def test_signing_options_come_from_the_settings(ed25519_key: dkim.PrivateKey) -> None:
    simple = settings('[signing]\ncanonicalization = "simple/simple"\nsignature_ttl = 3600\ntimestamp = false\n')
    base: dict[str, Any] = dict(key=ed25519_key, domain="example.org", selector="s", now=NOW)
    plain = dkim.sign(MESSAGE, **base)
    assert (tag(plain, "c"), tag(plain, "x"), tag(plain, "t")) == ("relaxed/relaxed", None, str(NOW))
    configured = dkim.sign(MESSAGE, **base, settings=simple)
    assert (tag(configured, "c"), tag(configured, "x"), tag(configured, "t")) == ("simple/simple", str(NOW + 3600), None)
    given = dkim.sign(
        MESSAGE, **base, settings=simple, canonicalization="relaxed/simple", expire_after=0, timestamp=True
    )
    assert (tag(given, "c"), tag(given, "x"), tag(given, "t")) == ("relaxed/simple", None, str(NOW))
    for field in (plain, configured, given):
        assert dkim.verify(field.encode() + MESSAGE, resolver=zone_with((ed25519_key, "s")), now=NOW).result == "pass"


def test_signed_headers_come_from_the_settings(ed25519_key: dkim.PrivateKey) -> None:
    few = settings('[signing]\nheaders = ["from", "subject"]\noversign_headers = []\n')
    base: dict[str, Any] = dict(key=ed25519_key, domain="example.org", selector="s", now=NOW)
    assert tag(dkim.sign(MESSAGE, **base, settings=few), "h") == "from:subject"
    assert tag(dkim.sign(MESSAGE, **base, settings=few, headers=["from", "to"]), "h") == "from:to"


@pytest.mark.parametrize("function", [dmarc.check, dmarc.check_async])
def test_dmarc_mode_comes_from_the_settings(function: Callable[..., Any]) -> None:
    facts: dict[str, Any] = dict(author_domain="example.org", resolver=SPF_ZONE, sample=50)
    assert call(function, **facts).disposition == "reject"
    assert call(function, **facts, settings=RFC7489).disposition == "quarantine"
    assert call(function, **facts, settings=RFC7489, mode="rfc9989").disposition == "reject"


def test_dmarc_start_takes_the_settings() -> None:
    check = dmarc.start(MESSAGE, sample=50, settings=RFC7489)
    assert check.resolve(SPF_ZONE).disposition == "quarantine"


@pytest.mark.parametrize("function", [mailauth.authenticate, mailauth.authenticate_async])
def test_authenticate_configurations_come_from_the_settings(function: Callable[..., Any]) -> None:
    facts: dict[str, Any] = dict(SMTP, resolver=SPF_ZONE, now=NOW, dmarc_sample=50)
    plain = call(function, MESSAGE, **facts)
    assert (plain.spf.result, plain.spf_helo is None, plain.disposition) == ("pass", False, "none")
    both = settings('[spf]\nmax_dns_mechanisms = 0\ncheck_helo = false\n[dmarc]\nmode = "rfc7489"\n')
    configured = call(function, MESSAGE, **facts, settings=both)
    assert (configured.spf.result, configured.spf_helo is None) == ("permerror", True)
    given = call(function, MESSAGE, **facts, settings=both, check_helo=True)
    assert given.spf_helo is not None


def test_authenticate_dmarc_mode_of_the_settings_and_given() -> None:
    facts: dict[str, Any] = dict(SMTP, ip="198.51.100.7", resolver=SPF_ZONE, now=NOW, dmarc_sample=50)
    assert mailauth.authenticate(MESSAGE, **facts).disposition == "reject"
    assert mailauth.authenticate(MESSAGE, **facts, settings=RFC7489).disposition == "quarantine"
    assert mailauth.authenticate(MESSAGE, **facts, settings=RFC7489, dmarc_mode="rfc9989").disposition == "reject"


def test_authenticate_trusted_ids_of_the_settings_and_given() -> None:
    relayed = b"Authentication-Results: relay.example.org; spf=pass smtp.mailfrom=example.org\r\n" + MESSAGE
    trusting = settings('trusted_authserv_ids = ["relay.example.org"]\n')
    facts: dict[str, Any] = dict(SMTP, resolver=SPF_ZONE, now=NOW, dmarc_sample=50)
    assert len(mailauth.authenticate(relayed, **facts).trusted_results) == 0
    assert len(mailauth.authenticate(relayed, **facts, settings=trusting).trusted_results) == 1
    assert len(mailauth.authenticate(relayed, **facts, settings=trusting, trusted_authserv_ids=()).trusted_results) == 0


def test_start_authenticate_takes_the_settings() -> None:
    check = mailauth.start_authenticate(MESSAGE, **SMTP, now=NOW, dmarc_sample=50, settings=NO_DNS_MECHANISMS)
    assert check.resolve(SPF_ZONE).spf.result == "permerror"


def test_settings_of_another_type_are_refused() -> None:
    with pytest.raises(TypeError):
        spf.start("192.0.2.2", helo="mx.example.org", settings="[spf]")  # type: ignore[typeddict-item]
