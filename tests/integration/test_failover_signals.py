#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Failover on signals, three daemons against the test API server (lease 3 s,
renew deadline 2 s, retry 0.5 s), every probe polled at 40 Hz, every WATCH
claim recorded; never two leaders, terms never reused.

- SIGTERM of the leader, then SIGINT of the next: handoff to the first
  successful probe of the new leader < 1 s each; both daemons release the
  Lease (empty holder in the lease-log) and exit 0.
- SIGKILL of the leader: failover <= lease + 1 s, and not before the lease
  could have expired (>= lease - retry - slack: the followers waited).
- SIGSTOP of the leader longer than the lease, then SIGCONT: another pod takes
  over meanwhile (<= lease + 1 s); on resume the stopped daemon answers
  not-leader, on the probe and on WATCH, from its first reply on.
- SIGSTOP of the leader for 1 s (shorter than renew deadline - retry): no
  failover; it leads on after SIGCONT.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness.testing import FailoverTest, main, say, now  # noqa: E402


class Signals(FailoverTest):
    def test_sigterm_graceful_handoff(self):
        with self.cluster() as c:
            first = c.leader()
            say("  %s leads" % first.name)
            h1 = c.handoff(first, signal.SIGTERM)
            self.assert_handoff(h1, 1.0, "graceful handoff")
            self.assertEqual(first.wait(10), 0, "SIGTERMed leader exit status")
            time.sleep(0.3)
            h2 = c.handoff(h1.new, signal.SIGINT)
            self.assert_handoff(h2, 1.0, "graceful handoff on SIGINT")
            self.assertNotIn(h2.new, (first, h1.new))
            self.assertEqual(h1.new.wait(10), 0, "SIGINTed leader exit status")
            # the release is in the lease-log, written by the old leader
            log = c.lease_log()
            releases = [e for e in log if e["type"] == "update" and not e["holder"]]
            self.assertGreaterEqual(len(releases), 2, "two releases (empty holder) expected")
            time.sleep(0.5)
            self.finish(c)

    def test_sigkill_failover(self):
        with self.cluster() as c:
            old = c.leader()
            time.sleep(1.0)  # a few renews
            h = c.handoff(old, signal.SIGKILL, timeout=c.lease_s + 5)
            self.assert_handoff(h, c.lease_s + 1.0, "failover after SIGKILL")
            self.assertGreater(h.probe_s, c.lease_s - c.retry_s - 0.3,
                               "a follower took over before the lease could expire")
            # the killed daemon's probe fails at once: no socket answer
            after = [s for s in c.probes[old.name].snapshot() if s.t0 > h.t_signal + 0.05]
            self.assertTrue(after and all(s.rc == 2 for s in after),
                            "the killed pod's probe must say unreachable (2)")
            time.sleep(0.5)
            self.finish(c)

    def test_sigstop_longer_than_lease(self):
        with self.cluster() as c:
            old = c.leader()
            time.sleep(0.7)
            t_stop = old.signal(signal.SIGSTOP)
            new, s = c.wait_leader(c.lease_s + 5, after=t_stop, exclude=[old])
            self.assertIsNotNone(new, "nobody took over from the stopped leader")
            takeover = s.t1 - t_stop
            say("  SIGSTOP of %s -> %s leads after %.3f s" % (old.name, new.name, takeover))
            self.assertLess(takeover, c.lease_s + 1.0)
            # stopped for longer than the lease in any case
            time.sleep(max(0.0, t_stop + c.lease_s + 1.0 - now()))
            t_cont = old.signal(signal.SIGCONT)
            say("  SIGCONT after %.3f s stopped" % (t_cont - t_stop))
            time.sleep(1.5)
            # every probe answered after the resume says "not leader" (1), or
            # timed out while the daemon was stopped (2); some answered 1
            answered = [s for s in c.probes[old.name].snapshot() if s.t1 > t_cont]
            self.assertTrue(answered)
            self.assertFalse([s for s in answered if s.rc == 0],
                             "the resumed daemon said leader: %r" % answered[:5])
            self.assertIn(1, {s.rc for s in answered}, "the resumed daemon never answered")
            msgs = self.messages_of(c, old, t_cont)
            self.assertFalse([m for _, m in msgs if m.get("is_leader")],
                             "the resumed daemon sent is_leader=true on WATCH: %r" % msgs[:3])
            st = old.status()
            self.assertFalse(st["is_leader"])
            self.assertEqual(st["leader"], new.name)
            # the new leader kept leading throughout
            self.assertEqual([p.name for p in c.leaders_now()], [new.name])
            self.finish(c)

    def test_short_sigstop(self):
        with self.cluster() as c:
            old = c.leader()
            time.sleep(0.7)
            t_stop = old.signal(signal.SIGSTOP)
            time.sleep(1.0)
            old.signal(signal.SIGCONT)
            time.sleep(1.5)
            others = [x for x in c.watch.claims("arrival") if x.pod != old.name]
            self.assertEqual(others, [], "a 1 s pause caused a failover")
            self.assertEqual([p.name for p in c.leaders_now()], [old.name])
            mine = [x for x in self.claims_of(c, old) if x.end > t_stop]
            say("  SIGSTOP of %s for 1 s: its claims %s" % (old.name, mine))
            self.finish(c)


if __name__ == "__main__":
    main()
