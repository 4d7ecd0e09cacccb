# SPDX-License-Identifier: MIT
"""Observers of the pods, and the analysis of what they saw.

Two independent measures of "who claims to be leader when", both on
CLOCK_MONOTONIC (time.monotonic()):

- ProbeMonitor: one thread per pod runs the real leader-probe at a fixed rate
  (>= 20 Hz) and records (start, end, exit code) of every run.  A run of
  consecutive successes is a probe interval; the part of it that is certain
  (from the end of its first probe to the start of its last one) is what the
  overlap check uses, together with every single success, so that the check
  never blames a pod for the uncertainty of a probe's own duration.

- WatchMonitor: one thread keeps a WATCH open to every pod and records every
  message.  A claim runs from a message with is_leader=true until the
  earliest of (its arrival + valid_ms, the next message saying not leader,
  the connection's close).  All sockets are served by one poll() loop and
  every message of one wake-up gets the same arrival instant, so two pods
  are never ordered wrongly by thread scheduling.  The same claims are also
  computed on the daemon's own clock (the line's boottime_ms: CLOCK_BOOTTIME
  when the daemon wrote it, converted to CLOCK_MONOTONIC).
"""

import json
import os
import select
import socket
import subprocess
import threading
import time

now = time.monotonic


def boot_minus_mono():
    """CLOCK_BOOTTIME - CLOCK_MONOTONIC in seconds (constant unless suspended)."""
    best = None
    for _ in range(5):
        a = time.monotonic()
        b = time.clock_gettime(time.CLOCK_BOOTTIME)
        c = time.monotonic()
        if best is None or c - a < best[0]:
            best = (c - a, b - (a + c) / 2)
    return best[1]


class Sample:
    __slots__ = ("t0", "t1", "rc")

    def __init__(self, t0, t1, rc):
        self.t0, self.t1, self.rc = t0, t1, rc

    def __repr__(self):
        return "Sample(%.3f..%.3f rc=%d)" % (self.t0, self.t1, self.rc)


class ProbeMonitor(threading.Thread):
    """Runs `leader-probe --socket S --id POD` every `period` seconds."""

    def __init__(self, probe, pod_name, socket_path, period=0.025, timeout="800ms",
                 identity=None):
        super().__init__(name="probe-" + pod_name, daemon=True)
        self.pod = pod_name
        self.cmd = [probe, "--socket", socket_path, "--id", identity or pod_name,
                    "--timeout", timeout]
        self.period = period
        self.samples = []  # appended by this thread only; list.append is atomic
        self._stop_ev = threading.Event()
        self.errors = []

    def run(self):
        nxt = now()
        while not self._stop_ev.is_set():
            t0 = now()
            try:
                rc = subprocess.call(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     timeout=10)
            except subprocess.TimeoutExpired:
                rc = -1
            except OSError as e:
                self.errors.append(str(e))
                rc = -2
            t1 = now()
            self.samples.append(Sample(t0, t1, rc))
            nxt += self.period
            if nxt < t1:
                nxt = t1
            self._stop_ev.wait(max(0.0, nxt - now()))

    def stop(self):
        self._stop_ev.set()

    def snapshot(self):
        return list(self.samples)


class Claim:
    """One claim of leadership by one pod, on one measure."""
    __slots__ = ("pod", "term", "start", "end", "expiry", "why_end", "messages")

    def __init__(self, pod, term, start, expiry):
        self.pod, self.term, self.start, self.expiry = pod, term, start, expiry
        self.end = None
        self.why_end = None
        self.messages = 1

    def __repr__(self):
        return "Claim(%s term=%s %.3f..%s %s)" % (
            self.pod, self.term, self.start, "open" if self.end is None else "%.3f" % self.end,
            self.why_end or "")


