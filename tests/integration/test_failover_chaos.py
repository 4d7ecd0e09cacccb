#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Randomized chaos, five daemons (lease 3 s, renew deadline 2 s, retry 0.5 s;
with LE_CHAOS_LOCK=endpoints|endpointsleases: --lock that, lease 4 s, renew
3 s, retry 1 s) for LE_CHAOS_SECONDS (default 20 s): every 0.6-1.6 s one of
SIGTERM of the leader, SIGKILL of a random pod, SIGSTOP of the leader for
0.5-4.5 s, a partition (hang or cut) of a random pod for 0.5-4 s, a 500 or
503 storm for everyone of 0.3-2.5 s, RESIGN of the leader; dead pods come
back (their ReplicaSet restarts them).  Never two leaders on any measure,
terms never reused, and a leader again within lease + 4 s once the chaos
stops (2 x lease + 4 s with the endpoints locks).  The seed is printed
(LE_CHAOS_SEED=N replays a run's choices; timings still vary)."""

import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # harness/
from harness.testing import FailoverTest, main, say, now  # noqa: E402

DURATION = 20.0


LOCK = os.environ.get("LE_CHAOS_LOCK", "leases")
DURATION = float(os.environ.get("LE_CHAOS_SECONDS", DURATION))


class Chaos(FailoverTest):
    pods = 5
    extra_args = ("--resign-holdoff", "1s", "--lock", LOCK)
    # The Endpoints record stores whole seconds: a retry period of at least 1 s.
    timings = FailoverTest.timings if LOCK == "leases" else ("4s", "3s", "1s")

    def test_chaos(self):
        seed = int(os.environ.get("LE_CHAOS_SEED") or time.time_ns() % 1000000)
        rnd = random.Random(seed)
        say("  seed %d, --lock %s, %.0f s" % (seed, LOCK, DURATION))
        with self.cluster() as c:
            c.leader()
            timers = []  # (due, description, fn)
            t_end = now() + DURATION
            actions = 0

            def later(delay, what, fn):
                timers.append((now() + delay, what, fn))

            def leader_now():
                ls = c.leaders_now(fresh=0.3)
                return ls[0] if len(ls) == 1 else None

            while now() < t_end:
                time.sleep(rnd.uniform(0.6, 1.6))
                for item in sorted(timers, key=lambda x: x[0]):
                    if item[0] <= now():
                        timers.remove(item)
                        item[2]()
                for p in c.pods:  # restart the dead
                    if not p.alive() and p.rc is None and p.proc is not None:
                        p.rc = p.proc.poll()
                    if not p.alive() and not any(w[1] == "restart " + p.name for w in timers):
                        later(rnd.uniform(0.2, 1.5), "restart " + p.name, p.start)
                alive = [p for p in c.pods if p.alive()
                         and not (p.stopped_windows and p.stopped_windows[-1][1] is None)]
                if not alive:
                    continue
                kind = rnd.choice(["term", "kill", "stop", "partition", "storm", "resign"])
                lead = leader_now()
                actions += 1
                if kind == "term" and lead:
                    say("  %5.1f SIGTERM %s (leader)" % (DURATION - (t_end - now()), lead.name))
                    lead.signal(signal.SIGTERM)
                elif kind == "kill":
                    v = rnd.choice(alive)
                    say("  %5.1f SIGKILL %s" % (DURATION - (t_end - now()), v.name))
                    v.signal(signal.SIGKILL)
                elif kind == "stop" and lead:
                    d = rnd.uniform(0.5, 4.5)
                    say("  %5.1f SIGSTOP %s (leader) for %.1f s" % (
                        DURATION - (t_end - now()), lead.name, d))
                    lead.signal(signal.SIGSTOP)
                    later(d, "cont " + lead.name,
                          lambda p=lead: p.alive() and p.signal(signal.SIGCONT))
                elif kind == "partition":
                    v = rnd.choice(alive)
                    d = rnd.uniform(0.5, 4.0)
                    mode = rnd.choice(["hang", "cut"])
                    say("  %5.1f partition (%s) %s for %.1f s" % (
                        DURATION - (t_end - now()), mode, v.name, d))
                    fid = c.fault(client=v.user, kind="partition", mode=mode)
                    later(d, "heal", lambda f=fid: c.clear_fault(f))
                elif kind == "storm":
                    d = rnd.uniform(0.3, 2.5)
                    code = rnd.choice([500, 503])
                    say("  %5.1f %d storm for %.1f s" % (DURATION - (t_end - now()), code, d))
                    fid = c.fault(client="*", kind="status", code=code)
                    later(d, "calm", lambda f=fid: c.clear_fault(f))
                elif kind == "resign" and lead:
                    say("  %5.1f RESIGN %s (leader)" % (DURATION - (t_end - now()), lead.name))
                    try:
                        lead.resign(2.0)
                    except Exception as e:
                        say("        (RESIGN failed: %s)" % e)
            # the end of the chaos: heal everything, resume everyone
            for item in sorted(timers, key=lambda x: x[0]):
                if not item[1].startswith("restart"):
                    item[2]()
            c.clear_fault()
            for p in c.pods:
                if p.stopped_windows and p.stopped_windows[-1][1] is None and p.alive():
                    p.signal(signal.SIGCONT)
                if not p.alive():
                    p.start()
            t_calm = now()
            # the endpoints locks: whole seconds and (MultiLock) two objects to write
            bound = c.lease_s + 4 if LOCK == "leases" else 2 * c.lease_s + 4
            new, s = c.wait_leader(bound, after=t_calm)
            self.assertIsNotNone(new, "no leader within %.0f s after the chaos stopped" % bound)
            claims = c.watch.claims("arrival")
            say("  %d actions; %d WATCH claims; a leader (%s) %.2f s after the chaos" % (
                actions, len(claims), new.name, s.t1 - t_calm))
            time.sleep(0.5)
            # SIGKILLed incarnations have no exit status to check; the rest must exit 0
            self.finish(c)


if __name__ == "__main__":
    main()
