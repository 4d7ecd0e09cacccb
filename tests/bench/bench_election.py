#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Benchmarks of leader-election (run by tests/bench/bench-election.sh; figures, not
pass/fail):

  1. handoff (SIGTERM) and failover (SIGKILL) times over repeated runs, three
     daemons, lease 3 s / renew 2 s / retry 0.5 s: median and max, measured
     from the signal to the end of the new leader's first successful probe
     (probes at 40 Hz, so each figure includes up to 25 ms of polling);
  2. API requests per second, total and per candidate, at 1, 3, 10 and 30
     candidates with the default timings (lease 15 s, renew 10 s, retry 2 s),
     four elections side by side on one test server, counted from its
     /_admin/stats over one window (a follower's only periodic request, the
     resume of its watch every 5-10 min, is added from its mean period);
     the goal is a total that stays flat as followers are added;
  3. the daemon's memory (/proc/PID/status: RssAnon = private, VmRSS = total)
     and CPU time while leading (/proc/PID/schedstat, ns), extrapolated from
     the measuring window to one hour;
  4. STATUS queries per second and latency percentiles on the socket with 1,
     64 and 512 concurrent clients (bench-status-load, a C tool).
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness import Cluster, FAST  # noqa: E402
from harness.cluster import now  # noqa: E402

RESULTS = {}


