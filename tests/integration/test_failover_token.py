#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Stale and rotated service-account tokens, three daemons (lease 3 s, renew
deadline 2 s).  A rotation writes a new token (of a new API user) into the
pod's token file atomically, as the kubelet does, and revokes the old one.

- The leader's token is revoked; 1 s later (shorter than the renew deadline)
  the new one is in place: the daemon recovers without a restart (same pid)
  and keeps or regains leadership; its requests now come from the new user.
- Both followers' tokens are rotated the same way, then the leader is
  SIGTERMed: a follower with the rotated token takes over < 1 s.
- The new leader's token stays stale for 3 s (longer than the renew
  deadline): it stops claiming, another pod takes over only after, and the
  stale one follows once its new token is in place.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness.testing import FailoverTest, main, say, now  # noqa: E402


def ok_requests(stats, user):
    per = stats["requests"].get(user, {})
    return sum(n for verb in per.values() for code, n in verb.items() if code.startswith("2"))


def unauthorized(stats, user):
    """401s: a revoked token authenticates nobody, so they count as anonymous."""
    per = stats["requests"].get(user, {})
    return sum(n for verb in per.values() for code, n in verb.items() if code == "401")


class Token(FailoverTest):
    def test_rotated_and_stale_tokens(self):
        with self.cluster() as c:
            a = c.leader()
            pid = a.pid
            time.sleep(0.6)
            t_rev, t_new = c.rotate_token(a, stale_for=1.0)
            self.assertTrue(self.wait_until(lambda: ok_requests(c.stats(), a.user) > 0, 5),
                            "%s never used its new token" % a.name)
            back, _ = c.wait_leader(c.lease_s + 2, after=t_new)
            self.assertIsNotNone(back)
            st = c.stats()
            say("  leader %s: token revoked for 1 s (%d requests got 401), then rotated: "
                "%d successful requests with the new token; leader now %s" % (
                    a.name, unauthorized(st, "system:anonymous"), ok_requests(st, a.user), back.name))
            self.assertTrue(a.alive())
            self.assertEqual(a.pid, pid, "the daemon was restarted")
            self.assertGreater(unauthorized(st, "system:anonymous"), 0, "the old token was never refused")

            # rotate both followers' tokens without a gap, then hand off
            leader = back
            followers = [p for p in c.pods if p != leader]
            for p in followers:
                c.rotate_token(p, stale_for=0)
            time.sleep(1.0)
            h = c.handoff(leader, signal.SIGTERM)
            self.assert_handoff(h, 1.0, "handoff to a pod with a rotated token")
            log = c.lease_log()
            self.assertIn(h.new.user, {e["client"] for e in log if e["holder"] == h.new.name},
                          "the new leader did not write with its rotated token")

            # a token stale for longer than the renew deadline
            b = h.new
            time.sleep(0.6)
            t0 = now()
            c.api.admin("DELETE", "/_admin/tokens/%s" % b.user)
            other, s = c.wait_leader(c.lease_s + 3, after=t0, exclude=[b])
            self.assertIsNotNone(other, "nobody took over from the pod with a stale token")
            say("  %s's token stale: %s leads %.3f s later" % (b.name, other.name, s.t1 - t0))
            end = self.last_claim_end(c, b, before=t0 + 0.1)
            start = self.first_claim_start(c, other, t0)
            self.assertLess(end, start)
            self.assertLess(end - t0, c.renew_s + 0.2)
            c.rotate_token(b, stale_for=0)
            self.assertTrue(self.wait_until(lambda: b.status().get("leader") == other.name,
                                            c.lease_s + 2),
                            "%s does not follow %s after its token was renewed: %r"
                            % (b.name, other.name, b.status()))
            self.assertTrue(b.alive())
            time.sleep(0.5)
            self.finish(c)


if __name__ == "__main__":
    main()
