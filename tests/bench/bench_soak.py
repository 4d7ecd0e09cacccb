#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Soak benchmark of leader-elector (run by tests/bench/bench-soak.sh; figures and a
verdict, not pass/fail).

Five daemons (lease 3 s, renew deadline 2 s, retry 0.5 s, --resign-holdoff 1 s)
against the Kubernetes API test server for --duration (default 1 h) under the
random fault mix of tests/integration/test_failover_chaos.py: every 0.6-1.6 s one of
SIGTERM of the leader, SIGKILL of a random pod, SIGSTOP of the leader for
0.5-4.5 s, a partition (hang or cut) of a random pod for 0.5-4 s, a 500 or 503
storm for everyone of 0.3-2.5 s, RESIGN of the leader; dead pods come back
after 0.2-1.5 s (their ReplicaSet restarts them).  The first --keep pods
(default 2: pod-a, pod-b) are never killed nor restarted, so that their figures
cover the whole run: they are paused, partitioned, stormed and RESIGNed, and a
SIGTERM meant for one of them while it leads becomes a RESIGN (the other
graceful handoff).

Every --sample seconds (default 10) each daemon process is sampled:
/proc/PID/status VmRSS and RssAnon, the number of entries of /proc/PID/fd,
utime + stime of /proc/PID/stat.  Samples are kept per incarnation (a restart
is a new process).  After a warm-up (--warmup, default the shorter of 5 min
and a sixth of the run) the report gives, per long-lived daemon: RssAnon,
VmRSS and descriptors at the start and the end, their growth per hour (the
slope of a least-squares line through every sample), CPU seconds per hour and
the share of the time it led; for the restarted pods, the same growth for any
incarnation that lived --min-life (default 10 min), and what a fresh
incarnation looks like (RssAnon and descriptors at its last sample).

