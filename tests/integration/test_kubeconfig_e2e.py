#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""leader-elector out of a cluster with a kubeconfig only, against the
Kubernetes API test server (tests/server/kubeapi/harness.py: a per-run CA and
tokens):

- `--kubeconfig FILE` alone (no --server, --token-file, --ca-file,
  --namespace): an inline token and certificate-authority-data; the daemon
  becomes leader of a Lease in the context's namespace;
- `$KUBECONFIG` without the flag (no KUBERNETES_SERVICE_HOST): a CA file
  relative to the kubeconfig's directory and a tokenFile; leader too;
- an exec credential plugin: refused at start (exit 64) naming what is not
  supported;
- a wrong token in the kubeconfig: its requests fail (401), never leader;
- the token never appears in the daemon's output.

Needs LE_DAEMON (set by ctest)."""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "server"))
from kubeapi.harness import ApiServer  # noqa: E402

DAEMON = os.environ.get("LE_DAEMON", "")


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def kubeconfig(server, cluster, user, namespace):
    lines = ["apiVersion: v1", "kind: Config", "current-context: test",
             "clusters:", "- name: api", "  cluster:", "    server: %s" % server]
    lines += ["    %s: %s" % kv for kv in cluster.items()]
    lines += ["contexts:", "- name: test", "  context:", "    cluster: api", "    user: me",
              "    namespace: %s" % namespace, "users:", "- name: me", "  user:"]
    lines += ["    %s: %s" % kv for kv in user.items()]
    return "\n".join(lines) + "\n"


class KubeconfigE2E(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not DAEMON:
            raise unittest.SkipTest("LE_DAEMON is not set")
        cls.api = ApiServer(quiet=True).start()
        cls.tmp = tempfile.TemporaryDirectory(prefix="kubeconfig-e2e-")

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()
        cls.tmp.cleanup()

    def env(self, **extra):
        e = {k: v for k, v in os.environ.items()
             if k not in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBECONFIG",
                          "POD_NAMESPACE", "POD_NAME")}
        e.update(extra)
        return e

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def holder(self, ns, election):
        status, _, body = self.api.request("GET", self.api.lease_path(ns, election),
                                           token=self.api.token)
        if status != 200:
            return None
        return json.loads(body).get("spec", {}).get("holderIdentity")

    def run_until_leader(self, args, env, ns, election, ident):
        sock = os.path.join(self.tmp.name, election + ".sock")
        log = os.path.join(self.tmp.name, election + ".log")
        with open(log, "wb") as out:
            p = subprocess.Popen([DAEMON, "--election", election, "--id", ident,
                                  "--socket", sock] + args,
                                 env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and p.poll() is None:
                if self.holder(ns, election) == ident:
                    break
                time.sleep(0.1)
            self.assertIsNone(p.poll(), "the daemon exited: " + read(log))
            self.assertEqual(self.holder(ns, election), ident, read(log))
        finally:
            p.terminate()
            p.wait(10)
        text = read(log)
        self.assertNotIn(self.api.token, text)
        return text

    def test_flag_inline_token_and_ca_data(self):
        ca = base64.b64encode(read(self.api.ca, "rb")).decode()
        path = self.write("a/config", kubeconfig(self.api.url, {"certificate-authority-data": ca},
                                                 {"token": self.api.token}, "team-a"))
        self.run_until_leader(["--kubeconfig", path], self.env(), "team-a", "kc-flag", "pod-a")

    def test_env_ca_file_relative_and_token_file(self):
        d = os.path.join(self.tmp.name, "b")
        os.makedirs(os.path.join(d, "pki"), exist_ok=True)
        with open(self.api.ca, "rb") as src, open(os.path.join(d, "pki", "ca.crt"), "wb") as dst:
            dst.write(src.read())
        path = self.write("b/config",
                          kubeconfig(self.api.url, {"certificate-authority": "pki/ca.crt"},
                                     {"tokenFile": self.api.token_file}, "team-b"))
        self.run_until_leader([], self.env(KUBECONFIG=path), "team-b", "kc-env", "pod-b")

    def test_wrong_token_not_leader_not_logged(self):
        """The kubeconfig's token is what the daemon sends: a wrong one gets 401s (and stays
        out of the log)."""
        ca = base64.b64encode(read(self.api.ca, "rb")).decode()
        bad = "wrong-token-kubeconfig-e2e"
        path = self.write("d/config", kubeconfig(self.api.url, {"certificate-authority-data": ca},
                                                 {"token": bad}, "team-d"))
        log = os.path.join(self.tmp.name, "kc-bad.log")
        with open(log, "wb") as out:
            p = subprocess.Popen([DAEMON, "--election", "kc-bad", "--id", "pod-d", "--socket",
                                  os.path.join(self.tmp.name, "kc-bad.sock"),
                                  "--kubeconfig", path], env=self.env(),
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        try:
            time.sleep(3)
            self.assertIsNone(self.holder("team-d", "kc-bad"))
            self.assertIsNone(p.poll())
        finally:
            p.kill()  # it would spend its renew deadline trying to release a Lease it never held
            p.wait(10)
        text = read(log)
        self.assertIn("get lease failed", text)
        self.assertNotIn(bad, text)

    def test_exec_plugin_refused(self):
        path = self.write("c/config", kubeconfig(self.api.url, {}, {"exec": "{command: aws}"},
                                                 "team-c"))
        r = subprocess.run([DAEMON, "--election", "kc-exec", "--id", "pod-c",
                            "--kubeconfig", path], env=self.env(), capture_output=True,
                           timeout=20)
        self.assertEqual(r.returncode, 64, r.stderr)
        self.assertIn(b"exec credential plugins are not supported", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
