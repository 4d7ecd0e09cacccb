#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Assembles the image's root filesystem with deploy/make-rootfs.sh and runs
the binaries from it under chroot, as the image's user (65532), to prove that
nothing they need is missing from the image.

    test_deploy_rootfs.py probe  --source-dir S --build-dir B --proto-server PATH
    test_deploy_rootfs.py daemon --source-dir S --build-dir B

probe:  a probe-only tree (make-rootfs.sh --probe-only); leader-probe from it
        answers 0 / 1 / 2 against the scripted protocol server (leader, not
        leader, no daemon).
daemon: the full tree; three daemons run from it against the test API server
        (tests/with-apiserver.py), inside a private mount namespace with /proc
        and a minimal /dev, as a container runtime provides them:
          pod-a  --server $KUBEAPI_URL (an IP) --ca-file --token-file
          pod-b  in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT and
                 the service-account files under /var/run/secrets
          pod-c  --server https://localhost:PORT: a host name, resolved through
                 /etc/hosts by glibc's built-in NSS modules (no libnss_*.so)
        leader-probe from the tree must see pod-a lead, pod-b and pod-c follow
        and name pod-a; SIGTERM to pod-a must hand over to pod-b or pod-c; every
        daemon must exit 0 on SIGTERM; no log line may carry a token.

Exit 0 pass, 1 fail, 77 (ctest SKIP_RETURN_CODE) when a prerequisite is
missing (not root, no chroot, the daemon not built yet, no test API server);
the reason is printed.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

SKIP = 77
UID = GID = 65532
TIMINGS = ["--lease-duration=4s", "--renew-deadline=3s", "--retry-period=1s"]


class Failure(Exception):
    pass


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + (": " + detail if detail else ""))
    if not cond:
        raise Failure(name)


def make_rootfs(source_dir, build_dir, out, probe_only):
    cmd = [os.path.join(source_dir, "deploy", "make-rootfs.sh")]
    if probe_only:
        cmd.append("--probe-only")
    r = subprocess.run(cmd + [out, build_dir], capture_output=True, text=True, timeout=120)
    sys.stdout.write(r.stdout)
    sys.stdout.write(r.stderr)
    check("make-rootfs.sh" + (" --probe-only" if probe_only else ""), r.returncode == 0,
          "exit %d" % r.returncode)


def chroot_cmd(root, argv):
    return [shutil.which("chroot"), "--userspec=%d:%d" % (UID, GID), root] + argv


