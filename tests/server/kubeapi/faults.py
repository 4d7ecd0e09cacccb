# SPDX-License-Identifier: MIT
"""Fault injection: what the admin endpoint installs and the request path obeys.

A fault matches a client (the authenticated user name, or "*" for every
request, including unauthenticated ones), optionally a set of verbs and
resources, and applies at most `count` times (default: until removed).
"""

import threading

KINDS = ("latency", "status", "applied_status", "reset", "hang", "partition", "body")
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")


class FaultError(ValueError):
    pass


class Fault:
    def __init__(self, fid, spec):
        self.id = fid
        self.client = spec.get("client", "*")
        self.kind = spec.get("kind")
        self.ms = spec.get("ms", 0)
        self.code = spec.get("code")
        self.retry_after = spec.get("retry_after", 1)
        self.retry_after_given = "retry_after" in spec
        self.mode = spec.get("mode", "hang")
        self.verbs = spec.get("verbs")
        self.resources = spec.get("resources")
        self.count = spec.get("count")
        self.applied = 0
        self.exhausted = False  # a hang fault whose count is used up keeps holding
        if not isinstance(self.client, str) or not self.client:
            raise FaultError("client must be a user name or \"*\"")
        if self.kind not in KINDS:
            raise FaultError("kind must be one of " + ", ".join(KINDS))
        if self.kind == "latency" and (not isinstance(self.ms, int) or isinstance(self.ms, bool)
                                       or self.ms < 0):
            raise FaultError("latency needs ms >= 0")
        if self.kind == "status" and self.code not in (429, 500, 503):
            raise FaultError("status needs code 429, 500 or 503")
        if self.kind == "status" and (not isinstance(self.retry_after, int)
                                      or self.retry_after < 0):
            raise FaultError("retry_after must be an integer >= 0")
        # kind "applied_status": a write is carried out, then answered with this status
        # instead (Retry-After: 1 unless given; null: no Retry-After header)
        if self.kind == "applied_status":
            if self.code is None:
                self.code = 500
            if self.code not in (500, 503):
                raise FaultError("applied_status needs code 500 or 503")
            if self.retry_after is not None and (not isinstance(self.retry_after, int)
                                                 or isinstance(self.retry_after, bool)
                                                 or self.retry_after < 0):
                raise FaultError("retry_after must be an integer >= 0 or null")
        if self.kind == "partition" and self.mode not in ("hang", "cut"):
            raise FaultError("partition mode must be hang or cut")
        if self.verbs is not None and (not isinstance(self.verbs, list)
                                       or any(v not in VERBS for v in self.verbs)):
            raise FaultError("verbs must be a list of " + ", ".join(VERBS))
        if self.resources is not None and (not isinstance(self.resources, list)
                                           or any(not isinstance(r, str) for r in self.resources)):
            raise FaultError("resources must be a list of plural resource names")
        # kind "body": answer with these bytes instead of the real response
        self.body = spec.get("body", "")
        self.repeat = spec.get("repeat", 1)
        self.content_type = spec.get("content_type", "application/json")
        self.chunked = spec.get("chunked", False)
        self.truncate = spec.get("truncate")
        if self.kind == "body":
            if self.code is None:
                self.code = 200
            if not isinstance(self.code, int) or isinstance(self.code, bool) \
                    or not 200 <= self.code <= 599:
                raise FaultError("body needs code 200..599")
            if not isinstance(self.body, str) or not isinstance(self.content_type, str):
                raise FaultError("body and content_type must be strings")
            if not isinstance(self.repeat, int) or self.repeat < 1 \
                    or len(self.body.encode()) * self.repeat > 64 << 20:
                raise FaultError("repeat must be >= 1 and the body at most 64 MiB")
            if not isinstance(self.chunked, bool):
                raise FaultError("chunked must be true or false")
            if self.truncate is not None and (not isinstance(self.truncate, int)
                                              or self.truncate < 0):
                raise FaultError("truncate must be an integer >= 0")
        if self.count is not None and (not isinstance(self.count, int) or self.count < 1):
            raise FaultError("count must be a positive integer")

    def matches_client(self, user):
        return self.client == "*" or (user is not None and self.client == user)

    def matches(self, user, verb, resource):
        if self.exhausted or not self.matches_client(user):
            return False
        if self.verbs is not None and verb not in self.verbs:
            return False
        if self.resources is not None and resource not in self.resources:
            return False
        return True

    def to_json(self):
        d = {"id": self.id, "client": self.client, "kind": self.kind}
        if self.kind == "latency":
            d["ms"] = self.ms
        if self.kind == "status":
            d["code"] = self.code
            if self.code == 429 or self.retry_after_given:
                d["retry_after"] = self.retry_after
        if self.kind == "applied_status":
            d["code"] = self.code
            d["retry_after"] = self.retry_after
        if self.kind == "partition":
            d["mode"] = self.mode
        if self.kind == "body":
            d.update({"code": self.code, "repeat": self.repeat, "content_type": self.content_type,
                      "chunked": self.chunked})
            if self.truncate is not None:
                d["truncate"] = self.truncate
        if self.verbs is not None:
            d["verbs"] = self.verbs
        if self.resources is not None:
            d["resources"] = self.resources
        if self.count is not None:
            d["count"] = self.count
        d["applied"] = self.applied
        return d


class FaultTable:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = {}  # id -> Fault, insertion ordered
        self.next_id = 1
        self.listeners = []  # callables run after every change (wake hung requests)

    def add(self, spec):
        with self.lock:
            f = Fault(self.next_id, spec)
            self.next_id += 1
            self.faults[f.id] = f
        self._changed()
        return f

    def remove(self, fid=None):
        with self.lock:
            if fid is None:
                n = len(self.faults)
                self.faults.clear()
            else:
                n = 1 if self.faults.pop(fid, None) else 0
        self._changed()
        return n

    def list(self):
        with self.lock:
            return [f.to_json() for f in self.faults.values()]

    def _changed(self):
        for cb in self.listeners:
            cb()

    def partition(self, user):
        """The partition mode in force for a client ('cut' wins over 'hang'), or None."""
        mode = None
        with self.lock:
            for f in self.faults.values():
                if f.kind == "partition" and f.matches_client(user):
                    if f.mode == "cut":
                        return "cut"
                    mode = "hang"
        return mode

    def is_active(self, fault):
        with self.lock:
            return fault.id in self.faults

    def take(self, user, verb, resource):
        """The faults a request meets: (total latency ms, first terminal fault or None).
        Counts are consumed here."""
        latency = 0
        terminal = None
        expired = []
        with self.lock:
            for f in self.faults.values():
                if f.kind == "partition" or not f.matches(user, verb, resource):
                    continue
                if f.kind == "latency":
                    latency += f.ms
                elif terminal is None:
                    terminal = f
                else:
                    continue
                f.applied += 1
                if f.count is not None and f.applied >= f.count:
                    if f.kind == "hang" or (f.kind == "body" and f.truncate is not None):
                        f.exhausted = True  # held requests stay held until removal
                    else:
                        expired.append(f.id)
            for fid in expired:
                self.faults.pop(fid, None)
        if expired:
            self._changed()
        return latency, terminal
