# SPDX-License-Identifier: MIT
"""What the tests/integration/test_failover_*.py files share: the binaries under test (from
the environment ctest sets: LE_DAEMON, LE_PROBE, optional LE_DAEMON_WRAPPER),
a Cluster factory and assertion helpers that print what they measured."""

import os
import shlex
import sys
import time
import unittest

from .cluster import Cluster, FAST, now
from . import monitor as M


def binaries():
    daemon = os.environ.get("LE_DAEMON")
    probe = os.environ.get("LE_PROBE")
    missing = [n for n, v in (("LE_DAEMON", daemon), ("LE_PROBE", probe))
               if not v or not os.access(v, os.X_OK)]
    if missing:
        sys.stderr.write("set %s to the leader-elector and leader-probe binaries\n"
                         % " and ".join(missing))
        sys.exit(2)
    return daemon, probe


def wrapper():
    return shlex.split(os.environ.get("LE_DAEMON_WRAPPER", ""))


def say(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


class FailoverTest(unittest.TestCase):
    timings = FAST
    pods = 3
    extra_args = ()

    def cluster(self, **kw):
        daemon, probe = binaries()
        kw.setdefault("pods", self.pods)
        kw.setdefault("timings", self.timings)
        kw.setdefault("extra_args", self.extra_args)
        kw.setdefault("wrapper", wrapper())
        kw.setdefault("log", say)
        kw.setdefault("election", self.id().split(".")[-1].replace("_", "-")[:60])
        return Cluster(daemon, probe, **kw)

    def finish(self, c, **kw):
        """Stops every daemon and asserts the whole run was safe."""
        rep = c.verify(**kw)
        say("  verified: no two leaders (probes at %s Hz; %s WATCH claims), terms never "
            "reused, clean exits" % (
                "/".join("%.0f" % v for v in rep["probe_rate_hz"].values()),
                rep["claims"].get("arrival", "no")))
        return rep

    # -- helpers ------------------------------------------------------------------

    def assert_handoff(self, h, bound, what="handoff"):
        self.assertIsNotNone(h.new, "%s: no new leader after %s of %s" % (what, h.sig, h.old.name))
        self.assertNotEqual(h.new, h.old)
        self.assertLess(h.probe_s, bound, "%s took %.3f s (bound %.1f s)" % (what, h.probe_s,
                                                                             bound))

    def claims_of(self, c, pod, measure="arrival"):
        return [x for x in c.watch.claims(measure) if x.pod == pod.name]

    def last_claim_end(self, c, pod, before=None, measure="arrival"):
        cs = [x for x in self.claims_of(c, pod, measure) if before is None or x.start < before]
        return cs[-1].end if cs else None

    def first_claim_start(self, c, pod, after, measure="arrival"):
        cs = [x for x in self.claims_of(c, pod, measure) if x.start >= after]
        return cs[0].start if cs else None

    def last_success(self, c, pod, before=None):
        ss = [s for s in c.probes[pod.name].snapshot() if s.rc == 0
              and (before is None or s.t0 < before)]
        return ss[-1] if ss else None

    def messages_of(self, c, pod, t_from, t_to=None):
        return [(t, m) for t, d, p, m in list(c.watch.messages)
                if p == pod.name and t >= t_from and (t_to is None or t <= t_to)]

    def wait_until(self, cond, timeout, step=0.02):
        deadline = now() + timeout
        while now() < deadline:
            v = cond()
            if v:
                return v
            time.sleep(step)
        return cond()


def main():
    unittest.main(verbosity=2)


__all__ = ["FailoverTest", "main", "say", "M", "now"]
