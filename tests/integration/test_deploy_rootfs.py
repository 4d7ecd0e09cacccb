#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Assembles the image's root filesystem with deploy/make-rootfs.sh and runs
the binaries from it under chroot, as the image's user (65532), the way a
container runtime runs the image in a pod: in a private mount namespace with
the tree read-only (readOnlyRootFilesystem), /proc, a minimal /dev, and a
shared writable directory mounted at /var/run/leader-election (the pod's
emptyDir). That proves nothing the binaries need is missing from the image.

    test_deploy_rootfs.py probe  --source-dir S --build-dir B --proto-server PATH
    test_deploy_rootfs.py daemon --source-dir S --build-dir B

probe:  a probe-only tree (make-rootfs.sh --probe-only); leader-probe from it
        answers 0 / 1 / 2 against the scripted protocol server (leader, not
        leader, no daemon).
daemon: the full tree; three daemons run from it against the test API server
        (tests/server/with-apiserver.py re-runs this script under a fresh server):
          pod-a  --server $KUBEAPI_URL (an IP) --ca-file --token-file, and
                 --install-probe into the emptyDir, as the manifests do
          pod-b  in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT and
                 the service-account files under /var/run/secrets
          pod-c  --server https://localhost:PORT: a host name, resolved through
                 /etc/hosts by glibc's built-in NSS modules (no libnss_*.so)
        The probe pod-a installed (run from the emptyDir, as an application
        container runs it) must see pod-a lead; the image's probe must see
        pod-b and pod-c follow and name pod-a; SIGTERM to pod-a must hand over
        to pod-b or pod-c and never show two leaders; every daemon must exit 0
        on SIGTERM and remove its socket; no log line may carry a token.

Exit 0 pass, 1 fail, 77 (ctest SKIP_RETURN_CODE) when a prerequisite is
missing (not root, no chroot/unshare, the daemon not built yet, no test API
server); the reason is printed.
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
EMPTYDIR = "/var/run/leader-election"
TIMINGS = ["--lease-duration=4s", "--renew-deadline=3s", "--retry-period=1s"]

# Run inside `unshare --mount`: what a container runtime sets up, then exec
# the command chroot'ed as the image's user. $R: the tree; $E: the host
# directory shared as the emptyDir.
CONTAINER_SH = """set -e
mount --bind "$R" "$R"
mount -o remount,bind,ro "$R"
mount -t proc proc "$R/proc"
mount -t tmpfs -o mode=755,nosuid tmpfs "$R/dev"
for d in null zero random urandom; do : > "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
mount --bind "$E" "$R/run/leader-election"
exec "$CHROOT" --userspec=%d:%d "$R" "$@"
""" % (UID, GID)


class Failure(Exception):
    pass


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + (": " + detail if detail else ""))
    if not cond:
        raise Failure(name)


def prerequisites():
    if os.geteuid() != 0:
        skip("not root: chroot and mount namespaces need root")
    for tool, pkg in (("chroot", "coreutils"), ("unshare", "util-linux"), ("mount", "mount")):
        if not shutil.which(tool):
            skip("%s not found (Debian package %s)" % (tool, pkg))
    if subprocess.run([shutil.which("unshare"), "--mount", "true"],
                      capture_output=True).returncode != 0:
        skip("no private mount namespace here (unshare --mount fails: no CAP_SYS_ADMIN?)")


