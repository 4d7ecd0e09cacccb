#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Migration from the old sidecar: candidates speaking only the old Endpoints protocol
(tests/integration/old_sidecar.py) and leader-elector daemons in --lock endpointsleases mode share
one election on the Kubernetes API test server, with the old manifests' flags (--ttl, --http).

  usage: test_migration.py LEADER_ELECTOR rollout|endpoints|refuse|control

rollout: three old candidates elect a leader; a rolling replacement follows, as a Deployment
  rollout does it: a new daemon starts, then an old pod is killed (the old image ignored SIGTERM:
  SIGKILL after the grace period), the old leader first; until only new daemons remain (and a
  new leader crashes mid-way while old candidates remain: SIGKILL, no release). Then an
  old pod comes back (a rollback) and must not take over. All along a monitor asks every live
  candidate, every 50 ms, whether it claims to lead - the old ones over their HTTP {"name"}
  endpoint (the name is theirs), the new ones over the socket's STATUS (is_leader) - and fails
  the test if two candidates claim in the same round. At the end the classic consumers are run
  against the daemons: kubectl get endpoints NAME -o yaml shows the leader in the annotation,
  curl -s http://localhost:PORT/ | grep NAME passes on the leader only, a Node.js poller prints
  it (kubectl, curl and node are skipped visibly when absent), Events were posted, and SIGTERM
  hands over to another daemon quickly.
endpoints: the same rollout with the daemons in --lock endpoints mode (the annotation only).
refuse: an old candidate with --ttl 2s (leaseDurationSeconds 2) holds the lock; a daemon whose
  renew deadline is 2 s must log that it does not compete, and must not take over after the old
  one dies.
