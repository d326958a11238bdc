"""The MTA session over an in-memory zone: clients x SPF results x DMARC
policies x decision settings, asserting the action of each stage, the edits
and the log record (the table of the core's session tests)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest

import mailauth
from mailauth import dkim, dns
from conftest import NOW

OUTSIDE = "192.0.2.10"


@dataclasses.dataclass
class Fixture:
    zone: dns.ZoneResolver
    sender_key: dkim.PrivateKey
    relay_key: dkim.PrivateKey
    dir: Path


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    """sender.example signs its mail (its key in the zone); example.com's key
    is the relay's signing key, in a PEM file next to the settings."""
    sender = dkim.generate_key("ed25519")
    relay = dkim.generate_key("ed25519")
    folder = tmp_path_factory.mktemp("session")
    (folder / "example.com.key").write_text(relay.to_pem())
    zone = dns.ZoneResolver(
        "$ORIGIN example.\n"
        'sender 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"\n'
        f'sel._domainkey.sender 300 IN TXT "{sender.dns_record()}"\n'
        '_dmarc.sender 300 IN TXT "v=DMARC1; p=reject"\n'
        'soft 300 IN TXT "v=spf1 ~all"\n'
        'hard 300 IN TXT "v=spf1 -all"\n'
        'broken 300 IN TXT "v=spf1 foo:bar -all"\n'
        'rej 300 IN TXT "v=spf1 -all"\n'
        '_dmarc.rej 300 IN TXT "v=DMARC1; p=reject"\n'
        '_dmarc.quar 300 IN TXT "v=DMARC1; p=quarantine"\n'
        '_dmarc.none 300 IN TXT "v=DMARC1; p=none"\n'
        "mx 300 IN A 192.0.2.10\n"
    )
    return Fixture(zone, sender, relay, folder)


class TempZone:
    """The zone, with every name under temp.example failing for now (a
    Python resolver: the session takes the GIL for each of its lookups)."""

    def __init__(self, zone: dns.ZoneResolver) -> None:
        self.zone = zone

    def lookup(self, query: dns.Query) -> list[Any]:
        if query.name.endswith("temp.example"):
            raise dns.TempFail("timeout")
        return self.zone.lookup(query)


class AsyncZone:
    """An async resolver over the zone that counts overlapping lookups."""

    def __init__(self, zone: dns.ZoneResolver) -> None:
        self.zone = zone
        self.active = 0
        self.most_active = 0
        self.asked = 0

    async def lookup(self, query: dns.Query) -> list[Any]:
        self.asked += 1
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            await asyncio.sleep(0.001)
            return self.zone.lookup(query)
        finally:
            self.active -= 1


def settings(fx: Fixture, extra: str = "") -> mailauth.Settings:
    text = (
        'authserv_id = "mx.example.net"\n'
        'daemon_names = ["ORIGINATING"]\n'
        f"{extra}\n"
        '[[signing.keys]]\nname = "com"\ndomain = "example.com"\nselector = "relay"\nkey_file = "example.com.key"\n'
        '[[signing.rules]]\npattern = "*@example.com"\nkey = "com"\n'
    )
    return mailauth.Settings.from_toml(text, fx.dir, origin="test.toml")


def message(fx: Fixture, sender: str, signed: bool, extra_header: str = "") -> bytes:
    """A message from `sender`, signed by sender.example when `signed`."""
    text = f"{extra_header}From: <{sender}>\r\nTo: bob@example.net\r\nSubject: hello\r\n\r\nHi Bob.\r\n".encode()
    if not signed:
        return text
    field = dkim.sign(text, key=fx.sender_key, domain="sender.example", selector="sel", now=NOW)
    return field.encode() + text


@dataclasses.dataclass
class Run:
    helo: mailauth.Action
    mail_from: mailauth.Action
    end: mailauth.Action | None
    edits: list[mailauth.Edit]
    log: str
    session: mailauth.Session


