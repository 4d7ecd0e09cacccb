#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Humans touching the Lease, three daemons (lease 3 s, renew deadline 2 s),
with the real kubectl when it is installed (else direct API calls).

- The Lease deleted (`kubectl delete lease`): the leader stops claiming at
  once (< 1 s); a leader again (a new WATCH claim) with a term above the old
  one; the re-created Lease continues the terms (every acquisition by a
  daemon writes a term above every term seen before: the lease-log proves it).
- The Lease hand-edited to another holder (`kubectl get -o json` + edit +
  `kubectl replace`): the leader is demoted at once (< 1 s after the edit was
  committed); nobody claims until the intruder's lease has expired on the
  followers' clocks (>= lease after the edit); then a daemon takes over with
  a term above the intruder's.
- The holder cleared by hand (`kubectl patch`, no release marker) while the
  leader is cut off from the API and still claims: nobody takes it before
  the leader's lease has run out.
- The API server's storage restored from an older backup (resourceVersions
  go backwards): no loop of conflicts, a leader again.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness import KUBECTL  # noqa: E402
from harness.testing import FailoverTest, main, say, now  # noqa: E402


class LeaseEdits(FailoverTest):
    def test_lease_deleted(self):
        with self.cluster() as c:
            old = c.leader()
            time.sleep(0.6)
            term = old.status()["term"]
            t0 = now()
            how = c.delete_lease()
            t_del = [e for e in c.lease_log() if e["type"] == "delete"][0]["t"]
            # the old claim ends (the leader saw the deletion) ...
            self.assertTrue(self.wait_until(lambda: not old.status()["is_leader"], 2.0),
                            "%s still claims 2 s after its Lease was deleted" % old.name)
            end = self.last_claim_end(c, old, before=t_del)
            # ... and a new claim, by anybody, begins later, with a new term
            claim = self.wait_until(lambda: [x for x in c.watch.claims("arrival")
                                             if x.start > t_del], c.lease_s + 5)
            self.assertTrue(claim, "no leader again after the Lease was deleted")
            new = c.by_name[claim[0].pod]
            time.sleep(0.3)
            lease = c.lease()
            self.assertIsNotNone(lease, "nobody re-created the Lease")
            say("  Lease deleted (%s) while %s led term %d: its claim ended %.3f s after the "
                "delete; %s leads term %s %.3f s after it; Lease re-created with "
                "leaseTransitions %s" % (how, old.name, term, end - t_del, new.name,
                                         claim[0].term, claim[0].start - t_del,
                                         lease["spec"].get("leaseTransitions")))
            self.assertLess(end - t_del, 1.0, "the leader kept claiming a deleted Lease")
            self.assertGreater(claim[0].term, term, "term reused after the Lease was re-created")
            self.assertGreater(lease["spec"]["leaseTransitions"], term)
            self.assertEqual(lease["spec"]["holderIdentity"], new.name)
            self.assertGreaterEqual(t_del, t0 - 0.15)
            deletes = [e for e in c.lease_log() if e["type"] == "delete"]
            self.assertEqual(len(deletes), 1)
            self.finish(c)

    def test_lease_hand_edited(self):
        with self.cluster() as c:
            old = c.leader()
            time.sleep(0.6)
            term = old.status()["term"]
            t0 = now()
            how = c.replace_holder("intruder")
            log = c.lease_log()
            edit = [e for e in log if e["holder"] == "intruder"]
            self.assertEqual(len(edit), 1)
            t_edit = edit[0]["t"]
            self.assertGreaterEqual(t_edit, t0 - 0.15)
            # demoted at once
            self.assertTrue(self.wait_until(lambda: not old.status()["is_leader"], 1.0),
                            "%s still claims 1 s after the Lease was given to another holder"
                            % old.name)
            new, s = c.wait_leader(c.lease_s + 3, after=now())
            self.assertIsNotNone(new, "nobody took over the intruder's expired lease")
            time.sleep(0.5)
            for measure in ("arrival", "daemon"):
                end = self.last_claim_end(c, old, before=t_edit, measure=measure)
                starts = [x.start for x in c.watch.claims(measure) if x.start > t_edit]
                say("  [%s clock] Lease replaced by %s: %s stopped claiming %.3f s after the "
                    "edit; next claim %.3f s after it (lease %.1f s)" % (
                        measure, how, old.name, end - t_edit, starts[0] - t_edit, c.lease_s))
                self.assertLess(end - t_edit, 1.0, "not demoted at once")
                self.assertGreaterEqual(starts[0] - t_edit, c.lease_s - 0.15,
                                        "someone claimed before the intruder's lease expired")
            st = new.status()
            self.assertGreater(st["term"], term)
            self.assertGreater(c.lease()["spec"]["leaseTransitions"],
                               edit[0]["leaseTransitions"])
            self.finish(c)

    def test_holder_cleared_while_cut_off(self):
        """The leader is cut off from the API (its requests and watch hang) and an operator
        clears the holder (`kubectl patch ... holderIdentity: null`): that is no release, the
        cut-off leader still claims until its renew deadline. Nobody may take the Lease before
        the leader's lease has run out on the followers' clocks; then a daemon takes it."""
        with self.cluster() as c:
            old = c.leader()
            time.sleep(0.6)
            t_p = now()
            c.fault(client=old.user, kind="partition", mode="hang")
            time.sleep(0.1)
            t_clear = now()
            how = c.clear_holder()
            new, s = c.wait_leader(c.lease_s + 5, after=t_clear, exclude=[old])
            self.assertIsNotNone(new, "nobody took over after the holder was cleared")
            log = c.lease_log()
            renews = [e for e in log if e["holder"] == old.name and e["t"] < t_p + 0.5]
            self.assertTrue(renews)
            t_renew = renews[-1]["t"]
            end = self.last_claim_end(c, old, before=t_clear + c.lease_s)
            start = self.first_claim_start(c, new, t_clear)
            say("  holder cleared (%s) %.3f s after the cut-off leader's last renew; its claim "
                "ended %.3f s after that renew; %s claims %.3f s after it" % (
                    how, t_clear - t_renew, (end or 0) - t_renew, new.name,
                    (start or 0) - t_renew))
            self.assertIsNotNone(start)
            self.assertGreater(start, end, "%s claimed while the cut-off leader still did" %
                               new.name)
            self.assertGreaterEqual(start - t_renew, c.lease_s - 0.15,
                                    "the cleared holder was taken before its lease ran out")
            c.clear_fault()
            self.finish(c)

    def test_store_restored(self):
        """The API server's storage is restored from a backup taken 2 s earlier (etcd
        snapshot restore and an API server restart): resourceVersions go backwards. The
        daemons' writes on the newer revisions get 409 and their reads return older ones; they
        take the reads as the truth (logged), never loop on 409s, and elect a leader again."""
        with self.cluster() as c:
            c.leader()
            time.sleep(0.5)
            c.api.admin("POST", "/_admin/snapshot")
            time.sleep(2.0)  # renews move the resourceVersion on
            before = c.stats()
            t_r = now()
            c.api.admin("POST", "/_admin/restore")
            new, s = c.wait_leader(2 * c.lease_s + 5, after=t_r + 0.2)
            self.assertIsNotNone(new, "no leader after the restore")
            time.sleep(max(0.0, t_r + 5.0 - now()))
            after = c.stats()
            span = now() - t_r

            def count(st):
                n = 0
                for user, verbs in st.get("requests", {}).items():
                    if user.startswith("candidate"):
                        n += sum(sum(codes.values()) for codes in verbs.values())
                return n

            n = count(after) - count(before)
            logs = "".join(p.log() for p in c.pods)
            say("  store restored: %s leads %.3f s later; %d requests by the daemons in %.1f s"
                % (new.name, s.t1 - t_r, n, span))
            self.assertIn("resourceVersion went backwards", logs)
            # three daemons: renews every retry period, a few reads and watch restarts; a loop
            # of 409s would be thousands
            self.assertLess(n / span, 15.0, "%d requests in %.1f s after the restore" % (n, span))
            self.finish(c)


if __name__ == "__main__":
    if not KUBECTL:
        print("kubectl not installed: editing the Lease through the API directly")
    main()