class ClaimTracker:
    """Turns a pod's stream of (time, is_leader, valid_ms, term) into claims."""

    def __init__(self, pod):
        self.pod = pod
        self.claims = []
        self.cur = None

    def _close(self, t, why):
        c = self.cur
        if c.expiry <= t:
            c.end, c.why_end = c.expiry, "valid_ms ran out"
        else:
            c.end, c.why_end = t, why
        self.cur = None

    def feed(self, t, is_leader, valid_ms, term):
        if self.cur is not None and (self.cur.expiry <= t or not is_leader
                                     or self.cur.term != term):
            self._close(t, "not leader" if not is_leader else "new term")
        if is_leader:
            exp = t + valid_ms / 1000.0
            if self.cur is None:
                self.cur = Claim(self.pod, term, t, exp)
                self.claims.append(self.cur)
            else:
                self.cur.expiry = exp  # the latest message is the daemon's current view
                self.cur.messages += 1

    def closed(self, t, why):
        if self.cur is not None:
            self._close(t, why)

    def finish(self, t):
        """Claims as of t (an open claim ends at min(t, its expiry))."""
        out = []
        for c in self.claims:
            if c.end is None:
                cc = Claim(c.pod, c.term, c.start, c.expiry)
                cc.end = min(t, c.expiry)
                cc.why_end = "still open"
                cc.messages = c.messages
                out.append(cc)
            else:
                out.append(c)
        return out


class _WatchConn:
    def __init__(self, pod, path):
        self.pod = pod
        self.path = path
        self.sock = None
        self.buf = b""
        self.next_try = 0.0
        self.connects = 0


