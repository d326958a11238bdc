"""mailauth.dkim.verify against dkimpy's dkim.verify on the same 4 KiB message.

Run with the package and dkimpy installed (scripts/test-python.sh makes such a
virtualenv at target/python-test-venv):

    target/python-test-venv/bin/python bindings/python/benches/verify_vs_dkimpy.py

Both verify one signature with the key given in memory (mailauth through a
ZoneResolver, dkimpy through its dnsfunc), so no network is involved.
"""

from __future__ import annotations

import sys
from importlib import metadata
import timeit

import dkim as dkimpy

from mailauth import dkim, dns

NOW = 1_700_000_000


def message_of(size: int) -> bytes:
    header = (
        b"From: Alice <alice@example.org>\r\n"
        b"To: Bob <bob@example.net>\r\n"
        b"Subject: The quarterly figures\r\n"
        b"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
        b"Message-ID: <figures@example.org>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"\r\n"
    )
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do.\r\n"
    body = line * ((size - len(header)) // len(line))
    # Pad with a last line so that the message is exactly `size` octets and
    # ends with CRLF (dkimpy and mailauth hash a body without a final CRLF
    # differently).
    pad = size - len(header) - len(body)
    if pad >= 2:
        body += b"x" * (pad - 2) + b"\r\n"
    return header + body


def bench(key_type: str, size: int = 4096) -> tuple[float, float]:
    key = dkim.generate_key("ed25519") if key_type == "ed25519" else dkim.generate_key("rsa", bits=2048)
    message = message_of(size)
    signed = dkim.sign(message, key=key, domain="example.org", selector="sel", now=NOW).encode() + message
    zone = dns.ZoneResolver("$ORIGIN example.org.\n" + key.zone_entry("sel", "example.org"))
    record = key.dns_record().encode()

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        return record

    assert dkim.verify(signed, resolver=zone, now=NOW).result == "pass"
    assert dkimpy.verify(signed, dnsfunc=dnsfunc) is True

    def ours() -> None:
        dkim.verify(signed, resolver=zone, now=NOW)

    def theirs() -> None:
        dkimpy.verify(signed, dnsfunc=dnsfunc)

    runs = {"ours": (ours, 2000), "theirs": (theirs, 300)}
    results = {}
    for name, (fn, number) in runs.items():
        best = min(timeit.repeat(fn, number=number, repeat=5))
        results[name] = best / number * 1e6
    return results["ours"], results["theirs"]


def main() -> None:
    print(f"python {sys.version.split()[0]}, dkimpy {metadata.version('dkimpy')}, mailauth {metadata.version('mailauth')}")
    for key_type in ("rsa", "ed25519"):
        ours, theirs = bench(key_type)
        print(
            f"{key_type:8} 4 KiB: mailauth.dkim.verify {ours:8.1f} us, "
            f"dkimpy dkim.verify {theirs:8.1f} us, ratio {theirs / ours:5.1f}x"
        )


if __name__ == "__main__":
    main()
