from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any, Iterator

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

import mailauth
from mailauth import dns as mdns

ZONE_TEXT = (
    "$ORIGIN example.org.\n"
    "$TTL 300\n"
    '@     TXT  "v=spf1 -all"\n'
    '@     TXT  ( "first string " "second string" )\n'
    "@     MX   10 mx1\n"
    "@     MX   20 mx2.example.net.\n"
    "mx1   A    192.0.2.1\n"
    "mx1   AAAA 2001:db8::1\n"
    "alias CNAME mx1\n"
    "empty A    192.0.2.9\n"
)


def test_query_value_semantics() -> None:
    query = mdns.Query("Example.ORG", "txt")
    assert query.name == "Example.ORG"
    assert query.record_type == "TXT"
    assert query == mdns.Query("example.org", "TXT")
    assert hash(query) == hash(mdns.Query("example.org.", "TXT"))
    assert query != mdns.Query("example.org", "A")
    assert repr(query) == "Query(name='Example.ORG', record_type='TXT')"
    with pytest.raises(mailauth.ConfigError, match="record type"):
        mdns.Query("example.org", "SOA")
    with pytest.raises(mailauth.ConfigError, match="invalid domain name"):
        mdns.Query("a..b", "A")


def test_zone_resolver_answers_every_kind() -> None:
    zone = mdns.ZoneResolver(ZONE_TEXT)
    txt = zone.lookup(mdns.Query("example.org", "TXT"))
    assert sorted(txt) == [(b"first string ", b"second string"), (b"v=spf1 -all",)]
    assert zone.lookup(mdns.Query("example.org", "MX")) == [(10, "mx1.example.org"), (20, "mx2.example.net")]
    assert zone.lookup(mdns.Query("mx1.example.org", "A")) == [ipaddress.IPv4Address("192.0.2.1")]
    assert zone.lookup(mdns.Query("alias.example.org", "AAAA")) == [ipaddress.IPv6Address("2001:db8::1")]
    assert zone.lookup(mdns.Query("empty.example.org", "TXT")) == []
    with pytest.raises(mdns.NXDomain):
        zone.lookup(mdns.Query("missing.example.org", "A"))


def test_zone_origin_argument_and_errors() -> None:
    zone = mdns.ZoneResolver('sel._domainkey TXT "v=DKIM1; p="\n', origin="example.com")
    assert zone.lookup(mdns.Query("sel._domainkey.example.com", "TXT")) == [(b"v=DKIM1; p=",)]
    with pytest.raises(mailauth.ZoneError, match="line 2"):
        mdns.ZoneResolver('$ORIGIN example.org.\n@ TXT "unterminated\n')
    with pytest.raises(TypeError):
        mdns.ZoneResolver(b"$ORIGIN example.org.\n")  # type: ignore[arg-type]


class ListResolver:
    """A Python resolver answering from a dict; records given in every accepted form."""

    def __init__(self, answers: dict[tuple[str, str], Any]) -> None:
        self.answers = answers
        self.asked: list[mdns.Query] = []

    def lookup(self, query: mdns.Query) -> Any:
        self.asked.append(query)
        answer = self.answers.get((query.name.lower(), query.record_type))
        if answer is None:
            raise mdns.NXDomain()
        if isinstance(answer, BaseException):
            raise answer
        return answer


def test_python_resolver_record_forms() -> None:
    from mailauth import spf

    resolver = ListResolver(
        {
            ("example.org", "TXT"): [("v=spf1 ", b"mx a:hosts.example.org -all")],
            ("example.org", "MX"): [(10, "mx.example.org")],
            ("mx.example.org", "A"): ["192.0.2.1"],
            ("hosts.example.org", "A"): [ipaddress.IPv4Address("192.0.2.2")],
            ("hosts.example.org", "AAAA"): ["2001:db8::2"],
        }
    )
    for ip in ("192.0.2.1", "192.0.2.2", "2001:db8::2"):
        result = spf.check(ip, helo="h.example.org", mail_from="a@example.org", resolver=resolver)
        assert result.result == "pass", (ip, result)
    assert resolver.asked[0] == mdns.Query("example.org", "TXT")


@pytest.mark.parametrize(
    "bad",
    [
        ["not an address"],
        [("10", "mx.example.org")],
        [12345],
    ],
)
def test_python_resolver_returning_garbage_is_a_resolver_error(bad: Any) -> None:
    from mailauth import spf

    resolver = ListResolver(
        {
            ("example.org", "TXT"): ["v=spf1 mx a -all"],
            ("example.org", "MX"): bad,
            ("example.org", "A"): bad,
        }
    )
    with pytest.raises(mailauth.ResolverError):
        spf.check("192.0.2.1", helo="h.example.org", mail_from="a@example.org", resolver=resolver)