class WatchMonitor(threading.Thread):
    """Keeps a WATCH open to every pod (reconnecting when a daemon comes back)."""

    def __init__(self, pods):
        """pods: list of (name, socket_path)."""
        super().__init__(name="watch", daemon=True)
        self.offset = boot_minus_mono()
        self.conns = {name: _WatchConn(name, path) for name, path in pods}
        self.arrival = {name: ClaimTracker(name) for name, _ in pods}
        self.daemon_clock = {name: ClaimTracker(name) for name, _ in pods}
        self.messages = []  # (arrival, daemon time or None, pod, dict)
        self.events = []    # (time, pod, "connected"/"closed"/"error ...")
        self.lock = threading.Lock()
        self._stop_ev = threading.Event()
        self._r, self._w = os.pipe()
        self.protocol_errors = []

    def add(self, name, path):
        with self.lock:
            self.conns[name] = _WatchConn(name, path)
            self.arrival[name] = ClaimTracker(name)
            self.daemon_clock[name] = ClaimTracker(name)
        os.write(self._w, b"x")

    def stop(self):
        """Stops the thread.  The wake-up pipe is closed only here, after the
        thread has ended: if run() closed it, a stop() racing with the loop's
        own 20 ms wake-up (the event already set, the write not yet done)
        would write to a closed, or worse a reused, descriptor."""
        self._stop_ev.set()
        if self._w is None:
            return
        os.write(self._w, b"x")
        self.join(10)
        if not self.is_alive():
            os.close(self._r)
            os.close(self._w)
            self._r = self._w = None

    def _try_connect(self, c, t):
        if c.sock is not None or t < c.next_try:
            return
        c.next_try = t + 0.02
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            # A Unix socket connect completes at once, or fails (EAGAIN: the
            # backlog is full; retried on the next round like any failure).
            s.connect(c.path)
            s.send(b"WATCH\n")
        except OSError:
            s.close()
            return
        c.sock = s
        c.buf = b""
        c.connects += 1
        self.events.append((t, c.pod, "connected"))

    def _close(self, c, t, why):
        if c.sock is not None:
            c.sock.close()
            c.sock = None
        self.arrival[c.pod].closed(t, why)
        # On the daemon's clock the claim ends no later than our own now.
        self.daemon_clock[c.pod].closed(t, why)
        self.events.append((t, c.pod, why))

    def _line(self, c, line, t):
        try:
            m = json.loads(line)
        except ValueError:
            self.protocol_errors.append((t, c.pod, line[:200]))
            return
        if not isinstance(m, dict) or m.get("type") != "status":
            self.protocol_errors.append((t, c.pod, line[:200]))
            return
        bt = m.get("boottime_ms")
        d = bt / 1000.0 - self.offset if isinstance(bt, (int, float)) and bt > 0 else None
        self.messages.append((t, d, c.pod, m))
        isl = m.get("is_leader") is True
        vm = m.get("valid_ms", 0) if isinstance(m.get("valid_ms"), int) else 0
        term = m.get("term")
        self.arrival[c.pod].feed(t, isl, vm, term)
        if d is not None:
            self.daemon_clock[c.pod].feed(d, isl, vm, term)

    def run(self):
        poller = select.poll()
        poller.register(self._r, select.POLLIN)
        registered = {}
        while not self._stop_ev.is_set():
            t = now()
            with self.lock:
                conns = list(self.conns.values())
            for c in conns:
                self._try_connect(c, t)
                fd = c.sock.fileno() if c.sock else None
                old = registered.get(c.pod)
                if old != fd:
                    if old is not None:
                        try:
                            poller.unregister(old)
                        except KeyError:
                            pass
                    if fd is not None:
                        poller.register(fd, select.POLLIN)
                    registered[c.pod] = fd
            ready = poller.poll(20)
            t = now()  # one arrival instant for everything of this wake-up
            fds = {fd for fd, _ in ready}
            if self._r in fds:
                os.read(self._r, 64)
            for c in conns:
                if c.sock is None or c.sock.fileno() not in fds:
                    continue
                data = b""
                closed = None
                while True:
                    try:
                        chunk = c.sock.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError as e:
                        closed = "error %s" % e.strerror
                        break
                    if not chunk:
                        closed = "closed"
                        break
                    data += chunk
                c.buf += data
                while b"\n" in c.buf:
                    line, c.buf = c.buf.split(b"\n", 1)
                    self._line(c, line, t)
                if closed:
                    fd = c.sock.fileno()
                    try:
                        poller.unregister(fd)
                    except KeyError:
                        pass
                    registered[c.pod] = None
                    self._close(c, t, closed)
        t = now()
        for c in self.conns.values():
            if c.sock is not None:
                c.sock.close()
                c.sock = None
        self.end_time = t

    def claims(self, measure="arrival", until=None):
        t = until if until is not None else now()
        trackers = self.arrival if measure == "arrival" else self.daemon_clock
        out = []
        for tr in trackers.values():
            out += tr.finish(t)
        out.sort(key=lambda c: c.start)
        return out


# -- analysis -------------------------------------------------------------------

class Interval:
    __slots__ = ("pod", "start", "end", "what")

    def __init__(self, pod, start, end, what=""):
        self.pod, self.start, self.end, self.what = pod, start, end, what

    def __repr__(self):
        return "%s[%.3f..%.3f]%s" % (self.pod, self.start, self.end,
                                     " " + self.what if self.what else "")


def overlaps(intervals):
    """Pairs of intervals of different pods that share some time (half-open)."""
    iv = sorted(intervals, key=lambda i: i.start)
    bad = []
    for i, a in enumerate(iv):
        for b in iv[i + 1:]:
            if b.start >= a.end:
                break
            if b.pod != a.pod and min(a.end, b.end) > b.start:
                bad.append((a, b))
    return bad


def probe_runs(samples):
    """Runs of consecutive successful probes: list of lists of samples."""
    runs, cur = [], []
    for s in samples:
        if s.rc == 0:
            cur.append(s)
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return runs


def probe_intervals(samples_by_pod):
    """(possible, certain) intervals per run: possible = [first.t0, last.t1],
    certain = [first.t1, last.t0] (empty for a run of one probe)."""
    possible, certain = [], []
    for pod, samples in samples_by_pod.items():
        for run in probe_runs(samples):
            possible.append(Interval(pod, run[0].t0, run[-1].t1, "%d probes" % len(run)))
            if run[0].t1 < run[-1].t0:
                certain.append(Interval(pod, run[0].t1, run[-1].t0, "%d probes" % len(run)))
    return possible, certain


