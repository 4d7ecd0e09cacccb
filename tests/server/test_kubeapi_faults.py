#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Fault injection of the test API server (/_admin/faults), per client, and the
counters (/_admin/stats, /_admin/lease-log)."""

import http.client
import os
import socket
import ssl
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from kubeapi import ApiServer, lease  # noqa: E402

NS = "f"
CUT_ERRORS = (ConnectionError, http.client.HTTPException, ssl.SSLError, socket.timeout, OSError)


class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer(quiet=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()

    def tearDown(self):
        self.api.clear_faults()

    def P(self, name=None):
        return self.api.lease_path(NS, name)

    def in_thread(self, fn):
        out = {}

        def run():
            try:
                out["result"] = fn()
            except BaseException as e:  # noqa: B902 - reported to the test
                out["error"] = e
            out["t"] = time.monotonic()
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t, out

    def test_latency_is_per_client_and_does_not_block_others(self):
        self.api.add_fault(client="candidate-1", kind="latency", ms=800)
        t0 = time.monotonic()
        t, out = self.in_thread(lambda: self.api.request("GET", "/api", user="candidate-1"))
        time.sleep(0.05)
        st, _, _ = self.api.request("GET", "/api", user="candidate-2")
        fast = time.monotonic() - t0
        self.assertEqual(st, 200)
        self.assertLess(fast, 0.5)  # the other client was not held up
        t.join(5)
        self.assertEqual(out["result"][0], 200)
        self.assertGreaterEqual(out["t"] - t0, 0.8)

    def test_status_faults(self):
        f = self.api.add_fault(client="candidate-1", kind="status", code=500)
        st, hdr, body = self.api.request("GET", self.P("x"), user="candidate-1")
        self.assertEqual(st, 500)
        self.assertEqual(body, b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":'
                         b'"Failure","message":"Internal error occurred: injected fault","reason":'
                         b'"InternalError","details":{"causes":[{"message":"injected fault"}]},'
                         b'"code":500}\n')
        self.assertEqual(self.api.request("GET", self.P("x"), user="candidate-2")[0], 404)
        self.api.admin("DELETE", "/_admin/faults/%d" % f)
        self.api.add_fault(client="candidate-1", kind="status", code=503)
        st, hdr, body = self.api.request("GET", self.P("x"), user="candidate-1")
        self.assertEqual((st, body), (503, b"service unavailable\n"))
        self.assertEqual(hdr["content-type"], "text/plain; charset=utf-8")
        self.api.clear_faults()
        self.api.add_fault(client="*", kind="status", code=429, retry_after=3)
        st, hdr, body = self.api.request("GET", self.P("x"), user="candidate-3")
        self.assertEqual(st, 429)
        self.assertEqual(body, b"Too many requests, please try again later.\n")
        self.assertEqual(hdr["retry-after"], "3")
        self.assertEqual(hdr["content-type"], "text/plain; charset=utf-8")
        self.assertEqual(hdr["x-content-type-options"], "nosniff")
        # "*" also hits unauthenticated requests
        self.assertEqual(self.api.request("GET", "/api", token="")[0], 429)

    def test_verbs_filter_and_count(self):
        st, o = self.api.json("POST", self.P(), lease("vc", holder="a"), user="candidate-1")
        self.assertEqual(st, 201)
        self.api.add_fault(client="candidate-1", kind="status", code=500, verbs=["update"],
                           count=2)
        self.assertEqual(self.api.request("GET", self.P("vc"), user="candidate-1")[0], 200)
        for _ in range(2):
            self.assertEqual(self.api.request("PUT", self.P("vc"), o, user="candidate-1")[0], 500)
        self.assertEqual(self.api.request("PUT", self.P("vc"), o, user="candidate-1")[0], 200)
        self.assertEqual(self.api.admin("GET", "/_admin/faults")["items"], [])

    def test_applied_status(self):
        # The write is carried out, then answered 500 + Retry-After instead of its success:
        # the store, the Lease log and a watch all show it; the client sees only the error.
        # (Its own namespace: the watches of the other tests list the namespace NS.)
        def P(name=None):
            return self.api.lease_path("fa", name)

        st, o = self.api.json("POST", P(), lease("ap", holder="a"), user="candidate-1")
        self.assertEqual(st, 201)
        rv = o["metadata"]["resourceVersion"]
        w = self.api.watch(P() + "?watch=1&fieldSelector=metadata.name%3Dap&timeoutSeconds=10"
                           "&resourceVersion=" + rv, user="candidate-2")
        self.api.add_fault(client="candidate-1", kind="applied_status", verbs=["update"], count=1)
        o["spec"]["holderIdentity"] = "b"
        st, hdr, body = self.api.request("PUT", P("ap"), o, user="candidate-1")
        self.assertEqual(st, 500)
        self.assertEqual(hdr["retry-after"], "1")
        self.assertEqual(body, b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":'
                         b'"Failure","message":"Internal error occurred: injected fault","reason":'
                         b'"InternalError","details":{"causes":[{"message":"injected fault"}]},'
                         b'"code":500}\n')
        st, now = self.api.json("GET", P("ap"), user="candidate-2")
        self.assertEqual(now["spec"]["holderIdentity"], "b")
        self.assertGreater(int(now["metadata"]["resourceVersion"]), int(rv))
        ev = w.next(timeout=2)
        self.assertEqual((ev["type"], ev["object"]), ("MODIFIED", now))
        w.close()
        log = self.api.admin("GET", "/_admin/lease-log?name=ap")["items"]
        self.assertEqual([(e["type"], e["holder"]) for e in log], [("create", "a"), ("update", "b")])
        # the same body again (what a client retrying it sends): a real 409 now, the count
        # was used up
        self.assertEqual(self.api.request("PUT", P("ap"), o, user="candidate-1")[0], 409)
        self.assertEqual(self.api.admin("GET", "/_admin/faults")["items"], [])
        # 503 without Retry-After, on a create; a failed write's answer is replaced too
        fid = self.api.add_fault(client="candidate-1", kind="applied_status", code=503,
                                 retry_after=None, verbs=["create"])
        self.assertEqual(self.api.admin("GET", "/_admin/faults")["items"][0]["retry_after"], None)
        st, hdr, body = self.api.request("POST", P(), lease("ap2", holder="c"),
                                         user="candidate-1")
        self.assertEqual((st, body), (503, b"service unavailable\n"))
        self.assertNotIn("retry-after", hdr)
        self.assertEqual(self.api.json("GET", P("ap2"))[1]["spec"]["holderIdentity"], "c")
        st, _, _ = self.api.request("POST", P(), lease("ap2", holder="d"), user="candidate-1")
        self.assertEqual(st, 503)  # really a 409 AlreadyExists, not applied
        self.assertEqual(self.api.json("GET", P("ap2"))[1]["spec"]["holderIdentity"], "c")
        self.api.admin("DELETE", "/_admin/faults/%d" % fid)
        # a read has nothing to apply: it just gets the error (Retry-After as given)
        self.api.add_fault(client="candidate-1", kind="applied_status", retry_after=4, count=1)
        st, hdr, _ = self.api.request("GET", P("ap"), user="candidate-1")
        self.assertEqual((st, hdr["retry-after"]), (500, "4"))
        self.assertEqual(self.api.request("GET", P("ap"), user="candidate-1")[0], 200)
        stats = self.api.admin("GET", "/_admin/stats")["requests"]["candidate-1"]
        self.assertEqual(stats["update"].get("500"), 1)
        self.assertEqual(stats["create"].get("503"), 2)

    def test_reset(self):
        self.api.add_fault(client="candidate-1", kind="reset", count=1)
        with self.assertRaises(CUT_ERRORS):
            self.api.request("GET", "/api", user="candidate-1")
        self.assertEqual(self.api.request("GET", "/api", user="candidate-1")[0], 200)
        stats = self.api.admin("GET", "/_admin/stats")["requests"]["candidate-1"]
        self.assertEqual(stats["get"].get("reset"), 1)

    def test_partition_heals_after_the_watch_deadline(self):
        # Events committed before the watch's deadline reach the client when the
        # partition heals, then the stream ends (nothing later).
        st, o = self.api.json("POST", self.P(), lease("heal", holder="a"))
        w = self.api.watch(self.P() + "?watch=1&fieldSelector=metadata.name%3Dheal&timeoutSeconds=1"
                           "&resourceVersion=" + o["metadata"]["resourceVersion"],
                           user="candidate-2")
        self.api.add_fault(client="candidate-2", kind="partition", mode="hang")
        o["spec"]["holderIdentity"] = "b"
        st, o2 = self.api.json("PUT", self.P("heal"), o)
        time.sleep(1.5)  # past the deadline
        o2b = dict(o2, spec={"holderIdentity": "c"})
        st, o3 = self.api.json("PUT", self.P("heal"), o2b)
        self.assertEqual(st, 200)
        self.api.clear_faults()
        self.assertEqual(w.next(timeout=2), {"type": "MODIFIED", "object": o2})
        self.assertIsNone(w.next(timeout=2))
        w.close()

    def test_hang_and_release(self):
        fid = self.api.add_fault(client="candidate-1", kind="hang", verbs=["get"])
        t, out = self.in_thread(lambda: self.api.request("GET", self.P("h"), user="candidate-1",
                                                         timeout=10))
        time.sleep(0.5)
        self.assertNotIn("t", out)  # still hanging
        self.assertEqual(self.api.request("GET", self.P("h"), user="candidate-2")[0], 404)
        t_rel = time.monotonic()
        self.api.admin("DELETE", "/_admin/faults/%d" % fid)
        t.join(5)
        self.assertEqual(out["result"][0], 404)  # released and answered
        self.assertLess(out["t"] - t_rel, 1.0)

    def test_partition_hang_holds_requests_and_watches(self):
        st, o = self.api.json("POST", self.P(), lease("ph", holder="a"))
        self.assertEqual(st, 201)
        rv = o["metadata"]["resourceVersion"]
        w = self.api.watch(self.P() + "?watch=1&fieldSelector=metadata.name%3Dph&resourceVersion="
                           + rv + "&timeoutSeconds=20", user="candidate-5")
        self.assertEqual(w.status, 200)
        self.api.add_fault(client="candidate-5", kind="partition", mode="hang")
        o["spec"]["holderIdentity"] = "b"
        st, o2 = self.api.json("PUT", self.P("ph"), o)
        self.assertEqual(st, 200)
        with self.assertRaises(socket.timeout):
            w.next(timeout=0.7)  # the event does not reach the partitioned client
        t, out = self.in_thread(lambda: self.api.request("GET", self.P("ph"), user="candidate-5"))
        time.sleep(0.3)
        self.assertNotIn("t", out)
        t_rel = time.monotonic()
        self.api.clear_faults()
        self.assertEqual(w.next(timeout=2), {"type": "MODIFIED", "object": o2})
        t.join(3)
        self.assertEqual(out["result"][0], 200)
        self.assertLess(out["t"] - t_rel, 1.0)
        w.close()

    def test_partition_cut_closes_open_watches_and_new_requests(self):
        w = self.api.watch(self.P() + "?watch=1&timeoutSeconds=20", user="candidate-6")
        w_other = self.api.watch(self.P() + "?watch=1&timeoutSeconds=20", user="candidate-7")
        c = self.api.connection()  # an idle keep-alive connection of the client
        self.assertEqual(self.api.request("GET", "/api", user="candidate-6", conn=c)[0], 200)
        t0 = time.monotonic()
        self.api.add_fault(client="candidate-6", kind="partition", mode="cut")
        with self.assertRaises(CUT_ERRORS):
            e = w.next(timeout=3)
            if e is None:
                raise ConnectionError("closed")
        self.assertLess(time.monotonic() - t0, 1.5)
        with self.assertRaises(CUT_ERRORS):
            self.api.request("GET", "/api", user="candidate-6", conn=c)
        with self.assertRaises(CUT_ERRORS):
            self.api.request("GET", "/api", user="candidate-6")
        # the other client's watch is untouched
        st, o = self.api.json("POST", self.P(), lease("pc", holder="z"))
        self.assertEqual(w_other.next(timeout=2)["object"], o)
        self.api.clear_faults()
        self.assertEqual(self.api.request("GET", "/api", user="candidate-6")[0], 200)
        w.close()
        w_other.close()
        c.close()

    def test_stats_and_lease_log(self):
        self.api.admin("DELETE", "/_admin/stats")
        st, o = self.api.json("POST", self.P(), lease("st", holder="h1", transitions=0),
                              user="candidate-8")
        o["spec"]["holderIdentity"] = "h2"
        o["spec"]["leaseTransitions"] = 1
        st, o2 = self.api.json("PUT", self.P("st"), o, user="candidate-8")
        self.assertEqual(st, 200)
        self.assertEqual(self.api.request("PUT", self.P("st"), o, user="candidate-8")[0], 409)
        self.assertEqual(self.api.request("GET", self.P("st"), user="candidate-9")[0], 200)
        self.assertEqual(self.api.request("DELETE", self.P("st"), user="candidate-9")[0], 200)
        stats = self.api.admin("GET", "/_admin/stats")
        self.assertEqual(stats["requests"]["candidate-8"],
                         {"create": {"201": 1}, "update": {"200": 1, "409": 1}})
        self.assertEqual(stats["requests"]["candidate-9"], {"get": {"200": 1},
                                                             "delete": {"200": 1}})
        log = self.api.admin("GET", "/_admin/lease-log?name=st")["items"]
        self.assertEqual([(e["type"], e["holder"], e["leaseTransitions"], e["client"])
                          for e in log],
                         [("create", "h1", 0, "candidate-8"), ("update", "h2", 1, "candidate-8"),
                          ("delete", "h2", 1, "candidate-9")])
        self.assertEqual(log[1]["resourceVersion"], o2["metadata"]["resourceVersion"])
        times = [e["time_us"] for e in log]
        self.assertEqual(times, sorted(times))
        self.assertLess(abs(times[0] / 1e6 - time.time()), 60)

    def test_body_faults(self):
        # a 10 MiB answer (for the client's size bound)
        self.api.add_fault(client="candidate-1", kind="body", body="x", repeat=10 << 20,
                           verbs=["get"], count=1)
        st, hdr, body = self.api.request("GET", self.P("big"), user="candidate-1", timeout=30)
        self.assertEqual((st, len(body), hdr["content-length"]), (200, 10 << 20, str(10 << 20)))
        self.assertEqual(self.api.request("GET", self.P("big"), user="candidate-1")[0], 404)
        # garbage with a JSON content type, and a garbage watch stream
        self.api.add_fault(client="candidate-1", kind="body", body="{\"kind\":\"Lease\",\x00[",
                           count=1)
        st, hdr, body = self.api.request("GET", self.P("g"), user="candidate-1")
        self.assertEqual((st, body), (200, b'{"kind":"Lease",\x00['))
        self.api.add_fault(client="candidate-1", kind="body", chunked=True, verbs=["watch"],
                           body='{"type":"ADDED","object":{"kind":\n', count=1)
        w = self.api.watch(self.P() + "?watch=1", user="candidate-1")
        self.assertEqual(w.status, 200)
        with self.assertRaises(ValueError):
            w.next(timeout=2)
        w.close()
        # a response cut mid-body: headers and 10 bytes, held until removal, then closed
        fid = self.api.add_fault(client="candidate-1", kind="body", body="y" * 100,
                                 truncate=10, code=200)
        ctx = ssl.create_default_context(cafile=self.api.ca)
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.api.port), timeout=5),
                            server_hostname="127.0.0.1")
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
                   % (self.P("t"), self.api.tokens["candidate-1"])).encode())
        got = b""
        while not got.endswith(b"y" * 10):
            got += s.recv(4096)
        self.assertIn(b"Content-Length: 100\r\n", got)
        s.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            s.recv(4096)  # held
        s.settimeout(3)
        self.api.admin("DELETE", "/_admin/faults/%d" % fid)
        try:
            self.assertEqual(s.recv(4096), b"")  # then closed
        except (ConnectionError, ssl.SSLError):
            pass
        s.close()

    def test_fault_listing_and_bad_specs(self):
        fid = self.api.add_fault(client="candidate-1", kind="latency", ms=5)
        items = self.api.admin("GET", "/_admin/faults")["items"]
        self.assertEqual(items[0]["id"], fid)
        for bad in ({"kind": "status", "code": 404}, {"kind": "partition", "mode": "x"},
                    {"kind": "latency", "ms": -1}, {"kind": "hang", "verbs": ["fly"]},
                    {"kind": "hang", "count": 0}, {"kind": "applied_status", "code": 429},
                    {"kind": "applied_status", "retry_after": -1}):
            st, _, _ = self.api.request("POST", "/_admin/faults", bad, token=self.api.admin_token)
            self.assertEqual(st, 400, bad)
        st, _, _ = self.api.request("DELETE", "/_admin/faults/999", token=self.api.admin_token)
        self.assertEqual(st, 404)


if __name__ == "__main__":
    unittest.main(verbosity=2)