def run(
    fx: Fixture,
    config: mailauth.Settings,
    mail_from: str,
    data: bytes,
    client_addr: str | None = OUTSIDE,
    client_name: str | None = None,
    daemon_name: str | None = None,
    auth_user: str | None = None,
) -> Run:
    """One transaction, header fields given one by one as a milter gets them
    and the body in chunks of 3 bytes."""
    resolver = TempZone(fx.zone)
    session = mailauth.Session(config, client_addr, client_name, daemon_name, auth_user, now=NOW)
    session.helo("mx.sender.example")
    helo = session.resolve(resolver)
    session.mail_from(mail_from)
    mail_from_action = session.resolve(resolver)
    end = None
    if not mail_from_action.ends_transaction:
        session.rcpt("bob@example.net")
        assert session.resolve(resolver).kind == "continue"
        session.set_queue_id("4ABC")
        header, body = data.split(b"\r\n\r\n", 1)
        fields: list[str] = []
        for line in header.decode().split("\r\n"):
            if line.startswith((" ", "\t")):
                fields[-1] += "\n" + line
            else:
                fields.append(line)
        for field in fields:
            name, value = field.split(":", 1)
            session.header(name, value.lstrip(" "))
        session.end_of_header()
        for i in range(0, len(body), 3):
            session.body(body[i : i + 3])
        session.end_of_message()
        end = session.resolve(resolver)
    return Run(helo, mail_from_action, end, session.edits, session.log_line or "", session)


def inserted(result: Run, name: str) -> list[str]:
    return [e.value or "" for e in result.edits if e.kind == "insert" and e.name.lower() == name.lower()]


def test_outside_pass_gets_results_and_continues(fx: Fixture) -> None:
    sender = "alice@sender.example"
    result = run(fx, settings(fx), sender, message(fx, sender, True))
    assert result.helo.kind == "continue"
    assert result.mail_from.kind == "continue"
    assert result.end is not None and result.end.kind == "continue"
    spf_helo, spf_mail_from = result.session.spf_helo, result.session.spf_mail_from
    assert spf_helo is not None and (spf_helo.identity, spf_helo.result) == ("helo", "none")
    assert spf_mail_from is not None and (spf_mail_from.identity, spf_mail_from.result) == ("mailfrom", "pass")
    assert result.end.code is None and result.end.reason is None
    assert result.session.mode == "verify"
    ar = inserted(result, "Authentication-Results")
    assert len(ar) == 1, result.edits
    unfolded = ar[0].replace("\r\n\t", " ")
    assert unfolded.startswith("mx.example.net;"), unfolded
    for part in ["spf=pass", "dkim=pass", "header.d=sender.example", "dmarc=pass"]:
        assert part in unfolded
    assert result.log.startswith("4ABC: client=192.0.2.10 mode=verify"), result.log
    assert "spf=pass dkim=pass(d=sender.example,s=sel) dmarc=pass(" in result.log
    assert "action=continue" in result.log
    assert result.session.log_detail is not None and result.session.log_detail.startswith("4ABC: why: ")
    auth = result.session.auth_result
    assert auth is not None and auth.dmarc is not None and auth.dmarc.result == "pass"


SPF_CASES = [
    ("", "hard.example", "reject", (550, "5.7.23")),
    ('[spf]\nmail_from_reject = "false"', "hard.example", "continue", None),
    ("", "soft.example", "continue", None),
    ('[spf]\nmail_from_reject = "softfail"', "soft.example", "reject", (550, "5.7.23")),
    ('[spf]\nmail_from_reject = "not_pass"', "soft.example", "reject", (550, "5.7.23")),
    ("", "broken.example", "continue", None),
    ("[spf]\npermerror_reject = true", "broken.example", "reject", (550, "5.7.24")),
    ("", "temp.example", "continue", None),
    ("[spf]\ntemperror_defer = true", "temp.example", "tempfail", (451, "4.7.24")),
    ('[spf]\nmail_from_reject = "not_pass"', "temp.example", "continue", None),
    ("", "sender.example", "continue", None),
    ("test_only = true", "hard.example", "continue", None),
]


