"""Shared fixtures: keys made once, zones holding their records, messages."""

from __future__ import annotations

import pytest

import mailauth
from mailauth import dkim, dns

NOW = 1_700_000_000

MESSAGE = (
    b"From: Alice <alice@example.org>\r\n"
    b"To: bob@example.net\r\n"
    b"Subject: Lunch\r\n"
    b"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    b"Message-ID: <lunch@example.org>\r\n"
    b"\r\n"
    b"Shall we meet at noon?\r\n"
)


@pytest.fixture(scope="session")
def ed25519_key() -> dkim.PrivateKey:
    return dkim.generate_key("ed25519")


@pytest.fixture(scope="session")
def rsa_key() -> dkim.PrivateKey:
    return dkim.generate_key("rsa", bits=2048)


def zone_with(*entries: tuple[dkim.PrivateKey, str], extra: str = "") -> dns.ZoneResolver:
    """A zone for example.org holding the key records of (key, selector) pairs."""
    text = "$ORIGIN example.org.\n" + "".join(
        key.zone_entry(selector, "example.org") for key, selector in entries
    )
    return dns.ZoneResolver(text + extra)


__all__ = ["MESSAGE", "NOW", "mailauth", "zone_with"]
