"""The inbound pipeline on the sample messages of examples/data."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest

import mailauth
from mailauth import authres, dns

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"
NOW = 1_795_000_000
ZONE = dns.ZoneResolver((DATA / "example.zone").read_text())


def authenticate(name: str, ip: str, helo: str, mail_from: str, **kwargs: Any) -> mailauth.AuthResult:
    kwargs.setdefault("resolver", ZONE)
    return mailauth.authenticate(
        (DATA / name).read_bytes(),
        ip=ip,
        helo=helo,
        mail_from=mail_from,
        authserv_id="mx.example.com",
        now=NOW,
        **kwargs,
    )


def test_passing_message() -> None:
    result = authenticate("pass.eml", "192.0.2.25", "mx1.example.org", "alice@example.org")
    assert result.spf is not None and result.spf.result == "pass"
    assert result.spf_helo is not None and result.spf_helo.result == "none"
    assert result.dkim is not None and result.dkim.result == "pass"
    assert result.dmarc is not None and result.dmarc.result == "pass"
    assert result.dmarc.policy == "reject"
    assert ("dkim", "example.org") in result.dmarc.aligned
    assert result.disposition == "none"
    assert result.skipped is None
    assert result.remove == ()
    assert result.header_error is None
    assert result.dkim.header_complete
    assert result.dmarc.policy_source == "p"
    field = result.header_field
    assert field is not None and field.startswith("Authentication-Results: mx.example.com; spf=pass")
    parsed = result.authentication_results
    assert parsed is not None
    assert [r.method for r in parsed.results] == ["spf", "spf", "dkim", "dmarc"]
    assert parsed.to_header_field() == field
    assert authres.parse(field).to_header_field() == field
    assert repr(result) == (
        "AuthResult(spf='pass', dkim='pass', dmarc='pass', disposition='none', skipped=None)"
    )


def test_spoof_is_rejected_by_policy() -> None:
    result = authenticate("fail.eml", "192.0.2.99", "mail.attacker.example", "billing@example.org")
    assert (result.spf.result if result.spf else None) == "fail"
    assert result.dkim is not None and result.dkim.result == "none"
    assert result.dmarc is not None and result.dmarc.result == "fail"
    assert result.disposition == "reject"


def test_forwarded_message_passes_on_dkim() -> None:
    result = authenticate("forwarded.eml", "192.0.2.99", "lists.example.net", "alice@example.org")
    assert result.spf is not None and result.spf.result == "fail"
    assert result.dmarc is not None and result.dmarc.result == "pass"
    assert result.disposition == "none"


def test_forged_field_is_listed_for_removal() -> None:
    result = authenticate("forged.eml", "192.0.2.99", "mail.attacker.example", "alice@example.org")
    (forged,) = result.remove
    assert forged.occurrence == 1
    assert forged.raw.startswith(b"Authentication-Results: mx.example.com; spf=pass")
    assert result.disposition == "reject"


def test_trusted_results_are_parsed() -> None:
    message = b"Authentication-Results: border.example.com; spf=pass smtp.mailfrom=a@example.org\r\n" + (
        DATA / "pass.eml"
    ).read_bytes()
    result = mailauth.authenticate(
        message,
        ip="192.0.2.25",
        helo="mx1.example.org",
        mail_from="alice@example.org",
        authserv_id="mx.example.com",
        resolver=ZONE,
        now=NOW,
        trusted_authserv_ids=["border.example.com"],
    )
    (trusted,) = result.trusted_results
    assert trusted.authserv_id == "border.example.com"
    assert trusted.results[0].get("smtp", "mailfrom") == "a@example.org"


def test_skipped_clients() -> None:
    message = (DATA / "pass.eml").read_bytes()
    for kwargs, reason in (
        ({"authenticated": True}, "authenticated client"),
        ({"internal": True}, "internal client"),
        ({"internal_networks": ["192.0.2.0/24"]}, "client in internal network 192.0.2.0/24"),
    ):
        result = mailauth.authenticate(
            message,
            ip="192.0.2.25",
            helo="mx1.example.org",
            mail_from="alice@example.org",
            authserv_id="mx.example.com",
            resolver=ZONE,
            now=NOW,
            **kwargs,
        )
        assert result.skipped == reason
        assert (result.spf, result.dkim, result.dmarc, result.header_field) == (None, None, None, None)


def test_message_as_file_and_chunks() -> None:
    data = (DATA / "pass.eml").read_bytes()
    for message in (io.BytesIO(data), iter([data[:100], data[100:]])):
        result = mailauth.authenticate(
            message,
            ip="192.0.2.25",
            helo="mx1.example.org",
            mail_from="alice@example.org",
            authserv_id="mx.example.com",
            resolver=ZONE,
            now=NOW,
        )
        assert result.dmarc is not None and result.dmarc.result == "pass"


def test_authenticate_async_asks_a_round_at_once() -> None:

    class Recorder:
        def __init__(self) -> None:
            self.round: list[str] = []
            self.active = 0
            self.most = 0

        async def lookup(self, query: dns.Query) -> Any:
            self.active += 1
            self.most = max(self.most, self.active)
            await asyncio.sleep(0.005)
            self.active -= 1
            return ZONE.lookup(query)

    resolver = Recorder()
    result = asyncio.run(
        mailauth.authenticate_async(
            (DATA / "pass.eml").read_bytes(),
            ip="192.0.2.25",
            helo="mx1.example.org",
            mail_from="alice@example.org",
            authserv_id="mx.example.com",
            resolver=resolver,
            now=NOW,
        )
    )
    assert result.dmarc is not None and result.dmarc.result == "pass"
    # SPF (two identities), the DKIM key and the DMARC policy go out together.
    assert resolver.most >= 3


def test_bad_arguments() -> None:
    data = (DATA / "pass.eml").read_bytes()
    base: dict[str, Any] = dict(ip="192.0.2.25", helo="h", mail_from="a@example.org", authserv_id="mx", resolver=ZONE)
    with pytest.raises(mailauth.ConfigError, match="authserv_id"):
        mailauth.authenticate(data, **{**base, "authserv_id": ""})
    with pytest.raises(mailauth.ConfigError, match="invalid network"):
        mailauth.authenticate(data, **base, internal_networks=["192.0.2.0/40"])
    with pytest.raises(mailauth.ConfigError, match="dmarc mode"):
        mailauth.authenticate(data, **base, dmarc_mode="rfc1234")  # type: ignore[arg-type]
    with pytest.raises(mailauth.ConfigError, match="dmarc_sample"):
        mailauth.authenticate(data, **base, dmarc_sample=100)
    with pytest.raises(TypeError):
        mailauth.authenticate(data.decode(), **base)  # type: ignore[arg-type]
    with pytest.raises(mailauth.ConfigError, match="invalid ip"):
        mailauth.authenticate(data, **{**base, "ip": "mx.example.org"})