@pytest.mark.parametrize(("extra", "domain", "kind", "reply"), SPF_CASES)
def test_spf_decisions_at_mail_from(
    fx: Fixture, extra: str, domain: str, kind: str, reply: tuple[int, str] | None
) -> None:
    sender = f"alice@{domain}"
    result = run(fx, settings(fx, extra), sender, message(fx, sender, False))
    assert result.mail_from.kind == kind, result.log
    assert (None if result.mail_from.code is None else (result.mail_from.code, result.mail_from.enhanced)) == reply
    if kind == "reject":
        assert result.end is None
        assert " spf=" in result.log and 'action="reject 5' in result.log, result.log
        assert result.mail_from.reason is not None and result.mail_from.reason.startswith("spf=")
        assert result.mail_from.text is not None and str(result.mail_from).startswith(f"reject {reply[0] if reply else ''}")
        assert [d.check for d in result.session.decisions] == ["spf"]


def test_spf_refusal_in_test_only_mode_is_logged_with_the_message(fx: Fixture) -> None:
    sender = "alice@hard.example"
    result = run(fx, settings(fx, "test_only = true"), sender, message(fx, sender, False))
    assert result.end is not None and result.end.kind == "continue"
    assert 'test-only-would="reject' in result.log, result.log


def test_helo_fail_is_refused_by_default(fx: Fixture) -> None:
    session = mailauth.Session(settings(fx), OUTSIDE, now=NOW)
    session.helo("hard.example")
    action = session.resolve(fx.zone)
    assert action.kind == "reject"
    assert action.text is not None and "HELO hard.example" in action.text
    assert action.ends_transaction
    session = mailauth.Session(settings(fx, '[spf]\nhelo_reject = "false"'), OUTSIDE, now=NOW)
    session.helo("hard.example")
    assert session.resolve(fx.zone).kind == "continue"


DMARC_CASES = [
    ("", "rej.example", "continue", None),
    ("[dmarc]\nreject_failures = true", "rej.example", "reject", None),
    ("[dmarc]\nreject_failures = true", "quar.example", "quarantine", None),
    ('[dmarc]\nreject_failures = true\nquarantine = "header"', "quar.example", "continue", "X-Mailauth-Quarantine"),
    ('[dmarc]\nreject_failures = true\nquarantine = "accept"', "quar.example", "continue", None),
    ("[dmarc]\nreject_failures = true", "none.example", "continue", None),
    ("test_only = true\n[dmarc]\nreject_failures = true", "rej.example", "continue", None),
]


@pytest.mark.parametrize(("extra", "domain", "kind", "header"), DMARC_CASES)
def test_dmarc_decisions_at_end_of_message(
    fx: Fixture, extra: str, domain: str, kind: str, header: str | None
) -> None:
    result = run(fx, settings(fx, extra), "mallory@sender.example", message(fx, f"mallory@{domain}", False))
    end = result.end
    assert end is not None and end.kind == kind, result.log
    if kind == "reject":
        assert (end.code, end.enhanced) == (550, "5.7.26")
        assert end.text == "Rejected by the DMARC policy of rej.example"
        assert end.reason is not None
    if kind == "quarantine":
        assert end.reason is not None and end.code is None
        assert not end.ends_transaction
    ar = inserted(result, "Authentication-Results")
    assert "dmarc=fail" in ar[0]
    if header is not None:
        assert inserted(result, header) == ["DMARC policy of quar.example"]
    assert f"dmarc=fail(from={domain}" in result.log


