#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target (fuzz/corpus/<target>/).

Every seed comes from data already in the repository: the SPF records and
zones of the openspf suites, the DKIM-Signature fields, key records and
messages of the DKIM vectors and corpora, the DMARC records and From values
of the DMARC tables, the Authentication-Results vectors, the example
zone, and the received DMARC aggregate reports. DNS response packets are encoded here from records of the example
zone, for the question the dns_packet target asks (example.com).

Run it from anywhere (standard library only); it replaces the corpus
directories it writes. A file is named after its source and the start of
its SHA-1, so equal inputs are kept once.
"""

import hashlib
import json
import re
import shutil
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CORPUS = ROOT / "fuzz" / "corpus"

corpus: dict[str, dict[str, bytes]] = {}


def add(target: str, source: str, value) -> None:
    if isinstance(value, str):
        value = value.encode()
    name = f"{source}-{hashlib.sha1(value).hexdigest()[:12]}"
    seeds = corpus.setdefault(target, {})
    if value not in seeds.values():
        seeds[name] = value


def load(path: Path):
    return json.loads(path.read_text())


# ---------------------------------------------------------------- messages

def split_message(raw: bytes) -> tuple[list[tuple[str, bytes]], bytes]:
    """Header fields (name, raw value with folding) and the body."""
    match = re.search(rb"\r?\n\r?\n", raw)
    head, body = (raw[: match.start()], raw[match.end():]) if match else (raw, b"")
    fields: list[list] = []
    for line in re.split(rb"(?<=\n)", head):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1] += line
        elif b":" in line:
            name, value = line.split(b":", 1)
            fields.append([name.decode("latin-1").strip(), value])
    return [(n, v.rstrip(b"\r\n")) for n, v in fields], body


MESSAGES = sorted(
    [p for p in (DATA / "dkim-mail-dkim-perl" / "corpus").glob("*.txt")]
    + [p for p in (DATA / "dkim-dkimpy" / "data").iterdir()
       if p.suffix in (".msg", ".mbox") or "message" in p.name]
    + list((DATA / "rfc-examples").glob("*.eml"))
    + list((DATA / "dmarc" / "authheaders-0.16.3" / "messages").glob("*message*"))
    + list((DATA / "dmarc" / "authheaders-0.16.3" / "messages").glob("*.eml"))
    + list((ROOT / "examples" / "data").glob("*.eml"))
)

bodies: set[bytes] = set()
for path in MESSAGES:
    source = path.parent.name if path.parent.name != "data" else path.parent.parent.name
    fields, body = split_message(path.read_bytes())
    for name, value in fields:
        lower = name.lower()
        if lower == "dkim-signature":
            add("dkim_signature", "message", value)
        elif lower == "from":
            add("from_address", "message", value)
        elif lower == "authentication-results":
            add("authres", "message", value)
    raw = path.read_bytes()
    if len(raw) <= 8192:
        # The first byte picks the piece size (1..=17) and, from 0x80, the
        # small header limits.
        seed = hashlib.sha1(path.name.encode()).digest()[0]
        add("dkim_sign_whole", "message", bytes([seed]) + raw)
    if body and len(body) <= 2048 and body not in bodies:
        bodies.add(body)
        # The first byte picks the chunk size (1..=17) of the split hash.
        seed = hashlib.sha1(path.name.encode()).digest()[0]
        add("dkim_body_chunks", "message-body", bytes([seed]) + body)

# RFC 6376 §3.4.5, the canonicalization example body, split every way.
for seed in range(17):
    add("dkim_body_chunks", "rfc6376", bytes([seed]) + b" C \r\nD \t E\r\n\r\n\r\n")
add("dkim_body_chunks", "empty", b"\x00")
# A field ending in CR CR LF and a CR ending the message, read whole.
add("dkim_sign_whole", "cr-at-end", b"\x00A: 1\nB: 2\r\r\n\r")
add("dkim_body_chunks", "bare-lf", b"\x03line one\nline two \t\n\n\n")

# ------------------------------------------------------------ DKIM keys

key_records: dict[str, str] = {}
for line in (DATA / "dkim-mail-dkim-perl" / "FAKE_DNS.dat").read_text().splitlines():
    if line.startswith("#") or not line.strip():
        continue
    name, _, value = line.partition(" ")
    value = value.strip()
    if value.startswith("~~") or value == "NXDOMAIN":
        continue
    key_records[name] = "" if value == '""' else value
for name, value in load(DATA / "rfc-examples" / "rfc8463-A2-dns-records.json")["records"].items():
    key_records[name.rstrip(".")] = value
for path in (DATA / "dkim-dkimpy" / "data").iterdir():
    if path.suffix in (".txt", ".dns") and path.name != "test_tlsrpt.txt":
        text = path.read_text().strip()
        if "\n" not in text:
            key_records[f"{path.stem}._domainkey.dkimpy.example"] = text
for table in load(DATA / "dkim-dkimpy" / "cases.json")["dns_tables"].values():
    for name, value in table.items():
        if "_domainkey" in name and isinstance(value, str):
            key_records[name.rstrip(".")] = value
for value in key_records.values():
    add("dkim_key_record", "key", value)

# ------------------------------------------------------------------- SPF

spf_zones: list[tuple[str, dict]] = []
for suite in ("rfc7208", "rfc4408"):
    for scenario in load(DATA / "spf-openspf" / f"{suite}-tests.json"):
        zonedata = scenario.get("zonedata", {})
        spf_zones.append((suite, zonedata))
        for items in zonedata.values():
            for item in items:
                if not isinstance(item, dict):
                    continue
                for kind in ("TXT", "SPF"):
                    if kind in item:
                        value = item[kind]
                        text = "".join(value) if isinstance(value, list) else value
                        add("spf_record", suite, text.encode("utf-8", "surrogateescape"))

# ----------------------------------------------------------------- DMARC

tables = load(DATA / "dmarc" / "opendmarc-lib-test-tables.json")
for case in tables["dmarc_record_parse"]:
    add("dmarc_record", "opendmarc", case["record"])
for case in tables["from_header_domain_extraction"]:
    add("from_address", "opendmarc", case["raw"])
authheaders = load(DATA / "dmarc" / "authheaders-0.16.3" / "cases.json")
for table in authheaders["dns_tables"].values():
    for name, value in table.items():
        if name.startswith("_dmarc") and isinstance(value, str) and value:
            add("dmarc_record", "authheaders", value)
for vector in authheaders["from_domain_vectors"]:
    value = vector.get("from") or vector.get("header") or next(iter(vector.values()))
    if isinstance(value, str):
        add("from_address", "authheaders", value)

# ------------------------------------------------------------------ BIMI

# The Assertion Records and BIMI-Selector values of the BIMI tables.
bimi_tests = (ROOT / "src" / "bimi" / "tests.rs").read_text()
for text in re.findall(r'"((?:[vV] ?= ?BIMI|[sSl]=|v=BIMI)[^"]*)"', bimi_tests):
    text = text.replace("{LOGO}", "https://images.example.org/logo.svg")
    text = text.replace("{VMC}", "https://images.example.org/vmc.pem")
    add("bimi", "bimi-tests", text.replace("\\r\\n\\t", "\r\n\t"))

# ---------------------------------------------------- Authentication-Results

def field_value(field: str) -> str:
    name, _, value = field.partition(":")
    return value if name.strip().lower() == "authentication-results" else field


for vector in load(DATA / "authentication-results" / "authres-1.2.0-parse-vectors.json")["vectors"]:
    add("authres", "authres", field_value(vector["header"]))
for vector in load(DATA / "authentication-results" / "go-msgauth-parse-vectors.json")["vectors"]:
    add("authres", "go-msgauth", vector["header_value"])
for example in load(DATA / "authentication-results" / "rfc8601-appendix-b-examples.json")["examples"]:
    for field in example["fields"]:
        add("authres", "rfc8601", field_value(field["field"]))

# ------------------------------------------------------------------- ARC
# The ARC fields of the ValiMail validation suite's messages.

for scenario in load(DATA / "arc-valimail" / "arc-draft-validation-tests.json"):
    for case in scenario["tests"].values():
        raw = case["message"].replace("\n", "\r\n").encode()
        fields, _ = split_message(raw)
        for name, value in fields:
            if name.lower().startswith("arc-"):
                add("arc_fields", "valimail", value)

# ------------------------------------------------------------- zone text

example_zone = (ROOT / "examples" / "data" / "example.zone").read_text()
add("zone_text", "example-zone", example_zone)


def quoted(text: str) -> str:
    out = []
    for byte in text.encode("utf-8", "surrogateescape"):
        if byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def fqdn(name: str) -> str:
    name = name.replace("\\", "\\\\").replace(" ", "\\032")
    return name if name.endswith(".") else name + "."


def zone_of(zonedata: dict) -> str:
    lines = ["$TTL 300"]
    for owner, items in zonedata.items():
        for item in items:
            if not isinstance(item, dict):
                continue
            for kind, value in item.items():
                if kind in ("TXT", "SPF"):
                    strings = value if isinstance(value, list) else [value]
                    rdata = " ".join(quoted(s) for s in strings) or '""'
                    lines.append(f"{fqdn(owner)} IN TXT {rdata}")
                elif kind == "MX":
                    lines.append(f"{fqdn(owner)} IN MX {value[0]} {fqdn(value[1])}")
                elif kind in ("A", "AAAA", "PTR", "CNAME"):
                    target = fqdn(value) if kind in ("PTR", "CNAME") else value
                    lines.append(f"{fqdn(owner)} IN {kind} {target}")
    return "\n".join(lines) + "\n"


for suite, zonedata in spf_zones:
    add("zone_text", suite, zone_of(zonedata))

# The form opendkim-genkey prints: a TXT in parentheses across lines.
key = key_records["test._domainkey.football.example.com"]
add(
    "zone_text",
    "genkey-form",
    "$ORIGIN football.example.com.\n"
    f'test._domainkey\tIN\tTXT\t( "{key[:60]}"\n\t  "{key[60:]}" )'
    "  ; ----- DKIM key test for football.example.com\n",
)

# ---------------------------------------------------------- DNS packets

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "OPT": 41}


class Packet:
    def __init__(self, compress: bool = True):
        self.data = bytearray()
        self.names: dict[str, int] = {}
        self.compress = compress

    def name(self, name: str) -> None:
        labels = [label for label in name.rstrip(".").split(".") if label]
        for i in range(len(labels)):
            suffix = ".".join(labels[i:]).lower()
            if self.compress and suffix in self.names:
                self.data += struct.pack("!H", 0xC000 | self.names[suffix])
                return
            if len(self.data) < 0x3FFF:
                self.names.setdefault(suffix, len(self.data))
            raw = labels[i].encode()
            self.data += bytes([len(raw)]) + raw
        self.data += b"\x00"

    def record(self, owner: str, kind: str, rdata, ttl: int = 300) -> None:
        self.name(owner)
        self.data += struct.pack("!HHI", TYPES[kind], 1, ttl)
        length_at = len(self.data)
        self.data += b"\x00\x00"
        if kind == "A":
            self.data += bytes(int(x) for x in rdata.split("."))
        elif kind == "AAAA":
            import ipaddress

            self.data += ipaddress.IPv6Address(rdata).packed
        elif kind == "MX":
            self.data += struct.pack("!H", rdata[0])
            self.name(rdata[1])
        elif kind in ("PTR", "CNAME", "NS"):
            self.name(rdata)
        elif kind == "TXT":
            strings = [rdata] if isinstance(rdata, str) else rdata
            for s in strings:
                raw = s.encode() if isinstance(s, str) else s
                for i in range(0, max(len(raw), 1), 255):
                    part = raw[i: i + 255]
                    self.data += bytes([len(part)]) + part
        elif kind == "SOA":
            self.name(rdata[0])
            self.name(rdata[1])
            self.data += struct.pack("!IIIII", *rdata[2:])
        struct.pack_into("!H", self.data, length_at, len(self.data) - length_at - 2)


def response(qtype: str, rcode: int = 0, answers=(), authority=(), additional=(),
             qname: str = "example.com", compress: bool = True, flags: int = 0x8180,
             edns: bool = False) -> bytes:
    packet = Packet(compress)
    packet.data += struct.pack(
        "!HHHHHH", 0x4D41, flags | rcode, 1, len(answers), len(authority),
        len(additional) + (1 if edns else 0),
    )
    packet.name(qname)
    packet.data += struct.pack("!HH", TYPES[qtype], 1)
    for section in (answers, authority, additional):
        for record in section:
            packet.record(*record)
    if edns:
        packet.data += b"\x00" + struct.pack("!HHIH", TYPES["OPT"], 1232, 0, 0)
    return bytes(packet.data)


SOA = ("example.com", "SOA", ("ns1.example.com", "hostmaster.example.com", 2026112201, 7200, 3600, 1209600, 300))
spf = re.search(r'@\s+IN\s+TXT\s+"([^"]+)"', example_zone).group(1)
dkim_key = "".join(re.findall(r'"([^"]+)"', example_zone.split("sel2026._domainkey", 1)[1].split(")")[0]))
dmarc = re.search(r'_dmarc\s+IN\s+TXT\s+"([^"]+)"', example_zone).group(1)
packets = {
    "a": response("A", answers=[("example.com", "A", "192.0.2.10")]),
    "aaaa": response("AAAA", answers=[("example.com", "AAAA", "2001:db8::26")]),
    "mx": response("MX", answers=[("example.com", "MX", (10, "mx1.example.com")),
                                  ("example.com", "MX", (20, "mx2.example.com"))],
                   additional=[("mx1.example.com", "A", "192.0.2.25"),
                               ("mx2.example.com", "AAAA", "2001:db8::26")]),
    "mx-uncompressed": response("MX", answers=[("example.com", "MX", (10, "mx1.example.com"))],
                                compress=False),
    "mx-null": response("MX", answers=[("example.com", "MX", (0, "."))]),
    "txt-spf": response("TXT", answers=[("example.com", "TXT", spf)], edns=True),
    "txt-dkim-key": response("TXT", answers=[("example.com", "TXT", dkim_key)]),
    "txt-dmarc": response("TXT", answers=[("example.com", "TXT", dmarc)]),
    "txt-strings": response("TXT", answers=[("example.com", "TXT", ["first ", "second"]),
                                            ("example.com", "TXT", "another record"),
                                            ("example.com", "TXT", [b"\xff\x00x"])]),
    "ptr": response("PTR", answers=[("example.com", "PTR", "mx1.example.org")]),
    "cname-chain": response("TXT", answers=[("example.com", "CNAME", "alias.example.com"),
                                            ("alias.example.com", "CNAME", "target.example.net"),
                                            ("target.example.net", "TXT", "at the target")]),
    "cname-dangling": response("A", answers=[("example.com", "CNAME", "gone.example.net")],
                               authority=[SOA]),
    "question-case": response("A", qname="ExAmPlE.CoM",
                              answers=[("EXAMPLE.com", "A", "192.0.2.1")]),
    "nxdomain": response("TXT", rcode=3, authority=[SOA]),
    "nodata": response("AAAA", authority=[SOA]),
    "nodata-no-soa": response("MX"),
    "servfail": response("TXT", rcode=2),
    "refused": response("A", rcode=5),
    "truncated": response("TXT", flags=0x8380),
    "wrong-type-answer": response("A", answers=[("example.com", "TXT", "not an address")]),
}
for name, packet in packets.items():
    add("dns_packet", name, packet)

# ------------------------------------------------------- DMARC reports

# The received aggregate reports (e-mail, zip, XML), but the large one.
for path in sorted((DATA / "dmarc-reports" / "aggregate").iterdir()):
    if not path.name.startswith("!large"):
        add("report_aggregate", "parsedmarc", path.read_bytes())

# ----------------------------------------------------------------- write

for target, seeds in sorted(corpus.items()):
    directory = CORPUS / target
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for name, value in seeds.items():
        (directory / name).write_bytes(value)
    print(f"{target}: {len(seeds)} seeds", file=sys.stderr)
