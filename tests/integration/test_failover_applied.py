#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A renew the API server applied but answered 500 with Retry-After (etcd
committed it, the API server had stopped waiting): the leader must not notice
anything worse than one renew whose outcome is unknown.

One daemon leads; the next renew write it sends (PUT of the Lease, or of the
Endpoints with --lock endpoints / endpointsleases) is carried out by the test
server and then answered "500 Internal error" with "Retry-After: 1" (fault kind
applied_status, once). A client that retries that write sends the same
resourceVersion again and gets 409 Conflict for the resourceVersion its own
write moved: the daemon would then take its own record for someone else's
(a conflict, or "duplicate identity" and no competing for a lease duration).

Asserted, for each lock type, over a lease duration and more after the fault:
- the faulted write was not sent again: exactly one 500 and no 409 among the
  daemon's updates; its following renews succeed;
- the daemon's claim (WATCH, both clocks) and its probe stay continuous: no
  gap at all, and it never says "stopped leading";
- "duplicate identity" is never logged.
The Lease lock (timings 3 s / 2 s / 0.5 s) also checks in the Lease log that
the faulted renew committed and that the next committed renew of the daemon
came within Retry-After + retry period (+ 0.5 s).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness.testing import FailoverTest, main, say, now  # noqa: E402

RETRY_AFTER = 1


class AppliedButFailed(FailoverTest):
    pods = 1

    def run_lock(self, lock, resource, timings):
        with self.cluster(timings=timings, extra_args=("--lock", lock)) as c:
            pod = c.leader()
            time.sleep(1.2)  # a few renews
            c.api.admin("DELETE", "/_admin/stats")
            t0 = now()
            fid = c.fault(client=pod.user, kind="applied_status", code=500,
                          retry_after=RETRY_AFTER, verbs=["update"], resources=[resource],
                          count=1)
            used = self.wait_until(lambda: not any(f["id"] == fid for f in
                                                   c.api.admin("GET", "/_admin/faults")["items"]),
                                   5.0)
            t_f = now()
            self.assertTrue(used, "the daemon sent no %s update within 5 s" % resource)
            # Long enough for a duplicate identity's back-off (a lease duration) to show.
            time.sleep(c.lease_s + 1.0)
            t_end = now()
            st = pod.status()
            updates = c.stats()["requests"].get(pod.user, {}).get("update", {})
            log = pod.log()
            say("  --lock %s: fault on the %s update used %.3f s after it was installed; "
                "the daemon's updates since: %s; leader at the end: %s" % (
                    lock, resource, t_f - t0, updates, st["is_leader"]))

            self.assertNotIn("duplicate identity", log,
                             "the daemon took its own applied write for a duplicate's")
            self.assertEqual(updates.get("500"), 1, "the faulted update was answered %s"
                             % updates)
            self.assertNotIn("409", updates, "the applied write was sent again (409 Conflict "
                             "for the resourceVersion it moved itself)")
            self.assertGreaterEqual(updates.get("200", 0), 2, "no successful renew after it")
            self.assertTrue(st["is_leader"], "not leading a lease duration after the fault")
            stopped = [ln for ln in log.splitlines() if "stopped leading" in ln]
            self.assertEqual(stopped, [], "the leader stopped leading: %s" % stopped)

            # A continuous claim across the fault, on both clocks, and the probe.
            for measure in ("arrival", "daemon"):
                cs = [x for x in self.claims_of(c, pod, measure)
                      if x.end > t0 - 0.5 and x.start < t_end]
                say("    [%s clock] claims around the fault: %s" % (measure, cs))
                self.assertEqual(len(cs), 1, "the claim was interrupted (%s clock): %s"
                                 % (measure, cs))
                self.assertLessEqual(cs[0].start, t0 - 0.5)
                self.assertGreaterEqual(cs[0].end, t_end - 0.05)
            fails = [s for s in c.probes[pod.name].snapshot()
                     if t0 <= s.t0 and s.t1 <= t_end and s.rc != 0]
            self.assertEqual(fails, [], "the probe failed during the fault")

            if resource == "leases":
                renews = [e for e in c.lease_log()
                          if e["type"] == "update" and e["client"] == pod.user
                          and e["holder"] == pod.name and e["t"] >= t0 - 0.05]
                self.assertGreaterEqual(len(renews), 2)
                gap = renews[1]["t"] - renews[0]["t"]
                say("    the faulted renew committed %.3f s after the fault was installed; "
                    "the next committed renew %.3f s later (Retry-After %d s, retry %.1f s)"
                    % (renews[0]["t"] - t0, gap, RETRY_AFTER, c.retry_s))
                self.assertLessEqual(renews[0]["t"], t_f + 0.05,
                                     "the faulted renew is not in the Lease log")
                self.assertLess(gap, RETRY_AFTER + c.retry_s + 0.5)
            self.finish(c)

    def test_lease(self):
        self.run_lock("leases", "leases", self.timings)

    def test_endpoints(self):
        # The Endpoints record stores whole seconds: a retry period of at least 1 s.
        self.run_lock("endpoints", "endpoints", ("4s", "3s", "1s"))

    def test_endpointsleases_primary(self):
        self.run_lock("endpointsleases", "endpoints", ("4s", "3s", "1s"))

    def test_endpointsleases_secondary(self):
        self.run_lock("endpointsleases", "leases", ("4s", "3s", "1s"))


if __name__ == "__main__":
    main()