def test_dmarc_refusal_in_test_only_mode_is_logged(fx: Fixture) -> None:
    result = run(
        fx,
        settings(fx, "test_only = true\n[dmarc]\nreject_failures = true"),
        "mallory@sender.example",
        message(fx, "mallory@rej.example", False),
    )
    assert (
        'action=continue test-only-would="reject 550 5.7.26 Rejected by the DMARC policy of rej.example"'
        in result.log
    ), result.log
    assert any(d.check == "dmarc" and d.action.kind == "reject" for d in result.session.decisions)


@pytest.mark.parametrize(
    ("client_addr", "client", "mode"),
    [
        ("127.0.0.1", {"client_name": "localhost"}, "sign(internal 127.0.0.1/32)"),
        (OUTSIDE, {"auth_user": "alice"}, "sign(authenticated alice)"),
        (OUTSIDE, {"daemon_name": "ORIGINATING"}, "sign(daemon ORIGINATING)"),
        (None, {}, "sign(local)"),
    ],
)
def test_internal_authenticated_and_originating_clients_are_signed(
    fx: Fixture, client_addr: str | None, client: dict[str, str], mode: str
) -> None:
    sender = "alice@example.com"
    result = run(fx, settings(fx), sender, message(fx, sender, False), client_addr, **client)
    assert result.end is not None and result.end.kind == "continue"
    assert result.session.mode == "sign"
    assert result.session.mode_detail == mode
    signatures = inserted(result, "DKIM-Signature")
    assert len(signatures) == 1, result.edits
    assert "d=example.com" in signatures[0] and "s=relay" in signatures[0]
    assert inserted(result, "Authentication-Results") == []
    logged = f'mode="{mode}"' if " " in mode else f"mode={mode}"
    assert logged in result.log
    assert "signed=d=example.com,s=relay" in result.log
    assert result.session.auth_result is None


def test_signature_added_by_the_session_verifies(fx: Fixture) -> None:
    original = message(fx, "alice@example.com", False)
    result = run(fx, settings(fx), "alice@example.com", original, auth_user="alice")
    value = inserted(result, "DKIM-Signature")[0].replace("\r\n", "\n").replace("\n", "\r\n")
    signed = f"DKIM-Signature: {value}\r\n".encode() + original
    zone = dns.ZoneResolver(f'relay._domainkey.example.com. 300 IN TXT "{fx.relay_key.dns_record()}"\n')
    assert dkim.verify(signed, resolver=zone, now=NOW).result == "pass"


def test_authenticating_after_connecting_turns_signing_on(fx: Fixture) -> None:
    session = mailauth.Session(settings(fx), OUTSIDE, now=NOW)
    before = session.mode
    session.set_authenticated("alice")
    assert (before, session.mode) == ("verify", "sign")
    assert session.mode_detail == "sign(authenticated alice)"


def test_a_from_the_signing_table_does_not_cover_is_not_signed(fx: Fixture) -> None:
    result = run(
        fx,
        settings(fx),
        "x@other.example",
        message(fx, "x@other.example", False),
        daemon_name="originating",
    )
    assert result.edits == []
    assert "no signing rule for x@other.example" in result.log
    assert [d.check for d in result.session.decisions] == ["signing"]


def test_forged_results_are_removed_highest_first(fx: Fixture) -> None:
    forged = (
        "Authentication-Results: other.example; spf=pass\r\n"
        "Authentication-Results: mx.example.net; dkim=pass\r\n"
        "Authentication-Results: mx.example.net; dmarc=pass\r\n"
    )
    sender = "alice@sender.example"
    result = run(fx, settings(fx), sender, message(fx, sender, True, forged))
    removals = [(e.name, e.occurrence, e.value) for e in result.edits if e.kind == "remove"]
    assert removals == [("Authentication-Results", 3, None), ("Authentication-Results", 2, None)]
    assert result.edits[-1].kind == "insert"
    assert result.edits[-1].occurrence is None
    assert repr(result.edits[0]) == "Edit(kind='remove', name='Authentication-Results', occurrence=3)"