def test_python_resolver_returning_a_non_list_is_a_type_error() -> None:
    from mailauth import spf

    class ReturnsNone:
        def lookup(self, query: mdns.Query) -> None:
            return None

    with pytest.raises(TypeError, match="list of records"):
        spf.check("192.0.2.1", helo="h.example.org", mail_from="a@example.org", resolver=ReturnsNone())  # type: ignore[arg-type]
    for bad in ("v=spf1 -all", b"v=spf1 -all", 7):
        resolver = ListResolver({("example.org", "TXT"): bad})
        with pytest.raises(TypeError, match="list of records"):
            spf.check("192.0.2.1", helo="h.example.org", mail_from="a@example.org", resolver=resolver)


def test_object_without_lookup_is_rejected() -> None:
    from mailauth import spf

    with pytest.raises(AttributeError):
        spf.check("192.0.2.1", helo="h.example.org", mail_from="a@example.org", resolver=object())  # type: ignore[arg-type]


# --- StubResolver against a small DNS server on loopback -------------------


class LoopbackServer:
    """Answers UDP DNS queries on 127.0.0.1 from a dict, until closed."""

    def __init__(self, records: dict[tuple[str, str], list[str]]) -> None:
        self.records = records
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.closed.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            request = dns.message.from_wire(data)
            response = dns.message.make_response(request)
            question = request.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            rdtype = dns.rdatatype.to_text(question.rdtype)
            if rdtype == "TXT" and name == "timeout.example.org":
                continue
            values = self.records.get((name, rdtype))
            if values is None:
                known = any(n == name for n, _ in self.records)
                if not known:
                    response.set_rcode(dns.rcode.NXDOMAIN)
            else:
                response.answer.append(dns.rrset.from_text(question.name, 60, "IN", rdtype, *values))
            self.sock.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self.closed.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer(
        {
            ("example.org", "TXT"): ['"v=spf1 ip4:192.0.2.0/24 -all"'],
            ("example.org", "A"): ["192.0.2.80"],
        }
    )
    yield srv
    srv.close()


def test_stub_resolver_over_udp(server: LoopbackServer) -> None:
    from mailauth import spf

    stub = mdns.StubResolver([f"127.0.0.1:{server.port}"], timeout=2.0)
    assert stub.nameservers == [f"127.0.0.1:{server.port}"]
    assert stub.timeout == 2.0
    assert stub.lookup(mdns.Query("example.org", "TXT")) == [(b"v=spf1 ip4:192.0.2.0/24 -all",)]
    assert stub.lookup(mdns.Query("example.org", "MX")) == []
    with pytest.raises(mdns.NXDomain):
        stub.lookup(mdns.Query("nope.example.org", "A"))
    result = spf.check("192.0.2.7", helo="h.example.org", mail_from="a@example.org", resolver=stub)
    assert result.result == "pass"


def test_stub_resolver_timeout_is_a_temporary_failure(server: LoopbackServer) -> None:
    stub = mdns.StubResolver([f"127.0.0.1:{server.port}"], timeout=0.2, attempts=1)
    with pytest.raises(mdns.TempFail) as raised:
        stub.lookup(mdns.Query("timeout.example.org", "TXT"))
    assert raised.value.args == ("timeout",)


def test_stub_resolver_bad_arguments() -> None:
    with pytest.raises(mailauth.ConfigError, match="name server"):
        mdns.StubResolver(["not-an-address"])
    with pytest.raises(mailauth.ConfigError, match="timeout"):
        mdns.StubResolver(["127.0.0.1"], timeout=-1)
    with pytest.raises(TypeError):
        mdns.StubResolver("127.0.0.1")  # type: ignore[arg-type]
    assert repr(mdns.StubResolver(["::1"], timeout=1.5)) == "StubResolver(nameservers=['[::1]:53'], timeout=1.5)"


def test_stub_resolver_answers_a_round_of_queries_in_parallel() -> None:
    from mailauth import dkim

    from conftest import MESSAGE, NOW

    keys = [dkim.generate_key("ed25519") for _ in range(3)]
    srv = LoopbackServer(
        {(f"k{i}._domainkey.example.org", "TXT"): [f'"{key.dns_record()}"'] for i, key in enumerate(keys)}
    )
    try:
        message = MESSAGE
        for i, key in enumerate(keys):
            message = dkim.sign(message, key=key, domain="example.org", selector=f"k{i}", now=NOW).encode() + message
        stub = mdns.StubResolver([f"127.0.0.1:{srv.port}"], timeout=2.0)
        result = dkim.verify(message, resolver=stub, now=NOW)
        assert [s.result for s in result.signatures] == ["pass", "pass", "pass"]
        assert [s.selector for s in result.signatures] == ["k2", "k1", "k0"]
    finally:
        srv.close()
