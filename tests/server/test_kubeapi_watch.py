#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Watch of the test API server: chunked events, resumption, 410 Expired inside
a 200 stream, bookmarks, timeoutSeconds, history reset."""

import json
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from kubeapi import ApiServer, lease  # noqa: E402

DATA = os.path.join(os.path.dirname(HERE), "data", "k8s-api")
NS = "w"


def wpath(name=None, **q):
    p = "/apis/coordination.k8s.io/v1/namespaces/%s/leases?watch=1" % NS
    if name:
        p += "&fieldSelector=metadata.name%%3D%s" % name
    for k, v in q.items():
        p += "&%s=%s" % (k, v)
    return p


class Watch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer(quiet=True, watch_history=20, bookmark_interval=0.3).start()

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()

    def put(self, obj):
        st, o = self.api.json("PUT", self.api.lease_path(NS, obj["metadata"]["name"]), obj)
        self.assertIn(st, (200, 201), o)
        return o

    def test_events_and_framing(self):
        o = self.put(lease("ev", holder="a"))
        with self.api.watch(wpath("ev", timeoutSeconds=5)) as w:
            self.assertEqual(w.status, 200)
            self.assertEqual(w.headers["content-type"], "application/json")
            self.assertEqual(w.headers["transfer-encoding"], "chunked")
            first = w.raw_line()
            self.assertTrue(first.endswith(b"}\n"))
            e = json.loads(first)
            # "Start at most recent": a synthetic ADDED for the current state
            self.assertEqual(e, {"type": "ADDED", "object": o})
            self.assertEqual(list(e), ["type", "object"])
            o["spec"]["holderIdentity"] = "b"
            o2 = self.put(o)
            self.put(lease("ev-other", holder="x"))  # filtered out by the field selector
            e = w.next()
            self.assertEqual(e, {"type": "MODIFIED", "object": o2})
            self.assertEqual(list(e["object"]), ["kind", "apiVersion", "metadata", "spec"])
            st, _ = self.api.json("DELETE", self.api.lease_path(NS, "ev"))
            self.assertEqual(st, 200)
            e = w.next()
            self.assertEqual(e["type"], "DELETED")
            self.assertEqual(e["object"]["spec"], o2["spec"])
            self.assertGreater(int(e["object"]["metadata"]["resourceVersion"]),
                               int(o2["metadata"]["resourceVersion"]))

    def test_resume_from_resource_version(self):
        o = self.put(lease("res", holder="a"))
        rv0 = o["metadata"]["resourceVersion"]
        seen = []
        for h in ("b", "c"):
            o = json.loads(json.dumps(o))
            o["spec"]["holderIdentity"] = h
            o = self.put(o)
            seen.append(o)
        with self.api.watch(wpath("res", resourceVersion=rv0, timeoutSeconds=1)) as w:
            # "Start at exact": no synthetic ADDED, the changes strictly after rv0
            self.assertEqual(w.next(), {"type": "MODIFIED", "object": seen[0]})
            self.assertEqual(w.next(), {"type": "MODIFIED", "object": seen[1]})
            t0 = time.monotonic()
            self.assertIsNone(w.next(timeout=5))  # clean end at timeoutSeconds
            self.assertLess(time.monotonic() - t0, 3)

    def test_too_old_resource_version_is_410_event(self):
        o = self.put(lease("old", holder="a"))
        rv0 = int(o["metadata"]["resourceVersion"])
        for i in range(25):  # more than --watch-history 20
            o["spec"]["leaseTransitions"] = i
            o = self.put(o)
        with open(os.path.join(DATA, "watch-error-410-expired-kind-v1.36.1.jsonl"), "rb") as f:
            real = json.loads(f.readline())
        with self.api.watch(wpath("old", resourceVersion=rv0, timeoutSeconds=5)) as w:
            self.assertEqual(w.status, 200)  # inside a 200 stream, like the real server
            e = w.next()
            self.assertEqual(list(e), list(real))
            self.assertEqual(e["type"], "ERROR")
            self.assertEqual(list(e["object"]), list(real["object"]))
            self.assertEqual({k: v for k, v in e["object"].items() if k != "message"},
                             {k: v for k, v in real["object"].items() if k != "message"})
            self.assertRegex(e["object"]["message"],
                             r"^too old resource version: %d \(\d+\)$" % rv0)
            self.assertIsNone(w.next())  # the stream ends after the error
        # a resourceVersion still in the history works
        with self.api.watch(wpath("old", resourceVersion=int(o["metadata"]["resourceVersion"]) - 2,
                                  timeoutSeconds=1)) as w:
            self.assertEqual(w.next()["type"], "MODIFIED")

    def test_reset_history_forces_410(self):
        o = self.put(lease("rst", holder="a"))
        rv = o["metadata"]["resourceVersion"]
        with self.api.watch(wpath("rst", resourceVersion=rv, timeoutSeconds=5)) as open_w:
            o["spec"]["holderIdentity"] = "a2"
            o = self.put(o)
            self.assertEqual(open_w.next(), {"type": "MODIFIED", "object": o})
            self.api.admin("POST", "/_admin/reset-history")
            with self.api.watch(wpath("rst", resourceVersion=rv, timeoutSeconds=5)) as w:
                self.assertEqual(w.next()["object"]["code"], 410)
            # an open watch is not disturbed and sees later changes
            o["spec"]["holderIdentity"] = "b"
            o = self.put(o)
            self.assertEqual(open_w.next(), {"type": "MODIFIED", "object": o})
        with self.api.watch(wpath("rst", resourceVersion=o["metadata"]["resourceVersion"],
                                  timeoutSeconds=1)) as w:
            self.assertIsNone(w.next())  # current RV: fine, nothing new

    def test_bookmarks(self):
        o = self.put(lease("bm", holder="a"))
        with self.api.watch(wpath("bm", allowWatchBookmarks="true", timeoutSeconds=3,
                                  resourceVersion=o["metadata"]["resourceVersion"])) as w:
            e = w.next(timeout=3)
            self.assertEqual(e["type"], "BOOKMARK")
            # DERIVED Lease bookmark (see the Pod one in watch-bookmark-pod-go-apiserver.jsonl)
            self.assertEqual(e["object"], {"kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
                                           "metadata": {"resourceVersion": e["object"]["metadata"]
                                                        ["resourceVersion"],
                                                        "creationTimestamp": None},
                                           "spec": {}})
            self.assertGreaterEqual(int(e["object"]["metadata"]["resourceVersion"]),
                                    int(o["metadata"]["resourceVersion"]))
        # without allowWatchBookmarks, none
        with self.api.watch(wpath("bm", timeoutSeconds=1,
                                  resourceVersion=o["metadata"]["resourceVersion"])) as w:
            self.assertIsNone(w.next(timeout=3))

    def test_pod_bookmark_matches_real_shape(self):
        with open(os.path.join(DATA, "watch-bookmark-pod-go-apiserver.jsonl"), "rb") as f:
            real = json.loads(f.readline())
        with self.api.watch("/api/v1/namespaces/w/pods?watch=true&allowWatchBookmarks=true"
                            "&timeoutSeconds=2") as w:
            e = w.next(timeout=3)
            real["object"]["metadata"]["resourceVersion"] = e["object"]["metadata"][
                "resourceVersion"]
            self.assertEqual(e, real)

    def test_watch_many_concurrent(self):
        o = self.put(lease("many", holder="a"))
        ws = [self.api.watch(wpath("many", resourceVersion=o["metadata"]["resourceVersion"],
                                   timeoutSeconds=5)) for _ in range(20)]
        try:
            o["spec"]["holderIdentity"] = "b"
            o = self.put(o)
            for w in ws:
                self.assertEqual(w.next(timeout=5)["object"], o)
        finally:
            for w in ws:
                w.close()

    def test_watch_errors(self):
        st, e = self.api.json("GET", wpath("x", resourceVersion="abc"))
        self.assertEqual(st, 400)
        st, e = self.api.json("GET", wpath("x", resourceVersion="99999999", timeoutSeconds=1))
        self.assertEqual(st, 504)
        self.assertEqual(e["reason"], "Timeout")

    def test_client_going_away_frees_the_watch(self):
        before = self.api.admin("GET", "/_admin/stats")["connections"]["open"]
        w = self.api.watch(wpath("gone", timeoutSeconds=30))
        w.close()
        # Each admin request is a connection of its own, counted while the server's thread
        # closes it: judge by the count one poll saw, never by one more request right after
        # (which may count the previous poll's connection, not yet closed on a busy machine).
        deadline = time.monotonic() + 5
        while True:
            open_now = self.api.admin("GET", "/_admin/stats")["connections"]["open"]
            if open_now <= before or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        self.assertLessEqual(open_now, before)

    def test_watch_keeps_connection_reusable(self):
        c = self.api.connection()
        try:
            c.request("GET", wpath("reuse", timeoutSeconds=1),
                      headers={"Authorization": "Bearer " + self.api.token})
            r = c.getresponse()
            r.read()  # ends after 1 s
            st, _, _ = self.api.request("GET", "/api", conn=c)
            self.assertEqual(st, 200)
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