def test_dkim_actions(fx: Fixture) -> None:
    # A key lookup that fails for now: OpenDKIM's On-DNSError default.
    plain = message(fx, "alice@temp.example", False)
    signed = dkim.sign(plain, key=fx.sender_key, domain="temp.example", selector="sel", now=NOW).encode() + plain
    first = run(fx, settings(fx), "alice@sender.example", signed)
    assert first.end is not None and first.end.kind == "tempfail", first.log
    assert first.end.enhanced == "4.7.20"
    second = run(fx, settings(fx, '[verify]\non_dns_error = "accept"'), "alice@sender.example", signed)
    assert second.end is not None and second.end.kind == "continue"
    # No signature, refused when asked.
    unsigned = message(fx, "alice@sender.example", False)
    third = run(fx, settings(fx, '[verify]\non_no_signature = "reject"'), "alice@sender.example", unsigned)
    assert third.end is not None and third.end.enhanced == "5.7.20"
    # A broken signature, refused when asked.
    bad = bytearray(message(fx, "alice@sender.example", True))
    bad[-3] = ord("X")
    fourth = run(fx, settings(fx, '[verify]\non_bad_signature = "reject"'), "alice@sender.example", bytes(bad))
    assert fourth.end is not None and fourth.end.kind == "reject", fourth.log


def test_received_spf_when_asked(fx: Fixture) -> None:
    sender = "alice@sender.example"
    result = run(fx, settings(fx, "[spf]\nreceived_spf = true"), sender, message(fx, sender, True))
    received = inserted(result, "Received-SPF")
    assert len(received) == 1 and received[0].startswith("pass ")
    # Applied in order at the top, the AR ends first.
    assert result.edits[-1].name == "Authentication-Results"


def test_whole_message_in_one_call(fx: Fixture) -> None:
    sender = "alice@sender.example"
    session = mailauth.Session(settings(fx), OUTSIDE, now=NOW)
    for stage, argument in [("helo", "mx.sender.example"), ("mail_from", f"<{sender}>"), ("rcpt", "bob@example.net")]:
        getattr(session, stage)(argument)
        assert session.resolve(fx.zone).kind == "continue"
    data = message(fx, sender, True)
    chunks: list[Any] = [data[:10], bytearray(data[10:50]), memoryview(data[50:])]
    session.message(chunks)
    session.end_of_message()
    assert session.resolve(fx.zone).kind == "continue"
    assert "dkim=pass" in (session.log_line or "")