def say(s=""):
    sys.stdout.write(s + "\n")
    sys.stdout.flush()


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("RssAnon", "RssFile", "RssShmem", "VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])  # kB
    return out


def cpu_ns(pid):
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def wait_status_leader(c, timeout):
    deadline = now() + timeout
    while now() < deadline:
        for p in c.pods:
            try:
                if p.status(0.5).get("is_leader"):
                    return p
            except Exception:
                pass
        time.sleep(0.05)
    raise RuntimeError("no leader within %.0f s" % timeout)


def fmt_ms(v):
    return "%.0f ms" % (v * 1000) if v < 1 else "%.3f s" % v


# -- 1. handoff and failover ------------------------------------------------------------

def bench_failover(args):
    say("== 1. handoff and failover: 3 daemons, lease 3 s, renew deadline 2 s, retry 0.5 s, "
        "probes at 40 Hz; %d runs each" % args.runs)
    hand, hand_w, fail = [], [], []
    with Cluster(args.daemon, args.probe, pods=3, timings=FAST, election="bench-failover",
                 log=lambda m: None) as c:
        c.leader()
        for kind, sig, out in (("handoff", signal.SIGTERM, hand), ("failover", signal.SIGKILL,
                                                                   fail)):
            for i in range(args.runs):
                time.sleep(0.6 if sig == signal.SIGTERM else 1.2)
                old = c.leader()
                h = c.handoff(old, sig)
                if h.new is None:
                    raise RuntimeError("%s run %d: no new leader" % (kind, i + 1))
                out.append(h.probe_s)
                if sig == signal.SIGTERM and h.watch_s is not None:
                    hand_w.append(h.watch_s)
                say("   %s %d: %s -> %s  %s" % (kind, i + 1, old.name, h.new.name,
                                                fmt_ms(h.probe_s)))
                old.wait(10)
                old.start()  # the pod comes back, as its ReplicaSet would restart it
                old.wait_ready(10)
        rep = c.verify()
    say("   graceful handoff (SIGTERM -> new leader's first successful probe): median %s, "
        "max %s" % (fmt_ms(statistics.median(hand)), fmt_ms(max(hand))))
    if hand_w:
        say("   the same on WATCH (SIGTERM -> new leader's first is_leader line): median %s, "
            "max %s" % (fmt_ms(statistics.median(hand_w)), fmt_ms(max(hand_w))))
    say("   crash failover (SIGKILL -> new leader's first successful probe): median %s, max %s"
        " = %.2f x lease duration (bound: lease + 1 s)" % (
            fmt_ms(statistics.median(fail)), fmt_ms(max(fail)), max(fail) / 3.0))
    say("   checked: never two leaders over %d probe answers" % sum(rep["probes"].values()))
    RESULTS["handoff_s"] = {"median": statistics.median(hand), "max": max(hand), "runs": hand}
    RESULTS["failover_s"] = {"median": statistics.median(fail), "max": max(fail), "runs": fail,
                             "lease_s": 3.0}


# -- 2 and 3. API load, memory, CPU ------------------------------------------------------

def bench_api(args):
    window = args.window
    say()
    say("== 2. API requests per second with default timings (lease 15 s, renew deadline 10 s,"
        " retry 2 s):")
    say("   elections of %s candidates side by side on one API server, one %.0f s window "
        "(followers send nothing periodic but the resume of their watch, every 5-10 min)"
        % (", ".join(map(str, args.candidates)), window))
    rows = []
    mem_rows = []
    with Cluster(args.daemon, args.probe, names=[], timings=None, election="bench-api",
                 monitor=False, watch=False, log=lambda m: None) as c:
        groups = {}
        for n in args.candidates:
            groups[n] = [c.add_pod("n%d-%02d" % (n, i + 1), election="bench-n%d" % n)
                         for i in range(n)]
        leaders = {}
        deadline = now() + 60
        while now() < deadline and len(leaders) < len(groups):
            for n, pods in groups.items():
                for p in pods:
                    try:
                        if p.status(0.5).get("is_leader"):
                            leaders[n] = p
                    except Exception:
                        pass
            time.sleep(0.1)
        if len(leaders) < len(groups):
            raise RuntimeError("not every election has a leader after 60 s")
        # settle: every follower has read its Lease and opened its watch
        deadline = now() + 30
        while now() < deadline:
            try:
                if all(p.status(0.5).get("leader") == leaders[n].identity
                       for n, pods in groups.items() for p in pods):
                    break
            except Exception:
                pass
            time.sleep(0.2)
        time.sleep(2.0)
        c.api.admin("DELETE", "/_admin/stats")
        cpu0 = {n: cpu_ns(p.pid) for n, p in leaders.items()}
        t0 = now()
        time.sleep(window)
        st = c.stats()
        t1 = now()
        cpu1 = {n: cpu_ns(p.pid) for n, p in leaders.items()}
        dt = t1 - t0
        for n, pods in groups.items():
            leader = leaders[n]
            users = {p.user for p in pods}
            total = lead = 0
            verbs = {}
            for user, per_verb in st["requests"].items():
                if user not in users:
                    continue
                for verb, codes in per_verb.items():
                    k = sum(codes.values())
                    total += k
                    if user == leader.user:
                        lead += k
                    else:
                        verbs[verb] = verbs.get(verb, 0) + k
            cpu_h = (cpu1[n] - cpu0[n]) / 1e9 / dt * 3600
            rows.append((n, total / dt, lead / dt, (total - lead) / dt, verbs, cpu_h))
            follower = next((p for p in pods if p is not leader), None)
            mem_rows.append((n, proc_status(leader.pid),
                             proc_status(follower.pid) if follower else None))
    base = rows[0][1] or 1e-9
    say("   %-10s %-11s %-11s %-14s %-13s %-10s %s" % ("candidates", "total req/s", "leader",
                                                      "all followers", "per candidate",
                                                      "vs 1 cand.", "follower requests"))
    for n, total, lead, foll, verbs, _ in rows:
        say("   %-10d %-11.2f %-11.2f %-14.2f %-13.3f %-10s %s" % (
            n, total, lead, foll, total / n, "%.2fx" % (total / base),
            ", ".join("%s %d" % kv for kv in sorted(verbs.items())) or "none"))
    # The one periodic request of a follower: its watch resumes after a random 5-10 min
    # (daemon/elector.c), 1/450 per second on average, which the window rarely holds.
    resume = 1.0 / 450
    say("   with each follower's watch resume added (one request per 5-10 min, 1/450 s on "
        "average): %s" % ", ".join(
            "%d: %.3f req/s = %.2fx" % (n, total + (n - 1) * resume,
                                       (total + (n - 1) * resume) / base)
            for n, total, _, _, _, _ in rows))
    RESULTS["api"] = [{"candidates": n, "total_rps": total, "leader_rps": lead,
                       "followers_rps": foll, "per_candidate_rps": total / n,
                       "ratio_vs_1": total / base} for n, total, lead, foll, _, _ in rows]

    say()
    say("== 3. the daemon's memory (/proc/PID/status) and CPU while leading")
    for n, lm, fm in mem_rows:
        say("   %2d candidates: leader RssAnon %d KiB (private; goal < 4096), VmRSS %d KiB "
            "(total, incl. shared libraries), VmHWM %d KiB%s" % (
                n, lm["RssAnon"], lm["VmRSS"], lm["VmHWM"],
                "; a follower: RssAnon %d KiB, VmRSS %d KiB" % (fm["RssAnon"], fm["VmRSS"])
                if fm else ""))
    for n, _, _, _, _, cpu_h in rows:
        say("   %2d candidates: leader CPU %.2f s per hour (measured over %.0f s, "
            "extrapolated x%.0f)" % (n, cpu_h, window, 3600 / window))
    RESULTS["memory_kib"] = [{"candidates": n, "leader": lm, "follower": fm}
                             for n, lm, fm in mem_rows]
    RESULTS["leader_cpu_s_per_hour"] = [{"candidates": r[0], "cpu_s_per_hour": r[5],
                                         "window_s": window} for r in rows]


# -- 4. STATUS load ----------------------------------------------------------------------

def bench_status(args):
    say()
    say("== 4. STATUS on the socket: queries per second and latency (connect -> reply line), "
        "%.0f s per level" % args.load_seconds)
    out = []
    with Cluster(args.daemon, args.probe, pods=1, timings=FAST, election="bench-status",
                 monitor=False, watch=False, log=lambda m: None) as c:
        leader = wait_status_leader(c, 15)
        for conc in (1, 64, 512):
            p = subprocess.run([args.load, leader.socket, str(conc), str(args.load_seconds)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=args.load_seconds + 30)
            if p.returncode != 0:
                raise RuntimeError("bench-status-load: %s" % p.stderr.strip())
            r = json.loads(p.stdout)
            out.append(r)
            say("   %3d clients: %6.0f queries/s, p50 %s, p99 %s, max %s; errors %d, busy %d"
                % (conc, r["qps"], "%.2f ms" % (r["p50_us"] / 1000),
                   "%.2f ms" % (r["p99_us"] / 1000), "%.2f ms" % (r["max_us"] / 1000),
                   r["errors"], r["busy"]))
        mem = proc_status(leader.pid)
        say("   after the load: RssAnon %d KiB, VmRSS %d KiB, VmHWM %d KiB" % (
            mem["RssAnon"], mem["VmRSS"], mem["VmHWM"]))
        c.verify(min_rate=0)
    RESULTS["status_load"] = out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--load", required=True, help="the bench-status-load binary")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--window", type=float, default=65.0,
                    help="seconds of API/CPU measurement (all candidate counts at once)")
    ap.add_argument("--candidates", default="1,3,10,30")
    ap.add_argument("--load-seconds", type=float, default=5.0)
    ap.add_argument("--only", default="failover,api,status")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    args.candidates = [int(x) for x in args.candidates.split(",")]
    t0 = now()
    only = args.only.split(",")
    if "failover" in only:
        bench_failover(args)
    if "api" in only:
        bench_api(args)
    if "status" in only:
        bench_status(args)
    say()
    say("benchmarks done in %.0f s" % (now() - t0))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(RESULTS, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
