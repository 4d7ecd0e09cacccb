#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The leader partitioned from the API server (fault kind partition for its
API user only; mode hang: every request and the open watch hang; mode cut:
connections are reset).  Three daemons, lease 3 s, renew deadline 2 s.

Asserted, besides "never two leaders" on both measures:
- the partitioned leader stops claiming before its lease can expire: its last
  claim instant is <= its last committed renew + renew deadline (+ slack), and
  < that renew + lease duration;
- another pod takes over only after: its first claim starts after the old
  leader's last claim, and not before the old renew + lease duration (as the
  followers observed it);
- takeover within lease + 1 s of the partition;
- when the partition heals, the old leader follows the new one (no flapping).

And a follower made blind (its connections cut, then every new watch of its
hangs without an event, while its other requests work) for 2 lease
durations: it never claims, the leader keeps leading throughout.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness.testing import FailoverTest, main, say, now  # noqa: E402

SLACK = 0.15  # realtime/monotonic conversion of the server's commit instants


class Partition(FailoverTest):
    def partition(self, mode):
        with self.cluster() as c:
            old = c.leader()
            time.sleep(1.0)
            t_p = now()
            fid = c.fault(client=old.user, kind="partition", mode=mode)
            new, s = c.wait_leader(c.lease_s + 5, after=t_p, exclude=[old])
            self.assertIsNotNone(new, "nobody took over from the partitioned leader")
            say("  partition (%s) of %s -> %s leads after %.3f s" % (mode, old.name, new.name,
                                                                      s.t1 - t_p))
            self.assertLess(s.t1 - t_p, c.lease_s + 1.0)
            time.sleep(0.3)
            log = c.lease_log()
            renews = [e for e in log if e["client"] == old.user and e["t"] < t_p + 1.0
                      and e["holder"] == old.name]
            self.assertTrue(renews, "no renew of the old leader in the lease-log")
            t_renew = renews[-1]["t"]
            takeover = [e for e in log if e["holder"] == new.name and e["t"] > t_renew]
            self.assertTrue(takeover)
            for measure in ("arrival", "daemon"):
                end = self.last_claim_end(c, old, before=t_p + 0.5, measure=measure)
                start = self.first_claim_start(c, new, t_p, measure=measure)
                self.assertIsNotNone(end)
                self.assertIsNotNone(start)
                say("  [%s clock] old leader's claim ended %.3f s after its last renew "
                    "(renew deadline %.1f s, lease %.1f s); new leader's began %.3f s after it"
                    % (measure, end - t_renew, c.renew_s, c.lease_s, start - t_renew))
                self.assertLess(end, start, "the new leader began before the old one stopped")
                self.assertLessEqual(end - t_renew, c.renew_s + SLACK,
                                     "the old leader claimed past its renew deadline")
                self.assertLess(end - t_renew, c.lease_s)
                self.assertGreaterEqual(start - t_renew, c.lease_s - SLACK,
                                        "the new leader did not wait for the lease to expire")
            last_ok = self.last_success(c, old)
            first_new = [x for x in c.probes[new.name].snapshot() if x.rc == 0][0]
            self.assertLess(last_ok.t1, first_new.t0)
            # heal: the old leader must follow, the new one keep leading
            c.clear_fault(fid)
            t_heal = now()
            self.assertTrue(self.wait_until(
                lambda: old.status().get("leader") == new.name, c.lease_s + 2),
                "after the partition healed, %s does not see %s as leader: %r"
                % (old.name, new.name, old.status()))
            time.sleep(1.0)
            self.assertEqual([p.name for p in c.leaders_now()], [new.name])
            self.assertFalse([m for _, m in self.messages_of(c, old, t_heal)
                              if m.get("is_leader")])
            self.finish(c)

    def test_partition_hang(self):
        self.partition("hang")

    def test_partition_cut(self):
        self.partition("cut")

    def test_follower_blind(self):
        with self.cluster() as c:
            leader = c.leader()
            f = [p for p in c.pods if p is not leader][0]
            time.sleep(0.6)
            t0 = now()
            cut = c.fault(client=f.user, kind="partition", mode="cut")
            time.sleep(0.3)
            blind = c.fault(client=f.user, kind="hang", verbs=["watch"])
            c.clear_fault(cut)
            time.sleep(2 * c.lease_s)
            c.clear_fault(blind)
            time.sleep(1.0)
            claims = [x for x in c.watch.claims("arrival") if x.end > t0]
            say("  %s blind for %.1f s: claims meanwhile %s; its requests: %s" % (
                f.name, 2 * c.lease_s, claims, c.stats()["requests"].get(f.user)))
            self.assertEqual({x.pod for x in claims}, {leader.name})
            self.assertEqual(len(claims), 1, "the leader's claim was interrupted")
            self.assertFalse(self.claims_of(c, f))
            self.finish(c)


if __name__ == "__main__":
    main()
