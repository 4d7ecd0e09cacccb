#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The leader-election demo, on one machine, like the classic
`kubectl run leader-elector --replicas=3 -- --election=example` walkthrough:

  1. start a Kubernetes API test server (TLS, loopback) and three daemons as
     pods pod-a, pod-b and pod-c, each with its own socket;
  2. show each pod's readiness probe answer, who leads, and the Lease
     (`kubectl get lease example -o yaml` when kubectl is installed);
  3. SIGTERM the leader (a rolling update / `kubectl delete pod`) and print
     the measured handoff time: signal -> first successful probe of the new
     leader;
  4. SIGKILL the next leader (a crash, a lost node) and print the measured
     failover time;
  5. check the whole run (every probe polled at 40 Hz, every WATCH claim):
     never two leaders; clean up everything (processes by pid, temp dirs),
     also on Ctrl-C or an error.

usage: demo.py --daemon PATH --probe PATH [--lease-duration 10s
               --renew-deadline 7s --retry-period 2s] [--no-color]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests"))  # harness/
from harness import Cluster, KUBECTL  # noqa: E402
from harness.cluster import now, parse_duration  # noqa: E402

ELECTION = "example"
PODS = ["pod-a", "pod-b", "pod-c"]


class Out:
    def __init__(self, color):
        self.color = color
        self.t0 = now()

    def c(self, code, s):
        return "\033[%sm%s\033[0m" % (code, s) if self.color else s

    def bold(self, s):
        return self.c("1", s)

    def green(self, s):
        return self.c("32", s)

    def dim(self, s):
        return self.c("2", s)

    def say(self, s=""):
        sys.stdout.write(s + "\n")
        sys.stdout.flush()

    def step(self, s):
        self.say()
        self.say(self.bold("== " + s))

    def at(self, s):
        self.say("%s %s" % (self.dim("[%5.1fs]" % (now() - self.t0)), s))


class LogTail:
    """The transitions the daemons log (`kubectl logs -f`, in short)."""
    KEEP = ("became leader", "stopped leading", "released", "releasing")

    def __init__(self, cluster):
        self.cluster = cluster
        self.pos = {}

    def show(self, out):
        lines = []
        for p in self.cluster.pods:
            try:
                with open(p.log_path, "rb") as f:
                    f.seek(self.pos.get(p.name, 0))
                    data = f.read()
                    self.pos[p.name] = f.tell()
            except OSError:
                continue
            for line in data.decode(errors="replace").splitlines():
                if any(k in line for k in self.KEEP):
                    # "2026-...Z info  became leader term=1" -> "became leader term=1"
                    msg = line.split("  ", 1)[-1].strip() if "  " in line else line
                    lines.append((line.split(" ", 1)[0], p.name, msg))
        for _, pod, msg in sorted(lines):  # in time order across the pods
            out.say("         %s %s" % (out.dim("%s log:" % pod), msg))


