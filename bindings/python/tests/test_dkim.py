from __future__ import annotations

import io
import threading
import time
import tracemalloc
from typing import Any, Iterator

import pytest

import mailauth
from mailauth import dkim, dns
from conftest import MESSAGE, NOW, zone_with


@pytest.fixture(params=["rsa", "ed25519"])
def key(request: pytest.FixtureRequest, rsa_key: dkim.PrivateKey, ed25519_key: dkim.PrivateKey) -> dkim.PrivateKey:
    return rsa_key if request.param == "rsa" else ed25519_key


def signed(message: bytes, key: dkim.PrivateKey, selector: str = "sel", **kwargs: Any) -> bytes:
    kwargs.setdefault("now", NOW)
    field = dkim.sign(message, key=key, domain="example.org", selector=selector, **kwargs)
    return field.encode() + message


@pytest.mark.parametrize("canonicalization", ["relaxed/relaxed", "relaxed/simple", "simple/relaxed", "simple/simple"])
def test_sign_then_verify(key: dkim.PrivateKey, canonicalization: str) -> None:
    message = signed(MESSAGE, key, canonicalization=canonicalization)
    result = dkim.verify(message, resolver=zone_with((key, "sel")), now=NOW)
    assert result.result == "pass"
    assert bool(result) and len(result) == 1
    assert result.passed_domains == ["example.org"]
    (signature,) = result.signatures
    assert signature.result == "pass"
    assert signature.reason is None
    assert (signature.domain, signature.selector) == ("example.org", "sel")
    assert signature.algorithm == ("rsa-sha256" if key.key_type == "rsa" else "ed25519-sha256")
    assert signature.key_bits == key.bits
    assert signature.identity == "@example.org"
    assert signature.signature_prefix is not None and len(signature.signature_prefix) == 8
    assert signature.testing is False


def test_signature_field_shape(ed25519_key: dkim.PrivateKey) -> None:
    field = dkim.sign(
        MESSAGE,
        key=ed25519_key,
        domain="example.org",
        selector="sel",
        now=NOW,
        identity="alice@example.org",
        expire_after=3600,
        headers=["subject", "date"],
        oversign=["from", "subject"],
    )
    assert field.startswith("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.org;")
    assert field.endswith("\r\n")
    unfolded = field.replace("\r\n ", " ")
    assert f"t={NOW};" in unfolded and f"x={NOW + 3600};" in unfolded
    assert "i=alice@example.org;" in unfolded
    assert "h=from:subject:date:from:subject;" in unfolded.replace(" ", "")
    lf = dkim.sign(MESSAGE, key=ed25519_key, domain="example.org", selector="sel", now=NOW, linesep="\n")
    assert "\r" not in lf and lf.endswith("\n")
    untimed = dkim.sign(MESSAGE, key=ed25519_key, domain="example.org", selector="sel", timestamp=False)
    assert "t=" not in untimed.replace("\r\n ", "")


def test_key_accepted_as_pem(rsa_key: dkim.PrivateKey) -> None:
    pem = rsa_key.to_pem()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    for form in (pem, pem.encode()):
        field = dkim.sign(MESSAGE, key=form, domain="example.org", selector="sel", now=NOW)
        result = dkim.verify(field.encode() + MESSAGE, resolver=zone_with((rsa_key, "sel")), now=NOW)
        assert result.result == "pass"


def test_message_forms(ed25519_key: dkim.PrivateKey) -> None:
    message = signed(MESSAGE, ed25519_key)
    zone = zone_with((ed25519_key, "sel"))

    def chunks(size: int) -> Iterator[bytes]:
        for i in range(0, len(message), size):
            yield message[i : i + size]

    forms: list[Any] = [
        message,
        bytearray(message),
        memoryview(message),
        io.BytesIO(message),
        list(chunks(1)),
        chunks(7),
        (memoryview(c) for c in chunks(100)),
    ]
    for form in forms:
        assert dkim.verify(form, resolver=zone, now=NOW).result == "pass", type(form)
        assert dkim.sign(io.BytesIO(MESSAGE), key=ed25519_key, domain="example.org", selector="sel", now=NOW) == (
            dkim.sign(MESSAGE, key=ed25519_key, domain="example.org", selector="sel", now=NOW)
        )


def test_message_from_a_binary_file(tmp_path: Any, ed25519_key: dkim.PrivateKey) -> None:
    path = tmp_path / "message.eml"
    path.write_bytes(signed(MESSAGE, ed25519_key))
    with open(path, "rb") as file:
        assert dkim.verify(file, resolver=zone_with((ed25519_key, "sel")), now=NOW).result == "pass"
    with open(path, "r") as text_file:
        with pytest.raises(TypeError, match="binary mode"):
            dkim.verify(text_file, resolver=zone_with((ed25519_key, "sel")), now=NOW)


