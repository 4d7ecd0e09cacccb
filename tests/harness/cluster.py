# SPDX-License-Identifier: MIT
"""A test API server and N leader-elector daemons as "pods" on one machine.

    with Cluster(daemon, probe, pods=3) as c:
        old = c.wait_leader(10)
        r = c.handoff(old, signal.SIGTERM)       # measured: signal -> new leader's probe
        c.shutdown()
        report = c.verify()                     # raises AssertionError on any violation

Each pod has its own directory (socket dir, token file, log) and its own API
user (candidate-N), so that faults and token changes can target one pod.
Every process is started by this module and stopped by its pid; the daemons
get SIGKILL if this process dies (setpriv --pdeathsig).
"""

import datetime
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_DIR = os.path.join(os.path.dirname(HERE), "server")  # kubeapi/
if SERVER_DIR not in sys.path:
    sys.path.insert(0, SERVER_DIR)

from kubeapi import ApiServer  # noqa: E402

from . import monitor as M  # noqa: E402
from . import sockclient  # noqa: E402

now = time.monotonic
SETPRIV = shutil.which("setpriv")
KUBECTL = shutil.which("kubectl")

# Short timings for the tests: lease 3 s, renew deadline 2 s, retry 0.5 s.
FAST = ("3s", "2s", "500ms")


