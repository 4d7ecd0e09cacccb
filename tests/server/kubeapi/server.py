# SPDX-License-Identifier: MIT
"""A Kubernetes API server double for the tests: HTTPS (or HTTP), bearer tokens,
the registry of store.py, watch, discovery for kubectl, fault injection and an
admin endpoint.  Run: python3 -m kubeapi [options] (see README.md)."""

import argparse
import email.utils
import hmac
import json
import os
import random
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from . import faults as F
from . import resources as R
from . import status as S
from .store import Store

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")

# The APF headers every real JSON response carries; the ids are those of the
# kubectl v1.28.15 trace quoted in tests/data/k8s-api/README.md.
PF_FLOWSCHEMA_UID = "6ef5c024-ac21-4c40-8a3b-c5e8ec318f3b"
PF_PRIORITYLEVEL_UID = "ac2ab52c-064b-4e77-a3ab-345d3949efdc"


class Aborted(Exception):
    """The connection was cut on purpose (reset fault, partition cut)."""


class FaultAnswered(Exception):
    """A body fault wrote the whole answer."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


class Config:
    def __init__(self, args):
        self.plain = args.plain
        self.host = args.host
        self.cert = args.cert
        self.key = args.key
        self.watch_history = args.watch_history
        self.bookmark_interval = args.bookmark_interval
        self.min_request_timeout = args.min_request_timeout
        self.max_body = args.max_body
        self.idle_timeout = args.idle_timeout
        self.quiet = args.quiet


class Auth:
    def __init__(self):
        self.lock = threading.Lock()
        self.tokens = {}  # token -> (user, access)

    def add(self, token, user, access):
        with self.lock:
            self.tokens[token] = (user, access)

    def revoke_user(self, user):
        with self.lock:
            gone = [t for t, (u, _) in self.tokens.items() if u == user]
            for t in gone:
                del self.tokens[t]
        return len(gone)

    def revoke_token(self, user, token):
        with self.lock:
            if self.tokens.get(token, (None,))[0] == user:
                del self.tokens[token]
                return 1
        return 0

    def lookup(self, token):
        if not token:
            return None, None
        with self.lock:
            return self.tokens.get(token, (None, None))


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}
        self.total = 0

    def record(self, user, verb, code):
        with self.lock:
            per_verb = self.requests.setdefault(user or "system:anonymous", {})
            per_code = per_verb.setdefault(verb, {})
            per_code[str(code)] = per_code.get(str(code), 0) + 1
            self.total += 1

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps({"total": self.total, "requests": self.requests}))

    def reset(self):
        with self.lock:
            self.requests = {}
            self.total = 0


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, cfg, admin_token):
        self.cfg = cfg
        self.address_family = socket.AF_INET6 if ":" in cfg.host else socket.AF_INET
        super().__init__((cfg.host, 0), Handler)
        self.store = Store(history=cfg.watch_history)
        self.faults = F.FaultTable()
        self.faults.listeners.append(self.store.wake)
        self.faults.listeners.append(self._cut_partitioned)
        self.auth = Auth()
        self.admin_token = admin_token
        self.stats = Stats()
        self.conns = set()
        self.conns_lock = threading.Lock()
        self.conns_total = 0
        self.log_lock = threading.Lock()
        self.ssl_ctx = None
        if not cfg.plain:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(cfg.cert, cfg.key)
            ctx.set_alpn_protocols(["http/1.1"])
            self.ssl_ctx = ctx

    @property
    def port(self):
        return self.server_address[1]

    def get_request(self):
        sock, addr = super().get_request()
        if self.ssl_ctx is not None:
            # The handshake runs in the connection's own thread (Handler.setup),
            # so a slow or silent client never blocks accept().
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ssl.SSLError, Aborted, ValueError)):
            return  # a client that went away or spoke garbage: not a server bug
        self.log("internal error: %r" % (exc,))
        import traceback
        traceback.print_exc()

    def log(self, msg):
        if self.cfg.quiet:
            return
        with self.log_lock:
            sys.stderr.write("%s kubeapi: %s\n" % (time.strftime("%H:%M:%S"), msg))
            sys.stderr.flush()

    def _cut_partitioned(self):
        with self.conns_lock:
            conns = list(self.conns)
        for h in conns:
            if self.faults.partition(h.user) == "cut":
                h.cut_from_outside()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    query = {}
    is_admin = False
    server_version = "kubeapi"

    # -- connection life cycle ----------------------------------------------

    def setup(self):
        srv = self.server
        self.user = None
        self.cut = False
        self.request.settimeout(srv.cfg.idle_timeout)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(srv.cfg.idle_timeout)
        super().setup()
        with srv.conns_lock:
            srv.conns.add(self)
            srv.conns_total += 1

    def finish(self):
        with self.server.conns_lock:
            self.server.conns.discard(self)
        try:
            super().finish()
        except (OSError, ValueError):
            pass

    def handle(self):
        try:
            super().handle()
        except (OSError, ssl.SSLError, Aborted, ValueError):
            pass

    def cut_from_outside(self):
        # Called from another thread (partition cut): make the socket reset on
        # close and wake the owner blocked in recv().
        self.cut = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            socket.socket.shutdown(self.connection, socket.SHUT_RDWR)
        except OSError:
            pass

    def reset_now(self):
        # RST, no response: SO_LINGER 0 then the real close of the descriptor.
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.rfile.close()
            socket.socket.close(self.connection)
        except OSError:
            pass
        self.close_connection = True
        raise Aborted()

    def send_error(self, code, message=None, explain=None):
        """Protocol-level errors found by http.server (bad request line, header
        limits, unknown method): answered as Go's net/http does, text/plain
        '<code> <reason>' and the connection closed; an unknown method reaches the
        API server's mux in Go, hence 405 with a Status."""
        self.close_connection = True
        self._headers_started = True
        self.request_version = "HTTP/1.1"
        if code == 501:
            e = S.method_not_allowed()
            return self.send_body(e.code, e.body, e.content_type, e.headers)
        try:
            phrase = self.responses[code][0]
        except KeyError:
            phrase = ""
        data = ("%d %s" % (code, phrase)).encode()
        self.request_version = "HTTP/1.1"  # Go answers HTTP/1.1 even to garbage
        self.send_response_only(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass  # one line per request is written by _log_request instead

    def _log_request(self, code, t0):
        self.server.log("%s %s %s -> %s (%.1f ms)" % (
            self.user or "-", self.command, self.path[:200], code,
            (time.monotonic() - t0) * 1000))

    # -- response helpers ---------------------------------------------------

    def _common_headers(self, content_type):
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", content_type)
        self.send_header("Date", email.utils.formatdate(usegmt=True))
        if content_type.startswith("application/json"):
            self.send_header("X-Kubernetes-Pf-Flowschema-Uid", PF_FLOWSCHEMA_UID)
            self.send_header("X-Kubernetes-Pf-Prioritylevel-Uid", PF_PRIORITYLEVEL_UID)

    def _pretty(self):
        # negotiate.go isPrettyPrint: ?pretty=<bool>, else a User-Agent starting
        # with curl, Wget or Mozilla/5.0.
        q = getattr(self, "query", {})
        if "pretty" in q and q["pretty"]:
            return q["pretty"].lower() in ("1", "t", "true")
        ua = self.headers.get("User-Agent", "") if self.headers else ""
        return ua.startswith(("curl", "Wget", "Mozilla/5.0"))

    def send_body(self, code, body, content_type="application/json", headers=()):
        e = getattr(self, "_answer_instead", None)
        if e is not None:
            # An applied_status fault: the request was carried out; its answer is lost.
            self._answer_instead = None
            code, body, content_type, headers = e.code, e.body, e.content_type, e.headers
        if isinstance(body, (dict, list)):
            data = S.encode(body, pretty=self._pretty() and not self.is_admin)
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = body
        # Counted before the answer leaves: a client that reads /_admin/stats right after
        # this answer must find it there (the dispatcher's finally counts the rest).
        self._record(code)
        self._headers_started = True
        self.send_response_only(code)
        self._common_headers(content_type)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return code

    def send_error_obj(self, e):
        return self.send_body(e.code, e.body, e.content_type, e.headers)

    def _read_body(self):
        """The request body, bounded by --max-body; chunked bodies too."""
        limit = self.server.cfg.max_body
        te = self.headers.get("Transfer-Encoding", "")
        if te.lower() == "chunked":
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                try:
                    n = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    self.close_connection = True
                    raise S.bad_request("malformed chunked encoding")
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                if len(out) + n > limit:
                    self.close_connection = True
                    raise S.entity_too_large(limit)
                out += self.rfile.read(n)
                self.rfile.readline(16)
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b""
        try:
            n = int(cl)
            if n < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise S.bad_request("invalid Content-Length")
        if n > limit:
            self.close_connection = True  # the unread body makes the stream unusable
            raise S.entity_too_large(limit)
        data = self.rfile.read(n)
        if len(data) != n:
            self.close_connection = True
            raise OSError("short body")
        return data

    # -- dispatch -------------------------------------------------------------

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self):
        t0 = time.monotonic()
        self.code = "none"  # stays so when no response could be written
        self._recorded = True  # API requests (not admin, not health) are counted
        self._req_user = None
        self._req_verb = "get"
        self._headers_started = False
        self._answer_instead = None  # set by an applied_status fault (see send_body)
        try:
            self._dispatch_inner()
        except Aborted:
            self.code = "reset"
            raise
        except (OSError, ssl.SSLError):
            raise  # the client went away mid-response
        except Exception as e:  # a bug in the double: answer 500, keep serving
            if isinstance(e, ValueError) and "closed file" in str(e):
                raise  # writing to a connection already cut
            import traceback
            self.server.log("internal error on %s %s: %r\n%s" % (
                self.command, self.path[:200], e, traceback.format_exc()))
            self.close_connection = True
            if not self._headers_started:
                self.code = self.send_error_obj(S.internal_error("kubeapi: %r" % (e,)))
        finally:
            self._record(self.code)
            self._log_request(self.code, t0)

    def _record(self, code):
        # Unset before _dispatch() (an answer to a malformed request): not counted.
        if not getattr(self, "_recorded", True):
            self._recorded = True
            self.server.stats.record(self._req_user, self._req_verb, code)

    def _dispatch_inner(self):
        srv = self.server
        try:
            url = urlsplit(self.path)
            path = unquote(url.path)
            query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            self.query = query
            self.is_admin = path == "/_admin" or path.startswith("/_admin/")
            body = self._read_body()
        except S.ApiError as e:
            self.code = self.send_error_obj(e)
            return
        if self.is_admin:
            self.code = self._admin(path, query, body)
            return
        if path in ("/healthz", "/livez", "/readyz") and self.command == "GET":
            self.code = self.send_body(200, "ok", "text/plain; charset=utf-8",
                                       [("X-Content-Type-Options", "nosniff")])
            return
        token = None
        authz = self.headers.get("Authorization", "")
        if authz[:7].lower() == "bearer ":
            token = authz[7:].strip()
        user, access = srv.auth.lookup(token)
        if user is not None:
            self.user = user  # the connection's client, for partition cuts
        self._recorded = False
        self._req_user = user
        try:
            route = self._route(path, query)
            self._req_verb = route[0]
            self._apply_faults(user, route[0], route[1].plural if route[1] else None)
            if user is None:
                raise S.unauthorized()
            self.code = self._serve(route, query, body, user, access)
        except S.ApiError as e:
            self.code = self.send_error_obj(e)
        except FaultAnswered as e:
            self.code = e.code

    def _route(self, path, query):
        """(verb, resource or None, namespace, name, handler kind) or ApiError."""
        segs = [s for s in path.split("/") if s]
        method = self.command
        if method not in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            raise S.method_not_allowed()
        discovery = None
        if not segs:
            discovery = ("get", None, None, None, "root")
        elif segs == ["api"]:
            discovery = ("get", None, None, None, "api")
        elif segs == ["apis"]:
            discovery = ("get", None, None, None, "apis")
        elif segs == ["version"]:
            discovery = ("get", None, None, None, "version")
        if discovery:
            if method != "GET":
                raise S.method_not_allowed()
            return discovery
        if segs[0] == "openapi":
            if method != "GET":
                raise S.method_not_allowed()
            return ("get", None, None, "/".join(segs[1:]), "openapi")
        if segs[:2] == ["api", "v1"] and len(segs) in (3, 4) and segs[2] == "namespaces":
            # Namespaces: every namespace exists (read-only, synthetic), because
            # kubectl looks the namespace up after a NotFound to word its error.
            if method != "GET":
                raise S.method_not_allowed()
            if len(segs) == 4:
                return ("get", R.NAMESPACES, None, segs[3], "namespace")
            return ("list", R.NAMESPACES, None, None, "namespace")
        if segs[0] == "api":
            group, version, rest = "", segs[1], segs[2:]
            if version != "v1":
                raise S.page_not_found()
        elif segs[0] == "apis":
            if segs[1] not in R.GROUPS:
                raise S.page_not_found()
            if len(segs) == 2:
                if method != "GET":
                    raise S.method_not_allowed()
                return ("get", None, segs[1], None, "group")
            group, version, rest = segs[1], segs[2], segs[3:]
            if version not in R.GROUPS[group]:
                raise S.page_not_found()
        else:
            raise S.page_not_found()
        if not rest:
            if method != "GET":
                raise S.method_not_allowed()
            return ("get", None, group, version, "resourcelist")
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        res = R.lookup(group, version, rest[0])
        if res is None or len(rest) > 2 or (ns is None and len(rest) > 1):
            raise S.unserved_resource()
        name = rest[1] if len(rest) == 2 else None
        if method == "GET":
            if name:
                verb = "get"
            elif query.get("watch", "false") not in ("false", "0"):
                verb = "watch"
            else:
                verb = "list"
        elif method == "POST":
            if name:
                raise S.method_not_allowed()
            verb = "create"
        elif method == "PUT":
            if not name:
                raise S.method_not_allowed()
            verb = "update"
        elif method == "DELETE":
            verb = "delete" if name else "deletecollection"
        else:
            if not name:
                raise S.method_not_allowed()
            verb = "patch"
        if ns is None and verb not in ("list", "watch"):
            raise S.method_not_allowed()
        return (verb, res, ns, name, "resource")

    # -- faults ---------------------------------------------------------------

    def _wait_released(self, still_held):
        store = self.server.store
        while True:
            if self.cut or self.server.faults.partition(self.user) == "cut":
                self.reset_now()
            if not still_held():
                return
            with store.cond:
                store.cond.wait(0.2)

    def _apply_faults(self, user, verb, resource):
        srv = self.server
        mode = srv.faults.partition(user)
        if mode == "cut":
            self.reset_now()
        if mode == "hang":
            self._wait_released(lambda: srv.faults.partition(user) == "hang")
        latency, f = srv.faults.take(user, verb, resource)
        if latency:
            time.sleep(latency / 1000.0)
        if f is None:
            return
        if f.kind == "reset":
            self.reset_now()
        if f.kind == "hang":
            self._wait_released(lambda: srv.faults.is_active(f))
            return
        if f.kind == "body":
            raise FaultAnswered(self._fault_body(f))
        if f.kind == "status":
            if f.code == 429:
                raise S.too_many_requests_plain(f.retry_after)
            if f.code == 503:
                e = S.service_unavailable_plain()
            else:
                e = S.internal_error("injected fault")
            if f.retry_after_given:
                e.headers = e.headers + [("Retry-After", str(f.retry_after))]
            raise e
        if f.kind == "applied_status":
            # A write the server carries out and then fails to confirm (etcd committed it
            # but the API server stopped waiting, "etcdserver: request timed out"): the client
            # gets this error although the write committed. A read (or a request without a valid
            # token) has nothing to apply: it just gets the error.
            e = S.service_unavailable_plain() if f.code == 503 else S.internal_error(
                "injected fault")
            if f.retry_after is not None:
                e.headers = e.headers + [("Retry-After", str(f.retry_after))]
            if verb not in WRITE_VERBS or user is None:
                raise e
            self._answer_instead = e

    def _fault_body(self, f):
        """Answer with the fault's bytes (body x repeat), plain or chunked; with
        truncate, stop after that many bytes and hold the connection until the
        fault is removed, then close it."""
        piece = f.body.encode("utf-8")
        total = len(piece) * f.repeat
        self._headers_started = True
        self.send_response_only(f.code)
        self._common_headers(f.content_type)
        if f.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(total))
        self.end_headers()
        limit = total if f.truncate is None else min(f.truncate, total)
        sent = 0
        block = piece * max(1, (64 << 10) // max(1, len(piece)))
        while sent < limit and piece:
            data = block[:limit - sent]
            if f.chunked:
                self._chunk(data)
            else:
                self.wfile.write(data)
            sent += len(data)
        if f.truncate is not None:
            self._wait_released(lambda: self.server.faults.is_active(f))
            self.close_connection = True
        elif f.chunked:
            self._chunk(b"")
        return f.code

    # -- the API --------------------------------------------------------------

    def _serve(self, route, query, body, user, access):
        verb, res, ns, name, kind = route
        srv = self.server
        if kind == "namespace":
            return self._namespace(verb, name)
        if kind == "openapi":
            return self._openapi(name, query)
        if kind != "resource":
            return self._discovery(kind, ns, name)
        if verb == "watch":
            fs_name, _ = R.parse_field_selector(res, query.get("fieldSelector", ""))
            name = fs_name
        if access != "rw" and verb in WRITE_VERBS:
            raise S.forbidden(res, name if verb != "create" else None, user, verb, ns)
        strict = query.get("fieldValidation") == "Strict"
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if verb in ("create", "update") and ctype not in ("", "application/json"):
            # YAML and protobuf bodies are real media types this double does not
            # decode; anything else (form encoding...) the real server refuses too.
            raise S.unsupported_media_type(S.BODY_MEDIA_TYPES)
        if verb == "patch":
            if ctype not in S.PATCH_MEDIA_TYPES[:3]:
                raise S.unsupported_media_type(S.PATCH_MEDIA_TYPES)
            new = srv.store.patch(res, ns, name, ctype, body, strict, user)
            return self.send_body(200, new)
        if verb == "get":
            obj = srv.store.get(res, ns, name)
            if self._wants_table(res):
                return self.send_body(200, self._table([obj], obj["metadata"]["resourceVersion"]))
            return self.send_body(200, obj)
        if verb == "list":
            return self._list(res, ns, query)
        if verb == "watch":
            return self._watch(res, ns, query, user)
        if verb == "create":
            obj, warnings = R.decode(res, body, strict)
            new = srv.store.create(res, ns, obj, user)
            return self.send_body(201, new, headers=self._warn(warnings))
        if verb == "update":
            obj, warnings = R.decode(res, body, strict)
            new, created = srv.store.update(res, ns, name, obj, user)
            return self.send_body(201 if created else 200, new, headers=self._warn(warnings))
        if verb == "delete":
            prv, puid = None, None
            if body.strip():
                try:
                    opts = json.loads(body)
                    if not isinstance(opts, dict):
                        raise ValueError("not an object")
                    pre = opts.get("preconditions") or {}
                    if not isinstance(pre, dict):
                        raise ValueError("preconditions")
                    prv, puid = pre.get("resourceVersion"), pre.get("uid")
                except ValueError as e:
                    raise S.bad_request("the object provided is unrecognized (must be of type "
                                        "DeleteOptions): %s" % e)
            old = srv.store.delete(res, ns, name, prv, puid, user)
            if res.return_deleted:
                return self.send_body(200, old)
            return self.send_body(200, S.success(S.details(name, res.group, res.plural,
                                                           old["metadata"].get("uid"))))
        raise S.method_not_allowed()  # deletecollection: not served

    def _wants_table(self, res):
        # kubectl's human output asks 'application/json;as=Table;v=v1;g=meta.k8s.io,...'.
        # Tables are served for Leases (printers.go: Name, Holder, Age); other
        # kinds answer the object and kubectl prints its default NAME/AGE.
        acc = self.headers.get("Accept", "").replace(" ", "")
        return res is R.LEASES and "as=Table;v=v1;g=meta.k8s.io" in acc

    @staticmethod
    def _table(items, rv, headers=True):
        now = time.time()
        rows = []
        for o in items:
            meta = o["metadata"]
            age = now - R.parse_time(meta["creationTimestamp"])
            rows.append({"cells": [meta["name"], o.get("spec", {}).get("holderIdentity", ""),
                                   R.human_duration(age)],
                         "object": {"kind": "PartialObjectMetadata",
                                    "apiVersion": "meta.k8s.io/v1", "metadata": meta}})
        # In a watch only the first event carries the column definitions
        # (NoHeaders for the following ones; the field is not omitempty).
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
                "metadata": {"resourceVersion": rv},
                "columnDefinitions": R.LEASE_COLUMNS if headers else None, "rows": rows}

    @staticmethod
    def _warn(warnings):
        # fieldValidation=Warn (the default): unknown fields dropped, one Warning each.
        return [("Warning", '299 - "%s"' % w.replace('"', '\\"')) for w in warnings]

    def _list(self, res, ns, query):
        lpred = R.parse_label_selector(query.get("labelSelector", ""))
        _, fpred = R.parse_field_selector(res, query.get("fieldSelector", ""))
        items, rv = self.server.store.list(res, ns, lpred, fpred)
        if self._wants_table(res):
            return self.send_body(200, self._table(items, str(rv)))
        # List items carry no kind/apiVersion (typed lists), ListMeta has the RV.
        out = []
        for o in items:
            o = dict(o)
            o.pop("kind", None)
            o.pop("apiVersion", None)
            out.append(o)
        return self.send_body(200, {"kind": res.kind + "List", "apiVersion": res.api_version,
                                    "metadata": {"resourceVersion": str(rv)}, "items": out})

    def _discovery(self, kind, a, b):
        srv = self.server
        if kind == "root":
            paths = ["/api", "/api/v1", "/apis"]
            for g, vs in R.GROUPS.items():
                paths.append("/apis/" + g)
                paths += ["/apis/%s/%s" % (g, v) for v in vs]
            paths += ["/healthz", "/livez", "/readyz", "/version"]
            return self.send_body(200, {"paths": sorted(paths)})
        if kind == "api":
            # discovery-api-APIVersions-eks.json: no apiVersion key.
            host = srv.cfg.host
            addr = ("[%s]" % host if ":" in host else host) + ":%d" % srv.port
            return self.send_body(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": [
                                            {"clientCIDR": "0.0.0.0/0", "serverAddress": addr}]})
        if kind == "apis":
            return self.send_body(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                        "groups": [self._group(g) for g in R.GROUPS]})
        if kind == "group":
            g = self._group(a)
            return self.send_body(200, dict({"kind": "APIGroup", "apiVersion": "v1"}, **g))
        if kind == "resourcelist":
            group, version = a, b
            if group == "":
                # /api/v1 has no apiVersion key (trace excerpt).
                return self.send_body(200, {"kind": "APIResourceList", "groupVersion": "v1",
                                            "resources": [r.discovery() for r in R.CORE_V1]})
            return self.send_body(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                        "groupVersion": "%s/%s" % (group, version),
                                        "resources": [r.discovery()
                                                      for r in R.GROUPS[group][version]]})
        if kind == "version":
            # /version is pretty-printed by the real server (WriteRawJSON + indent).
            v = {"major": "1", "minor": "32", "gitVersion": "v1.32.0+kubeapi.test",
                 "gitCommit": "0000000000000000000000000000000000000000",
                 "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                 "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64"}
            return self.send_body(200, json.dumps(v, indent=2) + "\n", "application/json")
        raise S.page_not_found()

    def _namespace(self, verb, name):
        store = self.server.store
        if verb == "get":
            return self.send_body(200, store.namespace(name))
        with store.cond:
            names = sorted({k[1] for k in store.objects} | {"default"})
            rv = store.rv
        items = []
        for n in names:
            o = dict(store.namespace(n))
            o.pop("kind")
            o.pop("apiVersion")
            items.append(o)
        return self.send_body(200, {"kind": "NamespaceList", "apiVersion": "v1",
                                    "metadata": {"resourceVersion": str(rv)}, "items": items})

    def _openapi(self, sub, query):
        """A minimal OpenAPI v3, only what kubectl's field-validation check reads
        (cli-runtime query_param_verifier_v3.go: the PATCH operation of the
        kind's path, tagged x-kubernetes-group-version-kind, has a query
        parameter fieldValidation).  With it kubectl create/replace use
        server-side ?fieldValidation=Strict instead of client-side schemas.
        Not the real schema documents; /openapi/v2 (protobuf) is not served."""
        gvs = {"api/v1": ("", "v1", R.CORE_V1)}
        for g, vs in R.GROUPS.items():
            for v, rs in vs.items():
                gvs["apis/%s/%s" % (g, v)] = (g, v, rs)
        if sub == "v3":
            return self.send_body(200, {"paths": {p: {"serverRelativeURL": "/openapi/v3/%s?hash=%s"
                                                      % (p, "0" * 16)} for p in gvs}})
        if sub.startswith("v3/") and sub[3:] in gvs:
            g, v, rs = gvs[sub[3:]]
            paths = {}
            param = {"name": "fieldValidation", "in": "query", "description":
                     "fieldValidation instructs the server on how to handle objects in the "
                     "request containing unknown or duplicate fields.",
                     "schema": {"type": "string", "uniqueItems": True}}
            for r in rs:
                base = "/%s/namespaces/{namespace}/%s" % (sub[3:], r.plural)
                gvk = {"group": g, "kind": r.kind, "version": v}
                for path, ops in ((base, ("post",)), (base + "/{name}", ("put", "patch"))):
                    paths[path] = {op: {"operationId": op + r.kind, "parameters": [param],
                                        "responses": {},
                                        "x-kubernetes-action": op if op != "put" else "put",
                                        "x-kubernetes-group-version-kind": gvk}
                                   for op in ops}
            return self.send_body(200, {"openapi": "3.0.0",
                                        "info": {"title": "Kubernetes", "version": "v1.32.0"},
                                        "paths": paths, "components": {}})
        raise S.page_not_found()

    @staticmethod
    def _group(g):
        vs = [{"groupVersion": "%s/%s" % (g, v), "version": v} for v in R.GROUPS[g]]
        return {"name": g, "versions": vs, "preferredVersion": vs[0]}

    # -- watch ----------------------------------------------------------------

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _client_gone(self):
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            # Readable means EOF, a TLS close_notify, or bytes a client has no
            # reason to send on a watch connection: the watch ends either way.
            return True
        except (OSError, ValueError):
            return True

    def _watch(self, res, ns, query, user):
        srv = self.server
        store = srv.store
        cfg = srv.cfg
        fs_name, fpred = R.parse_field_selector(res, query.get("fieldSelector", ""))
        lpred = R.parse_label_selector(query.get("labelSelector", ""))
        bookmarks = query.get("allowWatchBookmarks") == "true"
        ts = query.get("timeoutSeconds")
        timeout = 0
        if ts is not None:
            try:
                timeout = int(ts)
                if timeout < 0:
                    raise ValueError
            except ValueError:
                raise S.bad_request("invalid timeoutSeconds: %s" % S.goquote(ts))
        if not timeout:
            # handlers/get.go ListResource: minRequestTimeout * rand[1,2)
            timeout = cfg.min_request_timeout * (1 + random.random())
        deadline = time.monotonic() + timeout
        rvs = query.get("resourceVersion", "")

        def matches(obj):
            m = obj["metadata"]
            return ((ns is None or m.get("namespace") == ns) and fpred(obj)
                    and lpred(m.get("labels", {})))

        initial = []
        error_event = None
        with store.cond:
            restores = store.restores
            if rvs in ("", "0"):
                # "Get State and Start at Most Recent": synthetic ADDED first.
                initial, pos = store.list(res, ns, lambda l: True, lambda m: True)
                initial = [o for o in initial if matches(o)]
            else:
                if not rvs.isdigit():
                    raise S.bad_request("invalid resource version: %s" % S.goquote(rvs))
                pos = int(rvs)
                if pos > store.rv:
                    # cacher waits up to 3 s for the storage to catch up
                    end = time.monotonic() + 3
                    while pos > store.rv and time.monotonic() < end:
                        store.cond.wait(end - time.monotonic())
                    if pos > store.rv:
                        raise S.timeout_too_large_rv(pos, store.rv)
                if pos < store.floor:
                    # watch_cache.go: NewResourceExpired("too old resource version:
                    # %d (%d)"), delivered as an ERROR event in a 200 stream
                    # (watch-error-410-expired-kind-v1.36.1.jsonl).
                    error_event = S.expired("too old resource version: %d (%d)"
                                            % (pos, store.floor))
        self._headers_started = True
        self.send_response_only(200)
        self._common_headers("application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._record(200)  # counted when it starts, not when it ends
        if error_event is not None:
            self._chunk(S.encode({"type": "ERROR", "object": error_event}))
            self._chunk(b"")
            return 200
        table = self._wants_table(res)
        first = [True]

        def event(etype, obj):
            if table:
                obj = self._table([obj], obj["metadata"]["resourceVersion"], headers=first[0])
                first[0] = False
            self._chunk(S.encode({"type": etype, "object": obj}))

        for o in initial:
            event("ADDED", o)
        interval = cfg.bookmark_interval
        next_bookmark = time.monotonic() + interval
        next_alive_check = time.monotonic() + 0.5
        cutoff = None  # the RV at the deadline, noticed while partitioned
        while True:
            mode = srv.faults.partition(user)
            if mode == "cut" or self.cut:
                self.reset_now()
            now = time.monotonic()
            if mode == "hang":
                # Nothing reaches the client, not even the end; what the server
                # sent before the deadline arrives once the partition heals.
                with store.cond:
                    if now >= deadline and cutoff is None:
                        cutoff = store.rv
                    store.cond.wait(0.2)
                continue
            if store.restores != restores:
                break  # the storage was restored: the API server restarts, streams end
            if now >= deadline:
                if cutoff is not None:
                    with store.cond:
                        late = [(etype, obj) for (rv, etype, r, obj) in store.history
                                if pos < rv <= cutoff and r is res and matches(obj)]
                    for etype, obj in late:
                        event(etype, obj)
                break
            if now >= next_alive_check:
                if self._client_gone():
                    self.close_connection = True
                    return 200
                next_alive_check = now + 0.5
            events = []
            with store.cond:
                if pos < store.floor:
                    # The history moved past this watcher (a burst bigger than
                    # --watch-history): the cacher closes such a watch.
                    break
                for (rv, etype, r, obj) in store.history:
                    if rv > pos and r is res and matches(obj):
                        events.append((etype, obj))
                pos = store.rv
                if not events:
                    wait = min(deadline - now, next_alive_check - now, 0.5)
                    if bookmarks:
                        wait = min(wait, next_bookmark - now)
                    if wait > 0:
                        store.cond.wait(wait)
            for etype, obj in events:
                event(etype, obj)
            if bookmarks and time.monotonic() >= next_bookmark:
                self._chunk(S.encode({"type": "BOOKMARK", "object": res.bookmark(pos)}))
                next_bookmark = time.monotonic() + interval
        self._chunk(b"")
        return 200

    # -- admin ----------------------------------------------------------------

    def _admin(self, path, query, body):
        srv = self.server
        authz = self.headers.get("Authorization", "")
        if not hmac.compare_digest(authz.encode(), ("Bearer " + srv.admin_token).encode()):
            return self.send_body(401, S.failure(401, "Unauthorized", "Unauthorized"))
        segs = [s for s in path.split("/") if s][1:]
        m = self.command

        def err(code, msg):
            return self.send_body(code, {"error": msg})

        def ok(obj, code=200):
            return self.send_body(code, obj)

        def parse():
            try:
                d = json.loads(body or b"{}")
            except ValueError as e:
                raise ValueError("malformed JSON: %s" % e)
            if not isinstance(d, dict):
                raise ValueError("a JSON object is required")
            return d

        try:
            if segs == ["faults"]:
                if m == "POST":
                    f = srv.faults.add(parse())
                    return ok(f.to_json(), 201)
                if m == "GET":
                    return ok({"items": srv.faults.list()})
                if m == "DELETE":
                    return ok({"removed": srv.faults.remove()})
            elif len(segs) == 2 and segs[0] == "faults" and m == "DELETE":
                try:
                    fid = int(segs[1])
                except ValueError:
                    return err(404, "no such fault")
                n = srv.faults.remove(fid)
                return ok({"removed": n}) if n else err(404, "no such fault")
            elif segs == ["stats"]:
                if m == "GET":
                    d = srv.stats.snapshot()
                    with srv.conns_lock:
                        d["connections"] = {"open": len(srv.conns), "total": srv.conns_total}
                    return ok(d)
                if m == "DELETE":
                    srv.stats.reset()
                    return ok({})
            elif segs == ["lease-log"] and m == "GET":
                with srv.store.cond:
                    items = list(srv.store.lease_log)
                for k in ("namespace", "name"):
                    if k in query:
                        items = [i for i in items if i[k] == query[k]]
                return ok({"items": items})
            elif segs == ["tokens"] and m == "POST":
                d = parse()
                tok, user, access = d.get("token"), d.get("user"), d.get("access", "rw")
                if not (isinstance(tok, str) and tok and isinstance(user, str) and user
                        and access in ("rw", "ro")):
                    return err(400, "need token, user and access rw|ro")
                srv.auth.add(tok, user, access)
                return ok({"user": user, "access": access}, 201)
            elif len(segs) == 2 and segs[0] == "tokens" and m == "DELETE":
                d = parse() if body.strip() else {}
                if "token" in d:  # just this token of the user
                    return ok({"removed": srv.auth.revoke_token(segs[1], d["token"])})
                return ok({"removed": srv.auth.revoke_user(segs[1])})
            elif segs == ["snapshot"] and m == "POST":
                return ok({"resourceVersion": str(srv.store.snapshot())})
            elif segs == ["restore"] and m == "POST":
                return ok({"resourceVersion": str(srv.store.restore())})
            elif segs == ["reset-history"] and m == "POST":
                srv.store.reset_history()
                return ok({"floor": str(srv.store.floor)})
            elif segs == ["info"] and m == "GET":
                with srv.store.cond:
                    return ok({"resourceVersion": str(srv.store.rv),
                               "floor": str(srv.store.floor),
                               "history": len(srv.store.history),
                               "history_max": srv.store.history_max,
                               "bookmark_interval": srv.cfg.bookmark_interval,
                               "plain": srv.cfg.plain, "pid": os.getpid()})
            return err(404, "no such admin endpoint: %s %s" % (m, path))
        except (ValueError, F.FaultError) as e:
            return err(400, str(e))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="kubeapi", description=__doc__)
    ap.add_argument("--plain", action="store_true", help="HTTP instead of HTTPS")
    ap.add_argument("--host", default="127.0.0.1", help="loopback address to bind (::1 for IPv6)")
    ap.add_argument("--cert", help="server certificate (PEM)")
    ap.add_argument("--key", help="server key (PEM)")
    ap.add_argument("--tokens", required=True,
                    help="JSON file {admin_token, tokens:[{token,user,access}]}")
    ap.add_argument("--ready-fd", type=int,
                    help="write one JSON line {port, pid} here once listening, then close")
    ap.add_argument("--lifeline-fd", type=int,
                    help="exit when this descriptor reaches EOF (the parent died)")
    ap.add_argument("--orphan-cleanup", metavar="DIR",
                    help="with --lifeline-fd: remove DIR when the parent died")
    ap.add_argument("--watch-history", type=int, default=1000,
                    help="events kept for watch resumption (older resourceVersion: 410)")
    ap.add_argument("--bookmark-interval", type=float, default=60.0,
                    help="seconds between BOOKMARK events (allowWatchBookmarks=true)")
    ap.add_argument("--min-request-timeout", type=float, default=1800.0,
                    help="watch length without timeoutSeconds is this times rand[1,2)")
    ap.add_argument("--max-body", type=int, default=3 * 1024 * 1024,
                    help="largest request body accepted (bytes)")
    ap.add_argument("--idle-timeout", type=float, default=90.0,
                    help="keep-alive idle timeout (seconds)")
    ap.add_argument("--quiet", action="store_true", help="no request log on stderr")
    args = ap.parse_args(argv)
    if not args.plain and not (args.cert and args.key):
        ap.error("--cert and --key are required unless --plain")
    with open(args.tokens) as f:
        conf = json.load(f)
    srv = ApiServer(Config(args), conf["admin_token"])
    for t in conf.get("tokens", []):
        srv.auth.add(t["token"], t["user"], t.get("access", "rw"))

    def on_term(signum, frame):
        os._exit(0)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    if args.lifeline_fd is not None:
        def lifeline():
            try:
                while os.read(args.lifeline_fd, 64):
                    pass
            except OSError:
                pass
            if args.orphan_cleanup:
                import shutil
                shutil.rmtree(args.orphan_cleanup, ignore_errors=True)
            os._exit(0)
        threading.Thread(target=lifeline, daemon=True).start()
    srv.log("listening on %s port %d (%s)" % (args.host, srv.port,
                                              "http" if args.plain else "https"))
    if args.ready_fd is not None:
        os.write(args.ready_fd, (json.dumps({"port": srv.port, "pid": os.getpid()}) + "\n")
                 .encode())
        os.close(args.ready_fd)
    srv.serve_forever(poll_interval=0.5)
