#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Unit tests of the failover harness's own checks (tests/harness/monitor.py):
the overlap, probe, claim and term checks must flag what they are meant to
flag, so that a green failover test means something."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness import monitor as M  # noqa: E402
from harness.cluster import parse_duration  # noqa: E402


def samples(spec, dur=0.002):
    """'0:1 0.05:0 ...' -> [Sample(t0, t0+dur, rc)]"""
    out = []
    for item in spec.split():
        t, rc = item.split(":")
        out.append(M.Sample(float(t), float(t) + dur, int(rc)))
    return out


class Checks(unittest.TestCase):
    def test_overlaps(self):
        a = M.Interval("a", 0.0, 1.0)
        b = M.Interval("b", 1.0, 2.0)  # touching, half-open: fine
        self.assertEqual(M.overlaps([a, b]), [])
        c = M.Interval("c", 1.999, 3.0)
        self.assertEqual(len(M.overlaps([a, b, c])), 1)
        # same pod never overlaps itself
        self.assertEqual(M.overlaps([a, M.Interval("a", 0.5, 1.5)]), [])
        # a long interval overlapping a later one past an intervening one
        long_ = M.Interval("x", 0.0, 10.0)
        self.assertEqual(len(M.overlaps([long_, M.Interval("y", 1, 2), M.Interval("z", 5, 6)])),
                         2)

    def test_probe_handoff_is_clean(self):
        by_pod = {"a": samples("0:0 0.05:0 0.10:0 0.15:1 0.20:1"),
                  "b": samples("0:1 0.05:1 0.10:1 0.15:1 0.20:0 0.25:0")}
        self.assertEqual(M.probe_violations(by_pod), [])

    def test_probe_double_leader_flagged(self):
        by_pod = {"a": samples("0:0 0.05:0 0.10:0 0.15:0"),
                  "b": samples("0.02:1 0.07:0 0.12:1")}
        bad = M.probe_violations(by_pod)
        self.assertTrue(bad)
        self.assertIn("inside", bad[0][0])
        # two runs overlapping
        by_pod = {"a": samples("0:0 0.05:0 0.10:0"), "b": samples("0.04:0 0.09:0 0.2:0")}
        self.assertTrue(M.probe_violations(by_pod))

    def test_probe_uncertainty_not_blamed(self):
        # b's single success overlaps a's last probe window only partly: not proven
        by_pod = {"a": [M.Sample(0.0, 0.01, 0), M.Sample(0.05, 0.06, 0)],
                  "b": [M.Sample(0.055, 0.07, 0)]}
        self.assertEqual(M.probe_violations(by_pod), [])

    def test_first_success(self):
        by_pod = {"a": samples("0:0 1:0"), "b": samples("0:1 0.5:1 0.7:0 0.9:0")}
        pod, s = M.first_success(by_pod, 0.2, exclude={"a"})
        self.assertEqual((pod, s.t0), ("b", 0.7))
        self.assertEqual(M.first_success(by_pod, 5.0), (None, None))

    def test_claims(self):
        tr = M.ClaimTracker("a")
        tr.feed(0.0, True, 2000, 1)
        tr.feed(0.5, True, 2000, 1)
        tr.feed(1.0, False, 0, 1)
        tr.feed(2.0, True, 500, 2)
        tr.feed(3.0, True, 500, 2)  # 2.5 passed: the first claim of term 2 lapsed
        tr.closed(3.2, "closed")
        cs = tr.finish(10.0)
        self.assertEqual([(c.term, c.start, c.end) for c in cs],
                         [(1, 0.0, 1.0), (2, 2.0, 2.5), (2, 3.0, 3.2)])
        self.assertEqual(cs[1].why_end, "valid_ms ran out")
        # an open claim ends at its expiry at the latest
        tr = M.ClaimTracker("b")
        tr.feed(0.0, True, 1000, 1)
        self.assertEqual(tr.finish(5.0)[0].end, 1.0)
        self.assertEqual(tr.finish(0.4)[0].end, 0.4)

    def test_claim_terms(self):
        def claim(pod, term, s, e):
            c = M.Claim(pod, term, s, e)
            c.end = e
            return c
        good = [claim("a", 0, 0, 1), claim("a", 0, 1.5, 2), claim("b", 1, 3, 4),
                claim("a", 2, 5, 6)]
        self.assertEqual(M.claim_term_violations(good), [])
        bad = good + [claim("c", 2, 7, 8)]
        self.assertEqual(len(M.claim_term_violations(bad)), 1)

    def test_lease_log_terms(self):
        def e(t, holder, lt, client, typ="update"):
            return {"type": typ, "holder": holder, "leaseTransitions": lt, "client": client}
        cl = {"candidate-1", "candidate-2"}
        log = [e(0, "a", 0, "candidate-1", "create"), e(1, "a", 0, "candidate-1"),
               e(2, "", 0, "candidate-1"), e(3, "b", 1, "candidate-2"),
               e(4, "intruder", 7, "leader-elector"), e(5, "a", 8, "candidate-1"),
               {"type": "delete", "holder": "a", "leaseTransitions": 8, "client": "x"},
               e(6, "b", 9, "candidate-2", "create")]
        self.assertEqual(M.term_violations(log, cl), [])
        log2 = log + [e(7, "a", 9, "candidate-1")]
        self.assertEqual(len(M.term_violations(log2, cl)), 1)
        log3 = log[:6] + [{"type": "delete", "holder": "a", "leaseTransitions": 8,
                           "client": "x"}, e(6, "b", 0, "candidate-2", "create")]
        self.assertEqual(len(M.term_violations(log3, cl)), 1)

    def test_durations(self):
        self.assertEqual(parse_duration("3s"), 3.0)
        self.assertEqual(parse_duration("500ms"), 0.5)
        self.assertEqual(parse_duration("1m30s"), 90.0)
        self.assertEqual(parse_duration("2"), 2.0)


class EndToEnd(unittest.TestCase):
    """Two daemons that both always say "leader" (harness/liar.py): verify()
    must report two leaders on the probes and on WATCH."""

    def test_liars_are_caught(self):
        probe = os.environ.get("LE_PROBE")
        if not probe:
            self.skipTest("LE_PROBE not set")
        from harness import Cluster
        import time
        liar = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "harness", "liar.py")
        with Cluster(liar, probe, pods=2, log=lambda m: None) as c:
            time.sleep(1.0)
            with self.assertRaises(AssertionError) as cm:
                c.verify()
        msg = str(cm.exception)
        self.assertIn("PROBES: two leaders", msg)
        self.assertIn("WATCH (arrival clock): two leaders", msg)
        self.assertIn("WATCH (daemon clock): two leaders", msg)


class WatchMonitorStop(unittest.TestCase):
    def test_stop_after_the_loop_ended(self):
        """The worst interleaving of stop() with the loop: the event is set,
        the thread wakes up by its own 20 ms timeout and ends before stop()
        writes to the wake-up pipe.  That write must still find the pipe open
        (it failed in CI with EBADF when the thread closed the pipe itself),
        stop() must be idempotent and leave no descriptor behind."""
        before = len(os.listdir("/proc/self/fd"))
        for _ in range(5):
            w = M.WatchMonitor([("p", "/nonexistent/leader.sock")])
            w.start()
            time.sleep(0.03)
            w._stop_ev.set()
            w.join(5)  # the loop ended on its own, before stop() below
            self.assertFalse(w.is_alive())
            w.stop()
            w.stop()
        self.assertEqual(len(os.listdir("/proc/self/fd")), before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