class Pod:
    """A tree and an emptyDir; runs commands from the tree as containers."""

    def __init__(self, tmp):
        self.root = os.path.join(tmp, "rootfs")
        self.emptydir = os.path.join(tmp, "emptydir")
        os.mkdir(self.emptydir)
        os.chmod(self.emptydir, 0o777)  # as the kubelet makes an emptyDir

    def make(self, source_dir, build_dir, probe_only):
        cmd = [os.path.join(source_dir, "deploy", "make-rootfs.sh")]
        if probe_only:
            cmd.append("--probe-only")
        r = subprocess.run(cmd + [self.root, build_dir], capture_output=True, text=True,
                           timeout=120)
        sys.stdout.write(r.stdout + r.stderr)
        check("make-rootfs.sh" + (" --probe-only" if probe_only else ""), r.returncode == 0,
              "exit %d" % r.returncode)

    def argv(self, argv):
        return [shutil.which("unshare"), "--mount", "--propagation", "private",
                "/bin/sh", "-c", CONTAINER_SH, "sh"] + argv

    def env(self, extra=None):
        e = {"R": self.root, "E": self.emptydir, "CHROOT": shutil.which("chroot"),
             "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        e.update(extra or {})
        return e

    def run(self, argv, timeout=10):
        """(exit code, stdout, stderr) of argv run as a container of the pod."""
        r = subprocess.run(self.argv(argv), env=self.env(), capture_output=True, text=True,
                           timeout=timeout)
        return r.returncode, r.stdout.strip(), r.stderr.strip()

    def host_path(self, path_in_emptydir):
        return os.path.join(self.emptydir, os.path.relpath(path_in_emptydir, EMPTYDIR))


# ---------------------------------------------------------------- probe part

def test_probe(a):
    prerequisites()
    if not a.proto_server or not os.access(a.proto_server, os.X_OK):
        skip("the scripted protocol server %s is not built" % a.proto_server)
    tmp = tempfile.mkdtemp(prefix="le-rootfs-probe-")
    os.chmod(tmp, 0o755)
    server = None
    try:
        pod = Pod(tmp)
        pod.make(a.source_dir, a.build_dir, probe_only=True)
        files = sorted(os.path.relpath(os.path.join(d, f), pod.root)
                       for d, _, fs in os.walk(pod.root) for f in fs)
        check("the probe-only tree holds no library", not any(".so" in f for f in files),
              ", ".join(files))
        rc, out, err = pod.run(["/usr/bin/leader-probe", "--version"])
        check("leader-probe --version runs as uid %d on a read-only root" % UID, rc == 0,
              out or err)
        sock = EMPTYDIR + "/p.sock"
        rc, _, err = pod.run(["/usr/bin/leader-probe", "--socket", sock])
        check("no daemon: exit 2 (fail closed)", rc == 2, "exit %d, %s" % (rc, err))
        for mode, want in (("leader", 0), ("not-leader", 1)):
            server = subprocess.Popen([a.proto_server, "--socket", pod.host_path(sock),
                                       "--mode", mode], stdout=subprocess.PIPE,
                                      user=UID, group=GID)
            line = server.stdout.readline().decode().strip()
            check("protocol server (%s) ready" % mode, line == "READY", line)
            rc, out, err = pod.run(["/usr/bin/leader-probe", "--socket", sock])
            check("server says %s: exit %d" % (mode, want), rc == want,
                  "exit %d %s" % (rc, err))
            server.terminate()
            server.wait(timeout=5)
            server = None
            if os.path.exists(pod.host_path(sock)):
                os.unlink(pod.host_path(sock))
        print("RAN: probe part (leader-probe from a probe-only tree, chroot, read-only root)")
        return 0
    finally:
        if server and server.poll() is None:
            server.kill()
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------- daemon part

class Daemon:
    """One leader-elector run from the tree as a container of the pod."""

    def __init__(self, pod, name, args, env, log_dir):
        self.name = name
        self.socket = "%s/%s.sock" % (EMPTYDIR, name)
        self.log_path = os.path.join(log_dir, name + ".log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            pod.argv(["/usr/bin/leader-elector", "--socket=" + self.socket] + args),
            env=pod.env(env), stdout=self.log, stderr=subprocess.STDOUT)

    def alive(self):
        if self.proc.poll() is not None:
            raise Failure("%s exited %d: %s" % (self.name, self.proc.returncode,
                                                self.output()[-2000:]))
        return True

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
    """Polls fn() until it returns a true value; returns (value, seconds)."""
    t0 = time.monotonic()
    while True:
        v = fn()
        if v:
            return v, time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise Failure("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.05)


def test_daemon(a):
    prerequisites()
    daemon = os.path.join(a.build_dir, "daemon", "leader-elector")
    if not os.access(daemon, os.X_OK):
        skip("%s not built yet: the daemon part cannot run (the probe part is "
             "deploy.rootfs.probe)" % daemon)
    wa = os.path.join(a.source_dir, "tests", "server", "with-apiserver.py")
    if not os.path.exists(wa):
        skip("tests/server/with-apiserver.py not found")
    if "KUBEAPI_URL" not in os.environ:
        # Re-run this script under a fresh test API server.
        r = subprocess.run([sys.executable, wa, "--", sys.executable, os.path.abspath(__file__)]
                           + sys.argv[1:], timeout=600)
        return r.returncode

    tmp = tempfile.mkdtemp(prefix="le-rootfs-daemon-")
    os.chmod(tmp, 0o755)
    daemons = []
    try:
        pod = Pod(tmp)
        pod.make(a.source_dir, a.build_dir, probe_only=False)
        root = pod.root
        url = os.environ["KUBEAPI_URL"]
        u = urllib.parse.urlsplit(url)
        check("the test API server speaks https", u.scheme == "https", url)

        # What the kubelet mounts into a container: /etc/hosts, /etc/resolv.conf,
        # the service-account token, CA and namespace.
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
        # The CA and tokens of the daemons given --ca-file/--token-file.
        creds = os.path.join(root, "etc", "test-creds")
        os.makedirs(creds)
        shutil.copy(os.environ["KUBEAPI_CA"], os.path.join(creds, "ca.crt"))
        shutil.copy(os.environ["KUBEAPI_TOKEN_FILE"], os.path.join(creds, "token-a"))
        shutil.copy(os.environ["KUBEAPI_TOKEN_FILE_2"], os.path.join(creds, "token-c"))
        for d in (sa, creds):
            for f in os.listdir(d):
                os.chmod(os.path.join(d, f), 0o644)
        tokens = []
        for var in ("KUBEAPI_TOKEN_FILE", "KUBEAPI_TOKEN_FILE_1", "KUBEAPI_TOKEN_FILE_2"):
            with open(os.environ[var]) as f:
                tokens.append(f.read().strip())

        common = ["--election=rootfs-test"] + TIMINGS
        installed = EMPTYDIR + "/leader-probe"
        t0 = time.monotonic()
        da = Daemon(pod, "pod-a", common + [
            "--server=" + url, "--ca-file=/etc/test-creds/ca.crt",
            "--token-file=/etc/test-creds/token-a", "--install-probe=" + installed],
            {"POD_NAME": "pod-a", "POD_NAMESPACE": "default"}, tmp)
        daemons.append(da)

        def probe(d, binary="/usr/bin/leader-probe"):
            return pod.run([binary, "--print", "--socket", d.socket])

        def a_leads():
            return da.alive() and probe(da, installed)[0] == 0
        wait_for("pod-a to lead", a_leads, timeout=30)
        check("pod-a (--server IP, --ca-file, --token-file) leads; the probe it installed "
              "into the emptyDir says so", True, "after %.2f s" % (time.monotonic() - t0))
        check("the installed probe is executable in the emptyDir",
              os.access(pod.host_path(installed), os.X_OK))
        check("leader-run is installed beside it (the image's /usr/bin/leader-run)",
              os.access(pod.host_path(EMPTYDIR + "/leader-run"), os.X_OK))

        db = Daemon(pod, "pod-b", common,
                    {"POD_NAME": "pod-b", "KUBERNETES_SERVICE_HOST": u.hostname,
                     "KUBERNETES_SERVICE_PORT": str(u.port)}, tmp)
        daemons.append(db)
        dc = Daemon(pod, "pod-c", common + [
            "--server=https://localhost:%d" % u.port, "--ca-file=/etc/test-creds/ca.crt",
            "--token-file=/etc/test-creds/token-c"],
            {"POD_NAME": "pod-c", "POD_NAMESPACE": "default"}, tmp)
        daemons.append(dc)
        for d, how in ((db, "in-cluster configuration"), (dc, "--server https://localhost")):
            def follows(d=d):
                rc, out, _ = probe(d)
                return d.alive() and rc == 1 and out == "pod-a"
            _, s = wait_for("%s to follow pod-a" % d.name, follows, timeout=30)
            check("%s (%s) follows and names pod-a" % (d.name, how), True, "after %.2f s" % s)
        check("pod-a still leads", probe(da)[0] == 0)
        # The footprint the manifests' resources are sized from: a leader
        # with two followers, run from the image tree.
        time.sleep(2)
        st = {}
        with open("/proc/%d/status" % da.proc.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                st[k] = v.strip()
        print("pod-a leading: RssAnon %s, RssFile %s, VmRSS %s, VmHWM %s"
              % (st.get("RssAnon"), st.get("RssFile"), st.get("VmRSS"), st.get("VmHWM")))
        if a.memory_limit_mib:
            rss_kib = int(st["VmHWM"].split()[0])
            check("peak RSS under the manifests' memory limit (%d MiB)" % a.memory_limit_mib,
                  rss_kib < a.memory_limit_mib * 1024, "%d KiB" % rss_kib)

        da.proc.send_signal(signal.SIGTERM)

        def new_leader():
            rb, rc_ = probe(db)[0] == 0, probe(dc)[0] == 0
            if rb and rc_:
                raise Failure("pod-b and pod-c both lead")
            return "pod-b" if rb else "pod-c" if rc_ else None
        who, handoff = wait_for("a new leader after SIGTERM to pod-a", new_leader, timeout=20)
        check("SIGTERM to pod-a hands over", True, "%s leads after %.2f s" % (who, handoff))
        rc = da.stop()
        check("pod-a exits 0 on SIGTERM", rc == 0, "exit %s" % rc)
        check("pod-a removed its socket", not os.path.exists(pod.host_path(da.socket)))
        check("pod-a's probe now fails closed (exit 2)", probe(da)[0] == 2)
        other = dc if who == "pod-b" else db
        rc, out, _ = probe(other)
        check("the other follower names %s" % who, rc == 1 and out == who, "%d %s" % (rc, out))
        for d in (db, dc):
            rc = d.stop()
            check("%s exits 0 on SIGTERM" % d.name, rc == 0, "exit %s" % rc)
        logs = "".join(d.output() for d in daemons)
        check("no token in any log line", not any(t and t in logs for t in tokens))
        print("handoff from the image tree: %.2f s (SIGTERM to the new leader's first "
              "successful probe; each probe is a fresh unshare+chroot)" % handoff)
        print("RAN: daemon part (three daemons and their probes from the full tree, chroot, "
              "read-only root, against the test API server)")
        return 0
    except Failure:
        for d in daemons:
            sys.stdout.write("--- %s log (tail):\n%s\n" % (d.name, d.output()[-3000:]))
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
    ap.add_argument("--memory-limit-mib", type=int, default=0,
                    help="fail when the leading daemon's peak RSS reaches this (0: report only)")
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
