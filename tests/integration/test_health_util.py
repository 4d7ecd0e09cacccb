# SPDX-License-Identifier: MIT
"""Helpers of the end-to-end tests of health-driven leadership and
EndpointSlice mode (test_health_e2e.py, test_endpointslice_e2e.py): daemons
with their own fake pod IP and health server, the socket's STATUS, a poller
and a watcher of the leader's EndpointSlice.  Python standard library only."""

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "server"))  # kubeapi/
from kubeapi import ApiServer  # noqa: E402,F401

FAST = ["--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms"]
NS = "default"
now = time.monotonic


def clean_env():
    env = dict(os.environ)
    for k in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "POD_NAME", "POD_NAMESPACE",
              "POD_IP", "POD_UID", "NODE_NAME", "NODE_ZONE", "LEADER_ELECTION_SOCKET"):
        env.pop(k, None)
    return env


def failed(test):
    """Whether the unittest test case has failed so far (for tearDown's diagnostics: Python 3.11's
    _outcome has no `success` any more; its result lists the failures and errors)."""
    res = getattr(getattr(test, "_outcome", None), "result", None)
    return bool(res) and any(t is test for t, _ in res.failures + res.errors)


def wait_for(pred, timeout=10.0, step=0.02):
    deadline = now() + timeout
    while now() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