Safety as in the chaos test, with its observers (tests/harness): the real
leader-probe on every pod (--probe-hz, default 10 Hz: 40 Hz for a whole hour
is a heavy load of process starts for a shared machine) and a WATCH on every
pod, checked at the end by Cluster.verify(): never two leaders on any
measure, terms never reused (WATCH and the server's lease-log), clean exits;
and a leader again within lease + 4 s once the chaos stops.

The last line is the verdict: FLAT when every long-lived daemon grew by less
than 64 KiB of RssAnon and 2 descriptors per hour and the run was safe;
SETTLING when it grew faster over the whole run but not over the second half
of its samples; GROWS when it did over both; UNSAFE on any safety violation.
The exit status is 0 whatever the verdict (1 when the run itself could not be
made).
"""

import argparse
import json
import os
import random
import resource
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness import Cluster, FAST, parse_duration  # noqa: E402
from harness.cluster import now  # noqa: E402

RSS_FLAT_KIB_H = 64.0
FDS_FLAT_H = 2.0
SAFETY_MARKERS = ("two leaders", "probe overlaps", "terms", "LEASE-LOG", "not a status")


def say(s=""):
    sys.stdout.write(s + "\n")
    sys.stdout.flush()


CLK_TCK = os.sysconf("SC_CLK_TCK")


def sample_proc(pid):
    """(VmRSS KiB, RssAnon KiB, open descriptors, CPU s) of a live process,
    None when it is gone or a zombie (no memory lines)."""
    try:
        mem = {}
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon"):
                    mem[k] = int(v.split()[0])
        if len(mem) < 2:
            return None
        fds = len(os.listdir("/proc/%d/fd" % pid))
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
    except (OSError, ValueError, IndexError):
        return None
    return mem["VmRSS"], mem["RssAnon"], fds, cpu


def slope_per_hour(points):
    """Least-squares slope of [(t seconds, y)], in y per hour."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    return sum((t - mt) * (y - my) for t, y in points) / var * 3600.0


class Incarnation:
    def __init__(self, pod, number, pid, started):
        self.pod, self.number, self.pid, self.started = pod, number, pid, started
        self.samples = []  # (t, vmrss, rssanon, fds, cpu)


class Soak:
    def __init__(self, args, c):
        self.args, self.c = args, c
        self.rnd = random.Random(args.seed)
        self.keep = set(p.name for p in c.pods[:args.keep])
        self.incs = {}  # (pod, incarnation index) -> Incarnation
        self.actions = {}
        self.resign_failures = 0
        self.timers = []  # (due, description, fn)

    def count(self, kind):
        self.actions[kind] = self.actions.get(kind, 0) + 1

    def later(self, delay, what, fn):
        self.timers.append((now() + delay, what, fn))

    def leader_now(self):
        ls = self.c.leaders_now(fresh=max(0.3, 3.0 / self.args.probe_hz))
        return ls[0] if len(ls) == 1 else None

    # -- sampling --------------------------------------------------------------------

    def sample(self):
        t = now()
        for p in self.c.pods:
            if not p.incarnations:
                continue
            if not p.alive():
                continue
            k = len(p.incarnations) - 1
            inc = self.incs.get((p.name, k))
            if inc is None:
                i = p.incarnations[k]
                inc = self.incs[(p.name, k)] = Incarnation(p.name, k + 1, i["pid"], i["started"])
            s = sample_proc(inc.pid)
            if s is not None:
                inc.samples.append((t,) + s)

    # -- the chaos mix (tests/integration/test_failover_chaos.py) --------------------------------

    def step(self):
        c, rnd = self.c, self.rnd
        for item in sorted(self.timers, key=lambda x: x[0]):
            if item[0] <= now():
                self.timers.remove(item)
                item[2]()
        for p in c.pods:  # restart the dead (never a long-lived pod: they do not die)
            if not p.alive() and p.rc is None and p.proc is not None:
                p.rc = p.proc.poll()
            if not p.alive() and not any(w[1] == "restart " + p.name for w in self.timers):
                self.later(rnd.uniform(0.2, 1.5), "restart " + p.name, p.start)
        alive = [p for p in c.pods if p.alive()
                 and not (p.stopped_windows and p.stopped_windows[-1][1] is None)]
        if not alive:
            return
        kind = rnd.choice(["term", "kill", "stop", "partition", "storm", "resign"])
        lead = self.leader_now()
        if kind == "term" and lead and lead.name in self.keep:
            kind = "resign"  # the long-lived pods hand off gracefully without exiting
        if kind == "term" and lead:
            self.count("SIGTERM leader")
            lead.signal(signal.SIGTERM)
        elif kind == "kill":
            mortal = [p for p in alive if p.name not in self.keep]
            if mortal:
                self.count("SIGKILL")
                rnd.choice(mortal).signal(signal.SIGKILL)
        elif kind == "stop" and lead:
            self.count("SIGSTOP leader")
            lead.signal(signal.SIGSTOP)
            self.later(rnd.uniform(0.5, 4.5), "cont " + lead.name,
                       lambda p=lead: p.alive() and p.signal(signal.SIGCONT))
        elif kind == "partition":
            v = rnd.choice(alive)
            mode = rnd.choice(["hang", "cut"])
            self.count("partition " + mode)
            fid = c.fault(client=v.user, kind="partition", mode=mode)
            self.later(rnd.uniform(0.5, 4.0), "heal", lambda f=fid: c.clear_fault(f))
        elif kind == "storm":
            code = rnd.choice([500, 503])
            self.count("%d storm" % code)
            fid = c.fault(client="*", kind="status", code=code)
            self.later(rnd.uniform(0.3, 2.5), "calm", lambda f=fid: c.clear_fault(f))
        elif kind == "resign" and lead:
            self.count("RESIGN leader")
            try:
                lead.resign(2.0)
            except Exception:
                self.resign_failures += 1

    def calm(self):
        """The end of the chaos: heal everything, resume everyone, restart the dead."""
        c = self.c
        for item in sorted(self.timers, key=lambda x: x[0]):
            if not item[1].startswith("restart"):
                item[2]()
        self.timers = []
        c.clear_fault()
        for p in c.pods:
            if p.stopped_windows and p.stopped_windows[-1][1] is None and p.alive():
                p.signal(signal.SIGCONT)
            if not p.alive():
                p.start()

    def lifetimes(self, t_end):
        """{(pod, incarnation index): seconds from its start to the next start
        (or t_end)} of every incarnation of the restarted pods."""
        out = {}
        for p in self.c.pods:
            if p.name in self.keep:
                continue
            for k, i in enumerate(p.incarnations):
                nxt = p.incarnations[k + 1]["started"] if k + 1 < len(p.incarnations) else t_end
                out[(p.name, k)] = nxt - i["started"]
        return out

    def progress(self, t_run0):
        parts = []
        for p in self.c.pods:
            if p.name not in self.keep:
                continue
            inc = self.incs.get((p.name, 0))
            if inc and inc.samples:
                _, _, anon, fds, cpu = inc.samples[-1]
                parts.append("%s RssAnon %d KiB, %d fds, CPU %.1f s" % (p.name, anon, fds, cpu))
        restarts = sum(max(0, len(p.incarnations) - 1) for p in self.c.pods)
        say("  %6.1f min: %d actions, %d restarts; %s" % (
            (now() - t_run0) / 60, sum(self.actions.values()), restarts, "; ".join(parts)))


def led_seconds(c, t_from, t_to):
    """Seconds each pod claimed leadership on WATCH (arrival clock) in [t_from, t_to]."""
    out = {}
    for cl in c.watch.claims("arrival", until=t_to):
        d = min(cl.end, t_to) - max(cl.start, t_from)
        if d > 0:
            out[cl.pod] = out.get(cl.pod, 0.0) + d
    return out


def growth(inc, t_from):
    """Figures of one incarnation's samples taken at or after t_from."""
    ss = [s for s in inc.samples if s[0] >= t_from]
    if len(ss) < 2:
        return None
    first, last = ss[0], ss[-1]
    span = last[0] - first[0]
    half = len(ss) // 2
    return {
        "rssanon_kib_median_halves": (statistics.median(s[2] for s in ss[:half] or ss[:1]),
                                      statistics.median(s[2] for s in ss[half:])),
        "samples": len(ss), "from_s": first[0], "to_s": last[0], "span_s": span,
        "rssanon_kib": {"start": first[2], "end": last[2], "min": min(s[2] for s in ss),
                        "max": max(s[2] for s in ss),
                        "per_hour": slope_per_hour([(s[0], s[2]) for s in ss]),
                        "per_hour_second_half": slope_per_hour([(s[0], s[2]) for s in ss[half:]])},
        "vmrss_kib": {"start": first[1], "end": last[1], "max": max(s[1] for s in ss),
                      "per_hour": slope_per_hour([(s[0], s[1]) for s in ss])},
        "fds": {"start": first[3], "end": last[3], "min": min(s[3] for s in ss),
                "max": max(s[3] for s in ss),
                "per_hour": slope_per_hour([(s[0], s[3]) for s in ss]),
                "per_hour_second_half": slope_per_hour([(s[0], s[3]) for s in ss[half:]])},
        "cpu_s_per_hour": (last[4] - first[4]) / span * 3600 if span > 0 else 0.0,
    }


def fmt_rate(v, unit):
    return "%+.1f %s/h" % (v, unit)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--duration", default="1h", help="of the chaos: 1h, 30m, 10m, 90s")
    ap.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    ap.add_argument("--warmup", help="not counted in the growth (default: min(5m, duration/6))")
    ap.add_argument("--keep", type=int, default=2, help="pods never killed nor restarted")
    ap.add_argument("--min-life", default="10m",
                    help="a restarted pod's incarnation is reported when it lived this long")
    ap.add_argument("--probe-hz", type=float, default=10.0)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--json", help="also write the figures and samples to this file")
    args = ap.parse_args()
    dur = parse_duration(args.duration)
    warm = parse_duration(args.warmup) if args.warmup else min(300.0, dur / 6)
    min_life = parse_duration(args.min_life)
    if args.seed is None:
        args.seed = time.time_ns() % 1000000
    args.keep = max(0, min(5, args.keep))

    say("== soak: 5 daemons, lease 3 s, renew deadline 2 s, retry 0.5 s; chaos for %.0f s "
        "(warm-up %.0f s), samples every %.0f s, probes at %.0f Hz, seed %d"
        % (dur, warm, args.sample, args.probe_hz, args.seed))
    safety_problems, other_problems = [], []
    liveness = None
    rep = None
    with Cluster(args.daemon, args.probe, pods=5, timings=FAST, election="soak",
                 extra_args=("--resign-holdoff", "1s"), probe_hz=args.probe_hz, log=say) as c:
        soak = Soak(args, c)
        say("   long-lived (never killed nor restarted): %s; restarted by the chaos: %s" % (
            ", ".join(sorted(soak.keep)) or "none",
            ", ".join(p.name for p in c.pods if p.name not in soak.keep)))
        c.leader()
        t0 = now()
        t_end = t0 + dur
        next_sample = t0
        report_every = max(60.0, min(600.0, dur / 6))
        next_report = t0 + report_every
        while now() < t_end:
            time.sleep(soak.rnd.uniform(0.6, 1.6))
            if now() >= next_sample:
                soak.sample()
                next_sample += args.sample
                if next_sample < now():
                    next_sample = now() + args.sample
            if now() >= next_report:
                soak.progress(t0)
                next_report += report_every
            soak.step()
        soak.sample()
        t_chaos_end = now()
        soak.calm()
        t_calm = now()
        new, s = c.wait_leader(c.lease_s + 4, after=t_calm)
        liveness = (new.name, s.t1 - t_calm) if new is not None else None
        time.sleep(0.5)
        led = led_seconds(c, t0 + warm, t_chaos_end)
        watch_claims = len(c.watch.claims("arrival"))
        t_verify = now()
        try:
            rep = c.verify(min_rate=args.probe_hz / 4)
        except AssertionError as e:
            for line in str(e).splitlines()[1:]:
                line = line.strip()
                (safety_problems if any(m in line for m in SAFETY_MARKERS)
                 else other_problems).append(line)
        probes = {name: len(m.samples) for name, m in c.probes.items()}
        t_verify = now() - t_verify
    # -- the report --------------------------------------------------------------------
    say()
    say("== actions over %.1f min: %d (%s)%s" % (
        dur / 60, sum(soak.actions.values()),
        ", ".join("%s %d" % kv for kv in sorted(soak.actions.items())),
        "; %d RESIGNs refused or failed" % soak.resign_failures if soak.resign_failures else ""))
    say()
    t_from = t0 + warm
    window_h = (t_chaos_end - t_from) / 3600
    say("== long-lived daemons, after the %.0f s warm-up (%.1f min of samples; per-hour figures"
        " are least-squares slopes%s):" % (warm, (t_chaos_end - t_from) / 60,
                                            ", extrapolated x%.1f from this run" % (1 / window_h)
                                            if window_h < 1 else ""))
    results = {"duration_s": dur, "warmup_s": warm, "sample_s": args.sample,
               "seed": args.seed, "actions": soak.actions, "long_lived": {}, "restarted": {}}
    grew, settled = [], []
    for p in c.pods:
        if p.name not in soak.keep:
            continue
        inc = soak.incs.get((p.name, 0))
        g = growth(inc, t_from) if inc else None
        if g is None or len(p.incarnations) != 1:
            say("   %s: not enough samples (or restarted: %d incarnations)" % (
                p.name, len(p.incarnations)))
            grew.append("%s: no figures" % p.name)
            continue
        a, v, f = g["rssanon_kib"], g["vmrss_kib"], g["fds"]
        share = led.get(p.name, 0.0) / (t_chaos_end - t_from) if t_chaos_end > t_from else 0
        say("   %s (pid %d, %d samples, led %.0f%% of the time):" % (
            p.name, inc.pid, g["samples"], 100 * share))
        say("      RssAnon %d -> %d KiB (min %d, max %d), %s (over the second half of the samples:"
            " %s); median %d KiB over the first half, %d over the second" % (
                a["start"], a["end"], a["min"], a["max"], fmt_rate(a["per_hour"], "KiB"),
                fmt_rate(a["per_hour_second_half"], "KiB"),
                g["rssanon_kib_median_halves"][0], g["rssanon_kib_median_halves"][1]))
        say("      VmRSS   %d -> %d KiB (max %d), %s" % (
            v["start"], v["end"], v["max"], fmt_rate(v["per_hour"], "KiB")))
        say("      fds     %d -> %d (min %d, max %d), %s (second half: %s)" % (
            f["start"], f["end"], f["min"], f["max"], fmt_rate(f["per_hour"], "fds"),
            fmt_rate(f["per_hour_second_half"], "fds")))
        say("      CPU     %.1f s per hour" % g["cpu_s_per_hour"])
        g["led_share"] = share
        g["samples_all"] = inc.samples
        results["long_lived"][p.name] = g
        # Growth over the whole run that stopped in its second half is the
        # allocator settling (SETTLING); growth that goes on is GROWS.
        for what, d, bound, unit in (("RssAnon", a, RSS_FLAT_KIB_H, "KiB"),
                                     ("fds", f, FDS_FLAT_H, "fds")):
            if d["per_hour"] >= bound:
                (grew if d["per_hour_second_half"] >= bound else settled).append(
                    "%s %s %s, second half %s" % (p.name, what, fmt_rate(d["per_hour"], unit),
                                                  fmt_rate(d["per_hour_second_half"], unit)))

    say()
    life = soak.lifetimes(t_chaos_end)
    mortal = [inc for key, inc in soak.incs.items() if key in life]
    last = [inc.samples[-1] for inc in mortal if inc.samples]
    lives = list(life.values())
    say("== restarted pods: %d incarnations (%d sampled), time from a start to the next: "
        "median %.0f s, max %.0f s" % (len(lives), len(mortal),
                                       statistics.median(lives) if lives else 0,
                                       max(lives) if lives else 0))
    if last:
        say("   a fresh incarnation at its last sample (%d sampled): RssAnon median %d KiB "
            "(max %d), VmRSS median %d KiB, fds median %d (max %d)" % (
                len(last), statistics.median(s[2] for s in last), max(s[2] for s in last),
                statistics.median(s[1] for s in last), statistics.median(s[3] for s in last),
                max(s[3] for s in last)))
        results["restarted"]["fresh_last_sample"] = {
            "count": len(last), "rssanon_kib_median": statistics.median(s[2] for s in last),
            "fds_median": statistics.median(s[3] for s in last)}
    long_mortal = [inc for inc in mortal if life[(inc.pod, inc.number - 1)] >= min_life]
    if not long_mortal:
        say("   none lived %.0f s or more (no growth figures for them)" % min_life)
    for inc in long_mortal:
        lived = life[(inc.pod, inc.number - 1)]
        g = growth(inc, inc.started + min(warm, lived / 6))
        if g is None:
            continue
        say("   %s incarnation %d lived %.0f s: RssAnon %d -> %d KiB, %s; fds %d -> %d, %s" % (
            inc.pod, inc.number, lived, g["rssanon_kib"]["start"],
            g["rssanon_kib"]["end"], fmt_rate(g["rssanon_kib"]["per_hour"], "KiB"),
            g["fds"]["start"], g["fds"]["end"], fmt_rate(g["fds"]["per_hour"], "fds")))
        results["restarted"]["%s#%d" % (inc.pod, inc.number)] = g

    say()
    if rep is not None:
        say("== safety: never two leaders over %d probes (%s Hz) and %d WATCH claims "
            "(arrival and daemon clocks), terms never reused (WATCH, lease-log), clean exits"
            % (sum(probes.values()), "/".join("%.0f" % v for v in rep["probe_rate_hz"].values()),
               watch_claims))
    for msg in safety_problems + other_problems:
        say("   PROBLEM: " + msg)
    if liveness:
        say("   a leader (%s) %.2f s after the chaos stopped (bound: lease + 4 s)" % liveness)
    else:
        other_problems.append("no leader within lease + 4 s after the chaos stopped")
        say("   PROBLEM: no leader within lease + 4 s after the chaos stopped")
    say("   (the checks took %.0f s; this driver's peak RSS %.0f MiB)" % (
        t_verify, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    results["safety_problems"] = safety_problems
    results["other_problems"] = other_problems
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)

    say()
    if safety_problems:
        verdict = "UNSAFE (%d safety problems)" % len(safety_problems)
    elif grew:
        verdict = "GROWS (%s)" % "; ".join(grew + settled)
    elif settled:
        verdict = "SETTLING (grew over the run, less than %.0f KiB/h and %.0f fds/h over its " \
                  "second half: %s)" % (RSS_FLAT_KIB_H, FDS_FLAT_H, "; ".join(settled))
    else:
        verdict = ("FLAT (every long-lived daemon: RssAnon < %.0f KiB/h, fds < %.0f/h; "
                   "never two leaders)" % (RSS_FLAT_KIB_H, FDS_FLAT_H))
    if other_problems and not safety_problems:
        verdict += "; %d other problems above" % len(other_problems)
    say("verdict: %s" % verdict)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # the run itself could not be made
        say("verdict: NO RUN (%s: %s)" % (type(e).__name__, e))
        raise SystemExit(1)
