#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The old sidecar's consumers against real leader-elector daemons with --http
(two pods, the Kubernetes API test server, lease 3 s, renew deadline 2 s):

- GET / names the leader on both pods, byte for byte as the old sidecar;
- the old readiness probe `curl -s http://localhost:4040/ | grep $HOSTNAME`
  passes on the leader only; the Node.js poller prints the leader;
- /status, /healthz, /readyz, /metrics (parsed by prom_parse.py) agree;
- the leader cut off from the API: within its renew deadline its GET / stops
  naming it (the curl probe fails), /healthz stays 200; the other pod takes
  over and is named; /readyz turns 503 (see test_readyz_when_api_cut);
- --metrics-addr: /metrics (parsed; the name label, build_info, the process
  collector, the renew timestamp), /healthz, /readyz and /leader, 404 for /
  and /status (the --http port beside it still names the leader); /leader
  200 on the leader, 503 on the follower, flipping within a second of a
  RESIGN with no 200 of the new leader before the old one's last
  (see test_metrics_addr);
- the HTTP port is no liveness signal: connections held from outside (the
  per-address and the total limit) make GET /healthz fail while the daemon is
  fine, and `leader-probe --alive` on the pod-private socket still passes
  (see test_liveness_not_on_the_port);
- never two leaders (the harness's probe and WATCH observers);
- README.md's exact match (migration step 2), run verbatim but for the port
  with sh and grep (and with busybox's sh and grep when installed), against
  pods `pod-1` and `pod-10` and the old sidecar (tests/integration/old_sidecar.py): it
  passes for the leader's own name only, while the old `grep $HOSTNAME` passes
  on pod-1 too when pod-10 leads (the negative control).

Needs LE_DAEMON and LE_PROBE (set by ctest)."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
import prom_parse  # noqa: E402
from harness.testing import FailoverTest, main, say, now  # noqa: E402
from harness import free_port  # noqa: E402


def get(port, path="/", timeout=2):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        c.close()


def wait_for(cond, timeout, step=0.05):
    deadline = now() + timeout
    while True:
        v = cond()
        if v or now() > deadline:
            return v
        time.sleep(step)


def distinct_ports(n):
    """n free loopback ports, all different (free_port() may hand out a port twice)."""
    ports = set()
    for _ in range(100 * n):
        if len(ports) == n:
            break
        ports.add(free_port())
    assert len(ports) == n, "no %d distinct free ports" % n
    return list(ports)


def healthz_ok(port, source="127.0.0.1"):
    """The old livenessProbe: GET /healthz, as the kubelet would (1 s timeout)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=1, source_address=(source, 0))
    try:
        c.request("GET", "/healthz")
        return c.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        c.close()


def hold(port, source, n, into):
    """Opens n idle TCP connections to the port from source and keeps them in `into`."""
    for _ in range(n):
        into.append(socket.create_connection(("127.0.0.1", port), timeout=2,
                                             source_address=(source, 0)))


def curl_probe(port, name):
    """The old readinessProbe, verbatim but for the port."""
    return subprocess.run(["sh", "-c", "curl -s --max-time 2 http://localhost:%d/ | grep %s"
                           % (port, name)], stdout=subprocess.DEVNULL).returncode == 0


HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(os.path.dirname(os.path.dirname(HERE)), "README.md")
OLD_SIDECAR = os.path.join(HERE, "old_sidecar.py")


def readme_probes():
    """(old, exact): the readiness command lines of README.md's migration
    step 2, as printed: the old `curl ... | grep $HOSTNAME` (inline code) and
    the exact match (the sh block of that step)."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    sec = text.split("\n## Migrating from leader-elector 0.5\n", 1)[1].split("\n## ", 1)[0]
    step = sec.split("\n2. ", 1)[1].split("\n3. ", 1)[0]
    old = re.search(r"`(curl [^`]*\| grep \$HOSTNAME)`", step).group(1)
    blocks = re.findall(r"\n *```sh\n(.*?)\n *```", step, re.S)
    exact = [b.strip() for b in blocks if "$HOSTNAME" in b]
    assert len(exact) == 1, "step 2 has %d sh blocks naming $HOSTNAME" % len(exact)
    return old, exact[0]


def run_probe(cmdline, port, hostname, shell=("sh",), path=None):
    """Runs a README command line with the port replaced and HOSTNAME set;
    True when it exits 0."""
    assert "localhost:4040/" in cmdline, cmdline
    env = dict(os.environ, HOSTNAME=hostname)
    if path:
        env["PATH"] = path + os.pathsep + env.get("PATH", "")
    return subprocess.run(list(shell) + ["-c", cmdline.replace("localhost:4040/",
                                                                "localhost:%d/" % port)],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env=env, timeout=10).returncode == 0


class HttpCompat(FailoverTest):
    pods = 2

    def test_old_consumers(self):
        with self.cluster(start=False) as c:
            for p in c.pods:
                p.http = free_port()
                p.extra_args = ["--http", "127.0.0.1:%d" % p.http]
                p.start()
            leader = c.leader()
            follower = [p for p in c.pods if p is not leader][0]
            expected = b'{"name":"%s"}' % leader.name.encode()
            for p in c.pods:
                ok = wait_for(lambda: get(p.http)[2] == expected, 5)
                st, ctype, body = get(p.http)
                self.assertTrue(ok, "%s answers %r, expected %r" % (p.name, body, expected))
                self.assertEqual((st, ctype), (200, "text/plain; charset=utf-8"))
            say("  GET / on both pods: %s" % expected.decode())

            if shutil.which("curl"):
                self.assertTrue(curl_probe(leader.http, leader.name), "curl probe on the leader")
                self.assertFalse(curl_probe(follower.http, follower.name),
                                 "curl probe passed on a follower")
                say("  curl | grep $HOSTNAME: passes on %s only" % leader.name)
            else:
                say("  SKIP curl probe: curl not installed")

            node = shutil.which("node") or shutil.which("nodejs")
            if node:
                script = ("var http = require('http');"
                          "http.get({host: 'localhost', path: '/', port: %d}, function(r) {"
                          "  var data = ''; r.on('data', function(p) { data = data + p; });"
                          "  r.on('end', function() { console.log('Master is ' + "
                          "JSON.parse(data).name); }); })"
                          ".on('error', function(e) { console.log('problem: ' + e.message);"
                          " process.exit(3); });" % follower.http)
                r = subprocess.run([node, "-e", script], capture_output=True, text=True,
                                   timeout=30)
                self.assertEqual(r.stdout.strip(), "Master is %s" % leader.name, r.stderr)
                say("  node consumer on %s: %s" % (follower.name, r.stdout.strip()))
            else:
                say("  SKIP node consumer: node not installed")

            for p in c.pods:
                st, ctype, body = get(p.http, "/status")
                j = json.loads(body)
                self.assertEqual(st, 200)
                self.assertEqual(j["leader"], leader.name)
                self.assertEqual(j["is_leader"], p is leader)
                self.assertEqual(j["identity"], p.name)
                self.assertEqual(get(p.http, "/healthz")[0], 200)
                self.assertEqual(get(p.http, "/readyz")[0], 200)
                st, ctype, body = get(p.http, "/metrics")
                fam = prom_parse.parse(body)
                self.assertEqual(prom_parse.value(fam, "leader_election_master_status",
                                                  {"name": c.election}), 1 if p is leader else 0)
                self.assertTrue(fam["leader_election_api_requests_total"].samples)
                if p is leader:
                    lr = prom_parse.value(fam, "leader_election_last_renew_seconds",
                                          {"name": c.election})
                    self.assertIsNotNone(lr)
                    self.assertLess(lr, c.renew_s)
            say("  /status, /healthz, /readyz, /metrics agree on both pods")

            # Cut the leader off the API.
            t_cut = now()
            c.fault(client=leader.user, kind="partition", mode="cut")
            gone = wait_for(lambda: get(leader.http)[2] == b'{"name":""}', c.renew_s + 1.0,
                            step=0.02)
            t_gone = now() - t_cut
            self.assertTrue(gone, "the cut-off leader still names itself")
            self.assertLessEqual(t_gone, c.renew_s + 0.5)
            if shutil.which("curl"):
                self.assertFalse(curl_probe(leader.http, leader.name),
                                 "curl probe passed on a leader whose claim lapsed")
            say("  cut-off leader stopped naming itself after %.2f s (renew deadline %.1f s)"
                % (t_gone, c.renew_s))
            self.assertEqual(get(leader.http, "/healthz")[0], 200,
                             "healthz failed because the API is down")

            new = b'{"name":"%s"}' % follower.name.encode()
            took_over = wait_for(lambda: get(follower.http)[2] == new, c.lease_s + 5)
            self.assertTrue(took_over, "%s never named itself" % follower.name)
            say("  %s named itself %.2f s after the cut" % (follower.name, now() - t_cut))
            c.clear_fault()
            self.finish(c)

    # --metrics-addr: a listener of its own serving /metrics, /healthz, /readyz and /leader,
    # nothing of the old endpoint; /leader is 200 on the leader only and flips within a second
    # of a RESIGN, and no 200 of the new leader is answered before a 200 of the old one was asked.
    def test_metrics_addr(self):
        with self.cluster(start=False) as c:
            ports = distinct_ports(len(c.pods) + 1)
            for p in c.pods:
                p.metrics = ports.pop()
                p.extra_args = ["--metrics-addr", "127.0.0.1:%d" % p.metrics]
            # Control: the old endpoint beside it still answers {"name":...} on its own port.
            a = c.pods[0]
            a.http = ports.pop()
            a.extra_args += ["--http", "127.0.0.1:%d" % a.http]
            for p in c.pods:
                p.start()
            leader = c.leader()
            follower = [p for p in c.pods if p is not leader][0]

            def status_of(p, path):
                try:
                    return get(p.metrics, path)[0]
                except OSError:
                    return None
            for p in c.pods:
                want = 200 if p is leader else 503
                self.assertTrue(wait_for(lambda: status_of(p, "/leader") == want, 5),
                                "%s: GET /leader answers %r, expected %d"
                                % (p.name, status_of(p, "/leader"), want))
                st, ctype, body = get(p.metrics, "/leader")
                self.assertEqual((st, ctype, body),
                                 (want, "text/plain; charset=utf-8",
                                  b"leader\n" if p is leader else b"not leader\n"))
                for path in ("/", "/status", "/anything"):
                    st, _, body = get(p.metrics, path)
                    self.assertEqual(st, 404, "%s: GET %s on the metrics port: %d %r"
                                     % (p.name, path, st, body))
                    self.assertNotIn(b"name", body)
                self.assertEqual(get(p.metrics, "/healthz")[0], 200)
                self.assertEqual(get(p.metrics, "/readyz")[0], 200)
                st, ctype, body = get(p.metrics, "/metrics")
                self.assertEqual((st, ctype), (200, "text/plain; version=0.0.4; charset=utf-8"))
                fam = prom_parse.parse(body)
                name = {"name": c.election}
                v = prom_parse.value
                self.assertEqual(v(fam, "leader_election_master_status", name),
                                 1 if p is leader else 0)
                self.assertIsNotNone(v(fam, "leader_election_term", name))
                self.assertIsNotNone(v(fam, "leader_election_transitions_total", name))
                bi = fam["leader_election_build_info"].samples
                self.assertEqual(len(bi), 1)
                self.assertEqual(bi[0][2], 1)
                for n in ("process_resident_memory_bytes", "process_cpu_seconds_total",
                          "process_open_fds", "process_start_time_seconds"):
                    self.assertGreater(v(fam, n) or 0, 0, n)
                self.assertLess(v(fam, "process_resident_memory_bytes"), 256 << 20)
                self.assertLess(abs(v(fam, "process_start_time_seconds") - p.started
                                    - c.real_minus_mono), 5,
                                "process_start_time_seconds is not when %s started" % p.name)
                ts = v(fam, "leader_election_last_renew_timestamp_seconds", name)
                if p is leader:
                    self.assertIsNotNone(ts)
                    self.assertLess(time.time() - ts, c.renew_s)
                    self.assertGreaterEqual(time.time() - ts, -0.1)
                    say("  %s: last renew %.3f s ago (timestamp), RSS %.1f MiB, %d fds" % (
                        p.name, time.time() - ts,
                        v(fam, "process_resident_memory_bytes") / 1048576,
                        v(fam, "process_open_fds")))
                else:
                    self.assertIsNone(ts, "a follower that never renewed has a renew timestamp")
            self.assertEqual(get(a.http, "/")[2], b'{"name":"%s"}' % leader.name.encode(),
                             "control: the --http port answers the name")
            say("  /leader: 200 on %s, 503 on %s; / and /status 404 on the metrics port, "
                "the name on --http" % (leader.name, follower.name))

            # RESIGN while both /leader endpoints are polled.
            answers = {leader.name: [], follower.name: []}
            stop = threading.Event()

            def poll(p):
                while not stop.is_set():
                    t0 = now()
                    try:
                        st = get(p.metrics, "/leader", timeout=1)[0]
                    except OSError:
                        st = None
                    answers[p.name].append((t0, now(), st))
                    time.sleep(0.005)
            threads = [threading.Thread(target=poll, args=(p,), daemon=True)
                       for p in (leader, follower)]
            for t in threads:
                t.start()
            try:
                time.sleep(0.3)
                t_resign = now()
                reply = leader.resign()
                self.assertEqual(reply.get("type"), "ok", reply)
                flipped = wait_for(lambda: any(t0 >= t_resign and st == 200
                                               for t0, _, st in answers[follower.name]), 3)
                time.sleep(0.2)
            finally:
                stop.set()
                for t in threads:
                    t.join(5)
            self.assertTrue(flipped, "%s's /leader never answered 200 after the RESIGN"
                            % follower.name)
            old_off = min(t1 for t0, t1, st in answers[leader.name] if t0 >= t_resign and st == 503)
            new_on = min(t1 for t0, t1, st in answers[follower.name]
                         if t0 >= t_resign and st == 200)
            self.assertLess(old_off - t_resign, 1.0, "the old leader's /leader took %.3f s to "
                            "turn 503" % (old_off - t_resign))
            self.assertLess(new_on - t_resign, 1.0, "the new leader's /leader took %.3f s to "
                            "turn 200" % (new_on - t_resign))
            # No overlap the observer can prove: every 200 of the new leader was asked after
            # every 200 of the old one was received... at the latest, answered after it.
            old_200 = [x for x in answers[leader.name] if x[2] == 200]
            new_200 = [x for x in answers[follower.name] if x[2] == 200]
            self.assertTrue(old_200, "no 200 from the old leader before the RESIGN")
            last_old = max(t1 for _, t1, _ in old_200)
            first_new = min(t0 for t0, _, _ in new_200)
            self.assertFalse(any(n1 < o0 for o0, _, _ in old_200 for _, n1, _ in new_200),
                             "the new leader answered 200 before the old leader's last 200 was "
                             "asked")
            self.assertFalse(any(st == 200 for t0, _, st in answers[leader.name]
                                 if t0 > new_on), "the old leader answered 200 again")
            say("  RESIGN: old leader's /leader 503 after %.3f s, new leader's 200 after %.3f s; "
                "%d/%d answers polled; last old 200 received %.3f s before the first new 200 "
                "was asked" % (old_off - t_resign, new_on - t_resign, len(answers[leader.name]),
                               len(answers[follower.name]), first_new - last_old))
            self.finish(c)

    # A 200 from /leader is a promise the release waits for, as a socket STATUS answer is. No
    # socket observers here (their STATUS answers would hold the release back themselves): the
    # daemons run at debug level, which logs how long a release was held back. The control: a
    # RESIGN while nobody asks /leader is not held back.
    def test_release_waits_for_leader_answers(self):
        with self.cluster(start=False, monitor=False, watch=False,
                          extra_args=("--resign-holdoff", "500ms", "--log-level", "debug")) as c:
            ports = distinct_ports(len(c.pods))
            for p in c.pods:
                p.metrics = ports.pop()
                p.extra_args = ["--metrics-addr", "127.0.0.1:%d" % p.metrics]
                p.start()

            def leads(p):
                try:
                    return get(p.metrics, "/leader", timeout=1)[0] == 200
                except OSError:
                    return False

            def the_leader(exclude=None):
                for p in c.pods:
                    if p is not exclude and leads(p):
                        return p
                return None

            def held_back(p, since):
                # "release held back N us ..." lines logged since byte offset `since`.
                return [int(x) for x in re.findall(r"release held back (\d+) us", p.log()[since:])]

            first = wait_for(the_leader, c.lease_s + 5)
            self.assertIsNotNone(first, "no pod answers 200 on /leader")
            other = [p for p in c.pods if p is not first][0]

            # Control: nobody asks /leader (the last 200, the_leader()'s, ran out 50 ms after
            # it was given); the release goes out at once.
            time.sleep(0.2)
            mark = len(first.log())
            self.assertEqual(first.resign().get("type"), "ok")
            second = wait_for(lambda: the_leader(), 5)
            self.assertIs(second, other, "no handoff after RESIGN")
            control = held_back(first, mark)
            self.assertTrue(all(x < 5000 for x in control),
                            "control: a release held back %r us with nobody asking" % control)

            # /leader asked every few ms on the leader: its release waits for the last 200.
            answers = []
            stop = threading.Event()

            def poll():
                while not stop.is_set():
                    t0 = now()
                    try:
                        st = get(second.metrics, "/leader", timeout=1)[0]
                    except OSError:
                        st = None
                    answers.append((t0, now(), st))
                    time.sleep(0.002)
            t = threading.Thread(target=poll, daemon=True)
            t.start()
            try:
                time.sleep(0.3)
                mark = len(second.log())
                t_resign = now()
                self.assertEqual(second.resign().get("type"), "ok")
                third = wait_for(lambda: the_leader(exclude=second), 5)
            finally:
                stop.set()
                t.join(5)
            self.assertIs(third, first, "no handoff back after the hold-off")
            last_200 = max((t0 for t0, _, st in answers if st == 200 and t0 < t_resign),
                           default=None)
            self.assertIsNotNone(last_200, "the poller got no 200 before the RESIGN")
            waited = held_back(second, mark)
            self.assertTrue(waited and max(waited) >= 5000,
                            "the release did not wait for /leader's 200s (held back %r us; the "
                            "last 200 was asked %.1f ms before the RESIGN)"
                            % (waited, (t_resign - last_200) * 1000))
            self.assertTrue(max(waited) <= 150000,
                            "held back %r us: far more than a 50 ms promise" % waited)
            say("  release held back %.1f ms for /leader answers (last 200 asked %.1f ms before "
                "RESIGN); control without askers: %r us"
                % (max(waited) / 1000, (t_resign - last_200) * 1000, control))
            self.finish(c)

    # /readyz follows the API: the watch reports its interruptions, so a cut
    # makes the daemon unready within a lease duration, while /healthz stays.
    def test_readyz_when_api_cut(self):
        with self.cluster(start=False, pods=1) as c:
            p = c.pods[0]
            p.http = free_port()
            p.extra_args = ["--http", "127.0.0.1:%d" % p.http]
            p.start()
            c.leader()
            self.assertEqual(get(p.http, "/readyz")[0], 200)
            t_cut = now()
            c.fault(client=p.user, kind="partition", mode="cut")
            unready = wait_for(lambda: get(p.http, "/readyz")[0] == 503, c.lease_s + 3)
            self.assertEqual(get(p.http, "/healthz")[0], 200,
                             "healthz failed because the API is down")
            self.assertTrue(unready, "readyz stayed 200 %.1f s into the API cut" % (now() - t_cut))
            say("  /readyz 503 after %.2f s of API cut" % (now() - t_cut))
            c.clear_fault()
            self.finish(c)

    # The sidecar's liveness must not depend on a port that other pods can
    # fill: the HTTP listener takes 16 connections per address and 64 in all.
    # Held connections make the old livenessProbe (GET /healthz) fail, which
    # would get a healthy sidecar restarted (and its leadership moved);
    # leader-probe --alive on the pod-private socket keeps passing.
    def test_liveness_not_on_the_port(self):
        probe = os.environ["LE_PROBE"]

        def alive(p):
            t0 = now()
            r = subprocess.run([probe, "--alive", "--socket", p.socket], capture_output=True,
                               timeout=10)
            return r.returncode, now() - t0

        with self.cluster(start=False, pods=1) as c:
            p = c.pods[0]
            p.http = free_port()
            p.extra_args = ["--http", "127.0.0.1:%d" % p.http]
            p.start()
            c.leader()
            self.assertTrue(healthz_ok(p.http), "GET /healthz failed before any connection")
            self.assertEqual(alive(p)[0], 0)

            held = []
            try:
                # One address holds 16 connections: GET /healthz from it fails.
                hold(p.http, "127.0.0.1", 16, held)
                refused = wait_for(lambda: not healthz_ok(p.http), 3)
                self.assertTrue(refused, "GET /healthz still passes with 16 connections held")
                rc, dt = alive(p)
                self.assertEqual(rc, 0, "leader-probe --alive failed on a live daemon")
                say("  16 connections held from 127.0.0.1: GET /healthz fails; "
                    "leader-probe --alive exit %d in %.1f ms" % (rc, dt * 1000))
                while held:
                    held.pop().close()
                self.assertTrue(wait_for(lambda: healthz_ok(p.http), 5),
                                "GET /healthz did not recover once the connections closed")

                # Four other addresses (four other pods) hold 64 in all: a GET
                # from any other address (the kubelet's) fails too.
                for i in range(2, 6):
                    hold(p.http, "127.0.0.%d" % i, 16, held)
                refused = wait_for(lambda: not healthz_ok(p.http, "127.0.0.1"), 3)
                self.assertTrue(refused, "GET /healthz still passes with 64 connections held")
                self.assertFalse(healthz_ok(p.http, "127.0.0.6"))
                rc, dt = alive(p)
                self.assertEqual(rc, 0, "leader-probe --alive failed on a live daemon")
                say("  64 connections held from 127.0.0.2-5: GET /healthz from 127.0.0.1 and "
                    "127.0.0.6 fails; leader-probe --alive exit %d in %.1f ms" % (rc, dt * 1000))
                self.assertEqual(c.leaders_now(), [p], "the leader's probe failed meanwhile")
            finally:
                while held:
                    held.pop().close()
            self.assertTrue(wait_for(lambda: healthz_ok(p.http), 5))
            self.finish(c)
            # No daemon any more: --alive fails, as a liveness check must.
            self.assertEqual(alive(p)[0], 2, "leader-probe --alive passed with no daemon")
            say("  daemon stopped: leader-probe --alive exit 2")

    # README.md's migration step 2: `grep $HOSTNAME` is a substring match
    # (pod-1 passes while pod-10 leads); the exact match it prints passes for
    # the leader's own name only, on the new daemon and on the old sidecar,
    # with sh and grep and with busybox's.
    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_readme_exact_match(self):
        old_cmd, exact_cmd = readme_probes()
        say("  README: old %r, exact %r" % (old_cmd, exact_cmd))
        with self.cluster(start=False, names=["pod-1", "pod-10"]) as c:
            shells = [("sh", ("sh",), None)]
            busybox = shutil.which("busybox")
            if busybox:
                bb = os.path.join(c.dir, "busybox-bin")
                os.mkdir(bb)
                os.symlink(busybox, os.path.join(bb, "grep"))
                shells.append(("busybox sh + grep", (busybox, "sh"), bb))
            else:
                say("  SKIP busybox: not installed (sh and grep only)")
            p1, p10 = c.by_name["pod-1"], c.by_name["pod-10"]
            for p in (p1, p10):
                p.http = free_port()
                p.extra_args = ["--http", "127.0.0.1:%d" % p.http]
            p10.start()  # pod-10 leads: pod-1's name is a prefix of the leader's
            self.assertIs(c.leader(), p10)
            p1.start()
            expected = b'{"name":"pod-10"}'

            def answer(port):
                try:
                    return get(port)[2]
                except OSError:  # not listening yet
                    return None
            for p in (p1, p10):
                self.assertTrue(wait_for(lambda: answer(p.http) == expected, 10),
                                "%s answers %r" % (p.name, answer(p.http)))

            # The old sidecar (its own election, pod-10 its only candidate).
            old_port = free_port()
            old_log = os.path.join(c.dir, "old-sidecar.log")
            with open(old_log, "ab") as log:
                old = subprocess.Popen(["/usr/bin/python3", OLD_SIDECAR, "--election", "readme-old",
                                        "--id", "pod-10", "--ttl", "4s",
                                        "--http", "127.0.0.1:%d" % old_port,
                                        "--server", c.api.url, "--ca-file", c.api.ca,
                                        "--token-file", c.api.token_files["candidate-9"],
                                        "--log", old_log],
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            try:
                self.assertTrue(wait_for(lambda: answer(old_port) == expected, 15),
                                "the old sidecar answers %r" % answer(old_port))
                say("  GET / answers %r on pod-1, pod-10 and the old sidecar" % expected)
                for what, shell, path in shells:
                    for where, port in (("pod-1", p1.http), ("pod-10", p10.http),
                                        ("old sidecar", old_port)):
                        self.assertTrue(run_probe(exact_cmd, port, "pod-10", shell, path),
                                        "%s: exact match fails for the leader pod-10 on %s"
                                        % (what, where))
                        self.assertFalse(run_probe(exact_cmd, port, "pod-1", shell, path),
                                         "%s: exact match passes for pod-1 on %s while pod-10 "
                                         "leads" % (what, where))
                        self.assertTrue(run_probe(old_cmd, port, "pod-1", shell, path),
                                        "%s: negative control: grep $HOSTNAME did not match "
                                        "pod-1 on %s while pod-10 leads" % (what, where))
                    say("  %s: exact match passes for pod-10, not for pod-1; grep $HOSTNAME "
                        "passes for pod-1 too (wrongly)" % what)
            finally:
                old.send_signal(signal.SIGKILL)  # it ignores SIGTERM, as the old image did
                old.wait(10)
            self.finish(c)


if __name__ == "__main__":
    main()