def probe_table(c, out):
    out.say("    %-6s  %-34s  %s" % ("POD", "READINESS (leader-probe --id POD)", "STATUS"))
    for p in c.pods:
        if not p.alive():
            rc, what, st = 2, "unreachable", "(no daemon)"
        else:
            rc = subprocess.call([c.probe, "--socket", p.socket, "--id", p.name],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            what = {0: "LEADER: ready", 1: "not leader: not ready"}.get(rc, "unreachable")
            try:
                s = p.status(1.0)
                if s["is_leader"]:
                    st = "leading, term %d, claim valid %.1f s more" % (s["term"],
                                                                        s["valid_ms"] / 1000)
                else:
                    st = "%s, leader %s" % (s["state"], s["leader"] or "(none yet)")
            except Exception as e:
                st = "no answer (%s)" % e
        line = "    %-6s  exit %d  %-26s  %s" % (p.name, rc, what, st)
        out.say(out.green(line) if rc == 0 else line)


def show_lease(c, out):
    if KUBECTL:
        out.say(out.dim("    $ kubectl get lease %s -o yaml" % ELECTION))
        p = c.kubectl("get", "lease", ELECTION, "-o", "yaml", check=False)
        text = p.stdout if p.returncode == 0 else p.stderr
        section = None
        for line in text.splitlines():
            # the interesting part: the kind, the name and the spec
            if line and not line.startswith(" "):
                section = line.split(":")[0]
            if (section in ("kind", "spec") or line == "metadata:"
                    or (section == "metadata" and line.startswith("  name"))):
                out.say("    " + line)
    else:
        lease = c.lease()
        out.say(out.dim("    (kubectl is not installed; the Lease as the API returns it)"))
        for line in json.dumps(lease.get("spec") if lease else None, indent=2).splitlines():
            out.say("    " + line)


def wait_leader(c, out, after, exclude, timeout, ticker=True):
    """Waits for a new leader, printing the probes' answers every 2 s."""
    deadline = now() + timeout
    nxt = now() + 2.0
    while now() < deadline:
        p, s = c.wait_leader(0.05, after=after, exclude=exclude)
        if p is not None:
            return p, s
        if ticker and now() >= nxt:
            nxt += 2.0
            answers = []
            for q in c.pods:
                m = c.probes[q.name]
                last = m.samples[-1] if m.samples else None
                rc = last.rc if last else 2
                answers.append("%s %s" % (q.name, {0: "LEADER", 1: "not leader"}.get(
                    rc, "unreachable")))
            out.at(out.dim("probes: " + ", ".join(answers)))
    return None, None


def run(args, out):
    out.say(out.bold("leader-election demo") + ": three pods elect one leader through a "
            "Kubernetes Lease")
    out.say("  like `kubectl run leader-elector --replicas=3 -- --election=%s`, on this machine:"
            % ELECTION)
    out.say("  a Kubernetes API test server (TLS on loopback) and three leader-elector daemons;")
    out.say("  each pod's readiness probe is `leader-probe` asking its own daemon's socket.")
    timings = (args.lease_duration, args.renew_deadline, args.retry_period)
    lease_s = parse_duration(args.lease_duration)
    with Cluster(args.daemon, args.probe, names=PODS, election=ELECTION, timings=timings,
                 log=lambda m: None) as c:
        tail = LogTail(c)
        out.step("1. three pods start")
        out.at("API server %s; lease %s, renew deadline %s, retry %s" % (
            c.api.url, *timings))
        for p in c.pods:
            out.say("    %s (pid %d): leader-elector --election %s --id %s --socket %s ..."
                    % (p.name, p.pid, ELECTION, p.name, p.socket))
        out.at("the first candidate creates the Lease; it claims it once a whole lease "
               "duration has passed")
        out.say("         (a deleted Lease's old holder may still believe it leads: never two "
                "leaders)")
        first, s = wait_leader(c, out, c.t0, (), lease_s + 10)
        if first is None:
            raise RuntimeError("no leader within %.0f s" % (lease_s + 10))
        time.sleep(0.2)
        tail.show(out)
        out.at(out.bold("%s is the leader" % first.name) + " (%.1f s after the start)"
               % (s.t1 - c.t0))
        probe_table(c, out)
        show_lease(c, out)

        out.step("2. graceful: `kubectl delete pod %s` sends SIGTERM" % first.name)
        out.say("    the daemon stops claiming, releases the Lease and exits; the followers")
        out.say("    watch the Lease and race for it at once (the original sidecar: 30-40 s)")
        t_term = first.signal(signal.SIGTERM)
        second, s2 = wait_leader(c, out, t_term, [first], lease_s + 10)
        if second is None:
            raise RuntimeError("no new leader after SIGTERM")
        handoff = s2.t1 - t_term
        time.sleep(0.3)
        tail.show(out)
        out.at(out.bold("%s leads: handoff in %.3f s" % (second.name, handoff)) +
               " (SIGTERM -> first successful probe of the new leader)")
        probe_table(c, out)

        out.step("3. crash: SIGKILL to %s (no release)" % second.name)
        out.say("    the probe of %s fails at once; the followers take over after %s of silence"
                % (second.name, args.lease_duration))
        out.say("    on their own clocks (the dead leader's claim ended earlier: renew deadline)")
        t_kill = second.signal(signal.SIGKILL)
        third, s3 = wait_leader(c, out, t_kill, [first, second], lease_s + 10)
        if third is None:
            raise RuntimeError("no new leader after SIGKILL")
        failover = s3.t1 - t_kill
        time.sleep(0.3)
        tail.show(out)
        out.at(out.bold("%s leads: failover in %.3f s" % (third.name, failover)) +
               " (SIGKILL -> first successful probe of the new leader; lease %s)"
               % args.lease_duration)
        probe_table(c, out)
        show_lease(c, out)

        out.step("4. checking the whole run, then cleaning up")
        rep = c.verify()
        n = sum(rep["probes"].values())
        out.at("never two leaders: %d probe answers (%s Hz per pod) and %d WATCH claims "
               "checked; terms never reused; every daemon exited cleanly" % (
                   n, "/".join("%.0f" % v for v in rep["probe_rate_hz"].values()),
                   rep["claims"]["arrival"]))
    out.step("summary")
    out.say("    graceful handoff (SIGTERM): %s" % out.bold("%.3f s" % handoff))
    out.say("    crash failover   (SIGKILL): %s  (lease duration %s)" % (
        out.bold("%.3f s" % failover), args.lease_duration))
    out.say("    all processes stopped and temporary files removed.")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--daemon", required=True, help="the leader-elector binary")
    ap.add_argument("--probe", required=True, help="the leader-probe binary")
    ap.add_argument("--lease-duration", default="10s")
    ap.add_argument("--renew-deadline", default="7s")
    ap.add_argument("--retry-period", default="2s")
    ap.add_argument("--no-color", action="store_true")
    args = ap.parse_args()
    for what in ("daemon", "probe"):
        path = getattr(args, what)
        if not os.access(path, os.X_OK):
            sys.stderr.write("demo: %s: not an executable (build first: deploy/setup.sh)\n"
                             % path)
            return 1
    out = Out(sys.stdout.isatty() and not args.no_color and os.environ.get("NO_COLOR") is None)

    # Ctrl-C, SIGTERM and SIGHUP end the demo: the with-blocks clean up
    # (SIGINT too when it was inherited ignored, as in a background job).
    def stop(signum, frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        return run(args, out)
    except KeyboardInterrupt:
        out.say()
        out.say("demo: interrupted; every process stopped, temporary files removed")
        return 130
    except (RuntimeError, AssertionError, OSError) as e:
        out.say()
        out.say("demo: FAILED: %s" % e)
        out.say("demo: every process stopped, temporary files removed")
        return 1


if __name__ == "__main__":
    sys.exit(main())
