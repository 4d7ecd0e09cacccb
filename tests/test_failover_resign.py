#!/usr/bin/python3
"""RESIGN over the socket, two daemons (lease 3 s, renew deadline 2 s,
--resign-holdoff 3s).

- RESIGN of the leader: an "ok" reply, handoff to the other pod < 1 s; the
  resigner keeps running as a follower.
- The new leader is SIGTERMed right away, so the Lease is free and the
  resigner is the only candidate: it must stay follower for the hold-off
  (no claim before RESIGN + 3 s), then take the Lease (within hold-off + 1.5 s).
- RESIGN of a follower does not make anybody leader or change the leader.
- With --lock endpointsleases (client-go's MultiLock), a RESIGN whose release
  reaches the Endpoints but not the Lease (503 on the resigner's Lease
  updates, twice): the records disagree (UnknownLeader, with the release marker
  leaseDurationSeconds=1); the others take that for no holder's timing, wait
  out their lease and elect a leader (a CI run once saw every candidate stop
  competing for good here).
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness.testing import FailoverTest, main, say, now  # noqa: E402

HOLDOFF = 3.0


class Resign(FailoverTest):
    pods = 2
    extra_args = ("--resign-holdoff", "%gs" % HOLDOFF)

    def test_resign_holdoff(self):
        with self.cluster() as c:
            a = c.leader()
            time.sleep(0.6)
            h = c.handoff(a, None)
            self.assert_handoff(h, 1.0, "handoff after RESIGN")
            b = h.new
            self.assertTrue(a.alive(), "the resigner exited")
            st = a.status()
            self.assertFalse(st["is_leader"])
            t_resign = h.t_signal
            time.sleep(0.2)
            t_term = b.signal(signal.SIGTERM)
            self.assertEqual(b.wait(10), 0)
            back, s = c.wait_leader(HOLDOFF + c.lease_s + 2, after=t_term)
            self.assertIs(back, a, "the resigner did not come back after its hold-off")
            start = self.first_claim_start(c, a, t_resign)
            say("  RESIGN of %s at 0; %s SIGTERMed at %.3f s; %s leads again at %.3f s "
                "(WATCH claim at %.3f s; hold-off %.1f s)" % (
                    a.name, b.name, t_term - t_resign, a.name, s.t1 - t_resign,
                    start - t_resign, HOLDOFF))
            self.assertGreaterEqual(start - t_resign, HOLDOFF - 0.05,
                                    "the resigner claimed during its hold-off")
            self.assertLess(s.t1 - t_resign, HOLDOFF + 1.5)
            self.finish(c)

    def test_resign_follower(self):
        with self.cluster(pods=3) as c:
            leader = c.leader()
            follower = [p for p in c.pods if p != leader][0]
            t0 = now()
            reply = follower.resign()
            say("  RESIGN of follower %s: %r" % (follower.name, reply))
            self.assertIn(reply.get("type"), ("ok", "error"))
            time.sleep(1.0)
            self.assertEqual([p.name for p in c.leaders_now()], [leader.name])
            self.assertEqual([x.pod for x in c.watch.claims("arrival") if x.end > t0],
                             [leader.name])
            self.finish(c)

    def test_half_release_multilock(self):
        with self.cluster(pods=3, timings=("4s", "3s", "1s"),
                          extra_args=("--resign-holdoff", "1s",
                                      "--lock", "endpointsleases")) as c:
            a = c.leader()
            time.sleep(1.5)
            # Two failures: the release's Lease update and the one retry it makes before it
            # reads the records, sees UnknownLeader and stops (not held by it any more).
            c.fault(client=a.user, kind="status", code=503, verbs=["update"],
                    resources=["leases"], count=2)
            t0 = now()
            reply = a.resign()
            self.assertEqual(reply.get("type"), "ok", reply)
            new, s = c.wait_leader(3 + 2 * c.lease_s + 2, after=t0)
            c.clear_fault()  # (a fault with a count is gone once used up)
            logs = "".join(p.log() for p in c.pods)
            self.assertNotIn("not competing", logs)
            self.assertIsNotNone(new, "no leader after a release cut short between the "
                                 "Endpoints and the Lease")
            after = [e for e in c.lease_log() if e["t"] > t0]
            self.assertTrue(after and after[0]["holder"],
                            "the Lease release was not cut short: %r" % after[:1])
            say("  %s resigned, its Lease release failing: %s leads %.3f s later" % (
                a.name, new.name, s.t1 - t0))
            self.finish(c)


if __name__ == "__main__":
    main()