def probe_violations(samples_by_pod):
    """Proven double leadership by probes: two certain intervals of different
    pods overlapping, or one pod's successful probe entirely inside another
    pod's certain interval."""
    _, certain = probe_intervals(samples_by_pod)
    bad = [("certain intervals overlap", a, b) for a, b in overlaps(certain)]
    for pod, samples in samples_by_pod.items():
        for s in samples:
            if s.rc != 0:
                continue
            for c in certain:
                if c.pod != pod and c.start < s.t0 and s.t1 < c.end:
                    bad.append(("probe of %s succeeded inside %s's interval" % (pod, c.pod),
                                Interval(pod, s.t0, s.t1, "one probe"), c))
    return bad


def probe_rate(samples, t_from=None, t_to=None):
    ss = [s for s in samples if (t_from is None or s.t0 >= t_from)
          and (t_to is None or s.t0 <= t_to)]
    if len(ss) < 2:
        return 0.0
    return (len(ss) - 1) / (ss[-1].t0 - ss[0].t0)


def max_probe_gap(samples, exclude=()):
    """Largest time between the starts of two consecutive probes, ignoring
    gaps that begin inside one of the exclude windows [(t0, t1)]."""
    gap = 0.0
    for a, b in zip(samples, samples[1:]):
        if any(x0 <= a.t0 <= x1 for x0, x1 in exclude):
            continue
        gap = max(gap, b.t0 - a.t0)
    return gap


def first_success(samples_by_pod, after, exclude=()):
    """(pod, sample) of the earliest-finishing successful probe that started
    at or after `after`, among pods not in exclude; or (None, None)."""
    best = (None, None)
    for pod, samples in samples_by_pod.items():
        if pod in exclude:
            continue
        for s in samples:
            if s.rc == 0 and s.t0 >= after:
                if best[1] is None or s.t1 < best[1].t1:
                    best = (pod, s)
                break
    return best


def lease_acquisitions(log, daemon_clients):
    """From the server's lease-log: [(entry, term, by_daemon)] for every write
    that made a non-empty holder different from the previous one."""
    out = []
    prev = None
    for e in log:
        if e["type"] == "delete":
            prev = None
            continue
        h = e.get("holder") or ""
        if h and h != prev:
            out.append((e, e.get("leaseTransitions"), e.get("client") in daemon_clients))
        prev = h
    return out


def term_violations(log, daemon_clients):
    """Daemon acquisitions whose term is not above every term seen before."""
    bad = []
    seen = None
    prev_holder = None
    for e in log:
        if e["type"] == "delete":
            prev_holder = None
            continue
        h = e.get("holder") or ""
        t = e.get("leaseTransitions")
        if h and h != prev_holder and e.get("client") in daemon_clients:
            if seen is not None and (t is None or t <= seen):
                bad.append("acquisition by %s (client %s) wrote term %s, but %s was seen before"
                           % (h, e.get("client"), t, seen))
        if isinstance(t, int):
            seen = t if seen is None else max(seen, t)
        prev_holder = h
    return bad


def claim_term_violations(claims):
    """Terms reported on WATCH: a new claim (another pod, or the same pod
    after a gap with another term) must carry a term above all earlier ones."""
    bad = []
    best = None
    last = None
    for c in sorted(claims, key=lambda c: c.start):
        if not isinstance(c.term, int):
            bad.append("claim without an integer term: %r" % c)
            continue
        cont = last is not None and last.pod == c.pod and last.term == c.term
        if best is not None and not cont and c.term <= best:
            bad.append("claim %r reuses or lowers term (highest before: %d)" % (c, best))
        best = c.term if best is None else max(best, c.term)
        last = c
    return bad
