#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""EndpointSlice mode as kube-proxy sees it: which endpoints each node
programs for the Service, computed from the slice the daemons wrote to the
Kubernetes API test server, for a Service with the default traffic policies
and with externalTrafficPolicy / internalTrafficPolicy Local.

kube-proxy counts an endpoint as local to its node only when the endpoint's
nodeName is that node's name; with a Local policy a node forwards only to its
local endpoints, so a slice without nodeName drops all such traffic on every
node.  The daemon writes nodeName from $NODE_NAME (downward API
spec.nodeName); the example manifest must set it.

- the leader's node gets the leader's address under every policy, another
  node under Cluster policies only; after a handoff, the new leader's node;
- negative control: without $NODE_NAME a Local policy gets nothing on the
  leader's node (what the checks above must catch), and the daemon warns;
- the environment of the shipped example (deploy/examples/warm-standby-endpointslice,
  rendered with kubectl, downward API resolved for a pod on a node) gives a
  slice that serves Local policies (skipped without kubectl);
- $NODE_ZONE becomes the endpoint's zone; an invalid one stops the daemon at
  start; a slice listing the leader without its nodeName (as written by a
  daemon started without $NODE_NAME) is rewritten at the leader's next
  re-read.

usage: test_endpointslice_topology.py DAEMON [SOURCE_DIR]
"""
import copy
import os
import shutil
import signal
import subprocess
import sys
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_health_util import (ApiServer, Cluster, SliceMonitor, slice_path,  # noqa: E402
                              now, wait_for, TempDir, clean_env, failed)

DAEMON = None
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
KUBECTL = shutil.which("kubectl")
EPS = ["--endpointslice", "my-svc", "--endpoint-port", "http:8080/TCP"]
NODE_OF = {"pod-a": "node-a", "pod-b": "node-b"}
NODES = ("node-a", "node-b")


# ---- kube-proxy's view of a Service's EndpointSlices -------------------------
#
# A model of what kube-proxy programs on one node, after kubernetes
# pkg/proxy/endpointslicecache.go (endpointSliceCacheKeys,
# endpointInfoByServicePort, addEndpoints, isLocal) and pkg/proxy/topology.go
# (CategorizeEndpoints, with no topology hints: the leader's slice has none).

def service(name="my-svc", ports=(("http", 80, "TCP"),), itp="Cluster", etp="Cluster",
            svc_type="LoadBalancer"):
    """A selector-less Service (its traffic policies as the API defaults them:
    Cluster)."""
    return {"metadata": {"name": name, "namespace": "default"},
            "spec": {"type": svc_type, "internalTrafficPolicy": itp,
                     "externalTrafficPolicy": etp,
                     "ports": [{"name": n, "port": p, "protocol": pr} for n, p, pr in ports]}}


def programmed(slices, svc, node, traffic, port_name="http"):
    """The endpoint addresses kube-proxy on `node` programs for traffic
    ("internal": to the ClusterIP, internalTrafficPolicy; "external": to a
    NodePort / load balancer, externalTrafficPolicy) to the Service port
    `port_name`."""
    ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
    proto = {p["name"]: p.get("protocol", "TCP") for p in svc["spec"]["ports"]}[port_name]
    eps = []
    for sl in slices:
        meta = sl.get("metadata") or {}
        # endpointSliceCacheKeys: the Service is the kubernetes.io/service-name label
        if (meta.get("labels") or {}).get("kubernetes.io/service-name") != name or \
                meta.get("namespace", "default") != ns:
            continue
        for port in sl.get("ports") or []:
            # endpointInfoByServicePort: the API defaults a missing name to "" and
            # protocol to TCP (SetDefaults_EndpointPort, pkg/apis/discovery/v1/defaults.go);
            # a port without a number is ignored; the Service port is matched by name and
            # protocol (ServicePortName)
            if not port.get("port") or port.get("name", "") != port_name or \
                    port.get("protocol", "TCP") != proto:
                continue
            for ep in sl.get("endpoints") or []:
                if not ep.get("addresses"):
                    continue  # "Ignoring invalid endpoint port with empty address"
                cond = ep.get("conditions") or {}
                eps.append({
                    "ip": ep["addresses"][0],
                    # addEndpoints / isLocal: local only with a nodeName equal to this node's
                    "local": ep.get("nodeName") is not None and ep["nodeName"] == node,
                    "ready": cond.get("ready") is None or cond["ready"] is True,
                    "serving": cond.get("serving") is None or cond["serving"] is True,
                    "terminating": cond.get("terminating") is True,
                })
    spec = svc["spec"]
    if traffic == "internal":
        local = spec.get("internalTrafficPolicy", "Cluster") == "Local"
    else:
        local = spec.get("externalTrafficPolicy", "Cluster") == "Local"
    # CategorizeEndpoints: Cluster: the ready endpoints, else the serving-terminating ones;
    # Local: the local ready ones, else the local serving-terminating ones, else none
    if local:
        chosen = [e for e in eps if e["local"] and e["ready"]] or \
            [e for e in eps if e["local"] and e["serving"] and e["terminating"]]
    else:
        chosen = [e for e in eps if e["ready"]] or \
            [e for e in eps if e["serving"] and e["terminating"]]
    return sorted({e["ip"] for e in chosen})


POLICIES = {
    "Cluster": service(),
    "internalTrafficPolicy: Local": service(itp="Local"),
    "externalTrafficPolicy: Local": service(etp="Local"),
}


def view(api, election, svc=None):
    """{policy: {node: {"internal": [...], "external": [...]}}} from the slice
    as stored now."""
    st, obj = api.json("GET", slice_path(election))
    slices = [obj] if st == 200 else []
    out = {}
    for pol, s in ([("given", svc)] if svc else POLICIES.items()):
        out[pol] = {n: {t: programmed(slices, s, n, t) for t in ("internal", "external")}
                    for n in NODES}
    return out


def serves_local(v, node, ip):
    """The leader's node forwards both kinds of traffic to the leader under a
    Local policy."""
    return all(v[p][node][t] == [ip] for p in v if "Local" in p for t in ("internal",
                                                                            "external"))


# ---- the shipped example's environment ------------------------------------------

def render_example():
    """The sidecar of deploy/examples/warm-standby-endpointslice as rendered
    (kubectl kustomize), its pod spec and its Service; None without kubectl."""
    if not KUBECTL:
        return None
    import test_deploy_manifests as dm
    objs = dm.render(KUBECTL, SOURCE_DIR, "examples/warm-standby-endpointslice")
    dep = [o for o in objs if o["kind"] == "Deployment"][0]
    spec = dep["spec"]["template"]["spec"]
    side = [c for c in spec.get("initContainers", []) + spec["containers"]
            if c["image"].split(":")[0].rsplit("/", 1)[-1] == "leader-elector"][0]
    flags = [a for a in side.get("args", [])
             if a.startswith("--endpointslice=") or a.startswith("--endpoint-port=")]
    eps = [a.split("=", 1)[1] for a in flags if a.startswith("--endpointslice=")][0]
    svc = copy.deepcopy([o for o in objs if o["kind"] == "Service"
                         and o["metadata"]["name"] == eps][0])
    svc["metadata"]["namespace"] = "default"
    return side, spec, flags, svc


def downward_env(side, spec, pod_name, pod_ip, node, pod_uid):
    """The sidecar's environment as the kubelet sets it for a pod on `node`:
    literal values, and each downward API fieldRef resolved."""
    pod = {"metadata.name": pod_name, "metadata.namespace": "default",
           "metadata.uid": pod_uid, "status.podIP": pod_ip, "spec.nodeName": node,
           "spec.serviceAccountName": spec.get("serviceAccountName", "default"),
           "status.hostIP": "192.0.2.1"}
    env = {}
    for e in side.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
            continue
        ref = (e.get("valueFrom") or {}).get("fieldRef")
        if not ref or ref["fieldPath"] not in pod:
            raise AssertionError("example env %s: not modelled here: %s" % (e["name"], e))
        env[e["name"]] = pod[ref["fieldPath"]]
    return env


class Topology(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer(quiet=True)
        cls.api.start()
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()

    def setUp(self):
        Topology.n += 1
        self.tmp = TempDir()
        self.name = "topo-%d" % Topology.n
        self.cluster = Cluster(DAEMON, self.api, self.name, self.tmp.name)
        self.mon = SliceMonitor(self.api, self.name, hz=20)

    def tearDown(self):
        self.cluster.stop_all()
        for d in self.cluster.daemons:  # the asan preset's daemon: no sanitizer report
            self.assertNotRegex(d.log(), r"AddressSanitizer|LeakSanitizer|runtime error:",
                                d.name)
        self.mon.stop()
        if failed(self):
            sys.stderr.write("slice history: %s\n" % self.mon.history())
            st, obj = self.api.json("GET", slice_path(self.name))
            sys.stderr.write("slice: %s\n" % obj)
            for d in self.cluster.daemons:
                sys.stderr.write("---- %s\n%s" % (d.name, d.log()[-4000:]))
        self.tmp.cleanup()

    def start_pair(self, env_of=None, flags=EPS):
        """pod-a on node-a, pod-b on node-b; env_of(name, ip): their extra env."""
        ds = []
        for name, idx in (("pod-a", 1), ("pod-b", 2)):
            ip = "127.0.0.%d" % (10 + idx)
            env = env_of(name, ip) if env_of else None
            ds.append(self.cluster.start(name, idx, *flags, ip=ip, env=env))
        leader = self.cluster.wait_leader(timeout=15)
        self.assertIsNotNone(leader)
        other = ds[1] if leader is ds[0] else ds[0]
        self.assertTrue(self.mon.wait([leader.ip], timeout=5), self.mon.history())
        return leader, other

    def check_views(self, leader, svc=None):
        """Every node programs the leader under Cluster policies; under Local
        ones only the leader's node does (and it must)."""
        v = view(self.api, self.name, svc)
        lnode = NODE_OF[leader.name]
        onode = [n for n in NODES if n != lnode][0]
        sys.stderr.write("%s on %s: %s\n" % (leader.name, lnode, v))
        for pol in v:
            spec = (svc or POLICIES[pol])["spec"]
            for t in ("internal", "external"):
                self.assertEqual(v[pol][lnode][t], [leader.ip], (pol, t, v))
                local = spec.get("internalTrafficPolicy" if t == "internal" else
                                 "externalTrafficPolicy") == "Local"
                self.assertEqual(v[pol][onode][t], [] if local else [leader.ip], (pol, t, v))
        return v

    def test_model(self):
        """The model itself, on hand-made slices: what kube-proxy does."""
        base = {"metadata": {"name": "x", "namespace": "default",
                             "labels": {"kubernetes.io/service-name": "my-svc"}},
                "addressType": "IPv4", "ports": [{"name": "http", "port": 8080,
                                                  "protocol": "TCP"}]}
        loc = service(itp="Local", etp="Local")

        def s(**ep):
            o = copy.deepcopy(base)
            o["endpoints"] = [dict({"addresses": ["10.0.0.1"], "conditions": {"ready": True}},
                                   **ep)]
            return [o]
        self.assertEqual(programmed(s(nodeName="node-a"), loc, "node-a", "internal"),
                         ["10.0.0.1"])
        self.assertEqual(programmed(s(nodeName="node-a"), loc, "node-b", "external"), [])
        self.assertEqual(programmed(s(), loc, "node-a", "internal"), [])  # no nodeName
        self.assertEqual(programmed(s(), service(), "node-a", "internal"), ["10.0.0.1"])
        self.assertEqual(programmed(s(nodeName="node-a", conditions={"ready": False}), loc,
                                    "node-a", "internal"), [])
        self.assertEqual(programmed(s(nodeName="node-a", conditions={
            "ready": False, "serving": True, "terminating": True}), loc, "node-a", "internal"),
            ["10.0.0.1"])
        other = s(nodeName="node-a")
        other[0]["metadata"]["labels"]["kubernetes.io/service-name"] = "other"
        self.assertEqual(programmed(other, service(), "node-a", "internal"), [])
        unnamed = s(nodeName="node-a")
        unnamed[0]["ports"] = [{"port": 8080}]
        self.assertEqual(programmed(unnamed, service(ports=(("", 80, "TCP"),)), "node-a",
                                    "internal", port_name=""), ["10.0.0.1"])

    def test_node_name_serves_local_policies(self):
        leader, other = self.start_pair(lambda name, ip: {"NODE_NAME": NODE_OF[name]})
        st, obj = self.mon.current()
        self.assertEqual(obj["endpoints"][0].get("nodeName"), NODE_OF[leader.name], obj)
        self.assertNotIn("zone", obj["endpoints"][0])
        self.check_views(leader)
        # handoff: the new leader's node serves the Local policies
        t0 = now()
        leader.proc.send_signal(signal.SIGTERM)
        self.assertEqual(leader.proc.wait(timeout=10), 0)

        def switched():
            return serves_local(view(self.api, self.name), NODE_OF[other.name], other.ip)
        self.assertTrue(wait_for(switched, timeout=8), self.mon.history())
        sys.stderr.write("handoff: %s's node serves the Local policies %.0f ms after "
                         "SIGTERM\n" % (other.name, (now() - t0) * 1000))
        self.check_views(other)
        self.assertNotIn("NODE_NAME is not set", other.log())

    def test_without_node_name_local_policies_drop(self):
        """Negative control: the defect the checks above catch."""
        leader, other = self.start_pair()
        st, obj = self.mon.current()
        self.assertNotIn("nodeName", obj["endpoints"][0], obj)
        v = view(self.api, self.name)
        lnode = NODE_OF[leader.name]
        for n in NODES:
            for t in ("internal", "external"):
                self.assertEqual(v["Cluster"][n][t], [leader.ip], v)
                self.assertEqual(v["internalTrafficPolicy: Local"][n]["internal"], [], v)
                self.assertEqual(v["externalTrafficPolicy: Local"][n]["external"], [], v)
        self.assertFalse(serves_local(v, lnode, leader.ip))
        with self.assertRaises(AssertionError):
            self.check_views(leader)
        self.assertIn("NODE_NAME is not set", leader.log())

    def test_example_manifest_env(self):
        """The sidecar of deploy/examples/warm-standby-endpointslice, with the
        environment its manifest gives it on a node, serves Local policies."""
        if not KUBECTL:
            self.skipTest("kubectl not installed: cannot render the example")
        side, spec, flags, svc = render_example()
        uids = {n: str(uuid.uuid4()) for n in NODE_OF}

        def env_of(name, ip):
            env = downward_env(side, spec, name, ip, NODE_OF[name], uids[name])

            def apply(e):  # exactly the manifest's variables
                for k in ("POD_NAME", "POD_NAMESPACE", "POD_IP"):
                    e.pop(k, None)
                e.update(env)
            return apply
        self.assertFalse(svc["spec"].get("selector"), svc)
        eps_name = [f.split("=", 1)[1] for f in flags if f.startswith("--endpointslice=")][0]
        leader, other = self.start_pair(env_of, flags=flags)
        st, obj = self.mon.current()
        self.assertEqual(obj["metadata"]["labels"]["kubernetes.io/service-name"], eps_name)
        ep = obj["endpoints"][0]
        self.assertEqual(ep.get("nodeName"), NODE_OF[leader.name], obj)
        self.assertEqual(ep["targetRef"].get("uid"), uids[leader.name], obj)
        port = svc["spec"]["ports"][0]["name"]
        for itp, etp in (("Cluster", "Cluster"), ("Local", "Cluster"), ("Cluster", "Local")):
            s = copy.deepcopy(svc)
            s["spec"]["type"] = "LoadBalancer"
            s["spec"]["internalTrafficPolicy"] = itp
            s["spec"]["externalTrafficPolicy"] = etp
            for t in ("internal", "external"):
                got = programmed([obj], s, NODE_OF[leader.name], t, port_name=port)
                self.assertEqual(got, [leader.ip], (itp, etp, t, obj))
                got = programmed([obj], s, NODE_OF[other.name], t, port_name=port)
                local = (itp if t == "internal" else etp) == "Local"
                self.assertEqual(got, [] if local else [leader.ip], (itp, etp, t, obj))

    def test_zone_and_rewrite(self):
        zones = {"pod-a": "zone-1", "pod-b": "zone-2"}
        leader, other = self.start_pair(lambda name, ip: {"NODE_NAME": NODE_OF[name],
                                                          "NODE_ZONE": zones[name]})
        st, obj = self.mon.current()
        ep = obj["endpoints"][0]
        self.assertEqual((ep.get("nodeName"), ep.get("zone")),
                         (NODE_OF[leader.name], zones[leader.name]), obj)
        # as a daemon started without $NODE_NAME/$NODE_ZONE left it (same pod, same address)
        del obj["endpoints"][0]["nodeName"]
        del obj["endpoints"][0]["zone"]
        self.assertEqual(self.api.json("PUT", slice_path(self.name), obj)[0], 200)
        t0 = now()

        def fixed():
            st, o = self.mon.current()
            e = (o or {}).get("endpoints") or [{}]
            return e[0].get("nodeName") == NODE_OF[leader.name] and \
                e[0].get("zone") == zones[leader.name]
        self.assertTrue(wait_for(fixed, timeout=8), self.mon.current())
        sys.stderr.write("a slice without nodeName rewritten after %.0f ms (re-read every "
                         "lease duration, 3 s)\n" % ((now() - t0) * 1000))
        self.check_views(leader)
        self.assertLessEqual(self.mon.max_addresses(), 1, self.mon.history())

    def test_invalid_zone_or_node_refused(self):
        for var, val in (("NODE_ZONE", "zone a"), ("NODE_NAME", "Node_1")):
            env = clean_env()
            env.update({"POD_IP": "127.0.0.30", var: val})
            p = subprocess.run([DAEMON, "--election", "x", "--server", "http://127.0.0.1:1",
                                *EPS], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=10)
            self.assertNotEqual(p.returncode, 0, p.stderr)
            self.assertIn("$" + var, p.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    DAEMON = os.path.abspath(sys.argv.pop(1))
    if len(sys.argv) > 1 and os.path.isdir(sys.argv[1]):
        SOURCE_DIR = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
