#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The leader-elector binary as a user meets it: flags, exit codes, errors,
the socket's lifecycle, --install-probe, logs (text and JSON, never the
token), the --http endpoint. Against the Kubernetes API test server.

usage: test_daemon_cli.py DAEMON PROBE
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path[:0] = [TESTS, os.path.join(TESTS, "server")]  # harness/, kubeapi/
from kubeapi import ApiServer  # noqa: E402
from harness import free_port  # noqa: E402

DAEMON = PROBE = None
FAST = ["--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms"]


def clean_env():
    env = dict(os.environ)
    for k in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "POD_NAME", "POD_NAMESPACE",
              "LEADER_ELECTION_SOCKET"):
        env.pop(k, None)
    return env


def wait_for(pred, timeout=10.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


def assert_leader_run_beside(tc, dest):
    """--install-probe puts leader-run (built beside the probe) into the probe's directory."""
    run = os.path.join(os.path.dirname(dest), "leader-run")
    tc.assertTrue(os.path.exists(run), "leader-run not installed beside %s" % dest)
    with open(run, "rb") as f1, open(os.path.join(os.path.dirname(PROBE), "leader-run"),
                                     "rb") as f2:
        tc.assertEqual(f1.read(), f2.read())
    tc.assertEqual(subprocess.run([run, "--version"], stdout=subprocess.PIPE).returncode, 0)


class Cli(unittest.TestCase):
    def run_daemon(self, *args, timeout=10):
        return subprocess.run([DAEMON, *args], env=clean_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, text=True)

    def test_help_and_version(self):
        p = self.run_daemon("--help")
        self.assertEqual(p.returncode, 0)
        for flag in ("--election", "--namespace", "--id", "--socket", "--lease-duration",
                     "--renew-deadline", "--retry-period", "--server", "--token-file",
                     "--ca-file", "--log-format", "--log-level", "--install-probe",
                     "--resign-holdoff", "--socket-mode", "--socket-group", "--http", "--ttl"):
            self.assertIn(flag, p.stdout)
        p = self.run_daemon("--version")
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^leader-elector \d+\.\d+")

    def test_usage_errors_exit_64_with_one_line(self):
        for args in ([], ["--election"], ["--election=x", "--bogus"],
                     ["--election=x", "--lease-duration=soon"],
                     ["--election=x", "--lease-duration=10s", "--renew-deadline=10s"],
                     ["--election=x", "--ttl=10s", "--retry-period=1s"],
                     ["--election=x", "--namespace=a", "--election-namespace=b"],
                     ["--election=Not_A_Name"], ["--election=x", "stray"]):
            p = self.run_daemon(*args)
            self.assertEqual(p.returncode, 64, args)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, (args, p.stderr))
            self.assertTrue(p.stderr.startswith("leader-elector: "), p.stderr)

    def test_unknown_option_named(self):
        # An unknown short option inside a cluster (-xh) was reported as the argument before it.
        for args, name in ((["--election=x", "--bogus=1"], "--bogus=1"),
                           (["--election=x", "-x"], "-x"),
                           (["--election=x", "-xh"], "-x"),
                           (["--election=x", "-yh"], "-y"),
                           (["--election=x", "--help=1"], "--help=1"),
                           (["--election=x", "--version=1"], "--version=1")):
            p = self.run_daemon(*args)
            self.assertEqual(p.returncode, 64, args)
            self.assertEqual(p.stdout, "", args)
            self.assertEqual(p.stderr, "leader-elector: unknown option '%s' (try --help)\n" % name,
                             args)

    def test_install_probe_only(self):
        with tempfile.TemporaryDirectory() as d:
            dest = os.path.join(d, "shared", "leader-probe")
            p = self.run_daemon("--install-probe", dest)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(dest, "rb") as f1, open(PROBE, "rb") as f2:
                self.assertEqual(f1.read(), f2.read())
            self.assertTrue(os.access(dest, os.X_OK))
            self.assertEqual(subprocess.run([dest, "--version"], stdout=subprocess.PIPE)
                             .returncode, 0)
            assert_leader_run_beside(self, dest)
            p = self.run_daemon("--install-probe", "/proc/version/x")
            self.assertEqual(p.returncode, 1)
            self.assertIn("install-probe", p.stderr)

    def test_outside_a_cluster_without_server(self):
        with tempfile.TemporaryDirectory() as d:
            p = self.run_daemon("--election=x", "--socket", d + "/s.sock")
        self.assertEqual(p.returncode, 1)
        self.assertIn("--server", p.stderr)


