#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/server/with-apiserver.py: the environment it exports, exit status, clean-up,
server options, and that the server never outlives its launcher."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, "with-apiserver.py")
PY = sys.executable

PROBE = r'''
import json, os, ssl, urllib.request
env = {k: v for k, v in os.environ.items() if k.startswith("KUBEAPI_")}
def get(path, token):
    req = urllib.request.Request(env["KUBEAPI_URL"] + path,
                                 headers={"Authorization": "Bearer " + token})
    ctx = ssl.create_default_context(cafile=env["KUBEAPI_CA"])
    try:
        with urllib.request.urlopen(req, context=ctx if env["KUBEAPI_URL"].startswith("https")
                                    else None, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
tok = open(env["KUBEAPI_TOKEN_FILE"]).read().strip()
out = {"env": env, "api": get("/api", tok)[0],
       "info": get("/_admin/info", env["KUBEAPI_ADMIN_TOKEN"])[1],
       "files": {k: os.path.isfile(v) for k, v in env.items() if k.startswith("KUBEAPI_TOKEN_FILE")
                 or k in ("KUBEAPI_RO_TOKEN_FILE", "KUBEAPI_CA")}}
print(json.dumps(out))
'''


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Launcher(unittest.TestCase):
    def run_launcher(self, opts, cmd, timeout=30):
        return subprocess.run([PY, LAUNCHER] + opts + ["--"] + cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)

    def test_environment_and_cleanup(self):
        p = self.run_launcher(["--watch-history", "7", "--bookmark-interval", "2.5"],
                              [PY, "-c", PROBE])
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        env = out["env"]
        for k in ["KUBEAPI_URL", "KUBEAPI_CA", "KUBEAPI_TOKEN_FILE", "KUBEAPI_RO_TOKEN_FILE",
                  "KUBEAPI_ADMIN_TOKEN", "KUBEAPI_DIR", "KUBEAPI_PID"] + \
                ["KUBEAPI_TOKEN_FILE_%d" % i for i in range(1, 10)]:
            self.assertIn(k, env)
        self.assertRegex(env["KUBEAPI_URL"], r"^https://127\.0\.0\.1:\d+$")
        self.assertTrue(all(out["files"].values()), out["files"])
        self.assertEqual(out["api"], 200)
        self.assertEqual(out["info"]["history_max"], 7)
        self.assertEqual(out["info"]["bookmark_interval"], 2.5)
        self.assertEqual(out["info"]["pid"], int(env["KUBEAPI_PID"]))
        # stopped and removed afterwards
        self.assertFalse(os.path.exists(env["KUBEAPI_DIR"]))
        deadline = time.monotonic() + 5
        while alive(int(env["KUBEAPI_PID"])) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(alive(int(env["KUBEAPI_PID"])))

    def test_plain(self):
        p = self.run_launcher(["--plain"], [PY, "-c", PROBE])
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertRegex(out["env"]["KUBEAPI_URL"], r"^http://127\.0\.0\.1:\d+$")
        self.assertTrue(out["info"]["plain"])

    def test_ipv6(self):
        import socket
        try:
            socket.socket(socket.AF_INET6).bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback")
        p = self.run_launcher(["--host", "::1"], [PY, "-c", PROBE])
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertRegex(out["env"]["KUBEAPI_URL"], r"^https://\[::1\]:\d+$")
        self.assertEqual(out["api"], 200)

    def test_server_start_failure_is_reported_and_cleaned(self):
        p = self.run_launcher(["--bogus-option"], ["true"])
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"server exited before it was ready", p.stderr)
        self.assertIn(b"unrecognized arguments: --bogus-option", p.stderr)

    def test_exit_status(self):
        self.assertEqual(self.run_launcher([], ["sh", "-c", "exit 3"]).returncode, 3)
        self.assertEqual(self.run_launcher([], ["sh", "-c", "exit 77"]).returncode, 77)
        self.assertEqual(self.run_launcher([], ["sh", "-c", "kill -TERM $$"]).returncode,
                         128 + signal.SIGTERM)
        self.assertEqual(self.run_launcher([], ["/nonexistent/cmd"]).returncode, 127)
        p = subprocess.run([PY, LAUNCHER, "--plain"], stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"usage", p.stderr)

    def test_server_dies_with_its_launcher(self):
        with tempfile.TemporaryDirectory() as d:
            pidfile = os.path.join(d, "pid")
            launcher = subprocess.Popen(
                [PY, LAUNCHER, "--", "sh", "-c", 'echo "$KUBEAPI_PID $KUBEAPI_DIR" > %s; '
                 'exec sleep 30' % pidfile], start_new_session=True)
            try:
                deadline = time.monotonic() + 10
                while not (os.path.exists(pidfile) and os.path.getsize(pidfile)):
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.05)
                time.sleep(0.05)
                with open(pidfile) as f:
                    pid, kdir = f.read().split()
                pid = int(pid)
                self.assertTrue(alive(pid))
                os.killpg(launcher.pid, signal.SIGKILL)  # launcher and sleep, not the server
                launcher.wait()
                deadline = time.monotonic() + 5
                while alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertFalse(alive(pid), "server outlived its launcher")
                self.assertFalse(os.path.exists(kdir), "orphaned server left its directory")
            finally:
                try:
                    os.killpg(launcher.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                import shutil
                shutil.rmtree(kdir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
