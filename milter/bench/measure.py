#!/usr/bin/python3
"""Send the pre-signed messages over SMTP and measure CPU time and rate.

One run: a warm-up batch, then the measured batch sent over CONNS concurrent
SMTP connections of PER_CONN messages each (connections are reopened until
every message is sent). The measured interval runs from the first connection
of the batch until the sink has received every message of it.

CPU figures:
  machine   non-idle jiffies of /proc/stat (all fields but idle and iowait)
            over the interval, divided by CLK_TCK;
  groups    for every process of a group, utime+stime+cutime+cstime of
            /proc/PID/stat after minus before (a process started during the
            interval counts whole); a process that exits during the interval
            is counted in its parent's cutime/cstime.
A group is "tree:PID" (PID and its descendants) or "cmd:TEXT" (command line
contains TEXT, checked before the tree groups), or "self" (this sender).
"""
import argparse
import asyncio
import json
import os
import re
import resource
import sys
import time

TCK = os.sysconf("SC_CLK_TCK")


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice
    return sum(v[:8]) - v[3] - v[4]


def processes():
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        rest = s[s.rindex(")") + 2:].split()
        # rest[0] = state (field 3); field N is rest[N-3]
        out[int(d)] = dict(comm=comm, cmd=cmd, ppid=int(rest[1]),
                           self=int(rest[11]) + int(rest[12]),
                           reaped=int(rest[13]) + int(rest[14]),
                           start=int(rest[19]))
    return out


def classify(procs, groups):
    """pid -> group name."""
    children = {}
    for pid, p in procs.items():
        children.setdefault(p["ppid"], []).append(pid)
    owner = {}
    for name, spec in groups:
        if spec.startswith("cmd:"):
            text = spec[4:]
            for pid, p in procs.items():
                if pid not in owner and text in p["cmd"]:
                    owner[pid] = name
    for name, spec in groups:
        if spec.startswith("tree:"):
            stack = [int(spec[5:])]
            while stack:
                pid = stack.pop()
                if pid in procs and pid not in owner:
                    owner[pid] = name
                stack.extend(children.get(pid, []))
    return owner


def group_cpu(before, after, groups):
    owner = classify(after, groups)
    owner_before = classify(before, groups)
    res = {name: 0 for name, spec in groups if spec != "self"}
    counts = {name: [0, 0] for name in res}  # processes at the end, processes gone
    for pid, p in after.items():
        g = owner.get(pid)
        if g is None:
            continue
        b = before.get(pid)
        if b is not None and b["start"] == p["start"]:
            res[g] += p["self"] + p["reaped"] - b["self"] - b["reaped"]
        else:
            res[g] += p["self"] + p["reaped"]
        counts[g][0] += 1
    for pid, g in owner_before.items():
        a = after.get(pid)
        if a is None or a["start"] != before[pid]["start"]:
            counts[g][1] += 1
    return {g: v / TCK for g, v in res.items()}, counts


def load(d):
    msgs = []
    with open(os.path.join(d, "index.tsv")) as f:
        for line in f:
            name, env, mid = line.rstrip("\n").split("\t")
            with open(os.path.join(d, name), "rb") as g:
                data = g.read()
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            if data.startswith(b"."):
                data = b"." + data
            data = data.replace(b"\r\n.", b"\r\n..")
            msgs.append((env, mid, data))
    return msgs


class Sender:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.errors = []
        self.accepted = 0

    async def reply(self, r):
        lines = []
        while True:
            line = await r.readline()
            if not line:
                raise ConnectionError("connection closed")
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), b"".join(lines)

    async def expect(self, r, code, what):
        c, text = await self.reply(r)
        if c != code:
            raise RuntimeError(f"{what}: {text.decode(errors='replace').strip()}")

    async def session(self, batch):
        r, w = await asyncio.open_connection(self.host, self.port)
        try:
            await self.expect(r, 220, "greeting")
            helo = "mail." + batch[0][0].split("@")[1]
            w.write(f"EHLO {helo}\r\n".encode())
            await self.expect(r, 250, "EHLO")
            for i, (env, mid, data) in enumerate(batch):
                w.write(f"MAIL FROM:<{env}>\r\n".encode())
                await self.expect(r, 250, "MAIL")
                w.write(f"RCPT TO:<user{i}@bench.test>\r\n".encode())
                c, text = await self.reply(r)
                if c != 250:
                    self.errors.append(f"RCPT {mid}: {text.decode(errors='replace').strip()}")
                    w.write(b"RSET\r\n")
                    await self.expect(r, 250, "RSET")
                    continue
                w.write(b"DATA\r\n")
                await self.expect(r, 354, "DATA")
                w.write(data + b".\r\n")
                c, text = await self.reply(r)
                if c == 250:
                    self.accepted += 1
                else:
                    self.errors.append(f"end of data {mid}: {text.decode(errors='replace').strip()}")
            w.write(b"QUIT\r\n")
            await self.expect(r, 221, "QUIT")
        except Exception as e:  # recorded, the run goes on
            self.errors.append(f"session: {e}")
        finally:
            w.close()
            try:
                await w.wait_closed()
            except Exception:
                pass

    async def run(self, msgs, conns, per_conn):
        sessions = [msgs[i:i + per_conn] for i in range(0, len(msgs), per_conn)]
        queue = asyncio.Queue()
        for s in sessions:
            queue.put_nowait(s)

        async def worker():
            while not queue.empty():
                await self.session(queue.get_nowait())

        await asyncio.gather(*(worker() for _ in range(conns)))


