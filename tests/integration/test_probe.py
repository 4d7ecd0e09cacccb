#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Drives leader-probe through every exit code against fake-proto-server.

usage: test_probe.py PROBE FAKE_PROTO_SERVER [PROBE_VMHWM]

Each case starts the scripted server on a socket in a fresh temporary
directory, runs the probe, and checks its exit code, its stdout, that stderr
is exactly one line for exits 2 and 64 (and empty for 0), and what the probe
sent. With PROBE_VMHWM, also measures the probe's peak RSS (VmHWM) while it
answers a leader query: at most 1 MiB. Every wait is bounded."""

import os
import subprocess
import sys
import tempfile
import time

PROBE, SERVER = sys.argv[1], sys.argv[2]
VMHWM = sys.argv[3] if len(sys.argv) > 3 else None
HOSTNAME = os.uname().nodename
failures = []


class Server:
    def __init__(self, tmp, mode, delay_ms=0, extra=(), start=True):
        self.path = os.path.join(tmp, "leader.sock")
        self.log = os.path.join(tmp, "requests.log")
        self.argv = [SERVER, "--socket", self.path, "--mode", mode,
                     "--delay-ms", str(delay_ms), "--log", self.log, *extra]
        self.proc = None
        if start:
            self.start()

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline()  # bounded: the server prints it at once
        if line != b"READY\n":
            raise RuntimeError("fake-proto-server did not start: %r" % line)

    def requests(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_probe(args, env=None, timeout=10):
    e = dict(os.environ)
    e.pop("LEADER_ELECTION_SOCKET", None)
    if env:
        e.update(env)
    t0 = time.monotonic()
    p = subprocess.run([PROBE, *args], capture_output=True, env=e, timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode(), time.monotonic() - t0


def check(name, cond, detail=""):
    if not cond:
        failures.append("%s: %s" % (name, detail))
        print("FAIL %s %s" % (name, detail))
    else:
        print("ok   %s" % name)


def expect(name, args, code, stdout=None, env=None, max_s=None, min_s=None):
    rc, out, err, dt = run_probe(args, env)
    detail = "rc=%d out=%r err=%r %.3fs" % (rc, out, err, dt)
    ok = rc == code
    if stdout is not None:
        ok = ok and (stdout(out) if callable(stdout) else out == stdout)
    if code in (2, 64):
        ok = ok and err.count("\n") == 1 and err.startswith("leader-probe: ")
    if code == 0:
        ok = ok and err == ""
    if max_s is not None:
        ok = ok and dt <= max_s
    if min_s is not None:
        ok = ok and dt >= min_s
    check(name, ok, detail)
    return rc, out, err


def with_server(mode, fn, delay_ms=0, extra=()):
    with tempfile.TemporaryDirectory() as tmp:
        s = Server(tmp, mode, delay_ms, extra)
        try:
            fn(s)
        finally:
            s.stop()


def main():
    # --- exit 0 and what the probe sent
    def leader(s):
        expect("leader", ["--socket", s.path], 0, stdout="")
        check("leader: sent exactly STATUS\\n", s.requests() == b"STATUS\n", repr(s.requests()))
        expect("leader --print", ["--socket", s.path, "--print"], 0, stdout=HOSTNAME + "\n")
        expect("leader --json", ["-s", s.path, "--json"], 0,
               stdout=lambda o: o.startswith('{"proto":1,"type":"status"') and o.endswith("}\n")
               and '"is_leader":true' in o and o.count("\n") == 1)
        expect("leader via $LEADER_ELECTION_SOCKET", [], 0, env={"LEADER_ELECTION_SOCKET": s.path})
        expect("--socket overrides the environment", ["--socket", s.path], 0,
               env={"LEADER_ELECTION_SOCKET": s.path + ".none"})
        expect("--id equal to the identity", ["--socket", s.path, "--id", HOSTNAME], 0)
        expect("--id another identity", ["--socket", s.path, "--id", "nobody"], 1)
        for t in ["800ms", "1s", "2", "0.5", "1m", "1m30s", "1.5s", "250000us", "+1s"]:
            expect("--timeout %s" % t, ["--socket", s.path, "--timeout", t], 0)
        expect("--timeout=1s", ["--socket", s.path, "--timeout=1s"], 0)
        expect("--wait when already leader", ["--socket", s.path, "--wait", "--print"], 0,
               stdout=HOSTNAME + "\n", max_s=2)
        if VMHWM:
            p = subprocess.run([VMHWM, "1024", PROBE, "--socket", s.path, "--json"],
                               capture_output=True, timeout=10)
            report = p.stdout.decode().strip().splitlines()[-1:]
            print("     probe peak RSS: %s" % report)
            check("VmHWM <= 1 MiB", p.returncode == 0 and report and report[0].endswith("exit=0"),
                  "rc=%d %r %r" % (p.returncode, p.stdout, p.stderr))
    with_server("leader", leader)

    # --- exit 1
    with_server("not-leader", lambda s: expect("not-leader", ["--socket", s.path], 1, stdout=""))
    with_server("not-leader", lambda s: expect("not-leader --print", ["--socket", s.path, "-p"],
                                               1, stdout="someone-else\n"))
    with_server("other-identity", lambda s: (
        expect("other-identity (another pod's socket)", ["--socket", s.path], 1),
        expect("other-identity with --id of that pod", ["--socket", s.path, "--id", "another-pod"], 0)))
    with_server("lapsed", lambda s: expect("is_leader with valid_ms 0", ["--socket", s.path], 1))

    # --- the age of the line: now(CLOCK_BOOTTIME) - boottime_ms against valid_ms (10000 here)
    def aged(age_ms, fn):
        with_server("aged", fn, extra=["--age-ms", str(age_ms)])
    aged(11000, lambda s: expect("leader line older than its valid_ms: lapsed",
                                 ["--socket", s.path], 1, stdout=""))
    aged(10000, lambda s: expect("leader line as old as its valid_ms: lapsed",
                                 ["--socket", s.path], 1, stdout=""))
    aged(11000, lambda s: expect("lapsed line: --print names nobody", ["--socket", s.path, "-p"],
                                 1, stdout="\n"))
    aged(11000, lambda s: expect("lapsed line: --json prints it, exit 1", ["--socket", s.path, "-j"],
                                 1, stdout=lambda o: '"is_leader":true' in o))
    aged(11000, lambda s: expect("lapsed line: --wait does not take it",
                                 ["--socket", s.path, "--wait", "-t", "300ms"], 1,
                                 min_s=0.25, max_s=2.5))
    aged(9000, lambda s: expect("leader line younger than its valid_ms",
                                ["--socket", s.path, "--print"], 0, stdout=HOSTNAME + "\n"))
    aged(0, lambda s: expect("fresh leader line", ["--socket", s.path], 0))
    aged(0, lambda s: expect("fresh leader line: --wait", ["--socket", s.path, "--wait", "-t", "2s"],
                             0, max_s=2))
    aged(-50, lambda s: expect("boottime_ms 50 ms ahead (within the slack)", ["--socket", s.path],
                               0))
    for args in ([], ["--wait", "-t", "2s"], ["--print"]):
        aged(-60000, lambda s: (lambda rc, out, err: check(
            "boottime_ms 60 s in the future: says so", "future" in err and "CLOCK_BOOTTIME" in err,
            repr(err)))(*expect("boottime_ms 60 s in the future %s" % " ".join(args),
                                ["--socket", s.path, *args], 2, stdout="", max_s=1.5)))

    # --- exit 2
    with tempfile.TemporaryDirectory() as tmp:
        expect("no socket file", ["--socket", os.path.join(tmp, "none.sock")], 2, max_s=2)
        expect("default path without a daemon", [], 2,
               env={"LEADER_ELECTION_SOCKET": os.path.join(tmp, "none.sock")})
        s = Server(tmp, "no-listener")
        s.proc.wait(5)
        check("stale socket file left", os.path.exists(s.path))
        expect("stale socket (no listener)", ["--socket", s.path], 2, max_s=2)
        expect("not a socket", ["--socket", tmp], 2)
    with_server("garbage", lambda s: expect("garbage", ["--socket", s.path], 2, stdout=""))
    with_server("closing", lambda s: expect("closing", ["--socket", s.path], 2))
    with_server("oversized", lambda s: expect("oversized", ["--socket", s.path], 2))
    with_server("error", lambda s: expect("error reply", ["--socket", s.path], 2))
    with_server("busy", lambda s: expect("busy daemon", ["--socket", s.path], 2), delay_ms=60000)
    with_server("busy", lambda s: expect("--wait retries a busy daemon",
                                         ["--socket", s.path, "--wait", "-t", "5s"], 0,
                                         min_s=0.3, max_s=3), delay_ms=500)
    with_server("bad-version", lambda s: expect("protocol version 2", ["--socket", s.path], 2))
    with_server("silent", lambda s: expect("silent: default timeout 800ms", ["--socket", s.path], 2,
                                           min_s=0.75, max_s=3))
    with_server("silent", lambda s: expect("silent: --timeout 200ms", ["--socket", s.path, "-t",
                                                                        "200ms"], 2,
                                           min_s=0.15, max_s=2))
    with_server("slow", lambda s: expect("slow 300ms within the default timeout",
                                         ["--socket", s.path], 0, min_s=0.25), delay_ms=300)
    with_server("slow", lambda s: expect("slow 3000ms: timeout", ["--socket", s.path], 2,
                                         min_s=0.75, max_s=2.5), delay_ms=3000)

    # --- --wait
    with_server("flip", lambda s: (
        expect("--wait until leader", ["--socket", s.path, "--wait"], 0, min_s=0.35, max_s=3),
        check("--wait sent WATCH", s.requests() == b"WATCH\n", repr(s.requests()))),
        delay_ms=400)
    with_server("not-leader", lambda s: expect("--wait --timeout, never leader",
                                               ["--socket", s.path, "--wait", "-t", "300ms"], 1,
                                               min_s=0.25, max_s=2.5))
    with_server("garbage", lambda s: expect("--wait on garbage fails closed",
                                            ["--socket", s.path, "--wait", "-t", "2s"], 2, max_s=1.5))
    with tempfile.TemporaryDirectory() as tmp:
        expect("--wait --timeout, no daemon", ["--socket", os.path.join(tmp, "x.sock"), "--wait",
                                               "-t", "300ms"], 2, min_s=0.25, max_s=2.5)
        # The daemon comes up after the probe started waiting.
        s = Server(tmp, "leader", start=False)
        e = dict(os.environ)
        e.pop("LEADER_ELECTION_SOCKET", None)
        p = subprocess.Popen([PROBE, "--socket", s.path, "--wait", "--timeout", "5s"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
        time.sleep(0.4)
        s.start()
        try:
            out, err = p.communicate(timeout=8)
            check("--wait for a daemon that starts later", p.returncode == 0,
                  "rc=%s err=%r" % (p.returncode, err))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            s.stop()

    # --- against the daemon's own socket server (daemon/sock_server)
    def served(s):
        expect("served: leader", ["--socket", s.path, "--json"], 0,
               stdout=lambda o: '"boottime_ms":' in o)
        time.sleep(1.7)
        # The same server, past its deadline: computed at the reply, not cached.
        expect("served: past the deadline", ["--socket", s.path], 1)
    with_server("served", served, delay_ms=1500)
    with_server("served-later", lambda s: (
        expect("served: --wait over a real WATCH", ["--socket", s.path, "--wait", "-t", "5s"], 0,
               min_s=0.3, max_s=3),
        expect("served: then leader", ["--socket", s.path], 0)), delay_ms=500)
    with tempfile.TemporaryDirectory() as tmp:
        s = Server(tmp, "served")
        try:
            # A second daemon on a live socket must refuse to start.
            p = subprocess.run(s.argv, capture_output=True, timeout=10)
            check("served: a second server on a live socket refuses", p.returncode == 2
                  and b"Address already in use" in p.stderr, repr(p))
            expect("served: the first still answers", ["--socket", s.path], 0)
        finally:
            s.stop()
        check("served: socket removed on exit", not os.path.exists(s.path))

    # --- --alive: the daemon answers a well-formed status line, whoever leads
    for mode in ("leader", "not-leader", "other-identity", "lapsed"):
        with_server(mode, lambda s: expect("--alive on %s" % mode, ["--socket", s.path, "--alive"],
                                           0, stdout=""))
    with_server("not-leader", lambda s: (
        expect("--alive --print", ["--socket", s.path, "-a", "-p"], 0, stdout="someone-else\n"),
        check("--alive sent exactly STATUS\\n", s.requests() == b"STATUS\n", repr(s.requests()))))
    aged(11000, lambda s: expect("--alive on a lapsed line", ["--socket", s.path, "--alive"], 0))
    with tempfile.TemporaryDirectory() as tmp:
        expect("--alive, no daemon", ["--socket", os.path.join(tmp, "none.sock"), "--alive"], 2,
               max_s=2)
    for mode in ("garbage", "closing", "error", "bad-version", "oversized"):
        with_server(mode, lambda s: expect("--alive on %s" % mode, ["--socket", s.path, "--alive"],
                                           2, stdout=""))
    with_server("busy", lambda s: expect("--alive on a busy daemon", ["--socket", s.path, "-a"], 2),
                delay_ms=60000)
    with_server("silent", lambda s: expect("--alive, silent: --timeout 300ms",
                                           ["--socket", s.path, "--alive", "-t", "300ms"], 2,
                                           min_s=0.25, max_s=2))
    with_server("served", lambda s: expect("--alive on the daemon's own server",
                                           ["--socket", s.path, "--alive"], 0))

    # --- exit 64 and the informational options
    for args in (["--bogus"], ["-x"], ["--timeout", "abc"], ["--timeout", "0"], ["--timeout", "1x"],
                 ["--timeout", "-1s"], ["--timeout", "1.s5"], ["--timeout"], ["extra"],
                 ["--print", "--json"], ["--id", ""], ["--socket", "/" + "x" * 120],
                 ["--alive", "--wait"]):
        expect("usage error %s" % " ".join(args), args, 64, stdout="")
    expect("--help", ["--help"], 0,
           stdout=lambda o: "Exit status" in o and "--timeout" in o and "Examples" in o
           and "--alive" in o)
    expect("--version", ["--version"], 0, stdout=lambda o: o.startswith("leader-probe ")
           and "protocol 1" in o)

    if failures:
        print("%d failure(s):" % len(failures))
        for f in failures:
            print("  " + f)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
