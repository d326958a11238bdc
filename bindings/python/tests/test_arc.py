"""ARC: validation, sealing two hops, tampering, a trusted sealer setting a
DMARC failure aside, and bad arguments."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import mailauth
from mailauth import arc, dkim, dns

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"
NOW = 1_795_000_000

ORIGINAL = (
    b"From: Alice <alice@example.org>\r\n"
    b"To: list@lists.example.net\r\n"
    b"Subject: [list] ARC from Python\r\n"
    b"Message-ID: <arc-py@example.org>\r\n"
    b"\r\n"
    b"Hello through the list.\r\n"
)

LIST_RESULTS = (
    "lists.example.net; spf=pass smtp.mailfrom=alice@example.org; dmarc=pass header.from=example.org"
)


@pytest.fixture(scope="module")
def key() -> dkim.PrivateKey:
    return dkim.generate_key("ed25519")


@pytest.fixture(scope="module")
def zone(key: dkim.PrivateKey) -> dns.ZoneResolver:
    text = (DATA / "example.zone").read_text()
    for domain in ("example.net", "example.com"):
        text += f"\n$ORIGIN {domain}.\n" + key.zone_entry("arc", domain)
    return dns.ZoneResolver(text)


def sealed_once(key: dkim.PrivateKey, zone: dns.ZoneResolver) -> bytes:
    chain = arc.verify(ORIGINAL, resolver=zone)
    sealer = mailauth.ArcSealer(key=key, domain="example.net", selector="arc", authserv_id="lists.example.net")
    sealed = sealer.seal(ORIGINAL, chain=chain, results=LIST_RESULTS, now=NOW)
    assert sealed.status == "sealed"
    return sealed.header_lines().encode() + ORIGINAL


def test_no_chain_is_none(zone: dns.ZoneResolver) -> None:
    result = mailauth.arc_verify(ORIGINAL, resolver=zone)
    assert result.result == "none"
    assert not result
    assert result.sets == 0
    assert result.oldest_pass is None
    assert result.instances == ()
    assert result.reason is None
    assert result.header_error is None
    assert str(result) == "none"


def test_two_hops_pass_and_tampering_fails(key: dkim.PrivateKey, zone: dns.ZoneResolver) -> None:
    hop1 = sealed_once(key, zone)
    first = arc.verify(hop1, resolver=zone)
    assert first.result == "pass" and first.sets == 1
    assert "i=1; lists.example.net;" in hop1.decode()

    # The MX records its own Authentication-Results, taken from the message.
    with_ar = b"Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=example.org\r\n" + hop1
    chain = arc.verify(with_ar, resolver=zone)
    assert chain.result == "pass"
    mx = arc.ArcSealer(key=key, domain="example.com", selector="arc", authserv_id="mx.example.com")
    assert (mx.domain, mx.selector, mx.authserv_id, mx.algorithm) == (
        "example.com",
        "arc",
        "mx.example.com",
        "ed25519-sha256",
    )
    sealed = arc.seal(with_ar, sealer=mx, chain=chain, now=NOW + 60)
    assert sealed and sealed.instance == 2
    assert [name for name, _ in sealed.fields] == [
        "ARC-Authentication-Results",
        "ARC-Message-Signature",
        "ARC-Seal",
    ]
    aar = sealed.fields[0][1]
    assert aar.startswith("i=2; mx.example.com;") and "spf=fail" in aar
    lines = sealed.header_lines()
    assert lines.startswith("ARC-Seal: ") and lines.endswith("\r\n")
    assert "i=2;" in lines.split("ARC-Message-Signature:")[0]
    assert "\r\n" not in sealed.header_lines("\n")
    hop2 = lines.encode() + with_ar

    result = arc.verify(hop2, resolver=zone)
    assert result.result == "pass" and bool(result)
    assert result.sets == 2
    # Not computed by default for more than one set (a check per older set).
    assert result.oldest_pass is None
    assert arc.verify(hop2, resolver=zone, oldest_pass=True).oldest_pass == 0
    assert result.reason is None
    assert [s.instance for s in result.instances] == [1, 2]
    assert [s.seal_domain for s in result.instances] == ["example.net", "example.com"]
    assert [s.signature_domain for s in result.instances] == ["example.net", "example.com"]
    assert {s.seal_selector for s in result.instances} == {"arc"}
    assert {s.signature_selector for s in result.instances} == {"arc"}
    assert [s.chain_status for s in result.instances] == ["none", "pass"]

    # A chain longer than allowed fails.
    limited = arc.verify(hop2, resolver=zone, max_sets=1)
    assert limited.result == "fail" and limited.reason is not None
    assert limited.instances == ()

    tampered = hop2.replace(b"Hello through", b"Hello THROUGH")
    broken = arc.verify(tampered, resolver=zone)
    assert broken.result == "fail" and not broken
    assert broken.reason is not None and broken.reason != ""
    assert broken.oldest_pass is None
    assert broken.sets == 2

    # A chain found failing is sealed with cv=fail; a chain whose newest
    # seal says cv=fail gets no new set.
    marked = mx.seal(tampered, chain=broken, results="mx.example.com; arc=fail", now=NOW)
    assert marked.status == "sealed" and marked.instance == 3
    assert "cv=fail" in marked.fields[2][1]
    hop3 = marked.header_lines().encode() + tampered
    failed = arc.verify(hop3, resolver=zone)
    assert failed.result == "fail" and failed.sets == 3
    refused = mx.seal(hop3, chain=failed, results="mx.example.com; arc=fail", now=NOW)
    assert refused.status == "chain-failed"
    assert not refused and refused.instance is None and refused.fields == []
    assert refused.header_lines() == ""


def test_verify_async_and_chunks(key: dkim.PrivateKey, zone: dns.ZoneResolver) -> None:
    hop1 = sealed_once(key, zone)
    result = asyncio.run(arc.verify_async(iter([hop1[:50], hop1[50:]]), resolver=zone))
    assert result.result == "pass"
    result = asyncio.run(mailauth.arc_verify_async(hop1, resolver=zone))
    assert result.sets == 1


def test_options(key: dkim.PrivateKey, zone: dns.ZoneResolver) -> None:
    hop1 = sealed_once(key, zone)
    assert arc.verify(hop1, resolver=zone, oldest_pass=False, min_rsa_bits=2048).result == "pass"
    with pytest.raises(mailauth.ConfigError):
        arc.verify(hop1, resolver=zone, max_sets=0)
    with pytest.raises(TypeError):
        arc.verify(hop1, resolver=zone, no_such_option=True)  # type: ignore[call-arg]


def test_trusted_sealer_sets_dmarc_failure_aside(key: dkim.PrivateKey, zone: dns.ZoneResolver) -> None:
    hop1 = sealed_once(key, zone)

    def run(**options: object) -> mailauth.AuthResult:
        return mailauth.authenticate(
            hop1,
            ip="192.0.2.99",
            helo="lists.example.net",
            mail_from="alice@example.org",
            authserv_id="mx.example.com",
            now=NOW,
            resolver=zone,
            **options,  # type: ignore[arg-type]
        )

    plain = run()
    assert plain.arc is None
    assert plain.dmarc is not None and plain.dmarc.result == "fail"
    assert plain.dmarc.policy_override is None
    assert plain.disposition == "reject"

    untrusted = run(arc=True)
    assert untrusted.arc is not None and untrusted.arc.result == "pass"
    assert untrusted.header_field is not None and "arc=pass" in untrusted.header_field
    assert untrusted.disposition == "reject"

    trusted = run(arc=True, trusted_arc_sealers=["example.net"])
    assert trusted.dmarc is not None and trusted.dmarc.result == "fail"
    override = trusted.dmarc.policy_override
    assert override is not None
    assert override.type == "local_policy"
    assert override.comment == "arc=pass as[1].d=example.net as[1].s=arc"
    assert trusted.disposition == "none"

    with pytest.raises(mailauth.ConfigError):
        run(arc=True, trusted_arc_sealers=["exa..mple"])


def test_sealer_errors(key: dkim.PrivateKey, zone: dns.ZoneResolver) -> None:
    with pytest.raises(mailauth.ConfigError):
        arc.ArcSealer(key=key, domain="-bad-.", selector="arc", authserv_id="mx")
    with pytest.raises(mailauth.ConfigError):
        arc.ArcSealer(key=key, domain="example.net", selector="a b", authserv_id="mx")
    sealer = arc.ArcSealer(key=key, domain="example.net", selector="arc", authserv_id="mx.example.net")
    none = arc.verify(ORIGINAL, resolver=zone)
    with pytest.raises(mailauth.ConfigError):
        sealer.seal(ORIGINAL, chain=none, results="no semicolon ==", now=NOW)
    # A chain outcome of another message (no sets) for a sealed one.
    with pytest.raises(mailauth.ConfigError):
        sealer.seal(sealed_once(key, zone), chain=none, results=LIST_RESULTS, now=NOW)
    with pytest.raises(mailauth.ConfigError):
        sealed = sealer.seal(ORIGINAL, chain=none, results=LIST_RESULTS, now=NOW)
        sealed.header_lines("\r")
    # Settings that do not seal give no sealer.
    assert arc.ArcSealer.from_settings(mailauth.Settings.from_toml("")) is None
