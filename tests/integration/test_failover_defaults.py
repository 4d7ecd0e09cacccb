#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The default timings (no timing flags: lease 15 s, renew deadline 10 s, retry
2 s, as kube-controller-manager), three daemons: a leader within the lease
duration of the start (a created Lease is claimed only after one lease
duration, in case a deleted one was still held), graceful
handoffs (SIGTERM, RESIGN) < 1 s each, never two leaders, a follower's
status shows the leader and a valid_ms within the lease."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness.testing import FailoverTest, main, say  # noqa: E402


class Defaults(FailoverTest):
    timings = None

    def test_default_timings(self):
        with self.cluster() as c:
            a, s = c.wait_leader(c.lease_s + 5, after=c.t0)
            self.assertIsNotNone(a, "no leader within lease + 5 s of the start")
            say("  start-up (no Lease yet): %s leads %.3f s after the daemons were started"
                % (a.name, s.t1 - c.t0))
            st = a.status()
            say("  %s leads term %d, valid_ms %d" % (a.name, st["term"], st["valid_ms"]))
            self.assertTrue(st["is_leader"])
            self.assertEqual(st["state"], "leading")
            self.assertLessEqual(st["valid_ms"], 10000)
            for p in c.pods:
                if p is not a:
                    f = p.status()
                    self.assertFalse(f["is_leader"])
                    self.assertEqual(f["leader"], a.name)
                    self.assertEqual(f["state"], "following")
            time.sleep(2.5)  # one renew at the default retry period
            h = c.handoff(a, signal.SIGTERM)
            self.assert_handoff(h, 1.0, "graceful handoff (default timings)")
            time.sleep(0.3)
            h2 = c.handoff(h.new, None)
            self.assert_handoff(h2, 1.0, "RESIGN handoff (default timings)")
            time.sleep(0.3)
            self.finish(c)


if __name__ == "__main__":
    main()
