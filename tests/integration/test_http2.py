#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""HTTP/2 end to end. The API client asks for HTTP/2 when the server offers it
(CURL_HTTP_VERSION_2TLS, CURLOPT_PIPEWAIT, CURLPIPE_MULTIPLEX); the test API
server speaks HTTP/1.1 only, so nghttpx (Debian package nghttp2-proxy) is put
in front of it as a TLS + HTTP/2 front end, and two real daemons (lease 3 s,
renew deadline 2 s, retry 0.5 s) talk to the front end only:

- one becomes leader;
- nghttpx's access log shows every request of the daemons (the Lease GET and
  PUTs, the watches) arriving as HTTP/2 (ALPN h2), none as HTTP/1.x;
- while leading and watching, each daemon holds exactly one established TCP
  connection to the front end (read from /proc), and the access log shows its
  watch and its renews on that one connection: multiplexed streams;
- SIGTERM of the leader hands over to the other within 1 s, learnt from the
  released Lease on its open watch stream (no read and no new watch of its
  own in between), over the same connection; both daemons exit 0 and never
  log their token.

The front end presents the test server's own certificate (signed by the
per-run CA), so the daemons verify it with the same --ca-file; nghttpx
verifies the backend hop against that CA too.

Without nghttpx: prints a SKIP line and exits 77 (ctest SKIP_RETURN_CODE).
"""

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [TESTS, os.path.join(TESTS, "server")]  # harness/, kubeapi/
from harness.cluster import Cluster, SETPRIV, free_port  # noqa: E402
from harness.testing import FailoverTest, binaries, main, say, now, wrapper  # noqa: E402
from kubeapi import make_certs  # noqa: E402


def find_nghttpx():
    exe = os.environ.get("LE_NGHTTPX")
    if exe:
        return exe if os.access(exe, os.X_OK) else None
    # Debian installs it in /usr/sbin, which is not on every user's PATH.
    return shutil.which("nghttpx") or shutil.which("nghttpx", path="/usr/sbin:/sbin")


NGHTTPX = find_nghttpx()

# One line per request, written as soon as the backend's response headers
# arrive (--accesslog-write-early), so that open watches are in it too.
# $request is "METHOD PATH PROTOCOL", as in nghttpx's default format.
ACCESS_FORMAT = '$remote_port $alpn "$request" $status'
ACCESS_LINE = re.compile(r'^(\d+) (\S+) "(\S+) (\S+) (\S+)" (\d+)$')


class Request:
    __slots__ = ("port", "alpn", "method", "path", "proto", "status")

    def __init__(self, m):
        self.port, self.alpn = int(m.group(1)), m.group(2)
        self.method, self.path, self.proto = m.group(3), m.group(4), m.group(5)
        self.status = int(m.group(6))

    @property
    def kind(self):
        if "/leases" not in self.path:
            return "other"
        if self.method == "GET":
            return "watch" if "watch=true" in self.path else "get"
        return {"PUT": "update", "POST": "create"}.get(self.method, self.method.lower())

    def __repr__(self):
        return "%d %s %s %s %s %d" % (self.port, self.alpn, self.method, self.path, self.proto,
                                      self.status)


class FrontEnd:
    """nghttpx on a free loopback port in front of the test API server:
    TLS + HTTP/2 (and HTTP/1.1) to the clients, TLS + HTTP/1.1 to the server.
    Started and stopped by pid; its files live in the server's directory."""

    def __init__(self, api):
        self.api = api
        self.dir = os.path.join(api.dir, "front")
        os.mkdir(self.dir)
        key, crt = (os.path.join(api.dir, f) for f in ("server.key", "server.crt"))
        if os.path.exists(key) and os.path.exists(crt):
            # The test server's certificate, from its per-run CA: the daemons
            # verify the front end with the CA they would use for the server.
            self.key, self.crt, self.ca = key, crt, api.ca
        else:
            make_certs(self.dir)  # a CA of the front end's own
            self.key, self.crt, self.ca = (os.path.join(self.dir, f) for f in
                                           ("server.key", "server.crt", "ca.crt"))
        self.access_log = os.path.join(self.dir, "access.log")
        self.error_log = os.path.join(self.dir, "error.log")
        self.conf = os.path.join(self.dir, "nghttpx.conf")
        open(self.conf, "w").close()  # not the system's /etc/nghttpx/nghttpx.conf
        self.proc = None
        self.port = None

    def start(self, attempts=3):
        for _ in range(attempts):
            self.port = free_port()
            cmd = [NGHTTPX, "--conf=" + self.conf,
                   "--frontend=127.0.0.1,%d" % self.port,
                   # The backend hop is TLS too, verified against the test CA
                   # (nghttpx verifies unless --insecure). nghttpx 1.52 does
                   # not match an address literal against the certificate's
                   # IP subjectAltName ("hostname does not match"), so the
                   # hop names the certificate's DNS name, localhost.
                   "--backend=127.0.0.1,%d;;tls;sni=localhost" % self.api.port,
                   "--cacert=" + self.api.ca,
                   "--single-process", "--workers=1", "--no-ocsp",
                   "--accesslog-file=" + self.access_log, "--accesslog-write-early",
                   "--accesslog-format=" + ACCESS_FORMAT,
                   "--errorlog-file=" + self.error_log,
                   self.key, self.crt]
            if SETPRIV:
                cmd = [SETPRIV, "--pdeathsig", "KILL", "--"] + cmd
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
            alpn = self._wait_ready(10)
            if alpn:
                return alpn
            self.stop()  # the port was taken meanwhile, or it failed: try another
        raise AssertionError("nghttpx did not start; its error log:\n" + self.error_tail())

    def _wait_ready(self, timeout):
        """The ALPN protocol the front end chose in a TLS handshake that
        verified its certificate (None if it never answered)."""
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        deadline = now() + timeout
        while now() < deadline and self.proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 1) as s:
                    with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                        return t.selected_alpn_protocol() or "none"
            except (OSError, ssl.SSLError):
                time.sleep(0.05)
        return None

    def stop(self, grace=5):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def log_size(self):
        try:
            return os.path.getsize(self.access_log)
        except OSError:
            return 0

    def requests(self, offset=0):
        """The access log's requests (from byte offset on); raises on a line
        that is not in the expected format."""
        try:
            with open(self.access_log, "rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        out = []
        for line in text.splitlines():
            m = ACCESS_LINE.match(line)
            if not m:
                raise AssertionError("unexpected access log line: %r" % line)
            out.append(Request(m))
        return out

    def error_tail(self, n=20):
        try:
            with open(self.error_log, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode(errors="replace")
        except OSError:
            return "(none)"


def tcp_connections(pid, remote_port):
    """{local port: TCP state} of pid's sockets connected to 127.0.0.1:remote_port."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    try:
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return {}
    remote_v4 = "0100007F:%04X" % remote_port
    remote_v6 = "0000000000000000FFFF00000100007F:%04X" % remote_port
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            col = row.split()
            if len(col) < 10 or col[9] not in inodes:
                continue
            if col[2] in (remote_v4, remote_v6):
                out[int(col[1].rsplit(":", 1)[1], 16)] = STATES.get(col[3], col[3])
    return out


STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
          "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
          "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING"}


class FrontedCluster(Cluster):
    """The failover harness with every daemon's --server (and --ca-file) the
    front end's."""
    front = None

    def _add_pod(self, name, index):
        p = super()._add_pod(name, index)
        base = p.command

        def command():
            cmd = base()
            cmd[cmd.index("--server") + 1] = self.front.url
            cmd[cmd.index("--ca-file") + 1] = self.front.ca
            return cmd
        p.command = command
        return p


class Http2(FailoverTest):
    pods = 2

    def fronted_cluster(self):
        daemon, probe = binaries()
        return FrontedCluster(daemon, probe, pods=self.pods, timings=self.timings,
                              extra_args=["--log-level", "debug"], wrapper=wrapper(), log=say,
                              election="http2", start=False)

    def by_port(self, reqs, port):
        return [r for r in reqs if r.port == port]

    def test_http2_front_end(self):
        with self.fronted_cluster() as c:
            front = c.front = FrontEnd(c.api)
            try:
                self.run_through(c, front)
            except BaseException:
                say("---- nghttpx access log:\n" + "\n".join(map(repr, front.requests())))
                say("---- nghttpx error log tail:\n" + front.error_tail())
                raise
            finally:
                front.stop()

    def run_through(self, c, front):
        alpn = front.start()
        say("  nghttpx on port %d (pid %d) in front of the test server on port %d: ALPN %s"
            % (front.port, front.proc.pid, c.api.port, alpn))
        self.assertEqual(alpn, "h2", "the front end does not offer HTTP/2")
        for p in c.pods:
            p.start()

        # (a) one leader
        leader = c.leader()
        follower = next(p for p in c.pods if p is not leader)
        say("  %s leads, %s follows" % (leader.name, follower.name))

        # Both watching: a watch answered 200 on each daemon's connection.
        def ports_watching():
            conns = {p.name: tcp_connections(p.pid, front.port) for p in c.pods}
            reqs = front.requests()
            ok = all(any(r.kind == "watch" and r.status == 200 and r.port in conns[p.name]
                         for r in reqs) for p in c.pods)
            return conns if ok else None
        self.assertTrue(self.wait_until(ports_watching, 10),
                        "not both daemons have a watch open through the front end")

        # (c) one established connection per daemon, sampled over 2 s (four
        # renews of the leader), always the same one.
        t_window = now()
        size0 = front.log_size()
        seen = {p.name: set() for p in c.pods}
        samples = 0
        while now() < t_window + 2.0:
            for p in c.pods:
                conns = tcp_connections(p.pid, front.port)
                est = [port for port, state in conns.items() if state == "ESTABLISHED"]
                self.assertEqual(len(est), 1, "%s's connections to the front end: %r"
                                 % (p.name, conns))
                self.assertEqual(len(conns), 1, "%s's connections to the front end: %r"
                                 % (p.name, conns))
                seen[p.name].update(est)
            samples += 1
            time.sleep(0.1)
        for p in c.pods:
            self.assertEqual(len(seen[p.name]), 1, "%s changed connections: %r"
                             % (p.name, seen[p.name]))
        port_of = {p.name: next(iter(seen[p.name])) for p in c.pods}
        say("  %d samples over 2 s: each daemon holds exactly one established connection to "
            "the front end (%s)" % (samples, ", ".join("%s local port %d" % (n, port_of[n])
                                                       for n in sorted(port_of))))

        # The window's renews came on the leader's one connection, the one
        # that carries its watch.
        reqs = front.requests()
        window = front.requests(size0)
        renews = [r for r in self.by_port(window, port_of[leader.name]) if r.kind == "update"]
        self.assertGreaterEqual(len(renews), 2, "too few renews in 2 s: %r" % window)
        lw = [r for r in self.by_port(reqs, port_of[leader.name]) if r.kind == "watch"]
        fw = [r for r in self.by_port(reqs, port_of[follower.name]) if r.kind == "watch"]
        self.assertTrue(lw and fw, "no watch on the daemons' connections: %r" % reqs)
        self.assertEqual(len(fw), 1, "the follower reopened its watch: %r" % fw)
        say("  %s: %d renews in the window on the connection of its watch (multiplexed)"
            % (leader.name, len(renews)))

        # (b) every request so far came on those two connections, as HTTP/2.
        self.assert_http2(reqs, set(port_of.values()))
        kinds = {r.kind for r in reqs}
        for k in ("get", "update", "watch"):
            self.assertIn(k, kinds, "no Lease %s through the front end: %r" % (k, reqs))

        # (d) SIGTERM of the leader: the follower learns the release on its
        # watch stream and takes over within 1 s, on the same connection.
        st0 = c.stats()["requests"].get(follower.user, {})
        size1 = front.log_size()
        h = c.handoff(leader, signal.SIGTERM)
        self.assert_handoff(h, 1.0, "graceful handoff over HTTP/2")
        self.assertIs(h.new, follower)
        self.assertEqual(leader.wait(10), 0, "the SIGTERMed leader's exit status")
        st1 = c.stats()["requests"].get(follower.user, {})
        after = front.requests(size1)
        release = [r for r in self.by_port(after, port_of[leader.name]) if r.kind == "update"]
        take = [r for r in self.by_port(after, port_of[follower.name]) if r.kind == "update"]
        self.assertTrue(release, "the leader's release is not in the access log: %r" % after)
        self.assertTrue(take, "the follower's acquisition is not in the access log: %r" % after)
        for verb in ("get", "watch"):
            self.assertEqual(st0.get(verb), st1.get(verb),
                             "the follower %s'd the Lease during the handoff: it must learn "
                             "the release from its open watch (%r -> %r)" % (verb, st0, st1))
        self.assertEqual(tcp_connections(follower.pid, front.port),
                         {port_of[follower.name]: "ESTABLISHED"},
                         "the new leader's connection changed")
        say("  handoff in %.0f ms over HTTP/2: %s saw the release on its open watch stream "
            "(no GET, no new watch) and acquired on the same connection"
            % (h.probe_s * 1000, follower.name))
        time.sleep(1.0)  # a few renews of the new leader

        # Both exit 0, never two leaders (the harness's checks), no token logged.
        self.finish(c)
        reqs = front.requests()
        self.assert_http2(reqs, set(port_of.values()))
        for p in c.pods:
            text = p.log()
            for user in [p.user] + getattr(p, "old_users", []):
                self.assertNotIn(c.api.tokens[user], text, "%s logged its token" % p.name)
        n = {k: sum(1 for r in reqs if r.kind == k) for k in ("get", "create", "update", "watch")}
        say("  %d requests in all through the front end, every one HTTP/2 on one of the two "
            "connections: %s" % (len(reqs), ", ".join("%d %s" % (v, k) for k, v in n.items())))

    def assert_http2(self, reqs, ports):
        self.assertTrue(reqs, "the access log is empty")
        not_h2 = [r for r in reqs if r.proto != "HTTP/2" or r.alpn != "h2"]
        self.assertEqual(not_h2, [], "requests not over HTTP/2")
        others = [r for r in reqs if r.port not in ports]
        self.assertEqual(others, [], "requests on other connections than the daemons' two")
        # 404: the first read of a Lease not yet created; 409: a lost race.
        bad = [r for r in reqs if r.status not in (200, 201, 404, 409)]
        self.assertEqual(bad, [], "unexpected answers through the front end")


if __name__ == "__main__":
    if not NGHTTPX:
        say("SKIP: nghttpx not found (Debian package nghttp2-proxy): HTTP/2 not tested")
        sys.exit(77)
    main()
