"""BIMI in the inbound pipeline, and the record parser."""

from __future__ import annotations

from typing import Any

import pytest

import mailauth
from mailauth import bimi, dkim, dns

NOW = 1_795_000_000

ZONE_TEXT = (
    "$ORIGIN example.org.\n"
    '@ TXT "v=spf1 ip4:192.0.2.25 -all"\n'
    '_dmarc TXT "v=DMARC1; p=reject"\n'
    'default._bimi TXT "v=BIMI1; l=https://images.example.org/logo.svg; a=https://images.example.org/vmc.pem"\n'
    'brand._bimi TXT "v=BIMI1; l=https://images.example.org/brand.svg; avp=personal"\n'
    "$ORIGIN example.net.\n"
    '@ TXT "v=spf1 ip4:192.0.2.25 -all"\n'
    '_dmarc TXT "v=DMARC1; p=none"\n'
    'default._bimi TXT "v=BIMI1; l=https://images.example.net/logo.svg"\n'
    "$ORIGIN example.com.\n"
    '@ TXT "v=spf1 ip4:192.0.2.25 -all"\n'
    '_dmarc TXT "v=DMARC1; p=quarantine"\n'
    'default._bimi TXT "v=BIMI1; l=; a="\n'
)

FORGED = b"BIMI-Location: v=BIMI1; l=https://evil.example/x.svg\r\nBIMI-Indicator: PHN2Zz4=\r\n"


def message(author: str, extra: bytes = b"") -> bytes:
    return (
        extra
        + f"From: Alice <alice@{author}>\r\n".encode()
        + b"To: bob@example.net\r\nSubject: hello\r\nMessage-ID: <m@example.org>\r\n\r\nHi.\r\n"
    )


def run(
    data: bytes, *, author: str = "example.org", ip: str = "192.0.2.25", zone: dns.ZoneResolver | None = None, **kw: Any
) -> mailauth.AuthResult:
    return mailauth.authenticate(
        data,
        ip=ip,
        helo="mx.sender.example",
        mail_from=f"alice@{author}",
        authserv_id="mx.example.com",
        now=NOW,
        check_helo=False,
        resolver=zone or dns.ZoneResolver(ZONE_TEXT),
        **kw,
    )


def test_off_by_default() -> None:
    result = run(message("example.org", FORGED))
    assert result.dmarc is not None and result.dmarc.result == "pass"
    assert result.bimi is None
    assert result.bimi_location is None
    assert result.bimi_remove == ()
    assert result.header_field is not None and "bimi=" not in result.header_field


def test_pass_with_location_and_forged_fields_removed() -> None:
    result = run(message("example.org", FORGED), bimi=True)
    outcome = result.bimi
    assert outcome is not None
    assert outcome.result == "pass"
    assert outcome.reason == "valid bimi record"
    assert outcome.selector == "default"
    assert outcome.selector_ignored is None
    assert outcome.domain == "example.org"
    assert outcome.authority == "none"
    record = outcome.record
    assert record is not None
    assert record.locations == ("https://images.example.org/logo.svg",)
    assert record.evidence == "https://images.example.org/vmc.pem"
    assert not record.local_part_selector
    assert record.avatar_preference is None
    assert not record.is_declination
    assert result.bimi_location == (
        "v=BIMI1; l=https://images.example.org/logo.svg; a=https://images.example.org/vmc.pem"
    )
    assert result.header_field is not None
    assert "bimi=pass header.d=example.org header.selector=default" in result.header_field.replace("\r\n\t", " ")
    ar = result.authentication_results
    assert ar is not None
    assert [r.method for r in ar.results][-1] == "bimi"
    removed = [(r.position, r.occurrence, r.raw) for r in result.bimi_remove]
    assert removed == [
        (0, 1, b"BIMI-Location: v=BIMI1; l=https://evil.example/x.svg"),
        (1, 1, b"BIMI-Indicator: PHN2Zz4="),
    ]
    assert repr(outcome) == "BimiResult(result='pass', domain='example.org', selector='default')"


def test_skipped_when_dmarc_fails_still_removes_forged_fields() -> None:
    result = run(message("example.org", FORGED), ip="203.0.113.9", bimi=True)
    assert result.dmarc is not None and result.dmarc.result == "fail"
    outcome = result.bimi
    assert outcome is not None
    assert outcome.result == "skipped"
    assert "dmarc fail" in outcome.reason
    assert outcome.domain is None and outcome.record is None
    assert result.bimi_location is None
    assert len(result.bimi_remove) == 2


def test_skipped_at_policy_none() -> None:
    result = run(message("example.net"), author="example.net", bimi=True)
    assert result.dmarc is not None and result.dmarc.result == "pass"
    assert result.bimi is not None and result.bimi.result == "skipped"
    assert "p=none at _dmarc.example.net" in result.bimi.reason