control: the negative control of the monitor: a broken old candidate that says it leads
  whatever the lock says (old_sidecar.py --liar) next to a daemon that leads: the monitor must
  report two leaders (else the rollout's "never two leaders" would prove nothing).
Exit 0 ok, 1 failure."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path[:0] = [TESTS, os.path.join(TESTS, "server")]  # harness/, kubeapi/
from kubeapi import ApiServer  # noqa: E402
from harness import free_port  # noqa: E402

OLD = os.path.join(HERE, "old_sidecar.py")
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
ANNOTATION = "control-plane.alpha.kubernetes.io/leader"
UNKNOWN = "leaderelection.k8s.io/unknown"
TTL = "4s"   # the old manifests' --ttl: lease 4 s, renew deadline 2 s, retry 1 s
LEASE = 4.0
now = time.monotonic
failures = []


def say(msg):
    print("[%8.3f] %s" % (now() - T0, msg), flush=True)


def check(cond, what):
    if cond:
        say("ok: " + what)
    else:
        say("FAILED: " + what)
        failures.append(what)
    return cond


def http_get(port, path="/", timeout=0.5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def sock_status(path, timeout=0.5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(b"STATUS\n")
        buf = b""
        while not buf.endswith(b"\n"):
            d = s.recv(4096)
            if not d:
                break
            buf += d
        return json.loads(buf)
    finally:
        s.close()


class Candidate:
    def __init__(self, t, kind, name, proc, port, sock=None, log=None):
        self.t, self.kind, self.name, self.proc, self.port = t, kind, name, proc, port
        self.sock, self.log = sock, log

    def ask(self):
        """(claims, leader named) or None when it does not answer."""
        try:
            if self.kind == "old":
                st, body = http_get(self.port)
                if st != 200:
                    return None
                name = json.loads(body)["name"]
                return name == self.name, name
            s = sock_status(self.sock)
            return bool(s.get("is_leader")), s.get("leader", "")
        except (OSError, ValueError, KeyError):
            return None

    def alive(self):
        return self.proc.poll() is None


class Migration:
    def __init__(self, daemon, api, work, election, lock="endpointsleases"):
        self.daemon, self.api, self.work, self.election = daemon, api, work, election
        self.lock_type = lock
        self.cands = {}
        self.live = {}
        self.lock = threading.Lock()
        self.rounds = 0
        self.violations = []
        self.timeline = []  # (t, leader or None)
        self.stop_flag = False
        self.monitor = None
        self.n_token = 0

    def token_file(self):
        self.n_token = self.n_token % 9 + 1
        return self.api.token_files["candidate-%d" % self.n_token]

    def start_old(self, name, ttl=TTL, extra=()):
        port = free_port()
        log = os.path.join(self.work, name + ".log")
        p = subprocess.Popen([PY, OLD, "--election", self.election, "--id", name, "--ttl", ttl,
                              "--http", "127.0.0.1:%d" % port, "--server", self.api.url,
                              "--token-file", self.token_file(), "--ca-file", self.api.ca,
                              "--log", log] + list(extra), stdout=subprocess.DEVNULL,
                             stderr=open(log, "a"))
        c = Candidate(self, "old", name, p, port, log=log)
        self._add(c)
        return c

    def start_new(self, name, extra=(), ttl=TTL):
        port = free_port()
        sock = os.path.join(self.work, name + ".sock")
        log = os.path.join(self.work, name + ".log")
        env = dict(os.environ)
        env.pop("POD_NAME", None)
        env.pop("POD_NAMESPACE", None)
        args = [self.daemon, "--election", self.election, "--lock", self.lock_type,
                "--id", name, "--ttl", ttl, "--http", "127.0.0.1:%d" % port,
                "--socket", sock, "--server", self.api.url, "--token-file", self.token_file(),
                "--ca-file", self.api.ca] + list(extra)
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, "a"), env=env)
        c = Candidate(self, "new", name, p, port, sock=sock, log=log)
        self._add(c)
        return c

    def _add(self, c):
        with self.lock:
            self.cands[c.name] = c
            self.live[c.name] = c

    def forget(self, c):
        with self.lock:
            self.live.pop(c.name, None)

    def kill(self, c, sig=signal.SIGKILL):
        self.forget(c)
        c.proc.send_signal(sig)
        try:
            c.proc.wait(10)
        except subprocess.TimeoutExpired:
            c.proc.kill()
            c.proc.wait()

    def _monitor(self):
        while not self.stop_flag:
            with self.lock:
                cs = list(self.live.values())
            t0 = now()
            claims = []
            for c in cs:
                a = c.ask()
                if a and a[0]:
                    claims.append(c.name)
            t1 = now()
            self.rounds += 1
            if len(claims) > 1:
                self.violations.append((t0 - T0, t1 - t0, claims))
                say("VIOLATION: %s claim at once (round of %.0f ms)" % (claims, (t1 - t0) * 1e3))
            leader = claims[0] if claims else None
            if not self.timeline or self.timeline[-1][1] != leader:
                self.timeline.append((t0 - T0, leader))
                say("leader now: %s" % leader)
            time.sleep(0.05)

    def start_monitor(self):
        self.monitor = threading.Thread(target=self._monitor, daemon=True)
        self.monitor.start()

    def stop_monitor(self):
        self.stop_flag = True
        if self.monitor:
            self.monitor.join(5)

    def claimant(self):
        with self.lock:
            cs = list(self.live.values())
        cl = [c for c in cs if (c.ask() or (False,))[0]]
        return cl[0] if len(cl) == 1 else None

    def wait_leader(self, timeout, among=None):
        end = now() + timeout
        while now() < end:
            c = self.claimant()
            if c and (among is None or c.kind == among):
                return c
            time.sleep(0.1)
        return None

    def close(self):
        self.stop_monitor()
        for c in self.cands.values():
            if c.alive():
                c.proc.kill()
                c.proc.wait()

    def dump_logs(self):
        for c in self.cands.values():
            try:
                with open(c.log) as f:
                    lines = f.readlines()[-25:]
                sys.stdout.write("---- %s (%s) ----\n%s" % (c.name, c.kind, "".join(lines)))
            except OSError:
                pass


def api_get(api, path):
    st, obj = api.json("GET", path)
    return obj if st == 200 else None


def annotation_holder(api, election):
    ep = api_get(api, "/api/v1/namespaces/default/endpoints/" + election)
    if not ep:
        return None
    ann = (ep.get("metadata", {}).get("annotations") or {}).get(ANNOTATION)
    return json.loads(ann).get("holderIdentity") if ann else None


def lease_holder(api, election):
    le = api_get(api, "/apis/coordination.k8s.io/v1/namespaces/default/leases/" + election)
    return le.get("spec", {}).get("holderIdentity") if le else None


def run_kubectl(api, work, *args):
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None
    kc = os.path.join(work, "kubeconfig")
    open(kc, "a").close()
    cmd = [kubectl, "--server", api.url, "--certificate-authority", api.ca, "--token", api.token,
           "--cache-dir", os.path.join(work, "kcache"), "-n", "default"] + list(args)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=60, env=dict(os.environ, KUBECONFIG=kc, HOME=work))


NODE_POLLER = r"""
// The old article's Node.js application, its poller as written (port from argv).
const http = require('http');
let master = {};
const cb = (response) => {
  let data = '';
  response.on('data', (piece) => { data = data + piece; });
  response.on('end', () => { master = JSON.parse(data); });
};
const updateMaster = function updateMaster() {
  const req = http.get({ host: 'localhost', path: '/', port: Number(process.argv[2]) }, cb);
  req.on('error', (e) => { console.log(`problem with request: ${e.message}`); });
  req.end();
};
updateMaster();
setTimeout(() => { console.log(`Master is ${master.name}`); process.exit(0); }, 1500);
"""


