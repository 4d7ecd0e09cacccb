#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Two processes with one identity (a StatefulSet pod force-deleted and
re-created elsewhere while the old one, on a partitioned node, still runs;
or a second daemon started by mistake with the same --id): never two claims.

The old daemon (pod-a) leads; it is partitioned from the API (hang), then a
new daemon with the same identity "pod-a" starts.  The new one finds the
Lease held by its own identity with a renewTime it never sent.  It must not
claim while the old one's claim may still run (until the old one's last renew
+ renew deadline, which the new one cannot know: so not before a lease
duration of silence, as for another holder).  Asserted: no overlap of the two
processes' WATCH claims (both clocks) or probes; the new one leads in the end.

(docs/design.md, "Identities": a Lease found held by our identity at start-up
is waited out like another holder's.)
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness.testing import FailoverTest, main, say, now  # noqa: E402


class Identity(FailoverTest):
    pods = 2

    def test_same_identity_restarted_elsewhere(self):
        # pod-b runs with pod-a's identity: the re-created pod-a
        with self.cluster(start=False, identities={"pod-b": "pod-a"}) as c:
            old, new = c.pods
            old.start()
            c.leader()
            time.sleep(0.6)
            t_p = now()
            c.fault(client=old.user, kind="partition", mode="hang")
            time.sleep(0.2)
            t_start = now()
            new.start()
            claim = self.wait_until(lambda: self.claims_of(c, new), c.lease_s * 2 + 5)
            self.assertTrue(claim, "the re-created pod never leads")
            # until the old claim has certainly ended by itself (renew deadline)
            time.sleep(max(0.5, t_p + c.renew_s + 0.5 - now()))
            end_old = self.last_claim_end(c, old)
            say("  old %s partitioned at 0; its claim ended at %.3f s; the new process with "
                "its identity started at %.3f s and claimed at %.3f s" % (
                    old.name, end_old - t_p, t_start - t_p, claim[0].start - t_p))
            self.finish(c)


if __name__ == "__main__":
    main()
