#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Fidelity check with an independent real client: kubectl get/create/replace/
delete a Lease against the test API server.  Without kubectl: prints a SKIP
line and exits 77 (ctest SKIP_RETURN_CODE)."""

import json
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from kubeapi import ApiServer, lease  # noqa: E402

KUBECTL = shutil.which("kubectl")
NS = "kc"

LEASE_YAML = """apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: lock1
  labels:
    app: demo
spec:
  holderIdentity: pod-a
  leaseDurationSeconds: 15
  acquireTime: "2026-01-02T03:04:05.000001Z"
  renewTime: "2026-01-02T03:04:06.123456Z"
  leaseTransitions: 3
"""


class Kubectl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer(quiet=True).start()
        cls.kubeconfig = os.path.join(cls.api.dir, "empty-kubeconfig")
        with open(cls.kubeconfig, "w") as f:
            f.write("")

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()

    def kubectl(self, *args, token=None, stdin=None, ok=True):
        cmd = [KUBECTL, "--server", self.api.url, "--certificate-authority", self.api.ca,
               "--token", token or self.api.token, "--cache-dir",
               os.path.join(self.api.dir, "kcache"), "-n", NS] + list(args)
        env = dict(os.environ, KUBECONFIG=self.kubeconfig, HOME=self.api.dir)
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env, timeout=60, text=True)
        if ok:
            self.assertEqual(p.returncode, 0, "kubectl %s: %s" % (" ".join(args), p.stderr))
        return p

    def write(self, name, text):
        path = os.path.join(self.api.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_lease_lifecycle(self):
        p = self.kubectl("create", "-f", self.write("l.yaml", LEASE_YAML))
        self.assertEqual(p.stdout.strip(), "lease.coordination.k8s.io/lock1 created")
        # the object as the server stored it (raw API) equals what kubectl reads
        st, stored = self.api.json("GET", self.api.lease_path(NS, "lock1"))
        self.assertEqual(st, 200)
        p = self.kubectl("get", "lease", "lock1", "-o", "json")
        self.assertEqual(json.loads(p.stdout), stored)
        self.assertEqual(stored["spec"]["renewTime"], "2026-01-02T03:04:06.123456Z")
        p = self.kubectl("get", "lease", "lock1", "-o", "yaml")
        self.assertIn('renewTime: "2026-01-02T03:04:06.123456Z"', p.stdout)
        self.assertIn("holderIdentity: pod-a", p.stdout)
        # human output uses the server's Table (Lease printer: NAME HOLDER AGE)
        p = self.kubectl("get", "lease", "lock1")
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "HOLDER", "AGE"])
        self.assertEqual(lines[1].split()[:2], ["lock1", "pod-a"])
        p = self.kubectl("get", "leases", "-l", "app=demo", "-o", "name")
        self.assertEqual(p.stdout.strip(), "lease.coordination.k8s.io/lock1")

        # replace with the resourceVersion kubectl read
        text = self.kubectl("get", "lease", "lock1", "-o", "yaml").stdout
        p = self.kubectl("replace", "-f", self.write("l2.yaml", text.replace("pod-a", "pod-b")))
        self.assertEqual(p.stdout.strip(), "lease.coordination.k8s.io/lock1 replaced")
        st, now = self.api.json("GET", self.api.lease_path(NS, "lock1"))
        self.assertEqual(now["spec"]["holderIdentity"], "pod-b")
        # replace with the now stale resourceVersion: the real 409 message
        p = self.kubectl("replace", "-f", self.write("l3.yaml", text.replace("pod-a", "pod-c")),
                         ok=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('Error from server (Conflict): error when replacing', p.stderr)
        self.assertIn('Operation cannot be fulfilled on leases.coordination.k8s.io "lock1": the '
                      'object has been modified; please apply your changes to the latest version '
                      'and try again', p.stderr)
        # patch-based verbs (strategic merge / merge / JSON patch)
        self.kubectl("annotate", "lease", "lock1", "team=blue")
        self.kubectl("label", "lease", "lock1", "tier=x")
        self.kubectl("patch", "lease", "lock1", "--type=merge", "-p",
                     '{"spec":{"leaseTransitions":4}}')
        self.kubectl("patch", "lease", "lock1", "--type=json", "-p",
                     '[{"op":"replace","path":"/spec/holderIdentity","value":"pod-d"}]')
        st, now = self.api.json("GET", self.api.lease_path(NS, "lock1"))
        self.assertEqual(now["metadata"]["annotations"], {"team": "blue"})
        self.assertEqual(now["metadata"]["labels"], {"app": "demo", "tier": "x"})
        self.assertEqual(now["spec"]["leaseTransitions"], 4)
        self.assertEqual(now["spec"]["holderIdentity"], "pod-d")
        # create again: AlreadyExists
        p = self.kubectl("create", "-f", self.write("l.yaml", LEASE_YAML), ok=False)
        self.assertIn('Error from server (AlreadyExists): error when creating', p.stderr)
        self.assertIn('leases.coordination.k8s.io "lock1" already exists', p.stderr)
        # server-side validation (kubectl sends fieldValidation=Strict)
        p = self.kubectl("create", "-f", self.write("bad.yaml", LEASE_YAML.replace(
            "name: lock1", "name: lock-bad").replace("leaseDurationSeconds: 15",
                                                     "leaseDurationSeconds: 0")), ok=False)
        self.assertIn('The Lease "lock-bad" is invalid: spec.leaseDurationSeconds: Invalid value: '
                      '0: must be greater than 0', p.stderr)
        p = self.kubectl("create", "-f", self.write("unk.yaml", LEASE_YAML.replace(
            "name: lock1", "name: lock-unk").replace("leaseTransitions: 3",
                                                     "leaseTransitions: 3\n  bogus: 1")), ok=False)
        self.assertIn('strict decoding error: unknown field "spec.bogus"', p.stderr)

        # delete (kubectl then waits for the DELETED event through a watch)
        p = self.kubectl("delete", "lease", "lock1")
        self.assertEqual(p.stdout.strip(), 'lease.coordination.k8s.io "lock1" deleted')
        p = self.kubectl("get", "lease", "lock1", ok=False)
        self.assertIn('Error from server (NotFound): leases.coordination.k8s.io "lock1" not found',
                      p.stderr)

    def test_reads_a_lease_written_through_the_api(self):
        st, o = self.api.json("PUT", self.api.lease_path(NS, "written"), lease(
            "written", holder="node-1_0b1b6fb7", duration=15,
            acquire="2021-05-24T09:05:09.579371Z", renew="2021-05-24T09:05:54.355135Z",
            transitions=7))
        self.assertEqual(st, 201)
        p = self.kubectl("get", "lease", "written", "-o", "jsonpath={.spec.holderIdentity} "
                         "{.spec.renewTime} {.spec.leaseTransitions}")
        self.assertEqual(p.stdout, "node-1_0b1b6fb7 2021-05-24T09:05:54.355135Z 7")

    def test_get_watch(self):
        # kubectl get -w: a Table list, then a watch with Table events
        import select
        import time
        st, o = self.api.json("PUT", self.api.lease_path(NS, "watched"), lease("watched",
                                                                                holder="a"))
        self.assertEqual(st, 201)
        cmd = [KUBECTL, "--server", self.api.url, "--certificate-authority", self.api.ca,
               "--token", self.api.token, "--cache-dir", os.path.join(self.api.dir, "kcache"),
               "-n", NS, "get", "lease", "watched", "-w"]
        env = dict(os.environ, KUBECONFIG=self.kubeconfig, HOME=self.api.dir)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            lines = []
            buf = b""
            deadline = time.monotonic() + 20
            updated = False
            fd = p.stdout.fileno()
            while time.monotonic() < deadline:
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    chunk = os.read(fd, 4096)
                    if not chunk:
                        break
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        lines.append(line.decode().split())
                if len(lines) == 2 and not updated:
                    # kubectl watches a named object from resourceVersion "0" and
                    # skips the initial ADDED: change it only once the watch is open.
                    stats = self.api.admin("GET", "/_admin/stats")["requests"]
                    if not stats.get("leader-elector", {}).get("watch"):
                        continue
                    time.sleep(0.3)
                    o["spec"]["holderIdentity"] = "b"
                    self.assertEqual(self.api.json("PUT", self.api.lease_path(NS, "watched"),
                                                   o)[0], 200)
                    updated = True
                if len(lines) >= 3:
                    break
        finally:
            p.kill()
            _, err = p.communicate()
        self.assertGreaterEqual(len(lines), 3, (lines, err[-2000:], self.api.log_tail(10)))
        self.assertEqual(lines[0], ["NAME", "HOLDER", "AGE"])
        self.assertEqual(lines[1][:2], ["watched", "a"])
        self.assertEqual(lines[2][:2], ["watched", "b"], lines)

    def test_auth_errors_through_kubectl(self):
        self.api.json("PUT", self.api.lease_path(NS, "ro"), lease("ro", holder="x"))
        p = self.kubectl("delete", "lease", "ro", token=self.api.ro_token, ok=False)
        self.assertIn('Error from server (Forbidden): leases.coordination.k8s.io "ro" is '
                      'forbidden: User "reader" cannot delete resource "leases" in API group '
                      '"coordination.k8s.io" in the namespace "kc"', p.stderr)
        p = self.kubectl("get", "lease", "ro", token="wrong", ok=False)
        self.assertIn("error: You must be logged in to the server", p.stderr)


if __name__ == "__main__":
    if not KUBECTL:
        print("SKIP: kubectl not found in PATH; the kubectl fidelity test did not run")
        sys.exit(77)
    unittest.main(verbosity=2)
