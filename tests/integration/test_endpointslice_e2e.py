#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""EndpointSlice mode end to end: leader-elector daemons with --endpointslice
against the Kubernetes API test server, each with its own fake pod IP
(127.0.0.x: only data in the slice).  The slice is polled at 20 Hz and
watched (every version) during each scenario; it must never list two
addresses, and it follows leadership:

- handoff (SIGTERM): emptied before the Lease is released, then the next
  leader's address;
- SIGKILL: the next leader overwrites the dead leader's address;
- partition (requests of the leader held): the cut-off leader writes nothing,
  the new leader's write wins, and stays after the partition heals;
- RESIGN on the socket: emptied, then the next leader;
- an unhealthy leader (--health-http): emptied, then the next leader;
- the object: labels, addressType, ready endpoint, targetRef, ports;
  annotations added by others survive.

usage: test_endpointslice_e2e.py DAEMON
"""
import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_health_util import (ApiServer, Cluster, HealthApp, SliceMonitor,  # noqa: E402
                              slice_path, sock_request, now, wait_for, TempDir, failed)

DAEMON = None
EPS = ["--endpointslice", "my-svc", "--endpoint-port", "http:8080/TCP",
       "--endpoint-port", "metrics:9090"]


class Slice(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer(quiet=True)
        cls.api.start()
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()

    def setUp(self):
        Slice.n += 1
        self.tmp = TempDir()
        self.name = "eps-%d" % Slice.n
        self.cluster = Cluster(DAEMON, self.api, self.name, self.tmp.name)
        self.mon = SliceMonitor(self.api, self.name, hz=20)
        self.apps = []

    def tearDown(self):
        self.cluster.stop_all()
        self.mon.stop()
        for a in self.apps:
            a.close()
        self.api.clear_faults()
        if failed(self):
            sys.stderr.write("slice history: %s\n" % self.mon.history())
            for d in self.cluster.daemons:
                sys.stderr.write("---- %s\n%s" % (d.name, d.log()[-4000:]))
        self.tmp.cleanup()

    def start_pair(self, *extra):
        a = self.cluster.start("pod-a", 1, *EPS, *extra)
        b = self.cluster.start("pod-b", 2, *EPS, *extra)
        leader = self.cluster.wait_leader(timeout=15)
        self.assertIsNotNone(leader)
        other = b if leader is a else a
        self.assertTrue(self.mon.wait([leader.ip], timeout=5), self.mon.history())
        return leader, other

    def check_never_two(self):
        self.assertLessEqual(self.mon.max_addresses(), 1, self.mon.history())
        self.assertGreater(len(self.mon.polls), 10)

    def slice_rv_of(self, addresses, after_rv=0):
        for _, rv, a, _ in self.mon.versions:
            if rv > after_rv and a == addresses:
                return rv
        return None

    def test_object_and_handoff(self):
        leader, other = self.start_pair()
        st, obj = self.mon.current()
        self.assertEqual(st, 200)
        self.assertEqual(obj["metadata"]["labels"], {
            "kubernetes.io/service-name": "my-svc",
            "endpointslice.kubernetes.io/managed-by": "leader-elector.leader-election"})
        self.assertEqual(obj["addressType"], "IPv4")
        self.assertEqual(len(obj["endpoints"]), 1)
        ep = obj["endpoints"][0]
        self.assertEqual(ep["addresses"], [leader.ip])
        self.assertTrue(ep["conditions"]["ready"])
        self.assertTrue(ep["conditions"]["serving"])
        self.assertEqual(ep["targetRef"], {"kind": "Pod", "namespace": "default",
                                           "name": leader.name})
        self.assertEqual(obj["ports"], [{"name": "http", "port": 8080, "protocol": "TCP"},
                                        {"name": "metrics", "port": 9090, "protocol": "TCP"}])
        # an annotation added by someone else survives the next leaders' writes
        obj["metadata"].setdefault("annotations", {})["note"] = "kept"
        st, _ = self.api.json("PUT", slice_path(self.name), obj)
        self.assertEqual(st, 200)
        # graceful handoff: SIGTERM
        t0 = now()
        leader.proc.send_signal(signal.SIGTERM)
        self.assertEqual(leader.proc.wait(timeout=10), 0)
        self.assertTrue(self.mon.wait([other.ip], timeout=5), self.mon.history())
        sys.stderr.write("handoff (SIGTERM): slice lists the next leader after %.0f ms\n"
                         % ((now() - t0) * 1000))
        time.sleep(0.3)
        hist = self.mon.history()
        self.assertEqual(hist[-3:], [[leader.ip], [], [other.ip]], hist)
        # emptied before the Lease was released (one resourceVersion sequence)
        log = self.cluster.lease_log()
        release = [e for e in log if e["holder"] == "" and e["client"] == leader.user]
        self.assertTrue(release, log)
        emptied = self.slice_rv_of([])
        self.assertIsNotNone(emptied)
        self.assertLess(emptied, int(release[-1]["resourceVersion"]))
        st, obj = self.mon.current()
        self.assertEqual(obj["metadata"]["annotations"]["note"], "kept")
        self.check_never_two()

    def test_sigkill_next_leader_overwrites(self):
        leader, other = self.start_pair()
        t0 = now()
        leader.proc.send_signal(signal.SIGKILL)
        leader.proc.wait(timeout=5)
        self.assertTrue(self.mon.wait([other.ip], timeout=10), self.mon.history())
        sys.stderr.write("SIGKILL: slice lists the next leader after %.0f ms\n"
                         % ((now() - t0) * 1000))
        time.sleep(0.3)
        hist = self.mon.history()
        self.assertEqual(hist[-2:], [[leader.ip], [other.ip]], hist)  # overwritten, not emptied
        self.check_never_two()

    def test_partition_cut_off_leader_cannot_write(self):
        leader, other = self.start_pair()
        fid = self.api.add_fault(client=leader.user, kind="partition", mode="hang")
        t0 = now()
        self.assertTrue(self.mon.wait([other.ip], timeout=10), self.mon.history())
        t_new = now()
        sys.stderr.write("partition: slice lists the new leader after %.0f ms\n"
                         % ((t_new - t0) * 1000))
        self.assertFalse(leader.is_leader())
        time.sleep(1.0)
        # heal: the held requests of the ex-leader are delivered now
        self.api.admin("DELETE", "/_admin/faults/%d" % fid)
        time.sleep(2.5)
        self.assertTrue(other.is_leader())
        self.assertFalse(leader.is_leader())
        after = [a for t, a in self.mon.polls if t >= t_new]
        self.assertTrue(after and all(a == [other.ip] for a in after), after)
        hist = self.mon.history()
        self.assertEqual(hist[-1], [other.ip], hist)
        self.assertNotIn([leader.ip], hist[hist.index([other.ip]):], hist)
        self.check_never_two()

    def test_partition_delayed_write_loses(self):
        """A write of the leader's that is held in the network while it is cut
        off, and delivered after the next leader wrote, is refused (409): it
        was conditional on the version the ex-leader had read."""
        leader, other = self.start_pair()
        hold = self.api.add_fault(client=leader.user, kind="hang", verbs=["update"],
                                  resources=["endpointslices"])
        # someone else rewrites the slice: the leader's resync wants it back
        st, obj = self.mon.current()
        obj["endpoints"][0]["addresses"] = ["127.0.0.99"]
        del obj["endpoints"][0]["targetRef"]
        self.assertEqual(self.api.json("PUT", slice_path(self.name), obj)[0], 200)

        def held():
            items = self.api.admin("GET", "/_admin/faults")["items"]
            return any(f["id"] == hold and f["applied"] > 0 for f in items)
        self.assertTrue(wait_for(held, timeout=6), "the leader's rewrite never came")
        # now it is cut off entirely; the other takes over and writes
        part = self.api.add_fault(client=leader.user, kind="partition", mode="hang")
        self.assertTrue(self.mon.wait([other.ip], timeout=10), self.mon.history())
        t_new = now()
        self.api.admin("DELETE", "/_admin/faults/%d" % part)
        self.api.admin("DELETE", "/_admin/faults/%d" % hold)  # the held PUT goes through now
        time.sleep(2.0)
        after = [a for t, a in self.mon.polls if t >= t_new]
        self.assertTrue(after and all(a == [other.ip] for a in after), after)
        hist = self.mon.history()
        self.assertEqual(hist[-1], [other.ip], hist)
        self.assertNotIn([leader.ip], hist[hist.index([other.ip]):], hist)
        # (the daemon gave up waiting for that answer when its claim lapsed; the server
        # applies the held request at the heal, against a newer version: refused)
        self.check_never_two()

    def test_resign(self):
        leader, other = self.start_pair("--resign-holdoff", "5s")
        rep = sock_request(leader.sock, "RESIGN", timeout=5)
        self.assertEqual(rep and rep.get("type"), "ok", rep)
        self.assertTrue(self.mon.wait([other.ip], timeout=5), self.mon.history())
        time.sleep(0.3)
        hist = self.mon.history()
        self.assertEqual(hist[-3:], [[leader.ip], [], [other.ip]], hist)
        self.assertTrue(leader.alive())
        self.check_never_two()

    def test_unhealthy_leader_empties_then_hands_over(self):
        apps = {}
        for name, idx in (("pod-a", 1), ("pod-b", 2)):
            apps[name] = HealthApp("ok")
            self.apps.append(apps[name])
            self.cluster.start(name, idx, *EPS, "--health-http", apps[name].url,
                               "--health-period", "200ms", "--health-timeout", "150ms")
        leader = self.cluster.wait_leader(timeout=15)
        self.assertIsNotNone(leader)
        other = [d for d in self.cluster.daemons if d is not leader][0]
        self.assertTrue(self.mon.wait([leader.ip], timeout=5))
        t0 = now()
        apps[leader.name].set("fail")
        self.assertTrue(self.mon.wait([other.ip], timeout=5), self.mon.history())
        sys.stderr.write("unhealthy leader: slice lists the next leader after %.0f ms\n"
                         % ((now() - t0) * 1000))
        time.sleep(0.3)
        hist = self.mon.history()
        self.assertEqual(hist[-3:], [[leader.ip], [], [other.ip]], hist)
        self.check_never_two()

    def test_usage_errors(self):
        import subprocess
        from test_health_util import clean_env
        base = [DAEMON, "--election", "x", "--server", "http://127.0.0.1:1"]
        env = clean_env()
        env["POD_IP"] = "10.0.0.1"
        for args, e in (([*EPS[:2]], env),                       # no port
                        (["--endpoint-port", "http:80"], env),    # no --endpointslice
                        (["--endpointslice", "Bad_Name", "--endpoint-port", "http:80"], env),
                        (["--endpointslice", "s", "--endpoint-port", "http:80/ICMP"], env),
                        (["--endpointslice", "s", "--endpoint-port", "80",
                          "--endpoint-port", "81"], env),          # several need names
                        ([*EPS], clean_env()),                      # no POD_IP
                        (["--health-http", "127.0.0.1:80"], env),
                        (["--health-tcp", "db:5432"], env),
                        (["--health-http", "http://127.0.0.1/", "--health-tcp", "127.0.0.1:1"],
                         env),
                        (["--health-failures", "3"], env),
                        (["--health-tcp", "127.0.0.1:1", "--health-timeout", "3s"], env),
                        (["--health-tcp", "127.0.0.1:1", "--health-successes", "0"], env)):
            p = subprocess.run(base + args, env=e, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=10)
            self.assertEqual(p.returncode, 64, (args, p.stderr))
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, (args, p.stderr))
        p = subprocess.run([DAEMON, "--help"], stdout=subprocess.PIPE, text=True, timeout=10)
        for flag in ("--health-http", "--health-tcp", "--health-period", "--health-timeout",
                     "--health-failures", "--health-successes", "--endpointslice",
                     "--endpoint-port"):
            self.assertIn(flag, p.stdout)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    DAEMON = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