def test_declined() -> None:
    result = run(message("example.com"), author="example.com", bimi=True)
    outcome = result.bimi
    assert outcome is not None and outcome.result == "declined"
    assert outcome.record is not None and outcome.record.is_declination
    assert outcome.record.locations == ()
    assert result.bimi_location is None


def test_selector_field_used_only_when_signed(ed25519_key: dkim.PrivateKey) -> None:
    zone = dns.ZoneResolver(ZONE_TEXT + "$ORIGIN example.org.\n" + ed25519_key.zone_entry("sel", "example.org"))
    body = message("example.org", b"BIMI-Selector: v=BIMI1; s=brand\r\n")
    covering = dkim.sign(
        body, key=ed25519_key, domain="example.org", selector="sel", headers=["from", "bimi-selector"], now=NOW
    )
    result = run(covering.encode() + body, zone=zone, bimi=True)
    assert result.bimi is not None
    assert result.bimi.selector == "brand"
    assert result.bimi.record is not None and result.bimi.record.avatar_preference == "personal"

    not_covering = dkim.sign(body, key=ed25519_key, domain="example.org", selector="sel", headers=["from"], now=NOW)
    result = run(not_covering.encode() + body, zone=zone, bimi=True)
    assert result.bimi is not None
    assert result.bimi.selector == "default"
    assert result.bimi.selector_ignored == "bimi-selector field not covered by an aligned dkim signature"
    # Trusted without a signature when asked.
    result = run(not_covering.encode() + body, zone=zone, bimi=True, bimi_require_signed_selector=False)
    assert result.bimi is not None and result.bimi.selector == "brand"
    assert result.bimi.selector_ignored is None


def test_limits() -> None:
    result = run(message("example.org"), bimi=True, bimi_max_record_bytes=20)
    assert result.bimi is not None and result.bimi.result == "fail"
    assert result.bimi.reason == "invalid bimi record: record longer than 20 octets"
    assert result.bimi_location is None
    two = "l=https://a.example.org/1.svg,https://a.example.org/2.svg;"
    zone = dns.ZoneResolver(ZONE_TEXT.replace("l=https://images.example.org/logo.svg;", two))
    result = run(message("example.org"), zone=zone, bimi=True)
    assert result.bimi is not None and result.bimi.result == "fail"
    assert result.bimi.reason == "invalid bimi record: more than 1 l= uris"
    result = run(message("example.org"), zone=zone, bimi=True, bimi_max_location_uris=2)
    assert result.bimi is not None and result.bimi.result == "pass"
    assert result.bimi.record is not None and len(result.bimi.record.locations) == 2


def test_settings_and_options() -> None:
    settings = mailauth.Settings.from_toml("[bimi]\nenabled = true\nmax_record_bytes = 30\n")
    result = run(message("example.org", FORGED), settings=settings)
    assert result.bimi is not None and result.bimi.result == "fail"
    assert result.bimi.reason == "invalid bimi record: record longer than 30 octets"
    assert len(result.bimi_remove) == 2
    # An option given replaces the setting.
    result = run(message("example.org", FORGED), settings=settings, bimi_max_record_bytes=2048)
    assert result.bimi is not None and result.bimi.result == "pass"
    result = run(message("example.org", FORGED), settings=settings, bimi=False)
    assert result.bimi is None and result.bimi_remove == ()


def test_parse_record() -> None:
    record = bimi.parse_record("v=BIMI1; l=https://a.example.com/l.svg; lps=true; avp=brand")
    assert record.locations == ("https://a.example.com/l.svg",)
    assert record.evidence is None
    assert record.local_part_selector
    assert record.avatar_preference == "brand"
    assert repr(record) == "BimiRecord(locations=('https://a.example.com/l.svg',), evidence=None)"
    assert bimi.parse_record(b"v=BIMI1; l=; a=").is_declination
    with pytest.raises(mailauth.ParseError, match="not https"):
        bimi.parse_record("v=BIMI1; l=http://a.example.com/l.svg")
    with pytest.raises(mailauth.ParseError, match="no l= tag"):
        bimi.parse_record("v=BIMI1;")
    with pytest.raises(mailauth.ParseError, match="longer than 10 octets"):
        bimi.parse_record("v=BIMI1; l=", max_record_bytes=10)
    with pytest.raises(mailauth.ParseError):
        bimi.parse_record(b"v=BIMI1; l=\xff\x00")
    two = "v=BIMI1; l=https://a.example.com/1.svg,https://a.example.com/2.svg"
    with pytest.raises(mailauth.ParseError, match="more than 1 l= uris"):
        bimi.parse_record(two)
    assert len(bimi.parse_record(two, max_location_uris=2).locations) == 2
    with pytest.raises(mailauth.ConfigError):
        bimi.parse_record(5)  # type: ignore[arg-type]