def consumers(m, leader, followers):
    # kubectl get endpoints NAME -o yaml: the leader in the annotation.
    p = run_kubectl(m.api, m.work, "get", "endpoints", m.election, "-o", "yaml")
    if p is None:
        say("SKIP: kubectl not found: the 'kubectl get endpoints -o yaml' check did not run")
    else:
        line = [ln for ln in p.stdout.splitlines() if ANNOTATION in ln]
        check(p.returncode == 0 and len(line) == 1 and
              '"holderIdentity":"%s"' % leader.name in line[0],
              "kubectl get endpoints %s -o yaml shows %s in the annotation" % (m.election,
                                                                                leader.name))
        if failures:
            say(p.stdout + p.stderr)
    # curl -s http://localhost:PORT/ | grep $HOSTNAME, the old readiness probe.
    if not shutil.which("curl"):
        say("SKIP: curl not found: the 'curl | grep' probe check did not run")
    else:
        def probe(c):
            return subprocess.run(["sh", "-c", "curl -s --max-time 2 http://localhost:%d/ | grep %s"
                                   % (c.port, c.name)], stdout=subprocess.DEVNULL).returncode
        check(probe(leader) == 0, "curl | grep passes on the leader %s" % leader.name)
        for f in followers:
            check(probe(f) == 1, "curl | grep fails on the follower %s" % f.name)
    # The Node.js poller.
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        say("SKIP: node not found: the Node.js poller check did not run")
    else:
        script = os.path.join(m.work, "poller.js")
        with open(script, "w") as f:
            f.write(NODE_POLLER)
        for c in [leader] + list(followers):
            p = subprocess.run([node, script, str(c.port)], stdout=subprocess.PIPE, text=True,
                               timeout=20)
            check(p.stdout.strip() == "Master is %s" % leader.name,
                  "Node.js poller on %s prints 'Master is %s' (got %r)" % (c.name, leader.name,
                                                                          p.stdout.strip()))


def rollout(daemon, lock="endpointsleases"):
    with ApiServer(quiet=True) as api, tempfile.TemporaryDirectory(prefix="le-migr-") as work:
        m = Migration(daemon, api, work, "example", lock)
        try:
            _rollout(m)
        finally:
            m.close()
            if failures:
                m.dump_logs()