def free_port(host="127.0.0.1"):
    """A TCP port free on host now, for a server a test starts. The server
    binds it itself: the window between this close and its bind is short, and
    a clash shows as a start-up failure, never a wrong pass."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def parse_duration(s):
    """'3s', '500ms', '1m30s' or plain seconds -> seconds (float)."""
    s = str(s).strip()
    try:
        return float(s)
    except ValueError:
        pass
    total, num = 0.0, ""
    i = 0
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "ns": 1e-9}
    while i < len(s):
        ch = s[i]
        if ch.isdigit() or ch == ".":
            num += ch
            i += 1
            continue
        u = s[i:i + 2] if s[i:i + 2] in ("ms", "us", "ns") else ch
        total += float(num) * units[u]
        num = ""
        i += len(u)
    return total


class Pod:
    def __init__(self, cluster, name, index):
        self.cluster = cluster
        self.name = name
        self.index = index
        self.dir = os.path.join(cluster.dir, name)
        os.makedirs(self.dir)
        self.socket = os.path.join(self.dir, "run", "leader.sock")
        self.token_file = os.path.join(self.dir, "token")
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.user = "candidate-%d" % index
        self.identity = cluster.identities.get(name, name)  # --id, normally the pod name
        self.election = cluster.election  # the Lease name; add_pod() may choose another
        self.proc = None
        self.rc = None
        self.signals = []  # (monotonic time, signal number), every incarnation
        self.incarnations = []  # one dict per start: pid, signals, rc
        self.stopped_windows = []  # [t_stop, t_cont or None]
        self.extra_args = []

    # -- life cycle -------------------------------------------------------------

    def command(self):
        c = self.cluster
        cmd = list(c.wrapper) + [c.daemon, "--election", self.election, "--namespace", c.namespace,
                                 "--id", self.identity, "--server", c.api.url,
                                 "--ca-file", c.api.ca, "--token-file", self.token_file,
                                 "--socket", self.socket]
        if c.timings:
            cmd += ["--lease-duration", c.timings[0], "--renew-deadline", c.timings[1],
                    "--retry-period", c.timings[2]]
        return cmd + list(c.extra_args) + list(self.extra_args)

    def start(self):
        """Starts the daemon (from the main thread: the death signal follows the
        thread that forked)."""
        cmd = self.command()
        if SETPRIV:
            cmd = [SETPRIV, "--pdeathsig", "KILL", "--"] + cmd
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True, env=self.cluster.daemon_env)
        finally:
            log.close()
        self.rc = None
        self.started = now()
        self.incarnations.append({"pid": self.proc.pid, "proc": self.proc, "signals": [],
                                  "started": self.started})
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def wait_ready(self, timeout):
        """Waits until the daemon answers on its socket (or exited, or timeout)."""
        deadline = now() + timeout
        while now() < deadline and self.alive():
            try:
                self.status(0.5)
                return True
            except Exception:
                time.sleep(0.02)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        """Sends sig; returns the monotonic instant just before it was sent."""
        t = now()
        os.kill(self.proc.pid, sig)
        self.signals.append((t, sig))
        self.incarnations[-1]["signals"].append(sig)
        if sig == signal.SIGSTOP:
            self.stopped_windows.append([t, None])
        elif sig == signal.SIGCONT and self.stopped_windows and self.stopped_windows[-1][1] is None:
            self.stopped_windows[-1][1] = t
        return t

    def wait(self, timeout):
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.rc

    def terminated_by_us(self):
        return any(s in (signal.SIGTERM, signal.SIGINT) for _, s in self.signals)

    def killed_by_us(self):
        return any(s == signal.SIGKILL for _, s in self.signals)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    # -- the socket -------------------------------------------------------------

    def status(self, timeout=2.0):
        return sockclient.status(self.socket, timeout)

    def resign(self, timeout=5.0):
        return sockclient.resign(self.socket, timeout)

    def __repr__(self):
        return "Pod(%s pid=%s)" % (self.name, self.pid)


class Handoff:
    def __init__(self, old, sig, t_signal):
        self.old, self.sig, self.t_signal = old, sig, t_signal
        self.new = None
        self.probe_s = None   # signal -> end of the new leader's first successful probe
        self.watch_s = None   # signal -> arrival of the new leader's first is_leader message

    def __str__(self):
        w = "%.3f s" % self.watch_s if self.watch_s is not None else "n/a"
        return "%s of %s -> %s leads: %.3f s to its first successful probe (WATCH: %s)" % (
            signal.Signals(self.sig).name if self.sig else "RESIGN", self.old.name,
            self.new.name if self.new else "nobody",
            self.probe_s if self.probe_s is not None else float("nan"), w)


class Cluster:
    def __init__(self, daemon, probe, pods=3, names=None, election="failover",
                 namespace="default", timings=FAST, extra_args=(), wrapper=(), probe_hz=40,
                 probe_timeout="800ms", api_args=(), keep=None, log=None, watch=True,
                 monitor=True, start=True, identities=None):
        self.daemon = os.path.abspath(daemon)
        self.probe = os.path.abspath(probe)
        self.names = (list(names) if names is not None
                      else ["pod-%s" % chr(ord("a") + i) for i in range(pods)])
        self.identities = dict(identities or {})
        self.election = election
        self.namespace = namespace
        self.timings = tuple(timings) if timings else None
        self.extra_args = list(extra_args)
        self.wrapper = list(wrapper)
        self.probe_period = 1.0 / probe_hz
        self.probe_timeout = probe_timeout
        self.api_args = list(api_args)
        self.keep = keep if keep is not None else os.environ.get("LE_KEEP") == "1"
        self.log = log or (lambda msg: sys.stderr.write(msg + "\n"))
        self.with_watch = watch
        self.with_monitor = monitor
        self.autostart = start
        self.pods = []
        self.by_name = {}
        self.api = None
        self.dir = None
        self.probes = {}
        self.watch = None
        self.lease_log_final = None
        self._shut = False
        self.daemon_env = dict(os.environ)
        self.t0 = None

    # -- timings ----------------------------------------------------------------

    @property
    def lease_s(self):
        return parse_duration(self.timings[0]) if self.timings else 15.0

    @property
    def renew_s(self):
        return parse_duration(self.timings[1]) if self.timings else 10.0

    @property
    def retry_s(self):
        return parse_duration(self.timings[2]) if self.timings else 2.0

    # -- life cycle -------------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close(failed=True)
            raise
        return self

    def __exit__(self, et, ev, tb):
        self.close(failed=et is not None)
        return False

    def start(self):
        self.t0 = now()
        self.api = ApiServer(quiet=True, extra_args=self.api_args, keep_dir=self.keep).start()
        # Inside the server's directory, which the server removes even when
        # this process is SIGKILLed (its lifeline); the daemons die with us.
        self.dir = os.path.join(self.api.dir, "pods")
        os.mkdir(self.dir)
        self.real_minus_mono = time.time() - time.monotonic()
        for i, name in enumerate(self.names, 1):
            self._add_pod(name, i)
        if self.with_watch:
            self.watch = M.WatchMonitor([(p.name, p.socket) for p in self.pods])
            self.watch.start()
        if self.with_monitor:
            for p in self.pods:
                self._monitor(p)
        if self.autostart:
            for p in self.pods:
                p.start()
        return self

    def _add_pod(self, name, index):
        p = Pod(self, name, index)
        if index <= 9:
            tok = self.api.tokens[p.user]
        else:
            tok = secrets.token_urlsafe(32)
            self.api.admin("POST", "/_admin/tokens", {"token": tok, "user": p.user,
                                                       "access": "rw"})
        with open(p.token_file, "w") as f:
            f.write(tok + "\n")
        self.pods.append(p)
        self.by_name[name] = p
        return p

    def _monitor(self, p):
        m = M.ProbeMonitor(self.probe, p.name, p.socket, self.probe_period, self.probe_timeout,
                           identity=p.identity)
        self.probes[p.name] = m
        m.start()

    def add_pod(self, name=None, start=True, election=None):
        """One more pod while the cluster runs (of another election if given)."""
        index = len(self.pods) + 1
        name = name or "pod-%s" % chr(ord("a") + index - 1)
        p = self._add_pod(name, index)
        if election:
            p.election = election
        if self.watch:
            self.watch.add(p.name, p.socket)
        if self.with_monitor:
            self._monitor(p)
        if start:
            p.start()
        return p

    def shutdown(self, grace=None):
        """SIGTERM every daemon still running (SIGCONT first if stopped), wait,
        SIGKILL what is left; then stop the observers and keep the lease-log."""
        if self._shut:
            return
        self._shut = True
        grace = grace if grace is not None else (30 if self.wrapper else 10)
        live = [p for p in self.pods if p.alive()]
        # A daemon SIGTERMed while it is still initialising (before it blocks
        # the signal) dies of it: let a freshly started one come up first,
        # so that the exit status check is about shutting down.
        for p in live:
            if p.stopped_windows and p.stopped_windows[-1][1] is None:
                continue
            p.wait_ready(10 if self.wrapper else 3)
        for p in live:
            if p.stopped_windows and p.stopped_windows[-1][1] is None:
                p.signal(signal.SIGCONT)
            p.signal(signal.SIGTERM)
        deadline = now() + grace
        for p in live:
            if p.wait(max(0.1, deadline - now())) is None:
                self.log("%s did not exit within %ss of SIGTERM: SIGKILL" % (p.name, grace))
                p.signal(signal.SIGKILL)
                p.wait(5)
                p.hung_on_term = True
        for p in self.pods:
            if p.proc is not None and p.rc is None:
                p.rc = p.proc.poll()
        time.sleep(0.1)  # let the observers see the last closes
        for m in self.probes.values():
            m.stop()
        if self.watch:
            self.watch.stop()
        for m in self.probes.values():
            m.join(15)
        if self.watch:
            self.watch.join(5)
        self.t_end = now()
        try:
            self.lease_log_final = self.lease_log()
        except Exception as e:  # the server died: verify() reports it
            self.log("cannot read the lease-log: %s" % e)

    def close(self, failed=False):
        try:
            self.shutdown()
        finally:
            if failed and not getattr(self, "dumped", False):
                self.dump_logs()
            if self.api:
                self.api.stop()  # removes self.dir too, unless kept
            if self.dir and self.keep:
                self.log("kept %s" % self.dir)

    def dump_logs(self, tail=60):
        for p in self.pods:
            lines = p.log().splitlines()
            self.log("---- %s (pid %s, rc %s), last %d lines of its log:" %
                     (p.name, p.pid, p.rc, min(tail, len(lines))))
            for ln in lines[-tail:]:
                self.log("  " + ln)
        if self.api:
            self.log("---- API server log tail:\n" + self.api.log_tail(20))

    # -- observations ------------------------------------------------------------

    def samples(self):
        return {name: m.snapshot() for name, m in self.probes.items()}

    def leaders_now(self, fresh=1.0):
        """Pods whose latest probe (started within `fresh` s) succeeded."""
        t = now()
        out = []
        for name, m in self.probes.items():
            s = m.samples[-1] if m.samples else None
            if s and s.rc == 0 and t - s.t0 <= fresh:
                out.append(self.by_name[name])
        return out

    def wait_leader(self, timeout, after=None, exclude=()):
        """The first pod (not in exclude) whose probe, started at or after
        `after` (default: now), succeeded; waits up to timeout."""
        after = now() if after is None else after
        excl = {p.name if isinstance(p, Pod) else p for p in exclude}
        deadline = now() + timeout
        while True:
            pod, s = M.first_success(self.samples(), after, excl)
            if pod is not None:
                return self.by_name[pod], s
            if now() > deadline:
                return None, None
            time.sleep(0.01)

    def leader(self, timeout=None):
        """The pod leading now (waits; the default allows a start-up that waits
        out one lease duration)."""
        timeout = timeout if timeout is not None else self.lease_s + 5
        p, _ = self.wait_leader(timeout, after=now())
        if p is None:
            raise AssertionError("no leader within %ss:\n%s" % (timeout, self.describe()))
        return p

    def first_watch_claim(self, after, exclude=(), wait=0.5):
        excl = {p.name if isinstance(p, Pod) else p for p in exclude}
        deadline = now() + wait
        while True:
            cs = [c for c in self.watch.claims("arrival") if c.start >= after and c.pod not in excl]
            if cs or now() > deadline:
                return cs[0] if cs else None
            time.sleep(0.01)

    def handoff(self, old, sig, timeout=None):
        """Signals the leader `old` (or RESIGNs it when sig is None) and measures
        the time to the first successful probe of another pod."""
        timeout = timeout if timeout is not None else self.lease_s + 5
        if sig is None:
            t = now()
            reply = old.resign()
            if reply.get("type") != "ok":
                raise AssertionError("RESIGN of %s refused: %r" % (old.name, reply))
        else:
            t = old.signal(sig)
        h = Handoff(old, sig, t)
        h.new, s = self.wait_leader(timeout, after=t, exclude=[old])
        if h.new is not None:
            h.probe_s = s.t1 - t
            if self.watch:
                c = self.first_watch_claim(t, exclude=[old])
                if c is not None:
                    h.watch_s = c.start - t
        self.log("  " + str(h))
        return h

    def describe(self):
        out = []
        for p in self.pods:
            try:
                st = p.status(0.5)
                out.append("  %s: %s" % (p.name, json.dumps(st)))
            except Exception as e:
                out.append("  %s: no answer (%s)" % (p.name, e))
        return "\n".join(out)

    # -- the API -------------------------------------------------------------------

    def lease_path(self):
        return self.api.lease_path(self.namespace, self.election)

    def lease(self):
        st, body = self.api.json("GET", self.lease_path())
        return body if st == 200 else None

    def lease_log(self):
        items = self.api.admin("GET", "/_admin/lease-log?namespace=%s&name=%s"
                               % (self.namespace, self.election))["items"]
        for e in items:
            e["t"] = e["time_us"] / 1e6 - self.real_minus_mono  # monotonic instant
        return items

    def fault(self, **spec):
        return self.api.add_fault(**spec)

    def clear_fault(self, fid=None):
        if fid is None:
            return self.api.clear_faults()
        return self.api.admin("DELETE", "/_admin/faults/%d" % fid)

    def stats(self):
        return self.api.admin("GET", "/_admin/stats")

    def kubectl(self, *args, stdin=None, check=True):
        """Runs the real kubectl against the test server (None when absent)."""
        if not KUBECTL:
            return None
        kc = os.path.join(self.dir, "kubeconfig")
        if not os.path.exists(kc):
            open(kc, "w").close()
        cmd = [KUBECTL, "--server", self.api.url, "--certificate-authority", self.api.ca,
               "--token", self.api.token, "--cache-dir", os.path.join(self.dir, "kcache"),
               "-n", self.namespace] + list(args)
        env = dict(os.environ, KUBECONFIG=kc, HOME=self.dir)
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env, timeout=60, text=True)
        if check and p.returncode != 0:
            raise AssertionError("kubectl %s: %s" % (" ".join(args), p.stderr))
        return p

    def delete_lease(self, use_kubectl=True):
        """Deletes the Lease (kubectl delete lease when kubectl is present)."""
        if use_kubectl and KUBECTL:
            self.kubectl("delete", "lease", self.election)
            return "kubectl"
        st, _, body = self.api.request("DELETE", self.lease_path())
        if st != 200:
            raise AssertionError("DELETE lease: %d %s" % (st, body[:200]))
        return "api"

    def replace_holder(self, holder, use_kubectl=True, duration=None):
        """Hand-edits the Lease to another holder, as a human would with
        `kubectl get -o json | edit | kubectl replace -f -`: holder, renewTime
        now, leaseTransitions untouched."""
        ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for _ in range(5):
            if use_kubectl and KUBECTL:
                obj = json.loads(self.kubectl("get", "lease", self.election, "-o", "json").stdout)
            else:
                obj = self.lease()
            obj["spec"]["holderIdentity"] = holder
            obj["spec"]["renewTime"] = ts
            obj["spec"]["acquireTime"] = ts
            if duration is not None:
                obj["spec"]["leaseDurationSeconds"] = duration
            if use_kubectl and KUBECTL:
                p = self.kubectl("replace", "-f", "-", stdin=json.dumps(obj), check=False)
                if p.returncode == 0:
                    return "kubectl"
                if "Conflict" not in p.stderr:
                    raise AssertionError("kubectl replace: %s" % p.stderr)
            else:
                st, _, body = self.api.request("PUT", self.lease_path(), obj)
                if st == 200:
                    return "api"
                if st != 409:
                    raise AssertionError("PUT lease: %d %s" % (st, body[:200]))
            # the leader renewed in between: read again, as a human would
        raise AssertionError("could not replace the Lease: conflicts")

    def clear_holder(self, use_kubectl=True):
        """Clears the holder by hand, as an operator unsticking a Lease would:
        `kubectl patch lease NAME --type merge -p '{"spec":{"holderIdentity":null}}'`
        (every other field untouched: no release marker)."""
        patch = '{"spec":{"holderIdentity":null}}'
        if use_kubectl and KUBECTL:
            self.kubectl("patch", "lease", self.election, "--type", "merge", "-p", patch)
            return "kubectl"
        st, _, body = self.api.request("PATCH", self.lease_path(), patch,
                                       headers={"Content-Type": "application/merge-patch+json"})
        if st != 200:
            raise AssertionError("PATCH lease: %d %s" % (st, body[:200]))
        return "api"

    def rotate_token(self, pod, stale_for=1.0):
        """Rotates pod's token: the old one is revoked first (the daemon's
        requests fail with 401 for `stale_for` seconds: a stale token), then a
        new token of a new user is accepted and written to its token file
        (atomically, as the kubelet does).  Returns (t_revoke, t_new)."""
        t_revoke = now()
        self.api.admin("DELETE", "/_admin/tokens/%s" % pod.user)
        time.sleep(stale_for)
        pod.rotations = getattr(pod, "rotations", 0) + 1
        user = "%s-rotated-%d" % (pod.name, pod.rotations)
        tok = secrets.token_urlsafe(32)
        self.api.admin("POST", "/_admin/tokens", {"token": tok, "user": user, "access": "rw"})
        tmp = pod.token_file + ".new"
        with open(tmp, "w") as f:
            f.write(tok + "\n")
        os.rename(tmp, pod.token_file)
        t_new = now()
        pod.old_users = getattr(pod, "old_users", []) + [pod.user]
        pod.user = user
        return t_revoke, t_new

    # -- verification --------------------------------------------------------------

    def daemon_clients(self):
        users = set()
        for p in self.pods:
            users.add(p.user)
            users.update(getattr(p, "old_users", []))
        return users

    def verify(self, min_rate=20.0, check_exit=True):
        """Checks everything the observers recorded; raises AssertionError with
        every problem found, else returns a summary dict."""
        self.shutdown()
        problems = []
        samples = self.samples()
        pv = M.probe_violations(samples)
        for _, x, y in pv[:5]:
            problems.append("PROBES: two leaders: %r and %r" % (x, y))
        if len(pv) > 5:
            problems.append("PROBES: ... %d more probe overlaps" % (len(pv) - 5))
        rep = {"probe_rate_hz": {}, "probes": {}, "claims": {}}
        for name, ss in samples.items():
            p = self.by_name[name]
            excl = [(w[0], (w[1] or self.t_end) + 1.0) for w in p.stopped_windows]
            # A daemon that is not running yet/anymore answers at once; only
            # a stopped one makes the probe wait for its timeout.
            # From the daemon's first answer on: before, the probe fails at once
            # (no socket) while the machine is busiest starting daemons.
            answered = [s for s in ss if s.rc in (0, 1)]
            if answered:
                ss = [s for s in ss if s.t0 >= answered[0].t0]
            active = [s for s in ss if not any(x0 <= s.t0 <= x1 for x0, x1 in excl)]
            span = (ss[-1].t0 - ss[0].t0) if len(ss) > 1 else 0.0
            span -= sum(min(x1, ss[-1].t0) - max(x0, ss[0].t0) for x0, x1 in excl
                        if x1 > ss[0].t0 and x0 < ss[-1].t0) if ss else 0.0
            rate = (len(active) - 1) / span if span > 0 and len(active) > 1 else 0.0
            rep["probe_rate_hz"][name] = round(rate, 1)
            rep["probes"][name] = len(ss)
            if rate < min_rate:
                problems.append("PROBES: %s polled at %.1f Hz < %.0f Hz" % (name, rate, min_rate))
            errs = self.probes[name].errors
            if errs:
                problems.append("PROBES: %s: cannot run the probe: %s" % (name, errs[0]))
            bad_rc = [s for s in ss if s.rc not in (0, 1, 2)]
            if bad_rc:
                problems.append("PROBES: %s: unexpected probe exit codes %r" %
                                (name, sorted({s.rc for s in bad_rc})))
        if self.watch:
            for measure in ("arrival", "daemon"):
                claims = self.watch.claims(measure, until=self.t_end)
                rep["claims"][measure] = len(claims)
                for a, b in M.overlaps([M.Interval(c.pod, c.start, c.end, "term %s" % c.term)
                                        for c in claims]):
                    problems.append("WATCH (%s clock): two leaders: %r and %r" %
                                    (measure, a, b))
            for msg in M.claim_term_violations(self.watch.claims("arrival", until=self.t_end)):
                problems.append("WATCH terms: " + msg)
            for t, pod, line in self.watch.protocol_errors:
                problems.append("WATCH: %s sent a line that is not a status: %r" % (pod, line))
        if self.lease_log_final is not None:
            for msg in M.term_violations(self.lease_log_final, self.daemon_clients()):
                problems.append("LEASE-LOG: " + msg)
        else:
            problems.append("LEASE-LOG: not available")
        for p in self.pods:
            text = p.log()
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                           "Invalid read", "Invalid write", "uninitialised",
                           "definitely lost: ", "Assertion"):
                if marker in text and not (marker == "definitely lost: "
                                           and "definitely lost: 0 bytes" in text):
                    problems.append("%s: its log reports '%s'" % (p.name, marker))
            if check_exit and p.proc is not None:
                if getattr(p, "hung_on_term", False):
                    problems.append("%s: did not exit after SIGTERM" % p.name)
                for inc in p.incarnations:
                    rc = inc["proc"].poll()
                    if signal.SIGKILL in inc["signals"]:
                        continue  # no exit status to expect
                    if rc != 0:
                        problems.append("%s (pid %d): exit status %s after %s (expected 0)" % (
                            p.name, inc["pid"], rc, "/".join(
                                signal.Signals(x).name for x in inc["signals"]) or "no signal"))
        rep["problems"] = problems
        if problems:
            self.dump_logs()
            self.dumped = True
            raise AssertionError("%d problem(s):\n  " % len(problems) + "\n  ".join(problems))
        return rep