def run_probe(root, args, timeout=5):
    """(exit code, stdout) of leader-probe run from the tree."""
    r = subprocess.run(chroot_cmd(root, ["/usr/bin/leader-probe"] + args), env={},
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def common_prereqs():
    if os.geteuid() != 0:
        skip("not root: chroot needs root (CAP_SYS_CHROOT)")
    if not shutil.which("chroot"):
        skip("chroot not found (Debian package coreutils)")


# ---------------------------------------------------------------- probe part

def test_probe(a):
    common_prereqs()
    if not os.access(a.proto_server, os.X_OK):
        skip("the scripted protocol server %s is not built" % a.proto_server)
    tmp = tempfile.mkdtemp(prefix="le-rootfs-probe-")
    os.chmod(tmp, 0o755)  # the server runs as the image's user, under it
    server = None
    try:
        root = os.path.join(tmp, "rootfs")
        make_rootfs(a.source_dir, a.build_dir, root, probe_only=True)
        files = sorted(os.path.relpath(os.path.join(d, f), root)
                       for d, _, fs in os.walk(root) for f in fs)
        check("the probe-only tree holds no library", not any(".so" in f for f in files),
              ", ".join(files))
        rc, out, _ = run_probe(root, ["--version"])
        check("leader-probe --version runs from the tree as uid %d" % UID, rc == 0, out)
        rc, _, err = run_probe(root, ["--socket", "/tmp/none.sock"])
        check("no daemon: exit 2 (fail closed)", rc == 2, "exit %d, %s" % (rc, err))
        for mode, want in (("leader", 0), ("not-leader", 1)):
            sock = os.path.join(root, "tmp", "p.sock")
            server = subprocess.Popen([a.proto_server, "--socket", sock, "--mode", mode],
                                      stdout=subprocess.PIPE, user=UID, group=GID)
            line = server.stdout.readline().decode().strip()
            check("protocol server (%s) ready" % mode, line == "READY", line)
            rc, out, err = run_probe(root, ["--socket", "/tmp/p.sock"])
            check("server says %s: exit %d" % (mode, want), rc == want,
                  "exit %d %s" % (rc, err))
            server.terminate()
            server.wait(timeout=5)
            server = None
            if os.path.exists(sock):
                os.unlink(sock)
        print("RAN: probe part (leader-probe from a probe-only tree under chroot)")
        return 0
    finally:
        if server and server.poll() is None:
            server.kill()
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------- daemon part

class Daemon:
    """One leader-elector run from the tree in its own mount namespace."""

    def __init__(self, root, name, args, env, log_dir):
        self.name = name
        self.log_path = os.path.join(log_dir, name + ".log")
        inner = " ".join([
            "set -e;",
            'mount -t proc proc "$R/proc";',
            'mount -t tmpfs -o mode=755,nosuid tmpfs "$R/dev";',
            'for d in null zero random urandom; do : > "$R/dev/$d";'
            ' mount --bind "/dev/$d" "$R/dev/$d"; done;',
            'exec "$CHROOT" --userspec=%d:%d "$R" "$@"' % (UID, GID)])
        argv = [shutil.which("unshare"), "--mount", "--propagation", "private",
                "/bin/sh", "-c", inner, "sh", "/usr/bin/leader-elector"] + args
        full_env = dict(env, R=root, CHROOT=shutil.which("chroot"))
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, env=full_env, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def stop(self, timeout=15):
        """SIGTERM, then the exit code (None if it had to be killed)."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def output(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


def wait_for(what, fn, timeout):
    """Polls fn() every 50 ms until it returns a true value; returns (value, seconds)."""
    t0 = time.monotonic()
    while True:
        v = fn()
        if v:
            return v, time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise Failure("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.05)


def test_daemon(a):
    common_prereqs()
    daemon = os.path.join(a.build_dir, "daemon", "leader-elector")
    if not os.access(daemon, os.X_OK):
        skip("%s not built yet: the daemon part cannot run (the probe part is "
             "deploy.rootfs.probe)" % daemon)
    wa = os.path.join(a.source_dir, "tests", "with-apiserver.py")
    if not os.path.exists(wa):
        skip("tests/with-apiserver.py not found")
    if not shutil.which("unshare") or not shutil.which("mount"):
        skip("unshare/mount not found (Debian package util-linux/mount)")
    if "KUBEAPI_URL" not in os.environ:
        # Re-run this script under the test API server.
        r = subprocess.run([sys.executable, wa, "--", sys.executable, os.path.abspath(__file__)]
                           + sys.argv[1:], timeout=600)
        return r.returncode

    tmp = tempfile.mkdtemp(prefix="le-rootfs-daemon-")
    os.chmod(tmp, 0o755)
    daemons = []
    try:
        root = os.path.join(tmp, "rootfs")
        make_rootfs(a.source_dir, a.build_dir, root, probe_only=False)
        url = os.environ["KUBEAPI_URL"]
        u = urllib.parse.urlsplit(url)
        check("the test API server speaks https", u.scheme == "https", url)

        # What a kubelet and a container runtime put into a container.
        with open(os.path.join(root, "etc", "hosts"), "w") as f:
            f.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n")
        with open(os.path.join(root, "etc", "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\noptions ndots:5\n")
        sa = os.path.join(root, "run", "secrets", "kubernetes.io", "serviceaccount")
        os.makedirs(sa)
        shutil.copy(os.environ["KUBEAPI_CA"], os.path.join(sa, "ca.crt"))
        shutil.copy(os.environ["KUBEAPI_TOKEN_FILE_1"], os.path.join(sa, "token"))
        with open(os.path.join(sa, "namespace"), "w") as f:
            f.write("default")
        # The CA and tokens for the explicit-flag daemons, inside the tree.
        shutil.copy(os.environ["KUBEAPI_CA"], os.path.join(root, "tmp", "ca.crt"))
        shutil.copy(os.environ["KUBEAPI_TOKEN_FILE"], os.path.join(root, "tmp", "token-a"))
        shutil.copy(os.environ["KUBEAPI_TOKEN_FILE_2"], os.path.join(root, "tmp", "token-c"))
        for d, _, fs in os.walk(os.path.join(root, "run", "secrets")):
            for f in fs:
                os.chmod(os.path.join(d, f), 0o644)
        for f in ("ca.crt", "token-a", "token-c"):
            os.chmod(os.path.join(root, "tmp", f), 0o644)
        tokens = []
        for var in ("KUBEAPI_TOKEN_FILE", "KUBEAPI_TOKEN_FILE_1", "KUBEAPI_TOKEN_FILE_2"):
            with open(os.environ[var]) as f:
                tokens.append(f.read().strip())

        base_env = {"POD_NAMESPACE": "default"}
        common = ["--election=rootfs-test"] + TIMINGS
        t0 = time.monotonic()
        da = Daemon(root, "pod-a", common + [
            "--server=" + url, "--ca-file=/tmp/ca.crt", "--token-file=/tmp/token-a",
            "--socket=/tmp/a.sock"], dict(base_env, POD_NAME="pod-a"), tmp)
        daemons.append(da)

        def probe(sock):
            return run_probe(root, ["--print", "--socket", sock])

        def leads(sock):
            return probe(sock)[0] == 0

        def a_leads():
            if da.proc.poll() is not None:
                raise Failure("pod-a exited %d: %s" % (da.proc.returncode, da.output()))
            return leads("/tmp/a.sock")
        _, s = wait_for("pod-a to lead", a_leads, timeout=30)
        check("pod-a (--server IP, --ca-file, --token-file) leads", True,
              "probe exit 0 after %.2f s" % (time.monotonic() - t0))

        db = Daemon(root, "pod-b", common + ["--socket=/tmp/b.sock"],
                    dict(base_env, POD_NAME="pod-b", KUBERNETES_SERVICE_HOST=u.hostname,
                         KUBERNETES_SERVICE_PORT=str(u.port)), tmp)
        daemons.append(db)
        dc = Daemon(root, "pod-c", common + [
            "--server=https://localhost:%d" % u.port, "--ca-file=/tmp/ca.crt",
            "--token-file=/tmp/token-c", "--socket=/tmp/c.sock"],
            dict(base_env, POD_NAME="pod-c"), tmp)
        daemons.append(dc)
        for d, how in ((db, "in-cluster configuration"), (dc, "--server https://localhost")):
            sock = "/tmp/%s.sock" % d.name[-1]

            def follows(d=d, sock=sock):
                if d.proc.poll() is not None:
                    raise Failure("%s exited %d: %s" % (d.name, d.proc.returncode, d.output()))
                rc, out, _ = probe(sock)
                return rc == 1 and out == "pod-a"
            _, s = wait_for("%s to follow pod-a" % d.name, follows, timeout=30)
            check("%s (%s) follows and names pod-a" % (d.name, how), True,
                  "after %.2f s" % s)
        check("pod-a still leads", leads("/tmp/a.sock"))

        da.proc.send_signal(signal.SIGTERM)

        def new_leader():
            rb, rc_ = leads("/tmp/b.sock"), leads("/tmp/c.sock")
            if rb and rc_:
                raise Failure("pod-b and pod-c both lead")
            return "pod-b" if rb else "pod-c" if rc_ else None
        who, s = wait_for("a new leader after SIGTERM to pod-a", new_leader, timeout=20)
        handoff = s
        check("SIGTERM to pod-a hands over", True, "%s leads after %.2f s" % (who, s))
        rc = da.stop()
        check("pod-a exits 0 on SIGTERM", rc == 0, "exit %s" % rc)
        check("pod-a removed its socket", not os.path.exists(os.path.join(root, "tmp", "a.sock")))
        check("pod-a's probe now fails closed", probe("/tmp/a.sock")[0] == 2)
        for d in (db, dc):
            rc = d.stop()
            check("%s exits 0 on SIGTERM" % d.name, rc == 0, "exit %s" % rc)
        logs = "".join(d.output() for d in daemons)
        check("no token in any log line", not any(t and t in logs for t in tokens))
        print("handoff from the tree: %.2f s (SIGTERM to the new leader's first "
              "successful probe, polled every 50 ms)" % handoff)
        print("RAN: daemon part (three daemons and their probes from the full tree "
              "under chroot, against the test API server)")
        return 0
    except Failure:
        for d in daemons:
            sys.stdout.write("--- %s log:\n%s" % (d.name, d.output()[-4000:]))
        raise
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
            d.log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("part", choices=["probe", "daemon"])
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--proto-server")
    a = ap.parse_args()
    a.source_dir = os.path.abspath(a.source_dir)
    a.build_dir = os.path.abspath(a.build_dir)
    try:
        return test_probe(a) if a.part == "probe" else test_daemon(a)
    except Failure as e:
        print("FAIL: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
