#!/usr/bin/python3
"""Table of the benchmark's results (results.jsonl written by measure.py).

For each configuration the runs of the latest run.sh invocation that ran it
are shown; CPU figures are seconds per 1,000 messages (= ms per message).
"""
import json
import statistics
import sys

ORDER = ["baseline", "classic", "mailauth"]
DAEMONS = ["postfix", "policyd-spf", "opendkim", "opendmarc", "mailauth-milter",
           "knot", "smtp-sink", "sender"]


def main():
    path = sys.argv[1]
    rows = [json.loads(l) for l in open(path) if l.strip()]
    latest = {}
    for r in rows:
        latest[r["label"]] = max(latest.get(r["label"], ""), r.get("session", ""))
    runs = {}
    for r in rows:
        if r.get("session", "") == latest[r["label"]]:
            runs.setdefault(r["label"], []).append(r)
    labels = [l for l in ORDER if l in runs] + [l for l in runs if l not in ORDER]
    cols = [d for d in DAEMONS if any(d in r["cpu_s"] for l in labels for r in runs[l])]

    def k(r):
        return 1000.0 / r["messages"]

    def total(r):  # every measured process: the part of the machine's time that is the benchmark's
        return sum(r["cpu_s"].values())

    head = (f"{'config':9} {'run':>3} {'load':>5} {'bg':>4} {'msg/s':>6} {'send s':>6} {'drain s':>7} "
            f"{'machine':>7} {'procs':>6} " + " ".join(f"{c[:11]:>11}" for c in cols)
            + f" {'sink ok':>7} {'A-R':>5} {'err':>4}")
    print("CPU in seconds per 1,000 messages (ms per message); machine = all non-idle CPU time,\n"
          "procs = the sum of the measured processes (the columns after it); load = 1-minute load\n"
          "before the run; bg = CPUs busy in the second before the run (other work on the machine)")
    print(head)
    print("-" * len(head))
    for l in labels:
        for r in sorted(runs[l], key=lambda r: r["run"]):
            print(f"{l:9} {r['run']:>3} {r['load1_before']:>5.2f} {r.get('background_cpus', float('nan')):>4.2f} {r['msgs_per_s']:>6.0f} "
                  f"{r['send_s']:>6.2f} {r['drain_s']:>7.2f} {r['machine_cpu_s'] * k(r):>7.2f} {total(r) * k(r):>6.2f} "
                  + " ".join(f"{r['cpu_s'][c] * k(r):>11.2f}" if c in r["cpu_s"] else f"{'-':>11}"
                             for c in cols)
                  + f" {r['sink_once']:>7} {r['sink_with_ar']:>5} {r['errors']:>4}")
    for l in labels:
        res = {}
        for r in runs[l]:
            for key, v in r.get("results", {}).items():
                res.setdefault(key, []).append(v)
        if res:
            print(f"{l}: results per run: " + ", ".join(f"{key} {'/'.join(map(str, v))}"
                                                      for key, v in sorted(res.items())))
    print(f"sessions: " + ", ".join(f"{l} {latest[l]} ({runs[l][0]['conns']} connections, "
                                    f"{runs[l][0]['per_conn']} messages each)" for l in labels))

    def rng(vals, fmt="{:.2f}"):
        return (fmt.format(statistics.mean(vals)) + " (" + fmt.format(min(vals)) + "–"
                + fmt.format(max(vals)) + ")")

    if "baseline" not in runs:
        return
    base = runs["baseline"]
    b_machine = statistics.mean(r["machine_cpu_s"] * k(r) for r in base)
    b_total = statistics.mean(total(r) * k(r) for r in base)
    b_postfix = statistics.mean(r["cpu_s"].get("postfix", 0) * k(r) for r in base)
    b_rate = statistics.mean(r["msgs_per_s"] for r in base)
    print()
    print(f"baseline: {rng([r['msgs_per_s'] for r in base], '{:.0f}')} msg/s, machine "
          f"{rng([r['machine_cpu_s'] * k(r) for r in base])} ms/msg, measured processes "
          f"{rng([total(r) * k(r) for r in base])} ms/msg, postfix "
          f"{rng([r['cpu_s'].get('postfix', 0) * k(r) for r in base])} ms/msg")
    for l in labels:
        if l == "baseline":
            continue
        rs = runs[l]
        above = [r["machine_cpu_s"] * k(r) - b_machine for r in rs]
        above_p = [total(r) * k(r) - b_total for r in rs]
        own = [sum(r["cpu_s"].get(d, 0) for d in ("policyd-spf", "opendkim", "opendmarc",
                                                   "mailauth-milter")) * k(r) for r in rs]
        pf = [r["cpu_s"].get("postfix", 0) * k(r) - b_postfix for r in rs]
        print(f"{l}: CPU above baseline: machine {rng(above)} ms/msg, measured processes "
              f"{rng(above_p)} ms/msg; "
              f"daemons {rng(own)} ms/msg ("
              + ", ".join(f"{d} {rng([r['cpu_s'][d] * k(r) for r in rs])}"
                          for d in ("policyd-spf", "opendkim", "opendmarc", "mailauth-milter")
                          if d in rs[0]["cpu_s"])
              + f"); postfix above baseline {rng(pf)} ms/msg; "
              f"{rng([r['msgs_per_s'] for r in rs], '{:.0f}')} msg/s = "
              f"{rng([r['msgs_per_s'] / b_rate for r in rs])} x baseline")
    if "classic" in runs and "mailauth" in runs:
        c, m = runs["classic"], runs["mailauth"]
        ca = statistics.mean(total(r) * k(r) for r in c) - b_total
        ma = statistics.mean(total(r) * k(r) for r in m) - b_total
        cr = statistics.mean(r["msgs_per_s"] for r in c)
        mr = statistics.mean(r["msgs_per_s"] for r in m)
        print(f"mailauth vs classic: measured processes' CPU above baseline {ma:.2f} vs {ca:.2f} ms/msg "
              f"(ratio {ma / ca:.2f}); rate {mr:.0f} vs {cr:.0f} msg/s (ratio {mr / cr:.2f})")


if __name__ == "__main__":
    main()
