#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Authentication and authorization of the test API server: 401 and 403 bodies
as the real server writes them, token rotation through /_admin/tokens."""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from kubeapi import ApiServer, lease  # noqa: E402

DATA = os.path.join(os.path.dirname(HERE), "data", "k8s-api")
NS = "auth"


class Auth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer(quiet=True).start()
        with open(os.path.join(DATA, "status-401-unauthorized-microk8s.json"), "rb") as f:
            cls.real401 = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()

    def test_missing_or_unknown_token_is_401(self):
        for token in ("", "not-a-token"):
            for method, path in (("GET", "/api"), ("GET", self.api.lease_path(NS, "x")),
                                 ("POST", self.api.lease_path(NS))):
                st, hdr, body = self.api.request(method, path, lease("x") if method == "POST"
                                                 else None, token=token)
                self.assertEqual(st, 401, (token, path))
                self.assertEqual(body, self.real401)  # byte for byte
                self.assertEqual(hdr["content-length"], "129")
                self.assertNotIn("www-authenticate", hdr)
        st, hdr, body = self.api.request("GET", "/api", headers={"Authorization": "Basic eDp5"},
                                         token="")
        self.assertEqual(st, 401)

    def test_read_only_token(self):
        st, o = self.api.json("POST", self.api.lease_path(NS), lease("ro-target", holder="a"))
        self.assertEqual(st, 201)
        ro = self.api.ro_token
        self.assertEqual(self.api.request("GET", self.api.lease_path(NS, "ro-target"),
                                          token=ro)[0], 200)
        self.assertEqual(self.api.request("GET", self.api.lease_path(NS), token=ro)[0], 200)
        st, hdr, body = self.api.request("PUT", self.api.lease_path(NS, "ro-target"), o, token=ro)
        self.assertEqual(st, 403)
        self.assertEqual(body, (
            '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
            '"leases.coordination.k8s.io \\"ro-target\\" is forbidden: User \\"reader\\" cannot '
            'update resource \\"leases\\" in API group \\"coordination.k8s.io\\" in the namespace '
            '\\"auth\\"","reason":"Forbidden","details":{"name":"ro-target","group":'
            '"coordination.k8s.io","kind":"leases"},"code":403}\n').encode())
        # create has no name in the message or details (flatcar#162 shape)
        st, e = self.api.json("POST", self.api.lease_path(NS), lease("ro-new"), token=ro)
        self.assertEqual(st, 403)
        self.assertEqual(e["message"], 'leases.coordination.k8s.io is forbidden: User "reader" '
                         'cannot create resource "leases" in API group "coordination.k8s.io" in '
                         'the namespace "auth"')
        self.assertEqual(e["details"], {"group": "coordination.k8s.io", "kind": "leases"})
        st, e = self.api.json("DELETE", self.api.lease_path(NS, "ro-target"), token=ro)
        self.assertEqual(st, 403)
        self.assertIn('cannot delete resource "leases"', e["message"])
        # core group: API group "" and no group in details (errors_test.go shape)
        st, e = self.api.json("PUT", "/api/v1/namespaces/auth/endpoints/ep", {
            "metadata": {"name": "ep"}}, token=ro)
        self.assertEqual(st, 403)
        self.assertEqual(e["message"], 'endpoints "ep" is forbidden: User "reader" cannot update '
                         'resource "endpoints" in API group "" in the namespace "auth"')
        self.assertEqual(e["details"], {"name": "ep", "kind": "endpoints"})
        # the object is unchanged
        st, cur = self.api.json("GET", self.api.lease_path(NS, "ro-target"))
        self.assertEqual(cur, o)

    def test_token_rotation(self):
        self.api.admin("POST", "/_admin/tokens", {"token": "rotated-1", "user": "rot",
                                                   "access": "rw"})
        st, _ = self.api.json("POST", self.api.lease_path(NS), lease("rot"), token="rotated-1")
        self.assertEqual(st, 201)
        self.api.admin("POST", "/_admin/tokens", {"token": "rotated-2", "user": "rot",
                                                   "access": "rw"})
        self.assertEqual(self.api.admin("DELETE", "/_admin/tokens/rot"), {"removed": 2})
        self.assertEqual(self.api.request("GET", "/api", token="rotated-1")[0], 401)
        self.assertEqual(self.api.request("GET", "/api", token="rotated-2")[0], 401)
        self.api.admin("POST", "/_admin/tokens", {"token": "rotated-3", "user": "rot",
                                                   "access": "ro"})
        self.assertEqual(self.api.request("GET", "/api", token="rotated-3")[0], 200)
        st, e = self.api.json("DELETE", self.api.lease_path(NS, "rot"), token="rotated-3")
        self.assertEqual(st, 403)
        self.assertIn('User "rot"', e["message"])

    def test_rotate_token_helper(self):
        with open(self.api.token_files["candidate-9"]) as f:
            old = f.read().strip()
        self.assertEqual(self.api.request("GET", "/api", token=old)[0], 200)
        new = self.api.rotate_token("candidate-9")
        with open(self.api.token_files["candidate-9"]) as f:
            self.assertEqual(f.read(), new + "\n")
        self.assertEqual(self.api.request("GET", "/api", token=old)[0], 401)
        self.assertEqual(self.api.request("GET", "/api", token=new)[0], 200)
        self.assertEqual(self.api.revoke_token("candidate-9", "not-its-token"), 0)
        self.assertEqual(self.api.request("GET", "/api", user="candidate-9")[0], 200)

    def test_lease_log_names_the_client(self):
        st, o = self.api.json("POST", self.api.lease_path(NS), lease("who", holder="h"),
                              user="candidate-4")
        self.assertEqual(st, 201)
        log = self.api.admin("GET", "/_admin/lease-log?namespace=auth&name=who")["items"]
        self.assertEqual(len(log), 1)
        self.assertEqual(log[0]["client"], "candidate-4")
        self.assertEqual(log[0]["holder"], "h")

    def test_admin_needs_admin_token(self):
        for token in ("", self.api.token, "x"):
            st, _, body = self.api.request("GET", "/_admin/stats", token=token)
            self.assertEqual(st, 401)
        st, _, body = self.api.request("POST", "/_admin/faults", b"{not json",
                                       token=self.api.admin_token)
        self.assertEqual(st, 400)
        self.assertIn("error", json.loads(body))
        st, _, body = self.api.request("POST", "/_admin/faults", {"kind": "bogus"},
                                       token=self.api.admin_token)
        self.assertEqual(st, 400)

    def test_health_without_auth(self):
        st, _, body = self.api.request("GET", "/healthz", token="")
        self.assertEqual((st, body), (200, b"ok"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
