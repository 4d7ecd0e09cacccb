#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The test API server's registry rules, bodies and discovery, checked against
the real captures in tests/data/k8s-api."""

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from kubeapi import ApiServer, lease  # noqa: E402

DATA = os.path.join(os.path.dirname(HERE), "data", "k8s-api")
NS = "ns1"
MT = "2026-01-02T03:04:05.123456Z"


def data(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


class Registry(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer(quiet=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()

    def P(self, name=None, ns=NS):
        return self.api.lease_path(ns, name)

    def create(self, name, **kw):
        st, obj = self.api.json("POST", self.P(), lease(name, **kw))
        self.assertEqual(st, 201, obj)
        return obj

    # -- bodies -----------------------------------------------------------------

    def test_create_get_shape_and_key_order(self):
        st, hdr, body = self.api.request("POST", self.P(), lease(
            "shape", holder="pod-a", duration=15, acquire=MT, renew=MT, transitions=0))
        self.assertEqual(st, 201)
        self.assertEqual(hdr["content-type"], "application/json")
        self.assertTrue(body.endswith(b"}\n"))
        self.assertNotIn(b" ", body.strip())  # compact
        obj = json.loads(body)
        self.assertEqual(list(obj), ["kind", "apiVersion", "metadata", "spec"])
        self.assertEqual(list(obj["metadata"]),
                         ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"])
        self.assertEqual(list(obj["spec"]), ["holderIdentity", "leaseDurationSeconds",
                                             "acquireTime", "renewTime", "leaseTransitions"])
        self.assertRegex(obj["metadata"]["uid"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-")
        self.assertRegex(obj["metadata"]["resourceVersion"], r"^[1-9][0-9]*$")
        self.assertRegex(obj["metadata"]["creationTimestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        st, hdr, got = self.api.request("GET", self.P("shape"))
        self.assertEqual(st, 200)
        self.assertEqual(got, body)

    def test_key_order_follows_go_structs_not_the_request(self):
        body = {"spec": {"leaseTransitions": 2, "renewTime": MT, "holderIdentity": "x"},
                "metadata": {"labels": {"a": "b"}, "name": "order", "annotations": {"k": "v"}},
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease"}
        st, obj = self.api.json("POST", self.P(), body)
        self.assertEqual(st, 201)
        self.assertEqual(list(obj), ["kind", "apiVersion", "metadata", "spec"])
        self.assertEqual(list(obj["metadata"]), ["name", "namespace", "uid", "resourceVersion",
                                                 "creationTimestamp", "labels", "annotations"])
        self.assertEqual(list(obj["spec"]), ["holderIdentity", "renewTime", "leaseTransitions"])

    def test_real_lease_roundtrips(self):
        # The real kube-controller-manager renewal of the audit capture, replayed.
        audit = json.loads(data("audit-event-lease-update-kcm-v1.20.7.json"))
        req = audit["requestObject"]
        body = json.loads(json.dumps(req))
        del body["metadata"]["resourceVersion"], body["metadata"]["uid"]
        del body["metadata"]["creationTimestamp"]
        st, obj = self.api.json("POST", self.P(ns="kube-system"), body)
        self.assertEqual(st, 201, obj)
        self.assertEqual(obj["spec"], req["spec"])
        self.assertEqual(obj["metadata"]["managedFields"], req["metadata"]["managedFields"])
        self.assertEqual(list(obj["metadata"]), list(audit["responseObject"]["metadata"]))
        rv = obj["metadata"]["resourceVersion"]
        obj["spec"]["renewTime"] = "2021-05-24T09:06:04.355135Z"
        st, new = self.api.json("PUT", self.P("kube-controller-manager", ns="kube-system"), obj)
        self.assertEqual(st, 200, new)
        self.assertEqual(int(new["metadata"]["resourceVersion"]), int(rv) + 1)
        self.assertEqual(new["metadata"]["uid"], obj["metadata"]["uid"])

    def test_microtime_normalised_and_validated(self):
        o = self.create("mt", renew="2026-01-02T05:04:05.000003+02:00", acquire=MT)
        self.assertEqual(o["spec"]["renewTime"], "2026-01-02T03:04:05.000003Z")
        # client-go writes null for a zero time; the server omits it
        st, o = self.api.json("POST", self.P(), {"metadata": {"name": "mt-null"},
                                                 "spec": {"acquireTime": None}})
        self.assertEqual(st, 201)
        self.assertEqual(o["spec"], {})
        cases = {
            "2026-08-11T19:37:19.103Z": 'cannot parse ".103Z" as ".000000"',
            "2026-08-11T19:37:19Z": 'cannot parse "Z" as ".000000"',
            "2020-02-28T20:11:41.636526400Z": 'cannot parse "400Z" as "Z07:00"',
        }
        for value, tail in cases.items():
            st, o = self.api.json("POST", self.P(), lease("mt-bad", renew=value))
            self.assertEqual(st, 400, value)
            # the real message (agentconnect-md/agentconnect#873)
            self.assertEqual(o["message"], 'Lease in version "v1" cannot be handled as a Lease: '
                             'parsing time "%s" as "2006-01-02T15:04:05.000000Z07:00": %s'
                             % (value, tail))
            self.assertEqual(o["reason"], "BadRequest")
            self.assertEqual(list(o), ["kind", "apiVersion", "metadata", "status", "message",
                                       "reason", "code"])

    def test_resource_version_is_global_and_monotonic(self):
        a = self.create("rv-a")
        b = self.create("rv-b")
        st, cm = self.api.json("POST", "/api/v1/namespaces/ns1/configmaps",
                               {"metadata": {"name": "rv-c"}, "data": {"k": "v"}})
        self.assertEqual(st, 201)
        rvs = [int(x["metadata"]["resourceVersion"]) for x in (a, b, cm)]
        self.assertEqual(rvs, sorted(rvs))
        self.assertEqual(len(set(rvs)), 3)

    # -- errors -------------------------------------------------------------------

    def test_not_found(self):
        st, hdr, body = self.api.request("GET", self.P("nope"))
        self.assertEqual(st, 404)
        self.assertEqual(body, b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":'
                         b'"Failure","message":"leases.coordination.k8s.io \\"nope\\" not found",'
                         b'"reason":"NotFound","details":{"name":"nope","group":'
                         b'"coordination.k8s.io","kind":"leases"},"code":404}\n')

    def test_already_exists(self):
        self.create("dup")
        st, hdr, body = self.api.request("POST", self.P(), lease("dup"))
        self.assertEqual(st, 409)
        self.assertEqual(body, b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":'
                         b'"Failure","message":"leases.coordination.k8s.io \\"dup\\" already '
                         b'exists","reason":"AlreadyExists","details":{"name":"dup","group":'
                         b'"coordination.k8s.io","kind":"leases"},"code":409}\n')

    def test_conflict_on_stale_resource_version(self):
        o = self.create("stale", holder="a")
        old_rv = o["metadata"]["resourceVersion"]
        o["spec"]["holderIdentity"] = "b"
        st, o2 = self.api.json("PUT", self.P("stale"), o)
        self.assertEqual(st, 200)
        self.assertNotEqual(o2["metadata"]["resourceVersion"], old_rv)
        o["spec"]["holderIdentity"] = "c"  # still carries old_rv
        st, hdr, body = self.api.request("PUT", self.P("stale"), o)
        self.assertEqual(st, 409)
        self.assertEqual(body, b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":'
                         b'"Failure","message":"Operation cannot be fulfilled on '
                         b'leases.coordination.k8s.io \\"stale\\": the object has been modified; '
                         b'please apply your changes to the latest version and try again",'
                         b'"reason":"Conflict","details":{"name":"stale","group":'
                         b'"coordination.k8s.io","kind":"leases"},"code":409}\n')

    def test_conflict_shape_matches_real_core_capture(self):
        # Same constructor for a core resource: byte-identical to the GKE capture
        # apart from the names.
        real = data("status-409-conflict-gke-resourcequota.json")
        st, cm = self.api.json("POST", "/api/v1/namespaces/ns1/configmaps",
                               {"metadata": {"name": "gke-resource-quotas"}})
        self.assertEqual(st, 201)
        rv = cm["metadata"]["resourceVersion"]
        cm["data"] = {"x": "1"}
        self.assertEqual(self.api.json("PUT", "/api/v1/namespaces/ns1/configmaps/"
                                       "gke-resource-quotas", cm)[0], 200)
        cm["metadata"]["resourceVersion"] = rv
        st, _, body = self.api.request("PUT", "/api/v1/namespaces/ns1/configmaps/"
                                       "gke-resource-quotas", cm)
        self.assertEqual(st, 409)
        self.assertEqual(body, real.replace(b"resourcequotas", b"configmaps"))

    def test_uid_in_body_is_a_precondition(self):
        # A client writing back a Lease that was deleted and re-created (or just
        # deleted) gets 409, not an overwrite or a create-on-update.
        o = self.create("uidpre", holder="a")
        body = json.loads(json.dumps(o))
        body["metadata"]["uid"] = "00000000-0000-4000-8000-000000000000"
        st, e = self.api.json("PUT", self.P("uidpre"), body)
        self.assertEqual(st, 409)
        self.assertEqual(e["message"], 'Operation cannot be fulfilled on leases.coordination.k8s.io '
                         '"uidpre": StorageError: invalid object, Code: 4, Key: /registry/leases/'
                         'ns1/uidpre, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: '
                         'UID in precondition: 00000000-0000-4000-8000-000000000000, UID in object '
                         'meta: %s' % o["metadata"]["uid"])
        self.assertEqual(e["reason"], "Conflict")
        self.assertEqual(self.api.request("DELETE", self.P("uidpre"))[0], 200)
        st, e = self.api.json("PUT", self.P("uidpre"), o)  # stale copy of a deleted Lease
        self.assertEqual(st, 409)
        self.assertTrue(e["message"].endswith("UID in object meta: "), e["message"])
        self.assertEqual(self.api.request("GET", self.P("uidpre"))[0], 404)
        del o["metadata"]["uid"]
        st, n = self.api.json("PUT", self.P("uidpre"), o)  # without uid: create on update
        self.assertEqual(st, 201)

    def test_put_creates_missing_lease(self):
        st, o = self.api.json("PUT", self.P("made-by-put"), lease("made-by-put", holder="x"))
        self.assertEqual(st, 201, o)
        self.assertEqual(o["spec"]["holderIdentity"], "x")
        # a resourceVersion in the body is not compared on this path (store.go)
        st, o = self.api.json("PUT", self.P("made-by-put2"), lease("made-by-put2", rv="12345"))
        self.assertEqual(st, 201, o)

    def test_put_without_resource_version_refused_for_leases(self):
        self.create("uncond")
        st, hdr, body = self.api.request("PUT", self.P("uncond"), lease("uncond", holder="z"))
        self.assertEqual(st, 422)
        self.assertEqual(body, b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":'
                         b'"Failure","message":"leases.coordination.k8s.io \\"uncond\\" is '
                         b'invalid: metadata.resourceVersion: Invalid value: 0x0: must be '
                         b'specified for an update","reason":"Invalid","details":{"name":"uncond",'
                         b'"group":"coordination.k8s.io","kind":"leases","causes":[{"reason":'
                         b'"FieldValueInvalid","message":"Invalid value: 0x0: must be specified '
                         b'for an update","field":"metadata.resourceVersion"}]},"code":422}\n')

    def test_unconditional_update_allowed_for_configmaps_and_endpoints(self):
        for res, body in (("configmaps", {"data": {"a": "1"}}), ("endpoints", {})):
            b = dict(body, metadata={"name": "lww"})
            st, _ = self.api.json("POST", "/api/v1/namespaces/ns1/" + res, b)
            self.assertEqual(st, 201)
            st, o = self.api.json("PUT", "/api/v1/namespaces/ns1/%s/lww" % res, b)
            self.assertEqual(st, 200, o)
        # PUT of a missing ConfigMap is a 404 (AllowCreateOnUpdate false), Endpoints create
        st, o = self.api.json("PUT", "/api/v1/namespaces/ns1/configmaps/none",
                              {"metadata": {"name": "none"}})
        self.assertEqual(st, 404)
        self.assertEqual(o["message"], 'configmaps "none" not found')
        self.assertEqual(o["details"], {"name": "none", "kind": "configmaps"})
        st, o = self.api.json("PUT", "/api/v1/namespaces/ns1/endpoints/made",
                              {"metadata": {"name": "made"}})
        self.assertEqual(st, 201)

    def test_validation_422(self):
        st, hdr, body = self.api.request("POST", self.P(), lease("example", duration=0))
        self.assertEqual(st, 422)
        # the message is real (kubernetes/client-go#762)
        self.assertEqual(body, b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":'
                         b'"Failure","message":"Lease.coordination.k8s.io \\"example\\" is invalid:'
                         b' spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",'
                         b'"reason":"Invalid","details":{"name":"example","group":'
                         b'"coordination.k8s.io","kind":"Lease","causes":[{"reason":'
                         b'"FieldValueInvalid","message":"Invalid value: 0: must be greater than 0"'
                         b',"field":"spec.leaseDurationSeconds"}]},"code":422}\n')
        st, o = self.api.json("POST", self.P(), lease("neg", duration=-1, transitions=-1))
        self.assertEqual(st, 422)
        self.assertEqual(o["message"], 'Lease.coordination.k8s.io "neg" is invalid: '
                         '[spec.leaseDurationSeconds: Invalid value: -1: must be greater than 0, '
                         'spec.leaseTransitions: Invalid value: -1: must be greater than or '
                         'equal to 0]')
        self.assertEqual(len(o["details"]["causes"]), 2)
        st, o = self.api.json("POST", self.P(), lease("Bad_Name"))
        self.assertEqual(st, 422)
        self.assertTrue(o["message"].startswith(
            'Lease.coordination.k8s.io "Bad_Name" is invalid: metadata.name: Invalid value: '
            '"Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
            "characters, '-' or '.', and must start and end with an alphanumeric character"),
            o["message"])
        st, o = self.api.json("POST", self.P(), {"spec": {}})
        self.assertEqual(st, 422)
        self.assertEqual(o["details"]["causes"], [{
            "reason": "FieldValueRequired",
            "message": "Required value: name or generateName is required",
            "field": "metadata.name"}])
        # an update is validated too (after the resourceVersion checks)
        o = self.create("upd-invalid", duration=5)
        o["spec"]["leaseDurationSeconds"] = 0
        st, e = self.api.json("PUT", self.P("upd-invalid"), o)
        self.assertEqual(st, 422)
        self.assertEqual(e["reason"], "Invalid")

    def test_bad_requests_400(self):
        o = self.create("mismatch")
        st, e = self.api.json("PUT", self.P("other-name"), o)
        self.assertEqual(st, 400)
        self.assertEqual(e["message"], "the name of the object (mismatch) does not match the name "
                         "on the URL (other-name)")
        st, e = self.api.json("PUT", self.P("mismatch", ns="ns2"), o)
        self.assertEqual(st, 400)
        self.assertEqual(e["message"], "the namespace of the provided object does not match the "
                         "namespace sent on the request")
        st, e = self.api.json("POST", self.P(), b'{"metadata": {"name": "x"')
        self.assertEqual(st, 400)
        self.assertEqual(e["reason"], "BadRequest")
        self.assertTrue(e["message"].startswith("the object provided is unrecognized (must be of "
                                                "type Lease): couldn't get version/kind; json "
                                                "parse error: "), e["message"])
        for body in (b"[]", b"\xff\xfe", b"null", b"42"):
            st, e = self.api.json("POST", self.P(), body)
            self.assertEqual(st, 400, body)
        st, e = self.api.json("POST", self.P(), lease("str", duration="15"))
        self.assertEqual(st, 400)
        self.assertEqual(e["message"], 'Lease in version "v1" cannot be handled as a Lease: json: '
                         'cannot unmarshal string into Go struct field '
                         'LeaseSpec.spec.leaseDurationSeconds of type int32')
        st, e = self.api.json("POST", self.P(), lease("big", duration=2**31))
        self.assertEqual(st, 400)
        st, e = self.api.json("POST", self.P(), dict(lease("v"), apiVersion="coordination.k8s.io/"
                                                     "v1beta1"))
        self.assertEqual(st, 400)
        self.assertEqual(e["message"], "the API version in the data (coordination.k8s.io/v1beta1) "
                         "does not match the expected API version (coordination.k8s.io/v1)")

    def test_create_with_resource_version_is_500(self):
        st, hdr, body = self.api.request("POST", self.P(), lease("with-rv", rv="7"))
        self.assertEqual(st, 500)
        self.assertEqual(body, b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":'
                         b'"Failure","message":"resourceVersion should not be set on objects to be '
                         b'created","code":500}\n')
        st, _ = self.api.json("POST", self.P(), lease("with-rv-unparseable", rv="-1"))
        self.assertEqual(st, 201)  # kubernetes/kubernetes#113847

    def test_unknown_fields_dropped_or_strict(self):
        body = lease("unk", holder="a")
        body["spec"]["futureField"] = 1
        body["spec"]["strategy"] = "OldestEmulationVersion"
        body["spec"]["preferredHolder"] = "b"
        st, hdr, raw = self.api.request("POST", self.P(), body)
        self.assertEqual(st, 201)
        self.assertEqual(json.loads(raw)["spec"], {"holderIdentity": "a"})
        self.assertIn('unknown field \\"spec.futureField\\"', hdr.get("warning", ""))
        body["metadata"]["name"] = "unk2"
        st, e = self.api.json("POST", self.P() + "?fieldValidation=Strict", body)
        self.assertEqual(st, 400)
        self.assertEqual(e["message"], 'Lease in version "v1" cannot be handled as a Lease: '
                         'strict decoding error: unknown field "spec.futureField"')

    def test_generate_name_and_bad_resource_version(self):
        names = set()
        for _ in range(3):
            st, o = self.api.json("POST", self.P(), {"metadata": {"generateName": "gen-"}})
            self.assertEqual(st, 201, o)
            self.assertRegex(o["metadata"]["name"], r"^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$")
            names.add(o["metadata"]["name"])
        self.assertEqual(len(names), 3)
        o = self.create("badrv")
        o["metadata"]["resourceVersion"] = "abc"
        st, e = self.api.json("PUT", self.P("badrv"), o)
        self.assertEqual(st, 422)
        self.assertEqual(e["message"], 'leases.coordination.k8s.io "badrv" is invalid: '
                         'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": '
                         'invalid syntax')

    def test_update_keeps_server_fields_and_noop_keeps_rv(self):
        o = self.create("keep", holder="a")
        body = json.loads(json.dumps(o))
        body["metadata"]["creationTimestamp"] = "2000-01-01T00:00:00Z"
        st, n = self.api.json("PUT", self.P("keep"), body)
        self.assertEqual(st, 200)
        self.assertEqual(n["metadata"]["uid"], o["metadata"]["uid"])
        self.assertEqual(n["metadata"]["creationTimestamp"], o["metadata"]["creationTimestamp"])
        self.assertEqual(n["metadata"]["resourceVersion"], o["metadata"]["resourceVersion"])

    def test_delete(self):
        o = self.create("del")
        st, hdr, body = self.api.request("DELETE", self.P("del"))
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(body), {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": "del", "group": "coordination.k8s.io", "kind": "leases",
                        "uid": o["metadata"]["uid"]}})
        self.assertEqual(self.api.request("GET", self.P("del"))[0], 404)
        self.assertEqual(self.api.request("DELETE", self.P("del"))[0], 404)
        o = self.create("del2")
        st, e = self.api.json("DELETE", self.P("del2"), {"preconditions": {"resourceVersion": "1"}})
        self.assertEqual(st, 409)
        self.assertEqual(e["reason"], "Conflict")
        self.assertEqual(e["message"], 'Operation cannot be fulfilled on leases.coordination.k8s.io '
                         '"del2": StorageError: invalid object, Code: 4, Key: /registry/leases/ns1/'
                         'del2, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: '
                         'ResourceVersion in precondition: 1, ResourceVersion in object meta: %s'
                         % o["metadata"]["resourceVersion"])
        st, e = self.api.json("DELETE", self.P("del2"), {"preconditions": {
            "resourceVersion": o["metadata"]["resourceVersion"]}})
        self.assertEqual(st, 200)

    def test_list(self):
        for n in ("l-b", "l-a"):
            st, _ = self.api.json("POST", self.P(ns="listns"), dict(lease(n), metadata={
                "name": n, "labels": {"app": n}}))
            self.assertEqual(st, 201)
        st, lst = self.api.json("GET", self.P(ns="listns"))
        self.assertEqual(st, 200)
        self.assertEqual(list(lst), ["kind", "apiVersion", "metadata", "items"])
        self.assertEqual(lst["kind"], "LeaseList")
        self.assertRegex(lst["metadata"]["resourceVersion"], r"^\d+$")
        self.assertEqual([i["metadata"]["name"] for i in lst["items"]], ["l-a", "l-b"])
        self.assertNotIn("kind", lst["items"][0])
        st, lst = self.api.json("GET", self.P(ns="listns") + "?labelSelector=app%3Dl-b")
        self.assertEqual([i["metadata"]["name"] for i in lst["items"]], ["l-b"])
        st, lst = self.api.json("GET", self.P(ns="listns") + "?fieldSelector=metadata.name%3Dl-a")
        self.assertEqual([i["metadata"]["name"] for i in lst["items"]], ["l-a"])
        st, lst = self.api.json("GET", "/apis/coordination.k8s.io/v1/leases")
        self.assertGreaterEqual(len(lst["items"]), 2)
        st, e = self.api.json("GET", self.P(ns="listns") + "?fieldSelector=spec.holderIdentity%3Dx")
        self.assertEqual(st, 400)

    def test_event_field_selectors(self):
        """Events are selected by their involvedObject, as `kubectl describe`
        lists an object's Events (GetFieldSelector of client-go's
        typed/core/v1/event_expansion.go: name, namespace, kind, uid)."""
        path = "/api/v1/namespaces/evsel/events"
        for name, uid, comp in (("e1", "u-1", "leader-elector"), ("e2", "u-2", ""),
                                ("e3", "", "leader-elector")):
            body = {"metadata": {"name": name},
                    "involvedObject": {"kind": "Lease", "namespace": "evsel", "name": "lock",
                                       "uid": uid},
                    "reason": "LeaderElection", "type": "Normal",
                    "source": {"component": comp} if comp else {},
                    "reportingComponent": "other"}
            self.assertEqual(self.api.json("POST", path, body)[0], 201)

        def names(sel):
            st, lst = self.api.json("GET", path + "?fieldSelector=" + urllib.parse.quote(sel))
            self.assertEqual(st, 200, lst)
            return sorted(i["metadata"]["name"] for i in lst["items"])
        self.assertEqual(names("involvedObject.name=lock,involvedObject.namespace=evsel,"
                               "involvedObject.kind=Lease,involvedObject.uid=u-1"), ["e1"])
        self.assertEqual(names("involvedObject.uid!=u-1"), ["e2", "e3"])
        self.assertEqual(names("involvedObject.uid="), ["e3"])
        self.assertEqual(names("source=leader-elector"), ["e1", "e3"])
        self.assertEqual(names("source=other"), ["e2"])  # reportingComponent, no source
        self.assertEqual(names("reason=LeaderElection,type=Normal"), ["e1", "e2", "e3"])
        st, _ = self.api.json("GET", path + "?fieldSelector=involvedObject.uid%3Du-1")
        self.assertEqual(st, 200)
        # not a field of Leases
        st, _ = self.api.json("GET", self.P(ns="evsel") + "?fieldSelector=involvedObject.uid%3Dx")
        self.assertEqual(st, 400)

    def test_other_resources(self):
        for path, body in (
                ("/api/v1/namespaces/ns1/events", {"metadata": {"name": "ev1"},
                                                   "involvedObject": {"kind": "Lease"},
                                                   "reason": "LeaderElection"}),
                ("/api/v1/namespaces/ns1/pods", {"metadata": {"name": "p1", "labels": {"a": "b"}},
                                                 "spec": {"containers": [{"name": "c"}]},
                                                 "status": {"phase": "Running"}}),
                ("/apis/discovery.k8s.io/v1/namespaces/ns1/endpointslices",
                 {"metadata": {"name": "s1"}, "addressType": "IPv4", "endpoints": []})):
            st, o = self.api.json("POST", path, body)
            self.assertEqual(st, 201, (path, o))
            st, g = self.api.json("GET", path + "/" + body["metadata"]["name"])
            self.assertEqual((st, g), (200, o))
        st, o = self.api.json("DELETE", "/api/v1/namespaces/ns1/pods/p1")
        self.assertEqual(o["kind"], "Pod")  # pods return the deleted object

    def test_patch(self):
        o = self.create("pt", holder="a", duration=15)
        mp = {"Content-Type": "application/merge-patch+json"}
        st, _, body = self.api.request("PATCH", self.P("pt"), {"spec": {"holderIdentity": "b"},
                                                                "metadata": {"labels": {"x": "1"}}},
                                       headers=mp)
        self.assertEqual(st, 200)
        n = json.loads(body)
        self.assertEqual(n["spec"], {"holderIdentity": "b", "leaseDurationSeconds": 15})
        self.assertEqual(n["metadata"]["labels"], {"x": "1"})
        self.assertGreater(int(n["metadata"]["resourceVersion"]),
                           int(o["metadata"]["resourceVersion"]))
        # a resourceVersion in the patch is a precondition
        st, e = self.api.json("PATCH", self.P("pt"), {"metadata": {
            "resourceVersion": o["metadata"]["resourceVersion"]}}, headers=mp)
        self.assertEqual((st, e["reason"]), (409, "Conflict"))
        st, n = self.api.json("PATCH", self.P("pt"), [
            {"op": "test", "path": "/spec/holderIdentity", "value": "b"},
            {"op": "remove", "path": "/spec/holderIdentity"}],
            headers={"Content-Type": "application/json-patch+json"})
        self.assertEqual(st, 200)
        self.assertEqual(n["spec"], {"leaseDurationSeconds": 15})
        st, e = self.api.json("PATCH", self.P("pt"), {}, headers={"Content-Type":
                                                                  "application/json"})
        self.assertEqual(st, 415)
        self.assertEqual(e["message"], "the body of the request was in an unknown format - "
                         "accepted media types include: application/json-patch+json, "
                         "application/merge-patch+json, application/strategic-merge-patch+json, "
                         "application/apply-patch+yaml")
        st, e = self.api.json("PATCH", self.P("missing"), {}, headers=mp)
        self.assertEqual(st, 404)
        st, e = self.api.json("PATCH", self.P("pt"), b"{oops", headers=mp)
        self.assertEqual(st, 400)

    def test_media_types(self):
        st, e = self.api.json("POST", self.P(), lease("form"),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 415)
        self.assertEqual(e["reason"], "UnsupportedMediaType")
        st, e = self.api.json("POST", self.P(), lease("cs"),
                              headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(st, 201)

    def test_pretty_output_for_curl_user_agent(self):
        self.create("pretty")
        st, _, body = self.api.request("GET", self.P("pretty"), headers={"User-Agent": "curl/8"})
        self.assertTrue(body.startswith(b'{\n  "kind": "Lease",\n  "apiVersion": '), body)
        st, _, body = self.api.request("GET", self.P("pretty") + "?pretty=false",
                                       headers={"User-Agent": "curl/8"})
        self.assertTrue(body.startswith(b'{"kind":"Lease",'))
        st, _, body = self.api.request("GET", self.P("pretty") + "?pretty=true")
        self.assertTrue(body.startswith(b'{\n  "kind"'))
        self.assertTrue(body.endswith(b"}"))

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_reuses_the_connection(self):
        # libcurl is the C client's transport: it must keep the TLS connection.
        self.create("curl-ka")
        url = self.api.url + self.P("curl-ka")
        p = subprocess.run(["curl", "-sS", "-v", "--cacert", self.api.ca, "-H",
                            "Authorization: Bearer " + self.api.token, "-o", "/dev/null",
                            "-o", "/dev/null", "-o", "/dev/null", url, url, url],
                           stderr=subprocess.PIPE, stdout=subprocess.PIPE, timeout=30, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.count("Re-using existing connection"), 2, p.stderr[-2000:])
        self.assertEqual(p.stderr.count("< HTTP/1.1 200 OK"), 3)

    # -- discovery ----------------------------------------------------------------

    def test_discovery_matches_real_bodies(self):
        st, hdr, body = self.api.request("GET", "/apis/coordination.k8s.io/v1")
        self.assertEqual(body, data("discovery-apis-coordination.k8s.io-v1-APIResourceList-eks.json"))
        st, hdr, body = self.api.request("GET", "/api")
        real = json.loads(data("discovery-api-APIVersions-eks.json"))
        got = json.loads(body)
        self.assertEqual(list(got), list(real))
        self.assertEqual(got["versions"], ["v1"])
        st, apis = self.api.json("GET", "/apis")
        self.assertEqual(st, 200)
        self.assertEqual([g["name"] for g in apis["groups"]],
                         ["coordination.k8s.io", "discovery.k8s.io"])
        st, core = self.api.json("GET", "/api/v1")
        self.assertNotIn("apiVersion", core)
        names = [r["name"] for r in core["resources"]]
        self.assertEqual(names, ["configmaps", "endpoints", "events", "pods"])
        st, g = self.api.json("GET", "/apis/coordination.k8s.io")
        self.assertEqual(g["kind"], "APIGroup")

    def test_unknown_paths(self):
        st, hdr, body = self.api.request("GET", "/apis/coordination.k8s.io/v1/namespaces/ns1/nope")
        self.assertEqual((st, body), (404, data("status-404-unserved-resource-path.json")))
        st, hdr, body = self.api.request("GET", "/apis/discovery.k8s.io/v1beta1/endpointslices")
        self.assertEqual((st, body), (404, b"404 page not found\n"))
        self.assertEqual(hdr["content-type"], "text/plain; charset=utf-8")

    # -- HTTP robustness --------------------------------------------------------------

    def test_keep_alive_reuses_connection(self):
        c = self.api.connection()
        try:
            self.create("ka")
            for _ in range(5):
                st, _, _ = self.api.request("GET", self.P("ka"), conn=c)
                self.assertEqual(st, 200)
                st, _, _ = self.api.request("GET", self.P("ka-missing"), conn=c)
                self.assertEqual(st, 404)
            st, _, _ = self.api.request("PUT", self.P("ka"), lease("ka"), conn=c)
            self.assertEqual(st, 422)
            st, _, _ = self.api.request("GET", self.P("ka"), conn=c)
            self.assertEqual(st, 200)
        finally:
            c.close()
        stats = self.api.admin("GET", "/_admin/stats")
        self.assertGreaterEqual(stats["connections"]["total"], 1)

    def test_body_too_large_and_garbage(self):
        # A Content-Length over the bound is refused before the body is read.
        import ssl
        ctx = ssl.create_default_context(cafile=self.api.ca)
        raw = socket.create_connection(("127.0.0.1", self.api.port), timeout=5)
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                   % (self.P(), self.api.token, 4 << 20)).encode())
        resp = b""
        while b"}\n" not in resp:
            chunk = s.recv(4096)
            if not chunk:
                break
            resp += chunk
        s.close()
        self.assertTrue(resp.startswith(b"HTTP/1.1 413 "), resp[:100])
        self.assertIn(b'"reason":"RequestEntityTooLarge"', resp)
        self.assertIn(b"Connection: close", resp)
        # raw garbage on the socket: the server answers 400 or closes, and lives on
        s = socket.create_connection(("127.0.0.1", self.api.port), timeout=5)
        s.sendall(b"\x16\x03\x01garbage\r\n\r\n")
        s.close()
        s = socket.create_connection(("127.0.0.1", self.api.port), timeout=5)
        s.close()
        self.assertEqual(self.api.request("GET", "/api")[0], 200)


class Concurrency(unittest.TestCase):
    def test_optimistic_concurrency_under_contention(self):
        """Nine clients race read-modify-write on one Lease: every successful
        update was based on a distinct resourceVersion (no lost update), the
        others got 409, and the Lease log is in resourceVersion order."""
        import threading
        with ApiServer(quiet=True) as api:
            path = api.lease_path("race", "l")
            st, _ = api.json("PUT", path, lease("l", holder="none", transitions=0))
            self.assertEqual(st, 201)
            wins, lock = [], threading.Lock()
            codes = {}

            def worker(i):
                user = "candidate-%d" % i
                c = api.connection()
                try:
                    for _ in range(25):
                        st, _, body = api.request("GET", path, user=user, conn=c)
                        cur = json.loads(body)
                        base = cur["metadata"]["resourceVersion"]
                        cur["spec"]["holderIdentity"] = user
                        cur["spec"]["leaseTransitions"] += 1
                        st, _, body = api.request("PUT", path, cur, user=user, conn=c)
                        with lock:
                            codes[st] = codes.get(st, 0) + 1
                            if st == 200:
                                wins.append((base, json.loads(body)["metadata"]["resourceVersion"]))
                finally:
                    c.close()
            ts = [threading.Thread(target=worker, args=(i,)) for i in range(1, 10)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(60)
            self.assertEqual(set(codes) - {200, 409}, set(), codes)
            bases = [b for b, _ in wins]
            self.assertEqual(len(bases), len(set(bases)), "two updates won on the same RV")
            st, final = api.json("GET", path)
            self.assertEqual(final["spec"]["leaseTransitions"], len(wins))
            log = api.admin("GET", "/_admin/lease-log?namespace=race")["items"]
            self.assertEqual(len(log), 1 + len(wins))
            rvs = [int(e["resourceVersion"]) for e in log]
            self.assertEqual(rvs, sorted(rvs))
            self.assertEqual([e["leaseTransitions"] for e in log], list(range(len(log))))


class Robustness(unittest.TestCase):
    """Random and malformed requests (fixed seed): every one gets an HTTP answer
    (or a closed connection), the server never hits an internal error, and it
    keeps serving."""

    def test_random_requests(self):
        import random
        rnd = random.Random(int(os.environ.get("KUBEAPI_FUZZ_SEED", "1234")))
        segs = ["api", "apis", "v1", "coordination.k8s.io", "namespaces", "ns1", "leases",
                "x", "configmaps", "pods", "endpoints", "events", "discovery.k8s.io",
                "endpointslices", "_admin", "faults", "status", "%2F", "..", "", "version",
                "openapi", "v3"]
        queries = ["", "?watch=1&timeoutSeconds=0", "?watch=true&resourceVersion=abc",
                   "?fieldSelector=metadata.name%3Dx", "?labelSelector=a%20in%20(b",
                   "?labelSelector=!!", "?fieldSelector=bad", "?fieldValidation=Strict",
                   "?pretty=maybe", "?watch=1&resourceVersion=1&timeoutSeconds=1",
                   "?timeoutSeconds=-1&watch=1", "?resourceVersion=99999999999999999999999"]
        good = lease("x", holder="a", duration=15, renew=MT, transitions=1)

        def mutate(v, depth=0):
            r = rnd.random()
            if isinstance(v, dict) and r < 0.7 and depth < 4:
                v = dict(v)
                for k in list(v):
                    if rnd.random() < 0.3:
                        v[k] = mutate(v[k], depth + 1)
                if rnd.random() < 0.2:
                    v[rnd.choice(["spec", "metadata", "x", "kind", "resourceVersion"])] = \
                        rnd.choice([None, 1, "s", [], {}, True, -1, 2**40, 1.5])
                return v
            return rnd.choice([None, 0, -1, 2**31, 1.5, True, "", "x" * 300, [], {}, [1, {}],
                               "2026-01-01T00:00:00Z", "Bad_Name", {"a": 1}])
        # watches without timeoutSeconds last --min-request-timeout x rand[1,2)
        with ApiServer(extra_args=["--min-request-timeout", "0.2"]) as api:
            for i in range(int(os.environ.get("KUBEAPI_FUZZ_N", "400"))):
                method = rnd.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
                path = "/" + "/".join(rnd.choice(segs) for _ in range(rnd.randint(0, 7)))
                if rnd.random() < 0.5:
                    path = rnd.choice(["/api/v1/namespaces/ns1/configmaps",
                                       "/apis/coordination.k8s.io/v1/namespaces/ns1/leases",
                                       "/apis/coordination.k8s.io/v1/namespaces/ns1/leases/x"])
                path += rnd.choice(queries)
                kind = rnd.random()
                if kind < 0.4:
                    body = json.dumps(mutate(good)).encode()
                elif kind < 0.6:
                    body = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 64)))
                elif kind < 0.8:
                    body = json.dumps(good).encode()[:rnd.randint(0, 120)]
                else:
                    body = None
                headers = {"Content-Type": rnd.choice([
                    "application/json", "application/merge-patch+json", "text/plain",
                    "application/json-patch+json", "application/strategic-merge-patch+json"])}
                token = rnd.choice([None, None, None, "", "bogus", api.ro_token,
                                    api.admin_token])
                try:
                    st, _, _ = api.request(method, path, body, token=token, headers=headers,
                                           timeout=10)
                    self.assertTrue(100 <= st < 600)
                except (ConnectionError, http.client.HTTPException, socket.timeout) as e:
                    if method not in ("HEAD",):
                        raise AssertionError("%s %s: %r" % (method, path, e))
            self.assertEqual(api.request("GET", "/api")[0], 200)
            with open(api.log_path) as f:
                log = f.read()
            i = log.find("internal error")
            self.assertEqual(i, -1, log[i:i + 2000])
            self.assertNotIn("Traceback", log)


class PlainAndIPv6(unittest.TestCase):
    def test_plain_http(self):
        with ApiServer(plain=True, quiet=True) as api:
            self.assertTrue(api.url.startswith("http://127.0.0.1:"))
            st, o = api.json("POST", api.lease_path("p"), lease("x"))
            self.assertEqual(st, 201)
            c = api.connection()
            c.request("GET", "/api/v1/namespaces/p/configmaps/x",
                      headers={"Authorization": "Bearer " + api.token})
            r = c.getresponse()
            self.assertEqual(r.status, 404)
            r.read()
            # malformed request line on plain HTTP: 400, server alive
            s = socket.create_connection(("127.0.0.1", api.port), timeout=5)
            s.sendall(b"BLAH\r\n\r\n")
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 400 Bad Request\r\n"))
            s.close()
            self.assertEqual(api.request("GET", "/api")[0], 200)

    def test_ipv6(self):
        try:
            socket.socket(socket.AF_INET6).bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback")
        with ApiServer(host="::1", quiet=True) as api:
            self.assertTrue(api.url.startswith("https://[::1]:"))
            self.assertEqual(api.request("GET", "/api")[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
