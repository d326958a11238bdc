#!/usr/bin/python3
"""Keys, DNS zones and pre-signed messages for the load benchmark.

Usage: gen.py WORKDIR [COUNT]

Writes into WORKDIR:
  keys/DOMAIN.private, keys/DOMAIN.pub   rsa-2048 key of each sending domain
  zones/DOMAIN.zone                      DKIM key, SPF and DMARC records
  msgs/NNNNN.eml                         COUNT messages of about 4 KiB, signed with dkimpy
  msgs/index.tsv                         file, envelope sender, Message-ID
  warm/NNNNN.eml, warm/index.tsv         a few more for the warm-up
"""
import os
import random
import subprocess
import sys
import time
from email.utils import formatdate

import dkim  # Debian python3-dkim (dkimpy)

DOMAINS = ["example.com", "example.net"]
SELECTOR = b"bench"
SIZE = 4096
WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
         "tempor incididunt ut labore et dolore magna aliqua enim ad minim veniam "
         "quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo").split()


def key(work, domain):
    priv = os.path.join(work, "keys", domain + ".private")
    pub = os.path.join(work, "keys", domain + ".pub")
    if not os.path.exists(priv):
        subprocess.run(["openssl", "genrsa", "-traditional", "-out", priv, "2048"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "rsa", "-in", priv, "-pubout", "-out", pub],
                       check=True, capture_output=True)
    b64 = "".join(l.strip() for l in open(pub) if not l.startswith("-----"))
    return open(priv, "rb").read(), b64


def zone(work, domain, p):
    rec = "v=DKIM1; k=rsa; p=" + p
    parts = " ".join('"%s"' % rec[i:i + 200] for i in range(0, len(rec), 200))
    text = f"""$ORIGIN {domain}.
$TTL 3600
@       SOA ns hostmaster 1 3600 600 86400 300
@       NS  ns
ns      A   127.0.0.1
@       A   127.0.0.1
@       MX  10 mail
mail    A   127.0.0.1
@       TXT "v=spf1 ip4:127.0.0.0/8 -all"
mail    TXT "v=spf1 ip4:127.0.0.0/8 -all"
_dmarc  TXT "v=DMARC1; p=reject; adkim=r; aspf=r"
bench._domainkey TXT ( {parts} )
"""
    with open(os.path.join(work, "zones", domain + ".zone"), "w") as f:
        f.write(text)


def body_text(rng, n):
    lines, size = [], 0
    while size < n:
        line = []
        while sum(len(w) + 1 for w in line) < 70:
            line.append(rng.choice(WORDS))
        s = " ".join(line).capitalize() + "."
        lines.append(s)
        size += len(s) + 2
    out = "\r\n".join(lines) + "\r\n"
    return out[: max(n - 2, 0)].rstrip() + "\r\n"


def message(rng, i, domain, privkey, tag, pad):
    mid = f"<{tag}.{i:05d}.{int(time.time())}@{domain}>"
    head = (f"From: Sender {i} <sender{i % 50}@{domain}>\r\n"
            f"To: <user{i % 20}@bench.test>\r\n"
            f"Subject: load message {tag} {i}\r\n"
            f"Date: {formatdate(localtime=False)}\r\n"
            f"Message-ID: {mid}\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n")
    raw = (head + body_text(rng, pad)).encode()
    sig = dkim.sign(raw, SELECTOR, domain.encode(), privkey,
                    canonicalize=(b"relaxed", b"relaxed"),
                    include_headers=[b"from", b"to", b"subject", b"date",
                                     b"message-id", b"mime-version", b"content-type"])
    return mid, f"sender{i % 50}@{domain}", sig + raw


def batch(work, sub, count, keys, tag):
    rng = random.Random(sub)
    d = os.path.join(work, sub)
    os.makedirs(d, exist_ok=True)
    index = []
    pads = {}
    for i in range(count):
        domain = DOMAINS[i % 2]
        if domain not in pads:  # the signature's length does not change
            _, _, probe = message(rng, i, domain, keys[domain], tag, 1000)
            pads[domain] = 1000 + SIZE - len(probe)
        pad = pads[domain]
        mid, env, data = message(rng, i, domain, keys[domain], tag, pad)
        name = f"{i:05d}.eml"
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        index.append(f"{name}\t{env}\t{mid}\n")
    with open(os.path.join(d, "index.tsv"), "w") as f:
        f.writelines(index)


def main():
    work = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    for sub in ("keys", "zones"):
        os.makedirs(os.path.join(work, sub), exist_ok=True)
    keys = {}
    for domain in DOMAINS:
        keys[domain], p = key(work, domain)
        zone(work, domain, p)
    batch(work, "msgs", count, keys, "m")
    batch(work, "warm", 40, keys, "w")


if __name__ == "__main__":
    main()
