#!/usr/bin/python3
# SPDX-License-Identifier: MIT
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
- A slow WATCH reader of the leader (a line unread when RESIGN comes) and a
  STATUS answer given just before RESIGN: no other pod leads while either
  still claims.
"""

import json
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness.testing import FailoverTest, main, say, now  # noqa: E402
from harness.monitor import boot_minus_mono  # noqa: E402

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

    def _promise_end_boot(self, msg):
        """CLOCK_BOOTTIME seconds until which a status line claims leadership (0: no claim)."""
        if not msg.get("is_leader") or "boottime_ms" not in msg:
            return 0.0
        return (msg["boottime_ms"] + msg["valid_ms"]) / 1000.0

    def _slow_reader(self, resume):
        """A WATCH client of the leader pauses (a GC pause: a renew line arrives and stays
        unread), RESIGN is sent meanwhile. No other pod may lead while a line this client has
        not read still claims: the "not leader" line is appended behind the unread one, and the
        release waits until the client has read it (resume: it reads again 1.3 s after its
        last read) or until the claim of its unread line ran out (it never reads again)."""
        with self.cluster(pods=2, timings=("4s", "3s", "1s"),
                          extra_args=("--resign-holdoff", "3s")) as c:
            a = c.leader()
            b = [p for p in c.pods if p is not a][0]
            slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            slow.connect(a.socket)
            slow.sendall(b"WATCH\n")
            slow.settimeout(2.0)
            buf = b""
            while b"\n" not in buf:
                buf += slow.recv(4096)
            first = json.loads(buf.split(b"\n", 1)[0])
            self.assertTrue(first["is_leader"], first)
            buf = buf.split(b"\n", 1)[1]
            slow.setblocking(False)

            def drain():
                nonlocal buf
                try:
                    while True:
                        chunk = slow.recv(65536)
                        if not chunk:
                            break
                        buf += chunk
                except BlockingIOError:
                    pass

            t_read = now()
            time.sleep(1.1)  # a renew line (R = 1 s) arrives and stays unread
            t_resign = now()
            reply = a.resign()
            self.assertEqual(reply.get("type"), "ok", reply)
            time.sleep(max(0.0, t_read + 1.3 - now()))
            t_drain = None
            if resume:
                t_drain = now()
                drain()
            new, s = c.wait_leader(c.lease_s + 3, after=t_resign, exclude=[a])
            self.assertIs(new, b, "no handoff after RESIGN")
            drain()
            slow.close()
            lines = [json.loads(x) for x in buf.split(b"\n") if x.strip()]
            self.assertTrue(lines, "no line reached the slow client")
            newest = lines[-1]
            b_leads_boot = s.t1 + boot_minus_mono()
            end = self._promise_end_boot(newest)
            say("  slow reader (%s): %d line(s) after the first; newest is_leader=%s; %s leads "
                "%.3f s after RESIGN%s" % (
                    "reads again at 1.3 s" if resume else "never reads again", len(lines),
                    newest.get("is_leader"), b.name, s.t1 - t_resign,
                    ", %.3f s after the client read" % (s.t1 - t_drain) if resume else ""))
            self.assertFalse(newest.get("is_leader"), newest)
            self.assertLessEqual(end, b_leads_boot,
                                 "the slow client's newest line %r still claimed %.3f s after "
                                 "%s led" % (newest, end - b_leads_boot, b.name))
            if resume:
                self.assertLess(s.t1 - t_drain, 1.0, "the release waited after the client read")
            self.finish(c)

    def test_slow_watch_reader(self):
        self._slow_reader(resume=True)

    def test_stuck_watch_reader(self):
        self._slow_reader(resume=False)

    def test_status_promise(self):
        """A STATUS answer is a promise for its valid_ms: a release waits until every leader
        STATUS answer handed out has run out (they are capped short for that)."""
        with self.cluster(pods=2, timings=("4s", "3s", "1s"),
                          extra_args=("--resign-holdoff", "3s")) as c:
            a = c.leader()
            time.sleep(0.3)
            st = a.status()
            t_resign = now()
            reply = a.resign()
            self.assertEqual(reply.get("type"), "ok", reply)
            self.assertTrue(st["is_leader"], st)
            new, s = c.wait_leader(c.lease_s + 3, after=t_resign, exclude=[a])
            self.assertIsNotNone(new, "no handoff after RESIGN")
            end = self._promise_end_boot(st)
            b_leads_boot = s.t1 + boot_minus_mono()
            say("  STATUS valid_ms=%d just before RESIGN; %s leads %.3f s after RESIGN" % (
                st["valid_ms"], new.name, s.t1 - t_resign))
            self.assertLessEqual(end, b_leads_boot,
                                 "a STATUS answer still claimed %.3f s after %s led" % (
                                     end - b_leads_boot, new.name))
            self.finish(c)


if __name__ == "__main__":
    main()
