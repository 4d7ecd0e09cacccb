#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""leader-run (probe/leader-run.c) against real daemons (tests/harness, lease 3 s, renew
deadline 2 s, retry 0.5 s): every pod runs `leader-run --id POD -- python3 app.py`, and the
app records when it runs. Never do two pods' apps run at once, and the app runs on the new
leader after each change.

- The app (APP below) appends "start POD PID T" when it starts and "end POD PID T" when it
  has finished stopping (T: CLOCK_MONOTONIC); it stops STOP_DELAY after SIGTERM (a slow
  shutdown), or never (--stubborn: it ignores SIGTERM, leader-run has to SIGKILL it). A
  watcher thread reads the log and looks at every app's /proc entry every 2 ms: an app
  that wrote no end line ended when it was first seen dead (gone or a zombie). A run is
  [start, end]; runs of different pods must not overlap.
- test_handoffs: three pods; SIGTERM of the leading daemon (a graceful handoff: the
  release waits for the app to stop), SIGKILL of the leading daemon, a partition of the
  leader (its API requests hang), RESIGN; after each, the app runs on the new leader.
- test_stubborn_app: an app that ignores SIGTERM, --grace 60s: on RESIGN leader-run kills
  it at the end of its claim (not after 60 s), and only then does the other pod's app start;
  then the leading daemon is frozen (SIGSTOP: no line at all any more): its app is killed
  before the last line's claim runs out, and the other pod's app starts after the lease.
- test_negative_control: the same handoffs with leader-run built to consume every line at
  once (LE_RUN_CONSUME_FIRST, a deliberately broken build): the daemon hands over as soon as
  the "not leader" line is read, while the old app is still stopping, and the overlap check
  finds the overlap. Shows the check can fail.
- test_cli: --help, --version, usage errors (64), a missing command (127), --no-wait with
  no daemon (2), SIGTERM while waiting for the daemon (0).