def sock_request(path, verb="STATUS", timeout=2.0):
    """One request line on the daemon's socket; the reply as a dict, or None."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(verb.encode() + b"\n")
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                return None
            buf += chunk
        return json.loads(buf.split(b"\n", 1)[0])
    except (OSError, ValueError):
        return None
    finally:
        s.close()


class HealthApp:
    """The application's health endpoint, in a thread: mode "ok" (200), "fail"
    (503), "hang" (no answer until the mode changes or 30 s pass)."""

    def __init__(self, mode="ok"):
        self.mode = mode
        self.hits = 0
        self.changed = threading.Condition()
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                app.hits += 1
                with app.changed:
                    if app.mode == "hang":
                        app.changed.wait_for(lambda: app.mode != "hang", timeout=30)
                mode = app.mode
                code = 200 if mode == "ok" else 503
                body = b"ok\n" if code == 200 else b"failing\n"
                try:
                    self.send_response(code)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/healthz" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set(self, mode):
        with self.changed:
            self.mode = mode
            self.changed.notify_all()

    def close(self):
        self.set("ok")
        self.server.shutdown()
        self.server.server_close()


class Daemon:
    def __init__(self, t, name, proc, sock, log, ip, user):
        self.t, self.name, self.proc, self.sock, self.log_path, self.ip = t, name, proc, sock, log, ip
        self.user = user

    def status(self, timeout=2.0):
        return sock_request(self.sock, "STATUS", timeout)

    def is_leader(self):
        st = self.status()
        return bool(st and st.get("is_leader"))

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None


class Cluster:
    """Daemons of one election against one API server."""

    def __init__(self, daemon, api, election, tmpdir):
        self.daemon, self.api, self.election, self.dir = daemon, api, election, tmpdir
        self.daemons = []

    def start(self, name, idx, *extra, ip=None, env=None):
        """idx 1..9: the daemon uses candidate-idx's token (faults target it)
        and 127.0.0.(10+idx) as its pod IP.  env: more variables (the rest of
        what the downward API would give), or a callable that edits the
        environment."""
        env_arg = env
        ip = ip or "127.0.0.%d" % (10 + idx)
        user = "candidate-%d" % idx
        sock = os.path.join(self.dir, name, "le.sock")
        os.makedirs(os.path.dirname(sock), exist_ok=True)
        log = os.path.join(self.dir, name + ".log")
        env = clean_env()
        env.update({"POD_NAME": name, "POD_NAMESPACE": NS, "POD_IP": ip})
        if callable(env_arg):
            env_arg(env)
        elif env_arg:
            env.update(env_arg)
        args = [self.daemon, "--election", self.election, "--namespace", NS, "--id", name,
                "--server", self.api.url, "--ca-file", self.api.ca,
                "--token-file", self.api.token_files[user], "--socket", sock, *FAST, *extra]
        with open(log, "w") as f:
            p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=f)
        d = Daemon(self, name, p, sock, log, ip, user)
        self.daemons.append(d)
        return d

    def leaders(self):
        return [d for d in self.daemons if d.alive() and d.is_leader()]

    def wait_leader(self, timeout=12.0, among=None):
        among = among or self.daemons

        def one():
            ls = [d for d in among if d.alive() and d.is_leader()]
            return ls[0] if len(ls) == 1 else None
        return wait_for(one, timeout)

    def lease_log(self):
        return self.api.admin("GET", "/_admin/lease-log?namespace=%s&name=%s"
                              % (NS, self.election))["items"]

    def stop_all(self):
        for d in self.daemons:
            if d.alive():
                d.proc.send_signal(signal.SIGTERM)
        for d in self.daemons:
            try:
                d.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                d.proc.kill()
                d.proc.wait()


class LeaderMonitor:
    """Polls every daemon's STATUS at `hz` from one thread: who claims when,
    and the worst STATUS latency of each."""

    def __init__(self, daemons, hz=50):
        self.daemons = daemons
        self.period = 1.0 / hz
        self.samples = []  # (t, [names claiming])
        self.max_latency = {d.name: 0.0 for d in daemons}
        self.latencies = {d.name: [] for d in daemons}
        self.statuses = {d.name: [] for d in daemons}
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_ev.is_set():
            t = now()
            claiming = []
            for d in self.daemons:
                if not d.alive():
                    continue
                t0 = now()
                st = d.status(timeout=2.0)
                dt = now() - t0
                if st is not None:
                    self.latencies[d.name].append(dt)
                    self.max_latency[d.name] = max(self.max_latency[d.name], dt)
                    self.statuses[d.name].append((t0, st))
                    if st.get("is_leader"):
                        claiming.append(d.name)
            self.samples.append((t, claiming))
            left = self.period - (now() - t)
            if left > 0:
                time.sleep(left)

    def stop(self):
        self.stop_ev.set()
        self.thread.join(timeout=10)

    def first_leader_after(self, t0, name=None):
        for t, c in self.samples:
            if t >= t0 and c and (name is None or name in c):
                return t, c
        return None

    def overlaps(self):
        return [(t, c) for t, c in self.samples if len(c) > 1]


def slice_path(name=None):
    p = "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices" % NS
    return p + "/" + name if name else p


def slice_addresses(obj):
    out = []
    for ep in (obj or {}).get("endpoints") or []:
        out.extend(ep.get("addresses") or [])
    return out


class SliceMonitor:
    """The leader's EndpointSlice as the API shows it: polled at `hz` (GET)
    and watched (every version, exactly, with its resourceVersion)."""

    def __init__(self, api, name, hz=20):
        self.api, self.name, self.period = api, name, 1.0 / hz
        self.polls = []    # (t, addresses or None if absent)
        self.versions = []  # (t, rv, addresses, event type)
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self.poll, daemon=True),
                        threading.Thread(target=self.watch, daemon=True)]
        for t in self.threads:
            t.start()

    def poll(self):
        conn = self.api.connection(timeout=5)
        while not self.stop_ev.is_set():
            t = now()
            try:
                st, _, body = self.api.request("GET", slice_path(self.name), conn=conn)
                self.polls.append((t, slice_addresses(json.loads(body)) if st == 200 else None))
            except (OSError, ValueError):
                conn.close()
                conn = self.api.connection(timeout=5)
            left = self.period - (now() - t)
            if left > 0:
                time.sleep(left)
        conn.close()

    def watch(self):
        rv = None
        while not self.stop_ev.is_set():
            path = slice_path() + "?watch=1&fieldSelector=metadata.name%3D" + self.name
            if rv:
                path += "&resourceVersion=" + rv
            try:
                with self.api.watch(path, timeout=5) as w:
                    while not self.stop_ev.is_set():
                        try:
                            ev = w.next(timeout=0.2)
                        except socket.timeout:
                            continue
                        if ev is None:
                            break
                        obj = ev.get("object") or {}
                        rv = (obj.get("metadata") or {}).get("resourceVersion", rv)
                        if ev.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                            self.versions.append((now(), int(rv), slice_addresses(obj),
                                                  ev["type"]))
            except (OSError, ValueError, ConnectionError):
                time.sleep(0.1)

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(timeout=10)

    def current(self):
        st, obj = self.api.json("GET", slice_path(self.name))
        return (st, obj if st == 200 else None)

    def max_addresses(self):
        n = [len(a) for _, a in self.polls if a is not None]
        n += [len(a) for _, _, a, _ in self.versions]
        return max(n) if n else 0

    def history(self):
        """Successive distinct address lists seen by the watch."""
        out = []
        for _, _, a, _ in self.versions:
            if not out or out[-1] != a:
                out.append(a)
        return out

    def wait(self, addresses, timeout=10.0):
        return wait_for(lambda: any(a == addresses for _, a in self.polls[-3:]) or
                        (self.versions and self.versions[-1][2] == addresses), timeout)


class TempDir:
    def __init__(self):
        self.td = tempfile.TemporaryDirectory()
        self.name = self.td.name

    def cleanup(self):
        self.td.cleanup()
