#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Leadership follows the application's health, end to end: leader-elector
daemons (--health-http / --health-tcp) against the Kubernetes API test server,
each with its own health server whose answer the test flips.

- a leader whose application starts failing hands over within
  failures x period + the handoff, and never overlaps with the next leader;
- a flapping application (never `failures` in a row) causes no leader change;
- a hanging health endpoint never stalls the loop: STATUS keeps answering
  within milliseconds while every check hangs until its timeout;
- an application that is not up yet never leads, even alone;
- --health-tcp: a closed port makes the leader resign;
- the status carries the health and why, the metrics count the checks.

usage: test_health_e2e.py DAEMON
"""
import os
import socket
import sys
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]  # test_health_util, harness/
from test_health_util import (ApiServer, Cluster, HealthApp, LeaderMonitor,  # noqa: E402
                              TempDir, now, wait_for, failed)
from harness import free_port  # noqa: E402

DAEMON = None
PERIOD, TIMEOUT, FAILURES = 0.2, 0.15, 3
HEALTH = ["--health-period", "200ms", "--health-timeout", "150ms",
          "--health-failures", str(FAILURES), "--health-successes", "1"]


class Health(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer(quiet=True)
        cls.api.start()
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()

    def setUp(self):
        Health.n += 1
        self.tmp = TempDir()
        self.cluster = Cluster(DAEMON, self.api, "health-%d" % Health.n, self.tmp.name)
        self.apps = {}
        self.monitor = None

    def tearDown(self):
        if self.monitor:
            self.monitor.stop()
        self.cluster.stop_all()
        for app in self.apps.values():
            app.close()
        if failed(self):
            for d in self.cluster.daemons:
                sys.stderr.write("---- %s\n%s" % (d.name, d.log()[-4000:]))
        self.tmp.cleanup()

    def pair(self, *extra):
        for name, idx in (("pod-a", 1), ("pod-b", 2)):
            self.apps[name] = HealthApp("ok")
            self.cluster.start(name, idx, "--health-http", self.apps[name].url, *HEALTH, *extra)
        leader = self.cluster.wait_leader(timeout=15)
        self.assertIsNotNone(leader, "no leader")
        return leader, [d for d in self.cluster.daemons if d is not leader][0]

    def test_handover_when_the_leader_fails(self):
        leader, other = self.pair()
        self.monitor = LeaderMonitor(self.cluster.daemons, hz=50)
        time.sleep(0.5)
        st = leader.status()
        self.assertEqual(st.get("health"), "healthy", st)
        t0 = now()
        self.apps[leader.name].set("fail")
        got = wait_for(lambda: self.monitor.first_leader_after(t0, other.name), timeout=10)
        self.assertIsNotNone(got, "no handover")
        took = got[0] - t0
        # failures x period (+ one period of phase) + the handoff (release, watch, acquire)
        bound = FAILURES * PERIOD + PERIOD + 1.0
        sys.stderr.write("health handover: app failing -> %s leads in %.0f ms (bound %.0f ms)\n"
                         % (other.name, took * 1000, bound * 1000))
        self.assertLess(took, bound)
        self.assertGreater(took, (FAILURES - 1) * PERIOD)  # hysteresis: not on the first failure
        st = leader.status()
        self.assertFalse(st["is_leader"])
        self.assertEqual(st.get("health"), "unhealthy", st)
        self.assertIn("HTTP 503 from %s" % self.apps[leader.name].url, st.get("reason", ""))
        self.assertEqual(self.monitor.overlaps(), [])
        # the ex-leader released (holder "") before the other acquired
        log = self.cluster.lease_log()
        holders = [e["holder"] for e in log]
        i = len(holders) - 1 - holders[::-1].index(other.name)
        self.assertEqual(holders[i - 1], "", holders)
        self.assertIn("application unhealthy", leader.log())
        # healthy again: it competes again, but the new leader keeps leading
        self.apps[leader.name].set("ok")
        self.assertTrue(wait_for(lambda: (leader.status() or {}).get("health") == "healthy", 5))
        time.sleep(1.0)
        self.assertTrue(other.is_leader())
        # the new leader fails: the old one, healthy, takes over
        t1 = now()
        self.apps[other.name].set("fail")
        got = wait_for(lambda: self.monitor.first_leader_after(t1, leader.name), timeout=10)
        self.assertIsNotNone(got, "no handover back")
        sys.stderr.write("health handover back: %.0f ms\n" % ((got[0] - t1) * 1000))
        self.assertLess(got[0] - t1, bound)
        self.assertEqual(self.monitor.overlaps(), [])

    def test_flapping_application_keeps_its_leader(self):
        leader, other = self.pair()
        transitions = self.cluster.lease_log()[-1]["leaseTransitions"]
        self.monitor = LeaderMonitor(self.cluster.daemons, hz=50)
        app = self.apps[leader.name]
        hits0 = app.hits
        end = now() + 6.0
        flaps = 0
        while now() < end:
            # failing for about one period and a half, never `FAILURES` checks in a row
            app.set("fail")
            time.sleep(PERIOD * 1.5)
            app.set("ok")
            time.sleep(PERIOD * 1.5)
            flaps += 1
        time.sleep(0.5)
        self.assertTrue(leader.is_leader())
        self.assertEqual(self.monitor.overlaps(), [])
        self.assertTrue(all(c == [leader.name] for _, c in self.monitor.samples), "leader changed")
        log = self.cluster.lease_log()
        self.assertTrue(all(e["holder"] == leader.name for e in log[-5:]))
        self.assertEqual(log[-1]["leaseTransitions"], transitions)
        seen = [st.get("health") for _, st in self.monitor.statuses[leader.name]]
        self.assertNotIn("unhealthy", seen)
        sys.stderr.write("flapping: %d flaps, %d checks, no leader change\n"
                         % (flaps, app.hits - hits0))
        self.assertGreater(app.hits - hits0, flaps * 2)

    def test_hanging_health_endpoint_never_stalls_the_loop(self):
        leader, other = self.pair()
        self.monitor = LeaderMonitor(self.cluster.daemons, hz=50)
        time.sleep(0.3)
        t0 = now()
        self.apps[leader.name].set("hang")
        got = wait_for(lambda: self.monitor.first_leader_after(t0, other.name), timeout=10)
        self.assertIsNotNone(got, "no handover while the health endpoint hangs")
        # keep it hanging a little longer, while STATUS is polled
        time.sleep(1.5)
        self.monitor.stop()
        stats = self.monitor.statuses[leader.name]
        lats = self.monitor.latencies[leader.name]
        after = [lat for (t, _), lat in zip(stats, lats) if t >= t0]
        self.assertGreater(len(after), 50)
        after.sort()
        worst = after[-1]
        p99 = after[int(len(after) * 0.99) - 1]
        samples = after
        sys.stderr.write("hanging health endpoint: %d STATUS answered while checks hang, p99 %.1f "
                         "ms, max %.1f ms; handover after %.0f ms\n"
                         % (len(samples), p99 * 1000, worst * 1000, (got[0] - t0) * 1000))
        self.assertLess(worst, 0.25)
        self.assertLess(p99, 0.05)
        st = leader.status()
        self.assertIn("timeout after 150ms", st.get("reason", ""), st)
        self.assertEqual(self.monitor.overlaps(), [])

    def test_not_up_yet_never_leads(self):
        app = self.apps["pod-c"] = HealthApp("fail")
        c = self.cluster.start("pod-c", 3, "--health-http", app.url, *HEALTH)
        time.sleep(4.0)  # more than a lease duration: the Lease is there for the taking
        st = c.status()
        self.assertFalse(st["is_leader"], st)
        self.assertEqual(st.get("health"), "unhealthy", st)
        self.assertIn("not competing", st.get("reason", ""))
        self.assertEqual([e for e in self.cluster.lease_log() if e["holder"] == "pod-c"], [])
        app.set("ok")
        self.assertIsNotNone(self.cluster.wait_leader(timeout=10), "never led once healthy")

    def test_tcp_check_and_metrics(self):
        port_http = free_port()
        lst = socket.socket()
        lst.bind(("127.0.0.1", 0))
        lst.listen(16)
        target = "127.0.0.1:%d" % lst.getsockname()[1]
        d = self.cluster.start("pod-t", 4, "--health-tcp", target, *HEALTH,
                               "--http", "127.0.0.1:%d" % port_http)
        self.assertIsNotNone(self.cluster.wait_leader(timeout=10))
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port_http, timeout=5) as r:
            text = r.read().decode()
        self.assertIn("leader_election_health_status 1", text)
        self.assertIn('leader_election_health_checks_total{result="success"}', text)
        lst.close()
        self.assertTrue(wait_for(lambda: not d.is_leader(), timeout=5))
        st = d.status()
        self.assertIn("connect %s: connection refused" % target, st.get("reason", ""), st)
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port_http, timeout=5) as r:
            text = r.read().decode()
        self.assertIn("leader_election_health_status 0", text)
        self.assertIn('leader_election_health_checks_total{result="failure"}', text)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    DAEMON = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
