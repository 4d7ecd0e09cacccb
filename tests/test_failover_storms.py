#!/usr/bin/python3
"""Error storms for every client of the API server (fault client "*"), three
daemons, lease 3 s, renew deadline 2 s, retry 0.5 s.

- 500 storm of 0.8 s (shorter than renew deadline - retry): the leader rides
  it out; no leader change, its claim is continuous.
- 429 storm (Retry-After: 1) of 0.8 s: never two leaders; a leader after it.
- 503 storm of 3 s (longer than the renew deadline): the leader stops claiming
  no later than renew deadline after its last committed renew; nobody leads
  during the storm; a leader again within lease + 2 s after it.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness.testing import FailoverTest, main, say, now  # noqa: E402


class Storms(FailoverTest):
    def short_storm(self, c, code, length, **spec):
        old = c.leader()
        time.sleep(0.6)
        t0 = now()
        fid = c.fault(client="*", kind="status", code=code, **spec)
        time.sleep(length)
        c.clear_fault(fid)
        t1 = now()
        new, s = c.wait_leader(c.lease_s + 2, after=t1)
        self.assertIsNotNone(new, "no leader after the %d storm" % code)
        time.sleep(1.0)
        claims = [x for x in c.watch.claims("arrival") if x.start <= t1 + 1.0 and x.end >= t0]
        changed = len({x.pod for x in claims}) > 1 or len(claims) != 1
        say("  %d storm of %.1f s: leader before %s, after %s, claims during it: %s" % (
            code, length, old.name, new.name, claims))
        return old, new, changed

    def test_500_storm(self):
        with self.cluster() as c:
            old, new, changed = self.short_storm(c, 500, 0.8)
            self.assertEqual(old, new, "leader changed during a 0.8 s 500 storm")
            self.assertFalse(changed, "the leader's claim was interrupted by a 0.8 s storm")
            old, new, changed = self.short_storm(c, 429, 0.8, retry_after=1)
            self.finish(c)

    def test_long_503_storm(self):
        with self.cluster() as c:
            old = c.leader()
            time.sleep(0.6)
            t0 = now()
            fid = c.fault(client="*", kind="status", code=503)
            time.sleep(3.0)
            during = [p.name for p in c.leaders_now()]
            c.clear_fault(fid)
            t1 = now()
            self.assertEqual(during, [], "someone still leads after 3 s of 503s")
            log = [e for e in c.lease_log() if e["t"] < t0 + 0.5 and e["holder"] == old.name]
            t_renew = log[-1]["t"]
            end = self.last_claim_end(c, old, before=t0 + 0.1, measure="daemon")
            say("  503 storm: %s stopped claiming %.3f s after its last committed renew "
                "(renew deadline %.1f s)" % (old.name, end - t_renew, c.renew_s))
            self.assertLessEqual(end - t_renew, c.renew_s + 0.15)
            new, s = c.wait_leader(c.lease_s + 2, after=t1)
            self.assertIsNotNone(new, "no leader after the storm")
            say("  a leader again (%s) %.3f s after the storm" % (new.name, s.t1 - t1))
            time.sleep(0.5)
            self.finish(c)


if __name__ == "__main__":
    main()