Environment (tests/leader_run.cmake): LE_DAEMON, LE_PROBE, LE_RUN (the static binary, or the
host compiler's build, with the sanitizers in the asan preset), LE_RUN_CONSUME_FIRST.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness.testing import FailoverTest, main, say, now  # noqa: E402
from harness.cluster import SETPRIV  # noqa: E402

STOP_DELAY = 0.3
PY = "/usr/bin/python3"

APP = r'''
import ctypes, os, signal, sys, time
ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: dies with leader-run
log, pod, stop_delay, stubborn = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4] == "1"
def write(what):
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, ("%s %s %d %.6f\n" % (what, pod, os.getpid(), time.monotonic())).encode())
    os.close(fd)
def term(sig, frame):
    if stubborn:
        return
    time.sleep(stop_delay)
    write("end")
    os._exit(0)
signal.signal(signal.SIGTERM, term)
write("start")
while True:
    time.sleep(0.01)
'''


def binary(name):
    v = os.environ.get(name)
    if not v or not os.access(v, os.X_OK):
        sys.stderr.write("set %s to the binary\n" % name)
        sys.exit(2)
    return v


class Runs:
    """The apps' runs, from their log and their /proc entries."""

    def __init__(self, path):
        self.path = path
        self.runs = {}  # pid -> dict(pod, start, end, how)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.off = 0
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def _read(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return
        cut = data.rfind(b"\n") + 1
        self.off += cut
        for ln in data[:cut].decode().splitlines():
            what, pod, pid, t = ln.split()
            pid, t = int(pid), float(t)
            with self.lock:
                r = self.runs.setdefault(pid, {"pod": pod, "start": None, "end": None,
                                               "how": None})
                if what == "start":
                    r["start"] = t
                elif r["end"] is None or t < r["end"]:
                    r["end"], r["how"] = t, "end line"

    @staticmethod
    def _dead(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                st = f.read()
        except OSError:
            return True
        return st[st.rfind(")") + 2] in "ZX"

    def loop(self):
        while not self.stop.is_set():
            self._read()
            with self.lock:
                live = [p for p, r in self.runs.items() if r["end"] is None]
            for pid in live:
                if self._dead(pid):
                    t = now()
                    self._read()  # an end line written just before it died wins
                    with self.lock:
                        r = self.runs[pid]
                        if r["end"] is None:
                            r["end"], r["how"] = t, "seen dead"
            time.sleep(0.002)

    def finish(self):
        self.stop.set()
        self.t.join(5)
        self._read()

    def snapshot(self):
        with self.lock:
            return sorted((dict(r, pid=p) for p, r in self.runs.items()),
                          key=lambda r: r["start"] or 0)

    def overlaps(self, until=None):
        rs = self.snapshot()
        out = []
        for i, a in enumerate(rs):
            for b in rs[i + 1:]:
                if a["pod"] == b["pod"] or a["start"] is None or b["start"] is None:
                    continue
                ae = a["end"] if a["end"] is not None else (until or now())
                be = b["end"] if b["end"] is not None else (until or now())
                if a["start"] < be and b["start"] < ae:
                    out.append((a, b, min(ae, be) - max(a["start"], b["start"])))
        return out

    def wait_start(self, pod, after, timeout):
        deadline = now() + timeout
        while now() < deadline:
            for r in self.snapshot():
                if r["pod"] == pod and r["start"] is not None and r["start"] >= after:
                    return r
            time.sleep(0.01)
        return None

    def running(self):
        return [r for r in self.snapshot() if r["start"] is not None and r["end"] is None]


class LeaderRun(FailoverTest):
    run_binary = None

    def setUp(self):
        self.procs = []

    def start_runners(self, c, binary_path, stubborn=False, grace="5s"):
        self.applog = os.path.join(c.dir, "apps.log")
        app = os.path.join(c.dir, "app.py")
        with open(app, "w") as f:
            f.write(APP)
        runs = Runs(self.applog)
        for p in c.pods:
            cmd = [binary_path, "--socket", p.socket, "--id", p.identity, "--grace", grace,
                   "--", PY, app, self.applog, p.name, str(STOP_DELAY), "1" if stubborn else "0"]
            if SETPRIV:
                cmd = [SETPRIV, "--pdeathsig", "KILL", "--"] + cmd
            log = open(os.path.join(p.dir, "leader-run.log"), "ab")
            pr = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                  start_new_session=True)
            log.close()
            self.procs.append((p, pr))
        return runs

    def stop_runners(self):
        rcs = {}
        for p, pr in self.procs:
            if pr.poll() is None:
                pr.send_signal(signal.SIGTERM)
        for p, pr in self.procs:
            try:
                rcs[p.name] = pr.wait(15)
            except subprocess.TimeoutExpired:
                pr.kill()
                pr.wait(5)
                rcs[p.name] = "hung"
        # The host build runs under the sanitizers in the asan preset: any report fails.
        logs = self.runner_logs()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            self.assertNotIn(marker, logs)
        return rcs

    def runner_logs(self):
        out = []
        for p, _ in self.procs:
            try:
                with open(os.path.join(p.dir, "leader-run.log")) as f:
                    out.append("---- %s leader-run:\n%s" % (p.name, f.read()[-3000:]))
            except OSError:
                pass
        return "\n".join(out)

    def assert_app_on(self, runs, pod, after, timeout, what):
        r = runs.wait_start(pod.name, after, timeout)
        self.assertIsNotNone(r, "%s: the app did not start on the new leader %s within %.1f s\n%s"
                             % (what, pod.name, timeout, self.runner_logs()))
        say("  %s: the app runs on %s %.3f s later" % (what, pod.name, r["start"] - after))
        return r

    def assert_no_overlap(self, runs):
        ov = runs.overlaps()
        self.assertEqual(ov, [], "apps of two pods ran at once:\n%s\n%s" % (
            "\n".join("  %r and %r: %.3f s" % x for x in ov), self.runner_logs()))

    def wait_app_of_leader(self, c, runs, t, timeout=None):
        new, _ = c.wait_leader(timeout or c.lease_s + 5, after=t)
        self.assertIsNotNone(new, "no leader")
        return new, self.assert_app_on(runs, new, t - 1.0, 5.0, "start")

    # -- the tests ------------------------------------------------------------------

    def test_handoffs(self):
        run_bin = binary("LE_RUN")
        with self.cluster(pods=3) as c:
            runs = self.start_runners(c, run_bin)
            try:
                leader, _ = self.wait_app_of_leader(c, runs, now())
                figures = []

                # Graceful: SIGTERM of the leading daemon. The release waits until the old
                # app has stopped (STOP_DELAY); then the new leader's app starts.
                h = c.handoff(leader, signal.SIGTERM)
                self.assert_handoff(h, 3.0, "SIGTERM handoff")
                r = self.assert_app_on(runs, h.new, h.t_signal, 5.0, "SIGTERM handoff")
                figures.append(("SIGTERM of the daemon", r["start"] - h.t_signal))
                self.assertEqual(leader.wait(10), 0)
                leader.start()
                self.assert_no_overlap(runs)
                leader = h.new
                time.sleep(1.0)

                # Crash: SIGKILL of the leading daemon; its leader-run loses the connection
                # and stops the app; another pod leads after the lease.
                t = leader.signal(signal.SIGKILL)
                leader.wait(5)
                new, _ = c.wait_leader(c.lease_s + 5, after=t, exclude=[leader])
                self.assertIsNotNone(new, "no leader after SIGKILL")
                r = self.assert_app_on(runs, new, t, 5.0, "SIGKILL of the daemon")
                figures.append(("SIGKILL of the daemon", r["start"] - t))
                self.assertFalse([x for x in runs.running() if x["pod"] == leader.name],
                                 "the app of the killed daemon's pod still runs")
                leader.start()
                self.assert_no_overlap(runs)
                leader = new
                time.sleep(1.0)

                # Partition: the leader's API requests hang; its claim runs out, leader-run
                # stops the app, another pod leads after the lease.
                t = now()
                fid = c.fault(client=leader.user, kind="partition", mode="hang")
                new, _ = c.wait_leader(c.lease_s + 6, after=t, exclude=[leader])
                self.assertIsNotNone(new, "no leader after the partition")
                r = self.assert_app_on(runs, new, t, 5.0, "partition of the leader")
                figures.append(("partition of the leader", r["start"] - t))
                c.clear_fault(fid)
                self.assert_no_overlap(runs)
                leader = new
                time.sleep(1.0)

                # RESIGN.
                h = c.handoff(leader, None)
                self.assert_handoff(h, 3.0, "RESIGN handoff")
                r = self.assert_app_on(runs, h.new, h.t_signal, 5.0, "RESIGN")
                figures.append(("RESIGN", r["start"] - h.t_signal))
                time.sleep(0.5)
            finally:
                rcs = self.stop_runners()
                runs.finish()
            self.assert_no_overlap(runs)
            rs = runs.snapshot()
            say("  %d app runs over %s; handoff (event -> new app started): %s" % (
                len(rs), ", ".join(sorted({r["pod"] for r in rs})),
                "; ".join("%s %.3f s" % f for f in figures)))
            gaps = self.gaps(rs)
            say("  gaps between one pod's app ending and the next pod's starting: %s" %
                ", ".join("%.3f s" % g for g in gaps))
            for name, rc in rcs.items():
                self.assertEqual(rc, 0, "leader-run of %s: exit status %r after SIGTERM\n%s"
                                 % (name, rc, self.runner_logs()))
            self.finish(c)

    @staticmethod
    def gaps(rs):
        out = []
        rs = [r for r in rs if r["start"] is not None]
        for a, b in zip(rs, rs[1:]):
            if a["pod"] != b["pod"] and a["end"] is not None:
                out.append(b["start"] - a["end"])
        return out

    def test_stubborn_app(self):
        run_bin = binary("LE_RUN")
        with self.cluster(pods=2) as c:
            runs = self.start_runners(c, run_bin, stubborn=True, grace="60s")
            try:
                leader, first = self.wait_app_of_leader(c, runs, now())
                time.sleep(0.7)
                h = c.handoff(leader, None)
                self.assertIsNotNone(h.new, "no handoff after RESIGN")
                r = self.assert_app_on(runs, h.new, h.t_signal, 6.0, "RESIGN, stubborn app")
                old = [x for x in runs.snapshot() if x["pid"] == first["pid"]][0]
                self.assertIsNotNone(old["end"], "the stubborn app still runs")
                say("  the stubborn app was killed %.3f s after RESIGN (%s; renew deadline "
                    "%.1f s, grace 60 s); the next app started %.3f s after it died" % (
                        old["end"] - h.t_signal, old["how"], c.renew_s, r["start"] - old["end"]))
                self.assertEqual(old["how"], "seen dead")
                self.assertLess(old["end"] - h.t_signal, c.renew_s + 0.2,
                                "not killed by the end of its claim")
                time.sleep(0.7)

                # The daemon frozen (SIGSTOP): no line comes any more, not even "not leader".
                # The stubborn app must be dead before the last line's claim runs out (within
                # the renew deadline of the stop), and the other pod leads after the lease.
                frozen = h.new
                t_stop = frozen.signal(signal.SIGSTOP)
                other = [p for p in c.pods if p is not frozen][0]
                r2 = self.assert_app_on(runs, other, t_stop, c.lease_s + 5,
                                        "SIGSTOP of the leading daemon")
                ended = [x for x in runs.snapshot() if x["pid"] == r["pid"]][0]
                self.assertIsNotNone(ended["end"], "the frozen daemon's app still runs")
                say("  daemon SIGSTOPped: its stubborn app was killed %.3f s later (renew "
                    "deadline %.1f s); the other pod's app started %.3f s after the stop" % (
                        ended["end"] - t_stop, c.renew_s, r2["start"] - t_stop))
                self.assertLess(ended["end"] - t_stop, c.renew_s,
                                "not killed by the end of its claim")
                frozen.signal(signal.SIGCONT)
            finally:
                self.stop_runners()
                runs.finish()
            self.assert_no_overlap(runs)
            log = self.runner_logs()
            self.assertIn("SIGKILL", log)
            self.finish(c)

    def test_negative_control(self):
        """The deliberately broken build must make the overlap check fail."""
        run_bin = binary("LE_RUN_CONSUME_FIRST")
        with self.cluster(pods=2) as c:
            runs = self.start_runners(c, run_bin)
            try:
                leader, _ = self.wait_app_of_leader(c, runs, now())
                for i in range(3):
                    time.sleep(0.7)
                    h = c.handoff(leader, None)
                    self.assertIsNotNone(h.new)
                    self.assert_app_on(runs, h.new, h.t_signal, 5.0, "RESIGN (consume-first)")
                    leader = h.new
                    time.sleep(STOP_DELAY + 0.2)
                    if runs.overlaps():
                        break
            finally:
                self.stop_runners()
                runs.finish()
            ov = runs.overlaps()
            say("  consume-first build: %d overlap(s) found, e.g. %s" % (
                len(ov), "; ".join("%s and %s ran together for %.3f s" % (
                    a["pod"], b["pod"], d) for a, b, d in ov[:2])))
            self.assertTrue(ov, "the broken build showed no overlap: the check cannot fail")
            with self.assertRaises(AssertionError):
                self.assert_no_overlap(runs)
            c.shutdown()

    def test_cli(self):
        run_bin = binary("LE_RUN")
        r = subprocess.run([run_bin, "--help"], stdout=subprocess.PIPE, text=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertIn("MSG_PEEK", r.stdout)
        r = subprocess.run([run_bin, "--version"], stdout=subprocess.PIPE, text=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertTrue(re.match(r"leader-run \S+ \(protocol 1\)", r.stdout), r.stdout)
        for args in ([], ["--grace", "x", "--", "true"], ["--bogus", "--", "true"], ["--grace"]):
            r = subprocess.run([run_bin] + args, stderr=subprocess.PIPE, text=True, timeout=10)
            self.assertEqual(r.returncode, 64, (args, r.stderr))
            self.assertIn("leader-run:", r.stderr)
        r = subprocess.run([run_bin, "--socket", "/nonexistent/s", "--", "no-such-command-xyz"],
                           stderr=subprocess.PIPE, text=True, timeout=10)
        self.assertEqual(r.returncode, 127, r.stderr)
        r = subprocess.run([run_bin, "--no-wait", "--socket", "/nonexistent/s", "--", "true"],
                           stderr=subprocess.PIPE, text=True, timeout=10)
        self.assertEqual(r.returncode, 2, r.stderr)
        p = subprocess.Popen([run_bin, "--socket", "/nonexistent/s", "--", "true"],
                             stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("retrying", err)


if __name__ == "__main__":
    main()