BAD_SETTINGS = [
    ('authserv_id = "mx"\nbogus = 1\n', "test.toml:2:"),
    ('[spf]\nmax_void_lookups = "two"\n', "test.toml:2:"),
    ('[verify]\n\nmin_key_bits = 1024\non_bad_signature = "maybe"\n', "test.toml:4:"),
    ('internal_hosts = ["10.0.0.0/33"]\n', "test.toml:1: internal_hosts"),
    (
        '[signing]\nkeys = [{ name = "k", domain = "example.com", selector = "s", key_file = "/nonexistent/k.pem" }]\n',
        "test.toml:2: signing.keys",
    ),
    ('[[signing.rules]]\npattern = "*"\nkey = "missing"\n', 'signing.rules: key name "missing"'),
    (
        '[signing]\nkey_table = "/nonexistent/KeyTable"\nsigning_table = "refile:/nonexistent/SigningTable"\n',
        "test.toml:3: signing.signing_table",
    ),
    ('[replies]\ndmarc_reject = "250 2.0.0 fine"\n', "test.toml:2: replies.dmarc_reject"),
    ('[dmarc]\nmode = "rfc1234"\n', "test.toml:2: dmarc.mode"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_SETTINGS)
def test_bad_settings_name_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(mailauth.ConfigError) as raised:
        mailauth.Settings.from_toml(text, origin="test.toml")
    assert expected in str(raised.value)


def test_settings_file_errors_name_the_path(tmp_path: Path) -> None:
    path = tmp_path / "mailauth.toml"
    path.write_text('authserv_id = "mx.example.net"\n\n[dns]\ntimeout_ms = 0\n')
    with pytest.raises(mailauth.ConfigError, match=rf"^{path}:4: dns.timeout_ms"):
        mailauth.Settings.load(path)
    with pytest.raises(mailauth.ConfigError, match="nothing.toml"):
        mailauth.Settings.load(tmp_path / "nothing.toml")


def test_settings_load_round_trip_and_get(fx: Fixture) -> None:
    path = fx.dir / "mailauth.toml"
    path.write_text(
        'authserv_id = "mx.example.net"\n[dns]\nnameservers = ["127.0.0.1:5353"]\ntimeout_ms = 800\n'
        '[[signing.keys]]\nname = "com"\ndomain = "example.com"\nselector = "relay"\nkey_file = "example.com.key"\n'
    )
    loaded = mailauth.Settings.load(str(path))
    assert loaded.origin == str(path)
    assert loaded.authserv_id == "mx.example.net"
    text = loaded.to_toml()
    again = mailauth.Settings.from_toml(text, fx.dir)
    assert again.to_toml() == text
    assert loaded.get("dns.nameservers") == "127.0.0.1:5353"
    assert loaded.get("milter.syslog") == "true"
    assert loaded.get("verify.min_key_bits") == "1024"
    assert loaded.get("nope.nothing") is None
    resolver = loaded.resolver()
    assert isinstance(resolver, dns.StubResolver)
    assert resolver.nameservers == ["127.0.0.1:5353"]
    assert resolver.timeout == 0.8
    assert resolver.cache_entries == 10_000
    assert loaded.resolver() is resolver
    assert dns.StubResolver(["127.0.0.1"]).cache_entries == 0


def test_session_arguments(fx: Fixture) -> None:
    config = settings(fx)
    with pytest.raises(mailauth.ConfigError):
        mailauth.Session(config, "not an address")
    with pytest.raises(mailauth.ConfigError):
        mailauth.Session(config, OUTSIDE, dmarc_sample=100)
    with pytest.raises(TypeError):
        mailauth.Session(config, OUTSIDE).header("Subject", 42)  # type: ignore[arg-type]
    assert mailauth.Session(config, "").mode_detail == "sign(local)"
    session = mailauth.Session(config, OUTSIDE)
    assert session.settings is config
    with pytest.raises(mailauth.MailAuthError, match="poll"):
        session.helo("mx.sender.example")
        session.outcome()


def test_poll_and_supply_by_hand(fx: Fixture) -> None:
    session = mailauth.Session(settings(fx), OUTSIDE, now=NOW)
    session.helo("mx.sender.example")
    session.resolve(fx.zone)
    session.mail_from("alice@hard.example")
    asked = []
    while queries := session.poll():
        for query in queries:
            asked.append((query.name, query.record_type))
            try:
                session.supply(query, fx.zone.lookup(query))
            except dns.DnsError as error:
                session.supply(query, error)
    assert asked == [("hard.example", "TXT")]
    assert session.outcome().kind == "reject"
    # Facts that are not stages keep the stage's action.
    session.set_queue_id("4ABC")
    session.set_now(NOW + 1)
    assert session.outcome().kind == "reject"
    assert (session.log_line or "").startswith("4ABC: ")


def test_async_driver_with_an_async_resolver(fx: Fixture) -> None:
    sender = "alice@sender.example"
    data = message(fx, sender, True)
    resolver = AsyncZone(fx.zone)

    async def transaction() -> tuple[list[str], mailauth.Session]:
        session = mailauth.Session(settings(fx), OUTSIDE, now=NOW)
        kinds: list[str] = []
        session.helo("mx.sender.example")
        kinds.append((await session.resolve_async(resolver)).kind)
        session.mail_from(sender)
        kinds.append((await session.resolve_async(resolver)).kind)
        session.rcpt("bob@example.net")
        kinds.append((await session.resolve_async(resolver)).kind)
        session.message(data)
        session.end_of_message()
        kinds.append((await session.resolve_async(resolver)).kind)
        return kinds, session

    kinds, session = asyncio.run(transaction())
    assert kinds == ["continue"] * 4
    assert "dkim=pass" in (session.log_line or "")
    assert resolver.asked > 0
    # DKIM key and DMARC policy are asked in one round, concurrently.
    assert resolver.most_active >= 2


def test_async_driver_takes_a_plain_resolver_too(fx: Fixture) -> None:
    session = mailauth.Session(settings(fx, "[spf]\ntemperror_defer = true"), OUTSIDE, now=NOW)
    session.mail_from("alice@temp.example")
    action = asyncio.run(session.resolve_async(TempZone(fx.zone)))
    assert (action.kind, action.code, action.enhanced) == ("tempfail", 451, "4.7.24")


def test_repr_and_equality(fx: Fixture) -> None:
    session = mailauth.Session(settings(fx), OUTSIDE, now=NOW)
    session.helo("hard.example")
    action = session.resolve(fx.zone)
    assert repr(action).startswith("Action(kind='reject', code=550, enhanced='5.7.23', text=")
    session.helo("hard.example")
    assert session.resolve(fx.zone) == action
    assert repr(session) == "<mailauth.Session mode='verify'>"
    assert repr(settings(fx)) == "Settings(origin='test.toml', authserv_id='mx.example.net')"


def test_the_settings_resolver_is_the_default_and_caches(fx: Fixture) -> None:
    from test_dns import LoopbackServer

    server = LoopbackServer({("example.org", "TXT"): ['"v=spf1 ip4:192.0.2.0/24 -all"']})
    try:
        config = mailauth.Settings.from_toml(
            f'authserv_id = "mx.example.net"\n[dns]\nnameservers = ["127.0.0.1:{server.port}"]\n'
            "timeout_ms = 300\nattempts = 1\n"
        )
        session = mailauth.Session(config, "192.0.2.7", now=NOW)
        session.mail_from("alice@example.org")
        assert session.resolve().kind == "continue"
        assert session.spf_mail_from is not None and session.spf_mail_from.result == "pass"
        assert session.spf_helo is None
    finally:
        server.close()
    # The server is gone: the answer comes from the cache of the settings'
    # resolver, from asyncio too (run in a worker thread).
    session = mailauth.Session(config, "203.0.113.9", now=NOW)
    session.mail_from("alice@example.org")
    assert session.resolve().kind == "reject"
    assert session.spf_mail_from is not None and session.spf_mail_from.result == "fail"
    session.mail_from("alice@example.org")
    assert asyncio.run(session.resolve_async()).kind == "reject"


def test_the_gil_is_released_while_signing(fx: Fixture) -> None:
    import threading
    import time

    session = mailauth.Session(settings(fx), OUTSIDE, auth_user="alice", now=NOW)
    session.mail_from("alice@example.com")
    session.resolve(fx.zone)
    session.message(b"From: alice@example.com\r\nSubject: big\r\n\r\n")
    body = b"x" * (64 * 1024 * 1024)
    done = threading.Event()
    ticks = 0

    def work() -> None:
        session.body(body)
        done.set()

    worker = threading.Thread(target=work)
    started = time.perf_counter()
    worker.start()
    while not done.is_set():
        ticks += 1
    worker.join()
    elapsed = time.perf_counter() - started
    session.end_of_message()
    assert session.resolve(fx.zone).kind == "continue"
    assert len(inserted_of(session, "DKIM-Signature")) == 1
    assert elapsed > 0.01
    assert ticks > 1000, (ticks, elapsed)


def inserted_of(session: mailauth.Session, name: str) -> list[str]:
    return [e.value or "" for e in session.edits if e.kind == "insert" and e.name == name]
