"""mailauth.Store: sessions' DMARC verdicts recorded in the report store
(SQLite here; the store's own tests cover PostgreSQL)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import mailauth
from mailauth import dns
from conftest import NOW

ZONE = dns.ZoneResolver(
    "$ORIGIN sender.example.\n"
    '@ 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"\n'
    '_dmarc 300 IN TXT "v=DMARC1; p=none; rua=mailto:d@sender.example"\n'
)
MESSAGE = b"From: Alice <alice@sender.example>\r\nSubject: store\r\n\r\nHello.\r\n"


def settings(folder: Path) -> mailauth.Settings:
    return mailauth.Settings.from_toml(
        'authserv_id = "mx.example.net"\ninternal_hosts = ["10.0.0.0/8"]\n'
        '[report]\nrecord = true\npath = "reports.sqlite"\nflush_interval_ms = 10\n',
        folder,
    )


def session(config: mailauth.Settings, client: str) -> mailauth.Session:
    s = mailauth.Session(config, client, now=NOW)
    s.helo("mx.sender.example")
    s.resolve(ZONE)
    s.mail_from("alice@sender.example")
    s.resolve(ZONE)
    s.rcpt("bob@example.net")
    s.resolve(ZONE)
    s.message(MESSAGE)
    s.end_of_message()
    s.resolve(ZONE)
    return s


def test_sessions_are_recorded_and_counted(tmp_path: Path) -> None:
    config = settings(tmp_path)
    with mailauth.Store.open(config) as store:
        assert store.record(session(config, "192.0.2.10"))
        assert store.record(session(config, "192.0.2.10"))
        # Signed mail (an internal host) is not checked: nothing to record.
        assert not store.record(session(config, "10.1.2.3"))
        assert store.flush(timeout=30)
        assert store.written == 2
        assert store.lost == 0
        assert "written=2" in repr(store)
    assert repr(store) == "<mailauth.Store closed>"
    with pytest.raises(mailauth.MailAuthError, match="closed"):
        store.record(session(config, "192.0.2.10"))
    store.close()  # twice: nothing
    rows = sqlite3.connect(tmp_path / "reports.sqlite").execute(
        "SELECT policy_domain, count FROM report_row"
    ).fetchall()
    assert rows == [("sender.example", 2)]


def test_bad_report_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(mailauth.ConfigError, match="report.period"):
        mailauth.Settings.from_toml("[report]\nperiod = 5\n", tmp_path)
