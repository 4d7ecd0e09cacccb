#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""--events as `kubectl describe` shows them: leader-elector daemons with
--events against the Kubernetes API test server (which stores Events and
selects them by involvedObject, as the real registry does).

`kubectl describe OBJECT` lists the Events whose involvedObject has the
object's name, namespace, kind AND uid (searchEvents in kubernetes
staging/src/k8s.io/kubectl/pkg/describe/describe.go, with client-go's
typed/core/v1/event_expansion.go GetFieldSelector): an Event without the
object's uid is never shown.  client-go's leader election records its Events
on the lock object with the ObjectMeta it last read (resourcelock's
LeaseLock / EndpointsLock RecordEvent; the MultiLock on both), reason
LeaderElection, message "<identity> became leader" / "<identity> stopped
leading".

- Lease lock: both messages on the Lease with its uid and a resourceVersion,
  found by the field selector `kubectl describe lease` uses (and shown by the
  real kubectl when installed);
- with $POD_UID (downward API metadata.uid) the same Events on the pod, found
  as `kubectl describe pod` finds them; without it no Event names the pod;
- --lock endpoints: on the Endpoints; --lock endpointsleases: on both
  objects (each Event created, none refused as a duplicate name).

usage: test_events_e2e.py DAEMON
"""
import os
import shutil
import subprocess
import sys
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_health_util import (ApiServer, Cluster, sock_request, wait_for, TempDir,  # noqa: E402
                              failed)

DAEMON = None
KUBECTL = shutil.which("kubectl")
NS = "default"
WHOLE_SECONDS = ["--retry-period", "1s"]  # what the Endpoints locks can store
LEASE_API = "coordination.k8s.io/v1"
PATHS = {"Lease": "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s",
         "Endpoints": "/api/v1/namespaces/%s/endpoints/%s",
         "Pod": "/api/v1/namespaces/%s/pods/%s"}


class Events(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer(quiet=True)
        cls.api.start()
        cls.n = 0
        cls.kdir = TempDir()
        cls.kubeconfig = os.path.join(cls.kdir.name, "kubeconfig")
        open(cls.kubeconfig, "w").close()

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()
        cls.kdir.cleanup()

    def setUp(self):
        Events.n += 1
        self.tmp = TempDir()
        self.name = "ev-%d" % Events.n
        self.cluster = Cluster(DAEMON, self.api, self.name, self.tmp.name)

    def tearDown(self):
        self.cluster.stop_all()
        for d in self.cluster.daemons:  # the asan preset's daemon: no sanitizer report
            self.assertNotRegex(d.log(), r"AddressSanitizer|LeakSanitizer|runtime error:",
                                d.name)
        if failed(self):
            st, evs = self.api.json("GET", "/api/v1/namespaces/%s/events" % NS)
            for e in evs.get("items", []):
                sys.stderr.write("event: %s %s\n" % (e.get("involvedObject"), e.get("message")))
            for d in self.cluster.daemons:
                sys.stderr.write("---- %s\n%s" % (d.name, d.log()[-3000:]))
        self.tmp.cleanup()

    # -- helpers ------------------------------------------------------------------

    def obj(self, kind, name):
        st, o = self.api.json("GET", PATHS[kind] % (NS, name))
        self.assertEqual(st, 200, o)
        return o

    def make_pod(self, name, node):
        """A Pod object, so that it has a uid (what the downward API gives as
        metadata.uid) and `kubectl describe pod` can find it."""
        st, o = self.api.json("POST", "/api/v1/namespaces/%s/pods" % NS, {
            "metadata": {"name": name + "-" + self.name, "labels": {"app": self.name}},
            "spec": {"nodeName": node, "containers": [{"name": "leader-elector",
                                                        "image": "leader-elector"}]},
            "status": {"phase": "Running"}})
        self.assertEqual(st, 201, o)
        return o

    def described(self, kind, name):
        """The Events `kubectl describe` lists for the object as stored now:
        field selector involvedObject.name, .namespace, .kind and .uid."""
        o = self.obj(kind, name)
        sel = ",".join("involvedObject.%s=%s" % kv for kv in (
            ("name", name), ("namespace", NS), ("kind", kind), ("uid", o["metadata"]["uid"])))
        st, lst = self.api.json("GET", "/api/v1/namespaces/%s/events?fieldSelector=%s&limit=500"
                                % (NS, urllib.parse.quote(sel)))
        self.assertEqual(st, 200, lst)
        return o, lst["items"]

    def messages(self, kind, name):
        return [e["message"] for e in self.described(kind, name)[1]]

    def kubectl_describe(self, kind, name):
        cmd = [KUBECTL, "--server", self.api.url, "--certificate-authority", self.api.ca,
               "--token", self.api.token, "--cache-dir", os.path.join(self.kdir.name, "kcache"),
               "-n", NS, "describe", kind, name]
        env = dict(os.environ, KUBECONFIG=self.kubeconfig, HOME=self.kdir.name)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                           timeout=60, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def wait_messages(self, kind, name, want, timeout=8):
        ok = wait_for(lambda: all(m in self.messages(kind, name) for m in want), timeout)
        self.assertTrue(ok, (kind, name, want, self.messages(kind, name)))

    def check_event(self, e, kind, name, api_version, obj):
        io = e["involvedObject"]
        self.assertEqual((io["kind"], io["name"], io["namespace"], io.get("apiVersion")),
                         (kind, name, NS, api_version), e)
        self.assertEqual(io["uid"], obj["metadata"]["uid"], e)
        if kind != "Pod":
            # the object as the poster last saw it: a resourceVersion it had
            self.assertRegex(io.get("resourceVersion", ""), r"^[1-9][0-9]*$", e)
            self.assertLessEqual(int(io["resourceVersion"]),
                                 int(obj["metadata"]["resourceVersion"]), e)
        self.assertEqual((e["reason"], e["type"]), ("LeaderElection", "Normal"), e)
        self.assertEqual(e["source"]["component"], "leader-elector", e)

    def start_pair(self, *extra, pod_uid=True):
        pods = {}
        for name, idx, node in (("pod-a", 1, "node-a"), ("pod-b", 2, "node-b")):
            p = self.make_pod(name, node)
            pods[name] = p
            env = {"POD_NAME": p["metadata"]["name"]}
            if pod_uid:
                env["POD_UID"] = p["metadata"]["uid"]
            self.cluster.start(name, idx, "--events", *extra, env=env)
        leader = self.cluster.wait_leader(timeout=15)
        self.assertIsNotNone(leader)
        other = [d for d in self.cluster.daemons if d is not leader][0]
        return leader, other, pods

    def resign(self, leader, other):
        rep = sock_request(leader.sock, "RESIGN", timeout=5)
        self.assertEqual(rep and rep.get("type"), "ok", rep)
        self.assertTrue(wait_for(other.is_leader, timeout=10))

    # -- tests --------------------------------------------------------------------

    def test_lease_and_pod(self):
        leader, other, pods = self.start_pair("--resign-holdoff", "5s")
        became = "%s became leader" % leader.name
        self.wait_messages("Lease", self.name, [became])
        lease, evs = self.described("Lease", self.name)
        for e in evs:
            self.check_event(e, "Lease", self.name, LEASE_API, lease)
        # the pod's uid came from $POD_UID: `kubectl describe pod` finds them too
        lpod = pods[leader.name]["metadata"]["name"]
        self.wait_messages("Pod", lpod, [became])
        pod, pevs = self.described("Pod", lpod)
        for e in pevs:
            self.check_event(e, "Pod", lpod, "v1", pod)
        # a handoff (RESIGN: the daemon stays up and its Events go out)
        self.resign(leader, other)
        self.wait_messages("Lease", self.name, [became, "%s stopped leading" % leader.name,
                                                 "%s became leader" % other.name])
        self.wait_messages("Pod", lpod, [became, "%s stopped leading" % leader.name])
        opod = pods[other.name]["metadata"]["name"]
        self.wait_messages("Pod", opod, ["%s became leader" % other.name])
        self.assertNotIn("%s became leader" % other.name, self.messages("Pod", lpod))
        lease, evs = self.described("Lease", self.name)
        for e in evs:
            self.check_event(e, "Lease", self.name, LEASE_API, lease)
        sys.stderr.write("Lease events: %s\n" % [e["message"] for e in evs])
        if KUBECTL:
            out = self.kubectl_describe("lease", self.name)
            sys.stderr.write(out)
            self.assertIn("Events:", out)
            for m in (became, "%s stopped leading" % leader.name,
                      "%s became leader" % other.name):
                self.assertRegex(out, r"Normal\s+LeaderElection\s+.*leader-elector\s+" + m)
            out = self.kubectl_describe("pod", lpod)
            self.assertRegex(out, r"Normal\s+LeaderElection\s+.*leader-elector\s+" + became)
        else:
            sys.stderr.write("kubectl not installed: the Events were selected as it does\n")

    def test_without_pod_uid_no_pod_event(self):
        leader, other, pods = self.start_pair(pod_uid=False)
        became = "%s became leader" % leader.name
        self.wait_messages("Lease", self.name, [became])
        time.sleep(0.5)
        st, lst = self.api.json("GET", "/api/v1/namespaces/%s/events?fieldSelector=%s" % (
            NS, urllib.parse.quote("involvedObject.kind=Pod")))
        names = {p["metadata"]["name"] for p in pods.values()}
        self.assertEqual([e for e in lst["items"] if e["involvedObject"]["name"] in names], [])

    def test_endpoints_lock(self):
        leader, other, pods = self.start_pair("--lock", "endpoints", *WHOLE_SECONDS)
        became = "%s became leader" % leader.name
        self.wait_messages("Endpoints", self.name, [became])
        ep, evs = self.described("Endpoints", self.name)
        for e in evs:
            self.check_event(e, "Endpoints", self.name, "v1", ep)
        if KUBECTL:
            out = self.kubectl_describe("endpoints", self.name)
            self.assertRegex(out, r"Normal\s+LeaderElection\s+.*leader-elector\s+" + became)

    def test_endpointsleases_lock(self):
        leader, other, pods = self.start_pair("--lock", "endpointsleases", *WHOLE_SECONDS)
        became = "%s became leader" % leader.name
        self.wait_messages("Endpoints", self.name, [became])
        self.wait_messages("Lease", self.name, [became])
        ep, evs = self.described("Endpoints", self.name)
        for e in evs:
            self.check_event(e, "Endpoints", self.name, "v1", ep)
        lease, evs = self.described("Lease", self.name)
        for e in evs:
            self.check_event(e, "Lease", self.name, LEASE_API, lease)
        # one transition, three objects (two of the same name) at one instant: no Event
        # refused as a duplicate
        self.assertNotIn("cannot post a Kubernetes Event", leader.log())
        lpod = pods[leader.name]["metadata"]["name"]
        self.wait_messages("Pod", lpod, [became])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    DAEMON = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