def _rollout(m):
    olds = [m.start_old("old-%d" % i) for i in range(3)]
    leader = m.wait_leader(15)
    if not check(leader is not None and leader.kind == "old", "the old candidates elect a leader"):
        return
    say("old leader: %s" % leader.name)
    m.start_monitor()

    # The rolling replacement: a new pod, then an old one goes (the leader first).
    victims = [leader] + [o for o in olds if o is not leader]
    news = []
    crashed = False
    for i, victim in enumerate(victims):
        n = m.start_new("new-%d" % i, extra=["--events"] if i == 0 else ())
        news.append(n)
        # It names the leader, or client-go's UnknownLeader while the Lease still names a
        # new leader that an old candidate replaced (the MultiLock's two objects disagree).
        end = now() + 8
        st = None

        def agrees():
            return st is not None and cur is not None and (st[1] in (cur.name, UNKNOWN) or st[0])
        while now() < end:
            st = n.ask()
            cur = m.claimant()
            if agrees():
                break
            time.sleep(0.1)
        check(agrees(), "%s is up and names the current leader %s (says %s)"
              % (n.name, cur.name if cur else None, st[1] if st else None))
        was_leader = cur is victim
        say("replacing %s%s" % (victim.name, " (the leader)" if was_leader else ""))
        m.kill(victim)
        if was_leader:
            t = now()
            nl = m.wait_leader(LEASE * 3)
            check(nl is not None, "a leader after the old leader's death (%s after %.1f s)"
                  % (nl.name if nl else None, now() - t))
        time.sleep(1.0)
        if i < len(victims) - 1 and not crashed:
            # A new leader crashing mid-rollout (SIGKILL: no release) while old candidates
            # remain: whoever wins, old or new, wins alone; the pod is restarted.
            cur = m.wait_leader(LEASE * 3)
            if cur is not None and cur.kind == "new":
                crashed = True
                say("crashing the new leader %s" % cur.name)
                m.kill(cur)
                news.remove(cur)
                t = now()
                nl = m.wait_leader(LEASE * 4)
                check(nl is not None, "a leader after the new leader's crash (%s, %s, after "
                      "%.1f s)" % (nl.name if nl else None, nl.kind if nl else None, now() - t))
                news.append(m.start_new(cur.name + "-restarted"))
                time.sleep(1.0)

    nl = m.wait_leader(LEASE * 3, among="new")
    if not check(nl is not None, "a new daemon leads after the rollout"):
        return
    time.sleep(LEASE)  # let every follower observe the latest state
    check(annotation_holder(m.api, m.election) == nl.name,
          "the Endpoints annotation names %s" % nl.name)
    if m.lock_type == "endpointsleases":
        check(lease_holder(m.api, m.election) == nl.name, "the Lease names %s" % nl.name)
    else:
        check(lease_holder(m.api, m.election) is None, "no Lease (--lock %s)" % m.lock_type)
    for n in news:
        st = n.ask()
        check(st is not None and st[1] == nl.name, "%s names %s" % (n.name, nl.name))

    # A rollback pod (old protocol) must not take over from a live new leader.
    back = m.start_old("old-rollback")
    t = now()
    while now() - t < 3 * LEASE:
        time.sleep(0.2)
    st = back.ask()
    check(st is not None and not st[0] and st[1] == nl.name,
          "an old candidate started next to a new leader follows it (names %s)"
          % (st[1] if st else None))
    m.kill(back)

    consumers(m, nl, [n for n in news if n is not nl])

    m.stop_monitor()
    check(m.rounds > 100, "the monitor ran %d rounds" % m.rounds)
    check(not m.violations, "never two leaders (%d rounds): %s" % (m.rounds, m.violations))

    # Events: "new-0 became leader" if new-0 ever led; at least the events API was used
    # without blocking anything. Posted ones are listed.
    st, evl = m.api.json("GET", "/api/v1/namespaces/default/events")
    msgs = [e.get("message") for e in (evl or {}).get("items", [])]
    say("events: %s" % msgs)
    if any(tl[1] == "new-0" for tl in m.timeline):
        check("new-0 became leader" in msgs, "new-0 (with --events) posted 'became leader'")

    # Graceful: SIGTERM releases; another daemon takes over quickly.
    t = now()
    m.kill(nl, signal.SIGTERM)
    check(nl.proc.returncode == 0, "%s exits 0 after SIGTERM" % nl.name)
    nn = m.wait_leader(3 * LEASE, among="new")
    took = now() - t
    check(nn is not None and took < 3.0, "after SIGTERM %s leads within %.2f s"
          % (nn.name if nn else None, took))


def refuse(daemon):
    with ApiServer(quiet=True) as api, tempfile.TemporaryDirectory(prefix="le-migr-") as work:
        m = Migration(daemon, api, work, "short")
        try:
            old = m.start_old("old-short", ttl="2s")
            leader = m.wait_leader(10)
            if not check(leader is old, "the old candidate with --ttl 2s leads"):
                return
            n = m.start_new("new-4s")  # renew deadline 2 s >= its leaseDurationSeconds 2
            end = now() + 6
            logged = False
            while now() < end and not logged:
                with open(n.log) as f:
                    logged = "not competing" in f.read()
                time.sleep(0.2)
            check(logged, "the daemon logs that it does not compete")
            m.kill(old)
            t = now()
            claimed = False
            while now() - t < 3 * LEASE:
                st = n.ask()
                claimed = claimed or bool(st and st[0])
                time.sleep(0.2)
            check(not claimed, "it does not take the lock over after the old one died")
            check(n.alive(), "it keeps running (serving its followers' view)")
        finally:
            m.close()
            if failures:
                m.dump_logs()


def control(daemon):
    with ApiServer(quiet=True) as api, tempfile.TemporaryDirectory(prefix="le-migr-") as work:
        m = Migration(daemon, api, work, "control")
        try:
            n = m.start_new("new-0")
            leader = m.wait_leader(10)
            if not check(leader is n, "the daemon leads"):
                return
            m.start_monitor()
            m.start_old("old-liar", extra=["--liar"])
            end = now() + 5
            while now() < end and not m.violations:
                time.sleep(0.1)
            m.stop_monitor()
            check(m.violations and set(m.violations[0][2]) == {"new-0", "old-liar"},
                  "the monitor reports the two claims: %s" % m.violations[:1])
        finally:
            m.close()
            if failures:
                m.dump_logs()


def main():
    global T0
    T0 = now()
    if len(sys.argv) != 3 or sys.argv[2] not in ("rollout", "endpoints", "refuse", "control"):
        print(__doc__)
        return 2
    daemon = sys.argv[1]
    {"rollout": rollout, "endpoints": lambda d: rollout(d, "endpoints"),
     "refuse": refuse, "control": control}[sys.argv[2]](daemon)
    if failures:
        print("%d check(s) failed: %s" % (len(failures), failures))
        return 1
    print("test_migration %s: ok" % sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
