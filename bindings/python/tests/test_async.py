from __future__ import annotations

import asyncio
from typing import Any

import pytest

import mailauth
from mailauth import dkim, dns, spf
from conftest import MESSAGE, NOW, zone_with


class AsyncZone:
    """An async resolver over a ZoneResolver that records how many lookups overlap."""

    def __init__(self, zone: dns.ZoneResolver) -> None:
        self.zone = zone
        self.active = 0
        self.most_active = 0
        self.asked: list[dns.Query] = []

    async def lookup(self, query: dns.Query) -> list[Any]:
        self.asked.append(query)
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            await asyncio.sleep(0.01)
            return self.zone.lookup(query)
        finally:
            self.active -= 1


SPF_ZONE = dns.ZoneResolver(
    '$ORIGIN example.org.\n@ TXT "v=spf1 mx -all"\n@ MX 10 mx1\n@ MX 20 mx2\nmx1 A 192.0.2.1\nmx2 A 192.0.2.2\n'
)


def test_spf_check_async() -> None:
    resolver = AsyncZone(SPF_ZONE)
    result = asyncio.run(
        spf.check_async("192.0.2.2", helo="h.example.org", mail_from="a@example.org", resolver=resolver, now=NOW)
    )
    assert result.result == "pass"
    # The two MX hosts' addresses are asked in one round, concurrently.
    assert resolver.most_active == 2


def test_dkim_verify_async_resolves_all_keys_at_once(
    ed25519_key: dkim.PrivateKey, rsa_key: dkim.PrivateKey
) -> None:
    zone = zone_with((ed25519_key, "ed"), (rsa_key, "rsa"))
    message = dkim.sign(MESSAGE, key=ed25519_key, domain="example.org", selector="ed", now=NOW).encode() + MESSAGE
    message = dkim.sign(message, key=rsa_key, domain="example.org", selector="rsa", now=NOW).encode() + message
    resolver = AsyncZone(zone)
    result = asyncio.run(dkim.verify_async(message, resolver=resolver, now=NOW))
    assert [s.result for s in result.signatures] == ["pass", "pass"]
    assert resolver.most_active == 2
    assert sorted(q.name for q in resolver.asked) == ["ed._domainkey.example.org", "rsa._domainkey.example.org"]


def test_async_driver_accepts_blocking_and_bundled_resolvers() -> None:
    class Blocking:
        def lookup(self, query: dns.Query) -> list[Any]:
            return SPF_ZONE.lookup(query)

    for resolver in (Blocking(), SPF_ZONE):
        result = asyncio.run(
            spf.check_async("192.0.2.1", helo="h.example.org", mail_from="a@example.org", resolver=resolver)
        )
        assert result.result == "pass"


@pytest.mark.parametrize(
    ("error", "result"),
    [(asyncio.TimeoutError(), "temperror"), (dns.NXDomain(), "none"), (OSError(), "temperror")],
)
def test_async_resolver_exceptions(error: BaseException, result: str) -> None:
    class Raising:
        async def lookup(self, query: dns.Query) -> list[Any]:
            raise error

    outcome = asyncio.run(spf.check_async("192.0.2.1", helo="h.example.org", mail_from="a@example.org", resolver=Raising()))
    assert outcome.result == result


def test_driving_a_check_by_hand() -> None:
    check = spf.start("192.0.2.1", helo="h.example.org", mail_from="a@example.org", now=NOW)
    with pytest.raises(mailauth.MailAuthError, match="not finished"):
        check.outcome()
    queries = check.poll()
    assert queries == [dns.Query("example.org", "TXT")]
    assert check.poll() == queries  # polling again asks the same
    with pytest.raises(mailauth.MailAuthError, match="not asked"):
        check.supply(dns.Query("other.example.org", "TXT"), [])
    check.supply(queries[0], ["v=spf1 ip4:192.0.2.0/24 -all"])
    assert check.poll() == []
    assert check.outcome().result == "pass"
    assert check.resolve(SPF_ZONE).result == "pass"  # a finished check just answers


def test_supplying_exceptions_by_hand() -> None:
    check = spf.start("192.0.2.1", helo="h.example.org", mail_from="a@example.org", now=NOW)
    (query,) = check.poll()
    check.supply(query, dns.TempFail("timeout"))
    assert check.poll() == []
    assert check.outcome().result == "temperror"
    check = spf.start("192.0.2.1", helo="h.example.org", mail_from="a@example.org", now=NOW)
    (query,) = check.poll()
    with pytest.raises(ValueError, match="boom"):
        check.supply(query, ValueError("boom"))


def test_resolve_async_drives_any_check(ed25519_key: dkim.PrivateKey) -> None:
    message = dkim.sign(MESSAGE, key=ed25519_key, domain="example.org", selector="sel", now=NOW).encode() + MESSAGE
    checks = [
        dkim.start_verify(message, now=NOW),
        spf.start("192.0.2.1", helo="h.example.org", mail_from="a@example.org", now=NOW),
    ]
    zone = zone_with((ed25519_key, "sel"), extra='@ TXT "v=spf1 ip4:192.0.2.1 -all"\n')

    async def both() -> list[Any]:
        return list(await asyncio.gather(*(mailauth.resolve_async(c, AsyncZone(zone)) for c in checks)))

    dkim_result, spf_result = asyncio.run(both())
    assert dkim_result.result == "pass"
    assert spf_result.result == "pass"