def sink_files(d):
    try:
        return [e.path for e in os.scandir(d) if e.is_file()]
    except FileNotFoundError:
        return []


def wait_sink(d, n, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if len(sink_files(d)) >= n:
            return True
        time.sleep(0.05)
    return False


AR = re.compile(rb"^Authentication-Results:", re.I | re.M)
MID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]*>)", re.I | re.M)
RESULT = re.compile(rb"\b(spf|dkim|dmarc)=([a-z]+)", re.I)


def verify(d, mids):
    """Count the sink's copies of each message and its Authentication-Results."""
    seen = {}
    with_ar = 0
    results = {}
    for path in sink_files(d):
        with open(path, "rb") as f:
            data = f.read()
        m = MID.search(data)
        if not m:
            continue
        mid = m.group(1).decode()
        if mid not in mids:
            continue
        seen[mid] = seen.get(mid, 0) + 1
        head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        unfolded = re.sub(rb"\r?\n[ \t]+", b" ", head)
        ars = [l for l in unfolded.splitlines() if AR.match(l)]
        rsf = [l for l in unfolded.splitlines() if l.lower().startswith(b"received-spf:")]
        if ars:
            with_ar += 1
        got = set()
        for l in ars:
            for meth, res in RESULT.findall(l):
                got.add((meth.lower().decode(), res.lower().decode()))
        for l in rsf:
            got.add(("received-spf", l.split(b":", 1)[1].split()[0].lower().decode()))
        for k in got:
            results[k] = results.get(k, 0) + 1
    once = sum(1 for m in mids if seen.get(m) == 1)
    dup = sum(1 for m in mids if seen.get(m, 0) > 1)
    missing = sum(1 for m in mids if m not in seen)
    return once, dup, missing, with_ar, results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2625)
    ap.add_argument("--work", required=True, help="folder with msgs/ and warm/")
    ap.add_argument("--sink-dir", required=True)
    ap.add_argument("--conns", type=int, default=20)
    ap.add_argument("--per-conn", type=int, default=10)
    ap.add_argument("--group", action="append", default=[], help="NAME=tree:PID | NAME=cmd:TEXT")
    ap.add_argument("--label", required=True)
    ap.add_argument("--run", type=int, default=1)
    ap.add_argument("--session", default="", help="tag of the run.sh invocation")
    ap.add_argument("--out", required=True, help="file the JSON result line is appended to")
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    groups = [tuple(g.split("=", 1)) for g in a.group]

    msgs = load(os.path.join(a.work, "msgs"))
    warm = load(os.path.join(a.work, "warm"))
    base = len(sink_files(a.sink_dir))

    s = Sender(a.host, a.port)
    asyncio.run(s.run(warm, a.conns, max(1, len(warm) // a.conns)))
    if not wait_sink(a.sink_dir, base + len(warm), 60):
        print("warm-up: the sink did not receive every message", s.errors[:5], file=sys.stderr)
        sys.exit(1)
    b0 = machine_busy()
    time.sleep(1.0)
    background = (machine_busy() - b0) / TCK  # CPUs busy in the second before the run
    base = len(sink_files(a.sink_dir))

    load1 = os.getloadavg()[0]
    p0, m0, r0 = processes(), machine_busy(), resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    s = Sender(a.host, a.port)
    asyncio.run(s.run(msgs, a.conns, a.per_conn))
    t1 = time.monotonic()
    drained = wait_sink(a.sink_dir, base + s.accepted, a.timeout)
    t2 = time.monotonic()
    p1, m1, r1 = processes(), machine_busy(), resource.getrusage(resource.RUSAGE_SELF)

    cpu, counts = group_cpu(p0, p1, groups)
    cpu["sender"] = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    once, dup, missing, with_ar, results = verify(a.sink_dir, {m for _, m, _ in msgs})
    res = dict(label=a.label, run=a.run, session=a.session, messages=len(msgs), accepted=s.accepted,
               errors=len(s.errors), first_errors=s.errors[:5],
               send_s=t1 - t0, drain_s=t2 - t0, drained=drained,
               msgs_per_s=len(msgs) / (t1 - t0),
               machine_cpu_s=(m1 - m0) / TCK, cpu_s=cpu, processes=counts,
               sink_once=once, sink_dup=dup, sink_missing=missing, sink_with_ar=with_ar,
               results={f"{k[0]}={k[1]}": v for k, v in sorted(results.items())},
               load1_before=load1, background_cpus=background, load1_after=os.getloadavg()[0],
               clk_tck=TCK, conns=a.conns, per_conn=a.per_conn)
    with open(a.out, "a") as f:
        f.write(json.dumps(res) + "\n")
    per_k = 1000 / len(msgs)
    print(f"{a.label} run {a.run}: {s.accepted}/{len(msgs)} accepted, {len(s.errors)} errors, "
          f"send {t1 - t0:.2f} s ({res['msgs_per_s']:.0f} msg/s), drained {t2 - t0:.2f} s, "
          f"machine CPU {res['machine_cpu_s'] * per_k:.2f} s/1000 msg, "
          + ", ".join(f"{g} {v * per_k:.2f}" for g, v in cpu.items())
          + f"; sink once {once} dup {dup} missing {missing} with A-R {with_ar}; "
          f"load {load1:.2f}, busy CPUs before {background:.2f}")
    if s.errors:
        print("  first errors:", s.errors[:3])
    if res["results"]:
        print("  results:", res["results"])


if __name__ == "__main__":
    main()
