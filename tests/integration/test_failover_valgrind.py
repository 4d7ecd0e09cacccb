#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A short chaos run with every daemon under valgrind (LE_DAEMON_WRAPPER, set
by tests/failover.cmake: valgrind --error-exitcode=99 --leak-check=full):
four daemons (lease 3 s, renew deadline 2 s), SIGTERM of the leader, a 500
storm, SIGKILL of the next leader, and a follower cut off from the API.  Never
two leaders; every daemon that was not SIGKILLed exits 0 (valgrind exits 99
on any memory error or definite leak); no valgrind error in any log."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness.testing import FailoverTest, main, say, wrapper  # noqa: E402


class Valgrind(FailoverTest):
    def test_chaos_under_valgrind(self):
        if not wrapper():
            say("LE_DAEMON_WRAPPER is not set: running the daemons without valgrind")
        with self.cluster(pods=4, probe_hz=50) as c:
            a = c.leader(c.lease_s + 20)
            time.sleep(1.0)
            h = c.handoff(a, signal.SIGTERM)
            self.assert_handoff(h, 2.0, "graceful handoff under valgrind")
            self.assertEqual(a.wait(30), 0, "exit status of the SIGTERMed daemon under valgrind")
            fid = c.fault(client="*", kind="status", code=500)
            time.sleep(0.6)
            c.clear_fault(fid)
            time.sleep(0.5)
            b = c.leader()
            h2 = c.handoff(b, signal.SIGKILL)
            self.assert_handoff(h2, c.lease_s + 2.0, "failover after SIGKILL under valgrind")
            # a follower cut off from the API for a while must stay a follower
            f = [p for p in c.pods if p.alive() and p is not h2.new][0]
            fid = c.fault(client=f.user, kind="partition", mode="cut")
            time.sleep(1.0)
            c.clear_fault(fid)
            time.sleep(1.0)
            self.assertEqual([p.name for p in c.leaders_now()], [h2.new.name])
            self.finish(c)


if __name__ == "__main__":
    main()