class Running(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer(quiet=True)
        cls.api.start()
        cls.env = clean_env()
        with open(cls.api.env["KUBEAPI_TOKEN_FILE"]) as f:
            cls.token = f.read().strip()

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)
            for f in (p.stdout, p.stderr):
                if f:
                    f.close()
        self.dir.cleanup()

    def start(self, pod, *extra, election="cli", preexec_fn=None):
        sock = os.path.join(self.dir.name, pod, "le.sock")
        args = [DAEMON, "--election", election, "--namespace", "default", "--id", pod,
                "--server", self.api.env["KUBEAPI_URL"], "--ca-file", self.api.env["KUBEAPI_CA"],
                "--token-file", self.api.env["KUBEAPI_TOKEN_FILE"], "--socket", sock, *FAST,
                *extra]
        p = subprocess.Popen(args, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, preexec_fn=preexec_fn)
        self.procs.append(p)
        return p, sock

    def probe(self, sock, pod, *extra):
        return subprocess.run([PROBE, "--socket", sock, "--id", pod, *extra],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=5)

    def wait_leader(self, sock, pod):
        return wait_for(lambda: self.probe(sock, pod).returncode == 0)

    def stop(self, p):
        p.terminate()
        out, err = p.communicate(timeout=10)
        return p.returncode, err

    def test_socket_lifecycle(self):
        a, sock = self.start("pod-a")
        self.assertTrue(self.wait_leader(sock, "pod-a"), "pod-a never became leader")
        # A second daemon on the same socket refuses to start, and leaves it alone.
        b, _ = self.start("pod-b", "--socket", sock)
        b.wait(timeout=10)
        err = b.stderr.read()
        self.assertEqual(b.returncode, 1)
        self.assertIn("another daemon answers", err)
        self.assertEqual(self.probe(sock, "pod-a").returncode, 0)
        # Clean exit: released, socket removed.
        rc, err = self.stop(a)
        self.assertEqual(rc, 0, err)
        self.assertIn("released", err)
        self.assertFalse(os.path.exists(sock))
        items = self.api.admin("GET", "/_admin/lease-log?name=cli")["items"]
        self.assertEqual(items[-1]["holder"], "", items[-1])

    def test_sigterm_during_start_up(self):
        # A SIGTERM that arrives before the event loop runs (here: sent at once, while the
        # daemon starts with SIGTERM blocked by its parent, so it is pending at exec) is acted
        # on by the loop: a clean exit 0, the socket removed.
        def blocked():
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        a, sock = self.start("pod-t", election="cli-early", preexec_fn=blocked)
        a.send_signal(signal.SIGTERM)
        out, err = a.communicate(timeout=10)
        self.assertEqual(a.returncode, 0, err)
        self.assertIn("exited", err)
        self.assertFalse(os.path.exists(sock))

    def test_sigterm_ignored_by_parent(self):
        # A parent that ignores SIGTERM (a shell as PID 1 did, in the old image) passes that
        # on through exec; the daemon still releases and exits on SIGTERM.
        def ignored():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        a, sock = self.start("pod-u", election="cli-ignored", preexec_fn=ignored)
        self.assertTrue(self.wait_leader(sock, "pod-u"), "pod-u never became leader")
        rc, err = self.stop(a)
        self.assertEqual(rc, 0, err)
        self.assertIn("released", err)

    def test_stale_socket_replaced(self):
        sock = os.path.join(self.dir.name, "pod-s", "le.sock")
        os.makedirs(os.path.dirname(sock))
        s = socket.socket(socket.AF_UNIX)
        s.bind(sock)
        s.close()  # a socket file nobody listens on: what a crashed daemon leaves
        a, _ = self.start("pod-s")
        self.assertTrue(self.wait_leader(sock, "pod-s"))

    def test_install_probe(self):
        dest = os.path.join(self.dir.name, "shared", "leader-probe")
        a, sock = self.start("pod-i", "--install-probe", dest)
        self.assertTrue(wait_for(lambda: os.path.exists(dest)))
        self.assertTrue(os.access(dest, os.X_OK))
        with open(dest, "rb") as f1, open(PROBE, "rb") as f2:
            self.assertEqual(f1.read(), f2.read())
        self.assertTrue(wait_for(lambda: subprocess.run(
            [dest, "--socket", sock, "--id", "pod-i"]).returncode == 0))
        assert_leader_run_beside(self, dest)
        leftovers = [f for f in os.listdir(os.path.dirname(dest))
                     if f not in ("leader-probe", "leader-run")]
        self.assertEqual(leftovers, [])

    def test_json_logs_and_no_token(self):
        a, sock = self.start("pod-j", "--log-format", "json", "--log-level", "debug")
        self.assertTrue(self.wait_leader(sock, "pod-j"))
        rc, err = self.stop(a)
        self.assertEqual(rc, 0)
        self.assertNotIn(self.token, err)
        lines = [json.loads(line) for line in err.splitlines()]
        self.assertTrue(lines)
        for line in lines:
            for k in ("ts", "level", "msg", "election", "id"):
                self.assertIn(k, line)
        became = [x for x in lines if x["msg"].startswith("became leader")]
        self.assertEqual(len(became), 1, lines)
        self.assertIn("term", became[0])

    def test_http_endpoint(self):
        port = free_port()
        a, sock = self.start("pod-h", "--http", "127.0.0.1:%d" % port)
        self.assertTrue(self.wait_leader(sock, "pod-h"))
        with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5) as r:
            self.assertEqual(json.loads(r.read()), {"name": "pod-h"})
        with urllib.request.urlopen("http://127.0.0.1:%d/status" % port, timeout=5) as r:
            st = json.loads(r.read())
            self.assertTrue(st["is_leader"])
            self.assertEqual(st["identity"], "pod-h")
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            text = r.read().decode()
            self.assertIn('leader_election_master_status{name="cli"} 1', text)


def main():
    global DAEMON, PROBE
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    DAEMON, PROBE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    prog = unittest.main(argv=[sys.argv[0]] + sys.argv[3:], exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
