# SPDX-License-Identifier: MIT
"""Start and stop the test API server: per-run CA and server certificate,
tokens, a free loopback port reported through a pipe, stop by pid.

    with ApiServer(plain=False, watch_history=100) as api:
        api.env            # KUBEAPI_* variables for a child process
        api.request("GET", "/apis/coordination.k8s.io/v1/namespaces/ns/leases/x")
        api.admin("POST", "/_admin/faults", {"client": "candidate-1", "kind": "hang"})
"""

import http.client
import json
import os
import secrets
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS_DIR = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

MAIN_USER = "leader-elector"
RO_USER = "reader"
N_CANDIDATES = 9


class ApiServerError(RuntimeError):
    pass


def _run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    if p.returncode != 0:
        raise ApiServerError("%s failed: %s" % (cmd[0:2], p.stdout.decode(errors="replace")))


def make_certs(d):
    """A per-run CA and a server certificate for 127.0.0.1, ::1 and localhost
    (ECDSA P-256: fast to generate, accepted by OpenSSL, libcurl and Go)."""
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n")
    _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj",
          "/CN=kubeapi-test-ca", "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
    _run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=kube-apiserver"],
         d)
    _run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
          "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext"], d)
    os.chmod(os.path.join(d, "ca.key"), 0o600)
    os.chmod(os.path.join(d, "server.key"), 0o600)


