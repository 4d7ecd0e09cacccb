#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A candidate that speaks ONLY the old sidecar's protocol, for the migration tests.

Written from the old image's documented behaviour (kubernetes/contrib election,
leader-elector 0.4/0.5, and the client-go leaderelection package it used then):

- lock: the annotation control-plane.alpha.kubernetes.io/leader on the Endpoints
  named after the election, value the JSON LeaderElectionRecord
  {"holderIdentity","leaseDurationSeconds","acquireTime","renewTime",
  "leaderTransitions"}, times RFC 3339 in whole seconds (metav1.Time);
- start: GET the Endpoints; 404 -> POST an empty one (metadata.name only; a 409
  is fine); report the annotation's holder as the leader;
- tryAcquireOrRenew: GET; 404 -> POST one carrying our record; else parse the
  annotation; if the record differs from the last one observed (DeepEqual), note
  the local time; if it is held by another and that local time + LeaseDuration
  is still ahead: fail; else PUT the object just read (its resourceVersion: a
  compare-and-swap) with our record: acquireTime kept if we held it, else
  leaderTransitions + 1;
- acquire: try; on failure sleep RetryPeriod * (1 + 1.2 * rand) and try again;
- renew (leading): every RetryPeriod try again; if no try succeeded for
  RenewDeadline: stopped leading, back to acquire. It never releases, and the
  old image ignored SIGTERM (a shell as PID 1): it dies by SIGKILL;
- timings from --ttl: lease = ttl, renew deadline = ttl/2, retry = ttl/4;
  leaseDurationSeconds written = int(ttl in seconds); namespace default "default";
- --http ADDR:PORT: GET /isLeader -> {"isLeader": true|false}, any other path ->
  {"name":"<leader>"}, where the leader is what the callbacks last reported
  (OnStartedLeading: us; OnNewLeader: the observed holder; OnStoppedLeading:
  the holder read again, "" on error) - so it may name a stale leader, as the
  old image did.