def test_message_of_the_wrong_type() -> None:
    zone = dns.ZoneResolver()
    with pytest.raises(TypeError, match="not str"):
        dkim.verify(MESSAGE.decode(), resolver=zone, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="int"):
        dkim.verify(42, resolver=zone, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="chunks must be bytes"):
        dkim.verify([b"From: a@example.org\r\n", "oops"], resolver=zone, now=NOW)


def test_unsigned_message_is_none() -> None:
    result = dkim.verify(MESSAGE, resolver=dns.ZoneResolver(), now=NOW)
    assert result.result == "none"
    assert result.signatures == ()
    assert not result
    assert repr(result) == "DkimResult(result='none', signatures=[])"


def test_failures_are_results(ed25519_key: dkim.PrivateKey, rsa_key: dkim.PrivateKey) -> None:
    zone = zone_with((ed25519_key, "sel"), extra="revoked._domainkey TXT \"v=DKIM1; k=ed25519; p=\"\n")
    tampered = signed(MESSAGE, ed25519_key).replace(b"noon", b"one")
    result = dkim.verify(tampered, resolver=zone, now=NOW)
    assert (result.result, result.signatures[0].reason) == ("fail", "body hash did not verify")

    missing = dkim.verify(signed(MESSAGE, ed25519_key, selector="other"), resolver=zone, now=NOW)
    assert (missing.result, missing.signatures[0].reason) == ("permerror", "no key for signature")

    revoked = dkim.verify(signed(MESSAGE, ed25519_key, selector="revoked"), resolver=zone, now=NOW)
    assert (revoked.result, revoked.signatures[0].reason) == ("permerror", "key revoked")

    expiring = signed(MESSAGE, ed25519_key, expire_after=60)
    assert dkim.verify(expiring, resolver=zone, now=NOW + 30).result == "pass"
    late = dkim.verify(expiring, resolver=zone, now=NOW + 3600)
    assert (late.result, late.signatures[0].reason) == ("permerror", "signature expired")

    wrong_key = dkim.verify(signed(MESSAGE, rsa_key), resolver=zone, now=NOW)
    assert wrong_key.result == "permerror"
    assert "does not suit" in (wrong_key.signatures[0].reason or "")


def test_several_signatures_and_the_limit(ed25519_key: dkim.PrivateKey, rsa_key: dkim.PrivateKey) -> None:
    zone = zone_with((ed25519_key, "ed"), (rsa_key, "rsa"))
    once = signed(MESSAGE, ed25519_key, selector="ed")
    twice = signed(once, rsa_key, selector="rsa")
    result = dkim.verify(twice, resolver=zone, now=NOW)
    assert [s.result for s in result.signatures] == ["pass", "pass"]
    assert [s.selector for s in result.signatures] == ["rsa", "ed"]
    limited = dkim.verify(twice, resolver=zone, now=NOW, max_signatures=1)
    assert [s.result for s in limited.signatures] == ["pass", "neutral"]


def test_temporary_dns_failure_is_temperror(ed25519_key: dkim.PrivateKey) -> None:
    class Failing:
        def lookup(self, query: dns.Query) -> list[Any]:
            raise dns.TempFail("servfail")

    result = dkim.verify(signed(MESSAGE, ed25519_key), resolver=Failing(), now=NOW)
    assert result.result == "temperror"
    assert result.signatures[0].reason == "key lookup failed: server failure"


def test_keys() -> None:
    rsa = dkim.generate_key("rsa", bits=3072)
    assert (rsa.key_type, rsa.bits) == ("rsa", 3072)
    assert dkim.PrivateKey.from_pem(rsa.to_pem()).public_key_der() == rsa.public_key_der()
    assert dkim.PrivateKey.from_der(rsa.to_der()).bits == 3072
    ed = dkim.generate_key("ed25519")
    seed = ed.to_der()[-32:]
    assert dkim.PrivateKey.from_ed25519_seed(seed).public_key_der() == ed.public_key_der()
    assert len(ed.public_key_der()) == 32
    assert ed.dns_record().startswith("v=DKIM1; k=ed25519; p=")
    assert ed.dns_record(testing=True).startswith("v=DKIM1; k=ed25519; t=y; p=")
    entry = rsa.zone_entry("sel", "example.org")
    assert entry.startswith("sel._domainkey\tIN\tTXT\t( \"v=DKIM1; k=rsa; p=")
    assert repr(ed) == "PrivateKey(key_type='ed25519', bits=256)"