class ApiServer:
    """The test API server as a context manager (a child process)."""

    def __init__(self, plain=False, host="127.0.0.1", watch_history=None,
                 bookmark_interval=None, extra_args=(), keep_dir=False, quiet=False,
                 log_to_stderr=False):
        self.plain = plain
        self.host = host
        self.args = []
        if plain:
            self.args.append("--plain")
        if watch_history is not None:
            self.args += ["--watch-history", str(watch_history)]
        if bookmark_interval is not None:
            self.args += ["--bookmark-interval", str(bookmark_interval)]
        self.args += ["--host", host] + list(extra_args)
        self.keep_dir = keep_dir or os.environ.get("KUBEAPI_KEEP") == "1"
        self.quiet = quiet
        self.log_to_stderr = log_to_stderr
        self.proc = None
        self.dir = None
        self._lifeline_w = None

    # -- life cycle -------------------------------------------------------------

    def start(self, timeout=15):
        self.dir = tempfile.mkdtemp(prefix="kubeapi-")
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()  # also removes the directory (unless kept)
            raise

    def _start(self, timeout):
        d = self.dir
        make_certs(d)
        self.ca = os.path.join(d, "ca.crt")
        self.admin_token = secrets.token_urlsafe(24)
        users = [(MAIN_USER, "rw", "token"), (RO_USER, "ro", "token-ro")]
        users += [("candidate-%d" % i, "rw", "token-%d" % i) for i in range(1, N_CANDIDATES + 1)]
        self.tokens = {}
        self.token_files = {}
        conf = {"admin_token": self.admin_token, "tokens": []}
        for user, access, fname in users:
            tok = secrets.token_urlsafe(32)
            path = os.path.join(d, fname)
            with open(path, "w") as f:
                f.write(tok + "\n")
            self.tokens[user] = tok
            self.token_files[user] = path
            conf["tokens"].append({"token": tok, "user": user, "access": access})
        tokpath = os.path.join(d, "tokens.json")
        with open(tokpath, "w") as f:
            json.dump(conf, f)
        os.chmod(tokpath, 0o600)
        self.token = self.tokens[MAIN_USER]
        self.token_file = self.token_files[MAIN_USER]
        self.ro_token = self.tokens[RO_USER]
        self.ro_token_file = self.token_files[RO_USER]

        ready_r, ready_w = os.pipe()
        life_r, life_w = os.pipe()
        args = [PYTHON, "-s", "-m", "kubeapi", "--tokens", tokpath, "--ready-fd", str(ready_w),
                "--lifeline-fd", str(life_r)]
        if not self.keep_dir:
            args += ["--orphan-cleanup", d]
        if not self.plain:
            args += ["--cert", os.path.join(d, "server.crt"), "--key",
                     os.path.join(d, "server.key")]
        if self.quiet:
            args.append("--quiet")
        args += self.args
        env = dict(os.environ)
        env["PYTHONPATH"] = TESTS_DIR + (os.pathsep + env["PYTHONPATH"]
                                         if env.get("PYTHONPATH") else "")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.log_path = os.path.join(d, "server.log")
        log = None if self.log_to_stderr else open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, pass_fds=(ready_w, life_r),
                                         start_new_session=True)
        finally:
            if log:
                log.close()
            os.close(ready_w)
            os.close(life_r)
        self._lifeline_w = life_w
        self.pid = self.proc.pid
        # The server writes {"port":..., "pid":...} once it listens: no sleeps.
        buf = b""
        deadline = time.monotonic() + timeout
        try:
            while not buf.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ApiServerError("server not ready within %ss" % timeout)
                r, _, _ = select.select([ready_r], [], [], left)
                if r:
                    chunk = os.read(ready_r, 256)
                    if not chunk:
                        raise ApiServerError("server exited before it was ready: %s"
                                             % self.log_tail())
                    buf += chunk
        except BaseException:
            os.close(ready_r)
            raise
        os.close(ready_r)
        info = json.loads(buf)
        self.port = info["port"]
        hostpart = "[%s]" % self.host if ":" in self.host else self.host
        self.url = "%s://%s:%d" % ("http" if self.plain else "https", hostpart, self.port)
        return self

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def stop(self, grace=5):
        """SIGTERM, then SIGKILL after `grace` seconds; remove the directory."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self._lifeline_w is not None:
            os.close(self._lifeline_w)
            self._lifeline_w = None
        if self.dir and not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def env(self):
        e = {"KUBEAPI_URL": self.url, "KUBEAPI_CA": self.ca, "KUBEAPI_TOKEN_FILE": self.token_file,
             "KUBEAPI_RO_TOKEN_FILE": self.ro_token_file, "KUBEAPI_ADMIN_TOKEN": self.admin_token,
             "KUBEAPI_DIR": self.dir, "KUBEAPI_PID": str(self.pid)}
        for i in range(1, N_CANDIDATES + 1):
            e["KUBEAPI_TOKEN_FILE_%d" % i] = self.token_files["candidate-%d" % i]
        return e

    # -- a small client for Python tests ------------------------------------

    def connection(self, timeout=10):
        if self.plain:
            return http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        ctx = ssl.create_default_context(cafile=self.ca)
        return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=ctx)

    def request(self, method, path, body=None, token=None, headers=None, conn=None,
                timeout=10, user=None):
        """One request; returns (status, headers dict (lower-case keys), body bytes).
        token=None uses the main read-write token; token="" sends none; user="candidate-3"
        uses that user's token."""
        if user is not None:
            token = self.tokens[user]
        elif token is None:
            token = self.token
        h = {"Accept": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        own = conn is None
        c = conn or self.connection(timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            if own:
                c.close()

    def json(self, method, path, body=None, **kw):
        st, _, data = self.request(method, path, body, **kw)
        return st, json.loads(data) if data.startswith(b"{") else data

    def admin(self, method, path, body=None):
        st, _, data = self.request(method, path, body, token=self.admin_token)
        if st >= 300:
            raise ApiServerError("admin %s %s -> %d %s" % (method, path, st, data[:200]))
        return json.loads(data)

    def add_fault(self, **spec):
        return self.admin("POST", "/_admin/faults", spec)["id"]

    def clear_faults(self):
        return self.admin("DELETE", "/_admin/faults")

    def watch(self, path, token=None, user=None, timeout=10):
        """Open a watch (path includes ?watch=1...); returns a WatchStream."""
        return WatchStream(self, path, token, user, timeout)

    def rotate_token(self, user=MAIN_USER, revoke_old=True):
        """Token rotation as the kubelet does it: a new token for the same user
        is accepted, the user's token file is replaced atomically, and (by
        default) the old token is revoked.  Returns the new token."""
        old = self.tokens[user]
        access = "ro" if user == RO_USER else "rw"
        new = secrets.token_urlsafe(32)
        self.admin("POST", "/_admin/tokens", {"token": new, "user": user, "access": access})
        path = self.token_files[user]
        with open(path + ".new", "w") as f:
            f.write(new + "\n")
        os.replace(path + ".new", path)
        self.tokens[user] = new
        if user == MAIN_USER:
            self.token = new
        elif user == RO_USER:
            self.ro_token = new
        if revoke_old:
            self.revoke_token(user, old)
        return new

    def revoke_token(self, user, token):
        return self.admin("DELETE", "/_admin/tokens/" + user, {"token": token})["removed"]

    def lease_path(self, ns, name=None):
        p = "/apis/coordination.k8s.io/v1/namespaces/%s/leases" % ns
        return p + "/" + name if name else p


class WatchStream:
    """A streaming watch on its own connection (a small HTTP/1.1 reader, so a
    read timeout leaves the stream usable).  next() returns one decoded event,
    None at the clean end of the stream (terminating chunk), raises
    socket.timeout when nothing arrives in time and ConnectionError when the
    connection is cut.  A non-200 answer is available as .status / .body."""

    def __init__(self, api, path, token=None, user=None, timeout=10):
        if user is not None:
            token = api.tokens[user]
        elif token is None:
            token = api.token
        sock = socket.create_connection((api.host, api.port), timeout)
        if not api.plain:
            ctx = ssl.create_default_context(cafile=api.ca)
            sock = ctx.wrap_socket(sock, server_hostname=api.host)
        self.sock = sock
        self.buf = b""
        self.pending = b""
        self.ended = False
        self.timeout = timeout
        host = "[%s]" % api.host if ":" in api.host else api.host
        req = "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: application/json\r\n" % (
            path, host, api.port)
        if token:
            req += "Authorization: Bearer %s\r\n" % token
        sock.sendall((req + "\r\n").encode())
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        self.body = b""
        if not self.chunked:
            n = int(self.headers.get("content-length", "0"))
            while len(self.buf) < n:
                self._fill(deadline)
            self.body, self.buf = self.buf[:n], self.buf[n:]
            self.pending = self.body
            self.ended = True

    def _fill(self, deadline):
        pend = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
        if not pend:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise socket.timeout("no data from the watch in time")
        try:
            data = self.sock.recv(65536)
        except ssl.SSLWantReadError:
            return
        if not data:
            raise ConnectionError("watch connection closed without the final chunk")
        self.buf += data

    def _line(self, deadline):
        while b"\r\n" not in self.buf:
            self._fill(deadline)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def next(self, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while b"\n" not in self.pending:
            if self.ended:
                rest, self.pending = self.pending, b""
                return json.loads(rest) if rest.strip() else None
            size_line = self._line(deadline)
            n = int(size_line.split(b";")[0], 16)
            if n == 0:
                self._line(deadline)
                self.ended = True
                continue
            while len(self.buf) < n + 2:
                self._fill(deadline)
            self.pending += self.buf[:n]
            self.buf = self.buf[n + 2:]
        line, self.pending = self.pending.split(b"\n", 1)
        self.last_raw = line + b"\n"
        return json.loads(line)

    def raw_line(self, timeout=None):
        self.next(timeout)
        return self.last_raw

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def lease(name, holder=None, duration=None, acquire=None, renew=None, transitions=None,
          rv=None, ns=None):
    """A Lease body as client-go's LeaseLock writes it."""
    meta = {"name": name}
    if ns:
        meta["namespace"] = ns
    if rv is not None:
        meta["resourceVersion"] = rv
    spec = {}
    for k, v in (("holderIdentity", holder), ("leaseDurationSeconds", duration),
                 ("acquireTime", acquire), ("renewTime", renew), ("leaseTransitions", transitions)):
        if v is not None:
            spec[k] = v
    return {"kind": "Lease", "apiVersion": "coordination.k8s.io/v1", "metadata": meta,
            "spec": spec}