Test-only flags: --server URL --token-file F --ca-file F (the test API server),
--log FILE, --liar (a broken candidate for negative controls: it answers that it leads,
whatever the lock says). Python standard library only.
"""

import argparse
import datetime
import http.client
import http.server
import json
import os
import random
import re
import signal
import ssl
import sys
import threading
import time
import urllib.parse

ANNOTATION = "control-plane.alpha.kubernetes.io/leader"
JITTER = 1.2


def parse_go_duration(s):
    m = re.fullmatch(r"((?:\d+(?:\.\d+)?(?:h|m|s|ms|us|ns))+|\d+(?:\.\d+)?)", s)
    if not m:
        raise argparse.ArgumentTypeError("not a duration: %r" % s)
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)", s))


def rfc3339_seconds(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class Api:
    """A minimal client for the Endpoints calls the old sidecar made."""

    def __init__(self, server, token_file, ca_file, namespace):
        u = urllib.parse.urlsplit(server)
        self.https = u.scheme == "https"
        self.host = u.hostname
        self.port = u.port
        self.token_file = token_file
        self.ns = namespace
        self.ctx = ssl.create_default_context(cafile=ca_file) if self.https else None
        self.conn = None

    def _connect(self):
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=5)
        return http.client.HTTPConnection(self.host, self.port, timeout=5)

    def request(self, method, path, body=None):
        with open(self.token_file) as f:
            token = f.read().strip()
        headers = {"Authorization": "Bearer " + token, "Accept": "application/json",
                   "User-Agent": "leader-elector/v0.5 (linux/amd64) kubernetes/$Format"}
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = self._connect()
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                try:
                    obj = json.loads(raw) if raw else None
                except ValueError:
                    obj = None
                return r.status, obj
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    return 0, None
        return 0, None

    def path(self, name=None):
        p = "/api/v1/namespaces/%s/endpoints" % self.ns
        return p + "/" + name if name else p


class OldSidecar:
    def __init__(self, a):
        self.a = a
        self.api = Api(a.server, a.token_file, a.ca_file, a.election_namespace)
        self.lease = a.ttl
        self.renew_deadline = a.ttl / 2
        self.retry = a.ttl / 4
        self.observed_record = None
        self.observed_time = 0.0
        self.leader = ""  # what GET / reports
        self.lock = threading.Lock()
        self.log_file = open(a.log, "a", buffering=1) if a.log else sys.stderr

    def log(self, msg):
        self.log_file.write("%.3f %s %s\n" % (time.time(), self.a.id, msg))

    def set_leader(self, name):
        if self.a.liar:
            name = self.a.id
        with self.lock:
            if name != self.leader:
                self.log("%s is the leader" % name)  # the old image printed this line
            self.leader = name

    # --- the lock ---
    def get_current_leader(self):
        st, obj = self.api.request("GET", self.api.path(self.a.election))
        if st != 200:
            return None
        ann = (obj.get("metadata", {}).get("annotations") or {}).get(ANNOTATION)
        if ann is None:
            return ""
        try:
            return json.loads(ann).get("holderIdentity", "")
        except ValueError:
            return None

    def try_acquire_or_renew(self):
        now = time.time()
        rec = {"holderIdentity": self.a.id, "leaseDurationSeconds": int(self.lease),
               "acquireTime": rfc3339_seconds(now), "renewTime": rfc3339_seconds(now),
               "leaderTransitions": 0}
        st, obj = self.api.request("GET", self.api.path(self.a.election))
        if st == 404:
            body = {"metadata": {"name": self.a.election, "namespace": self.a.election_namespace,
                                 "annotations": {ANNOTATION: json.dumps(
                                     rec, separators=(",", ":"))}}}
            st, _ = self.api.request("POST", self.api.path(), body)
            if st not in (200, 201):
                self.log("error initially creating endpoints: HTTP %d" % st)
                return False
            self.observed_record, self.observed_time = rec, time.monotonic()
            return True
        if st != 200:
            self.log("error retrieving endpoint: HTTP %d" % st)
            return False
        meta = obj.setdefault("metadata", {})
        if meta.get("annotations") is None:
            meta["annotations"] = {}
        old = {}
        if ANNOTATION in meta["annotations"]:
            try:
                old = json.loads(meta["annotations"][ANNOTATION])
            except ValueError:
                self.log("error unmarshaling leader election record")
                return False
            norm = self.normalize(old)
            if norm != self.observed_record:
                self.observed_record, self.observed_time = norm, time.monotonic()
            self.report_transition()
            if (self.observed_time + self.lease > time.monotonic()
                    and old.get("holderIdentity", "") != self.a.id):
                return False
        if old.get("holderIdentity", "") == self.a.id:
            rec["acquireTime"] = old.get("acquireTime")
            rec["leaderTransitions"] = old.get("leaderTransitions", 0)
        else:
            rec["leaderTransitions"] = old.get("leaderTransitions", 0) + 1
        meta["annotations"][ANNOTATION] = json.dumps(rec, separators=(",", ":"))
        st, _ = self.api.request("PUT", self.api.path(self.a.election), obj)
        if st != 200:
            self.log("err: HTTP %d on update" % st)
            return False
        self.observed_record, self.observed_time = self.normalize(rec), time.monotonic()
        return True

    @staticmethod
    def normalize(r):
        return (r.get("holderIdentity", ""), r.get("leaseDurationSeconds", 0),
                r.get("acquireTime"), r.get("renewTime"), r.get("leaderTransitions", 0))

    def report_transition(self):
        # OnNewLeader (the contrib lib's callback): the observed holder.
        if self.observed_record is not None:
            self.set_leader(self.observed_record[0])

    # --- the loops ---
    def acquire(self):
        while True:
            if self.try_acquire_or_renew():
                self.log("successfully acquired lease %s/%s" % (self.a.election_namespace,
                                                                self.a.election))
                return
            time.sleep(self.retry * (1 + JITTER * random.random()))

    def renew(self):
        while True:
            start = time.monotonic()
            ok = False
            while not ok:
                time.sleep(self.retry)
                ok = self.try_acquire_or_renew()
                if not ok and time.monotonic() - start >= self.renew_deadline:
                    break
            if not ok:
                self.log("failed to renew lease %s/%s" % (self.a.election_namespace,
                                                          self.a.election))
                return

    def run(self):
        # NewElection: make sure the Endpoints exists, report its holder.
        st, _ = self.api.request("GET", self.api.path(self.a.election))
        if st == 404:
            self.api.request("POST", self.api.path(),
                             {"metadata": {"name": self.a.election}})
        leader = self.get_current_leader()
        self.set_leader(leader or "")
        while True:  # wait.Forever(e.Run, 0)
            self.acquire()
            self.set_leader(self.a.id)  # OnStartedLeading
            self.renew()
            leader = self.get_current_leader()  # OnStoppedLeading
            self.set_leader(leader if leader is not None else "")


def serve(sidecar, addr):
    host, _, port = addr.rpartition(":")

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/isLeader":
                body = ('{"isLeader": %s}' % ("true" if sidecar.leader == sidecar.a.id
                                              else "false")).encode()
            else:
                body = json.dumps({"name": sidecar.leader}, separators=(",", ":")).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer((host or "0.0.0.0", int(port)), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--election", required=True)
    p.add_argument("--id", default=os.uname().nodename)
    p.add_argument("--election-namespace", default="default")
    p.add_argument("--ttl", type=parse_go_duration, default=10.0)
    p.add_argument("--http", default="")
    p.add_argument("--use-cluster-credentials", action="store_true")
    p.add_argument("--server", required=True)
    p.add_argument("--token-file", required=True)
    p.add_argument("--ca-file")
    p.add_argument("--log")
    p.add_argument("--liar", action="store_true")
    a = p.parse_args()
    # The old image's PID 1 was a shell that ignored SIGTERM.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    s = OldSidecar(a)
    if a.http:
        serve(s, a.http)
    s.run()


if __name__ == "__main__":
    main()