def test_bad_keys_and_arguments(ed25519_key: dkim.PrivateKey) -> None:
    with pytest.raises(mailauth.InvalidKeyError, match="no pem block"):
        dkim.PrivateKey.from_pem("not a key")
    with pytest.raises(mailauth.InvalidKeyError):
        dkim.PrivateKey.from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(mailauth.InvalidKeyError, match="encrypted"):
        dkim.PrivateKey.from_pem("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
    with pytest.raises(mailauth.InvalidKeyError):
        dkim.PrivateKey.from_der(b"\x30\x03\x02\x01\x00")
    with pytest.raises(mailauth.ConfigError, match="32 bytes"):
        dkim.PrivateKey.from_ed25519_seed(b"short")
    with pytest.raises(TypeError):
        dkim.PrivateKey.from_pem(12)  # type: ignore[arg-type]
    with pytest.raises(mailauth.InvalidKeyError, match="rsa key size"):
        dkim.generate_key("rsa", bits=512)
    with pytest.raises(mailauth.ConfigError, match="key type"):
        dkim.generate_key("dsa")  # type: ignore[arg-type]
    with pytest.raises(mailauth.InvalidKeyError):
        dkim.sign(MESSAGE, key="garbage", domain="example.org", selector="sel")
    with pytest.raises(TypeError):
        dkim.sign(MESSAGE, key=42, domain="example.org", selector="sel")  # type: ignore[arg-type]
    with pytest.raises(mailauth.SignError, match="invalid signing domain"):
        dkim.sign(MESSAGE, key=ed25519_key, domain="example..org", selector="sel")
    with pytest.raises(mailauth.SignError, match="invalid selector"):
        dkim.sign(MESSAGE, key=ed25519_key, domain="example.org", selector="a;b")
    with pytest.raises(mailauth.SignError, match="identity"):
        dkim.sign(MESSAGE, key=ed25519_key, domain="example.org", selector="s", identity="a@example.com")
    with pytest.raises(mailauth.SignError, match="no from"):
        dkim.sign(b"Subject: x\r\n\r\nbody\r\n", key=ed25519_key, domain="example.org", selector="sel")
    with pytest.raises(mailauth.ConfigError, match="canonicalization"):
        dkim.sign(MESSAGE, key=ed25519_key, domain="example.org", selector="s", canonicalization="loose")
    with pytest.raises(mailauth.ConfigError, match="linesep"):
        dkim.sign(MESSAGE, key=ed25519_key, domain="example.org", selector="s", linesep="\r")
    with pytest.raises(mailauth.ConfigError):
        dkim.verify(MESSAGE, resolver=dns.ZoneResolver(), now=-5)


FIFTY_MB = 50 * 1024 * 1024


def big_message() -> Iterator[bytes]:
    """A 50 MiB message produced one block (about 1 MiB) at a time."""
    yield MESSAGE.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    line = b"The quick brown fox jumps over the lazy dog, again and again.  \r\n"
    block = line * ((1 << 20) // len(line))
    for _ in range(FIFTY_MB // len(block) + 1):
        yield block


def rechunked(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    """The same bytes in chunks of ``size`` (the last one shorter)."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending


def test_fifty_megabytes_streamed_in_chunks(ed25519_key: dkim.PrivateKey) -> None:
    tracemalloc.start()
    try:
        field = dkim.sign(big_message(), key=ed25519_key, domain="example.org", selector="sel", now=NOW)
        zone = zone_with((ed25519_key, "sel"))

        def with_signature() -> Iterator[bytes]:
            yield field.encode()
            yield from rechunked(big_message(), 3 * 65536 + 17)

        result = dkim.verify(with_signature(), resolver=zone, now=NOW)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.result == "pass"
    # Only a chunk or two is alive at any time, never the 50 MiB.
    assert peak < 8 * 1024 * 1024, peak


def test_the_gil_is_released_while_hashing(ed25519_key: dkim.PrivateKey) -> None:
    message = MESSAGE + b"x" * (64 * 1024 * 1024)
    done = threading.Event()
    ticks = 0

    def work() -> None:
        dkim.sign(message, key=ed25519_key, domain="example.org", selector="sel", now=NOW)
        done.set()

    worker = threading.Thread(target=work)
    started = time.perf_counter()
    worker.start()
    while not done.is_set():
        ticks += 1
    worker.join()
    elapsed = time.perf_counter() - started
    # With the GIL held for the whole call this thread would not run at all
    # until the signer finished; released, it counts all along.
    assert elapsed > 0.01
    assert ticks > 1000, (ticks, elapsed)
