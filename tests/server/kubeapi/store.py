# SPDX-License-Identifier: MIT
"""The registry: objects, one global resourceVersion, the watch history and the
Lease change log.  All state is guarded by one Condition; watchers wait on it.

Registry rules follow staging/src/k8s.io/apiserver/pkg/registry/generic/registry/
store.go and the per-type strategies (see tests/data/k8s-api/README.md):
- one global, monotonically increasing resourceVersion (decimal string);
- create: uid + creationTimestamp set; non-zero resourceVersion in the body ->
  500 'resourceVersion should not be set on objects to be created'; existing ->
  409 AlreadyExists;
- update: missing -> create (201) when AllowCreateOnUpdate (Lease, Endpoints,
  Event), else 404; no resourceVersion -> last-write-wins when
  AllowUnconditionalUpdate, else 422 (Lease); stale -> 409 Conflict; an update
  that changes nothing keeps the resourceVersion (etcd3 GuaranteedUpdate);
- delete: the DELETED event carries the last state with a new resourceVersion.
"""

import collections
import random
import threading
import time
import uuid

from . import resources as R
from . import status

_GEN_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # utilrand.String alphabet (generateName)


def _storage_invalid_obj(res, ns, name, msg):
    """storage.NewInvalidObjError(key, msg).Error(), which InterpretUpdateError /
    InterpretDeleteError wrap into a Conflict: the real message reads
    'Operation cannot be fulfilled on pods "x": StorageError: invalid object,
    Code: 4, Key: /registry/pods/ns/x, ResourceVersion: 0, AdditionalErrorMsg:
    Precondition failed: UID in precondition: ..., UID in object meta: ...'."""
    return ("StorageError: invalid object, Code: 4, Key: %s/%s/%s, ResourceVersion: 0, "
            "AdditionalErrorMsg: %s" % (res.etcd_prefix, ns, name, msg))


class Store:
    def __init__(self, history=1000, first_rv=1000):
        self.cond = threading.Condition()
        self.rv = first_rv
        self.first_rv = first_rv
        self.started = R.format_time(time.time())
        self.objects = {}  # (plural, namespace, name) -> stored dict (never mutated)
        self.history_max = max(0, history)
        self.history = collections.deque()  # (rv, type, res, obj)
        self.floor = self.rv  # every event with rv > floor is in history
        self.lease_log = []
        self.generation = 0  # bumped on any wake-up worthy change (faults too)
        self.restores = 0  # bumped by restore(): open watches end (an API server restart)
        self._snap = None

    # -- helpers (lock held) --------------------------------------------------

    def _next_rv(self):
        self.rv += 1
        return self.rv

    def _emit(self, etype, res, obj, client):
        rv = int(obj["metadata"]["resourceVersion"])
        self.history.append((rv, etype, res, obj))
        while len(self.history) > self.history_max:
            old = self.history.popleft()
            self.floor = old[0]
        if self.history_max == 0:
            self.floor = rv
        if res is R.LEASES:
            spec = obj.get("spec", {})
            self.lease_log.append({
                "time_us": time.time_ns() // 1000,
                "namespace": obj["metadata"].get("namespace", ""),
                "name": obj["metadata"].get("name", ""),
                "resourceVersion": obj["metadata"]["resourceVersion"],
                "holder": spec.get("holderIdentity"),
                "leaseTransitions": spec.get("leaseTransitions"),
                "type": {"ADDED": "create", "MODIFIED": "update", "DELETED": "delete"}[etype],
                "client": client,
                "acquireTime": spec.get("acquireTime"),
                "renewTime": spec.get("renewTime"),
                "leaseDurationSeconds": spec.get("leaseDurationSeconds"),
                "uid": obj["metadata"].get("uid"),
            })
        self.generation += 1
        self.cond.notify_all()

    def wake(self):
        with self.cond:
            self.generation += 1
            self.cond.notify_all()

    @staticmethod
    def _parse_rv(s):
        # storage APIObjectVersioner.ParseResourceVersion: empty -> 0, else uint64.
        if s in (None, ""):
            return 0
        if not s.isdigit():
            return None
        return int(s)

    def _commit_new(self, res, obj, ns, client, etype="ADDED"):
        meta = dict(obj["metadata"])
        meta["namespace"] = ns
        if not meta.get("name"):
            while True:  # generateName: a free name with 5 random characters
                meta["name"] = meta["generateName"] + "".join(random.choice(_GEN_CHARS)
                                                              for _ in range(5))
                if (res.plural, ns, meta["name"]) not in self.objects:
                    break
        meta["uid"] = str(uuid.uuid4())
        meta["resourceVersion"] = str(self._next_rv())
        meta["creationTimestamp"] = R.format_time(time.time())
        meta.pop("deletionTimestamp", None)
        meta.pop("deletionGracePeriodSeconds", None)
        new = dict(obj)
        new["metadata"] = R.order_meta(meta)
        self.objects[(res.plural, ns, meta["name"])] = new
        self._emit(etype, res, new, client)
        return new

    # -- verbs ------------------------------------------------------------------

    def namespace(self, name):
        """A synthetic, always Active Namespace (the double treats every
        namespace as existing)."""
        return {"kind": "Namespace", "apiVersion": "v1",
                "metadata": {"name": name,
                             "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, "namespace/" + name)),
                             "resourceVersion": str(self.first_rv),
                             "creationTimestamp": self.started,
                             "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}

    def get(self, res, ns, name):
        with self.cond:
            obj = self.objects.get((res.plural, ns, name))
        if obj is None:
            raise status.not_found(res, name)
        return obj

    def list(self, res, ns, label_pred, field_pred):
        with self.cond:
            items = [o for (p, n, _), o in sorted(self.objects.items(), key=lambda kv: kv[0])
                     if p == res.plural and (ns is None or n == ns)
                     and label_pred(o["metadata"].get("labels", {}))
                     and field_pred(o)]
            rv = self.rv
        return items, rv

    def create(self, res, ns, obj, client):
        meta = obj["metadata"]
        if meta.get("namespace", ns) != ns:
            raise status.bad_request("the namespace of the provided object does not match the "
                                     "namespace sent on the request")
        errs = R.validate(res, obj)
        if errs:
            raise status.invalid(res.qualified_kind, res.group, res.kind,
                                 meta.get("name", ""), errs)
        rv = self._parse_rv(meta.get("resourceVersion"))
        if rv:
            raise status.internal_plain("resourceVersion should not be set on objects to be "
                                        "created")
        with self.cond:
            if meta.get("name") and (res.plural, ns, meta["name"]) in self.objects:
                raise status.already_exists(res, meta["name"])
            return self._commit_new(res, obj, ns, client)

    def update(self, res, ns, name, obj, client):
        """Returns (stored object, created?)."""
        meta = obj["metadata"]
        # update.go: the name check comes before the storage layer.
        if meta.get("name", "") != name:
            raise status.bad_request("the name of the object (%s) does not match the name on the "
                                     "URL (%s)" % (meta.get("name", ""), name))
        if meta.get("namespace", ns) != ns:
            raise status.bad_request("the namespace of the provided object does not match the "
                                     "namespace sent on the request")
        with self.cond:
            cur = self.objects.get((res.plural, ns, name))
            # rest.DefaultUpdatedObjectInfo.Preconditions: a uid in the body is a
            # precondition, checked (storage Preconditions.Check) before anything
            # else, also against a missing object (uid "").
            body_uid = meta.get("uid")
            cur_uid = cur["metadata"].get("uid", "") if cur is not None else ""
            if body_uid and body_uid != cur_uid:
                raise status.conflict(res, name, _storage_invalid_obj(
                    res, ns, name, "Precondition failed: UID in precondition: %s, UID in object "
                    "meta: %s" % (body_uid, cur_uid)))
            if cur is None:
                if not res.create_on_update:
                    raise status.not_found(res, name)
                # create-on-update: BeforeCreate + validation; the body's
                # resourceVersion is not compared (store.go, version == 0 branch).
                errs = R.validate(res, obj)
                if errs:
                    raise status.invalid(res.qualified_kind, res.group, res.kind, name, errs)
                return self._commit_new(res, obj, ns, client), True
            body_rv = self._parse_rv(meta.get("resourceVersion"))
            if body_rv is None:
                # APIObjectVersioner.ParseResourceVersion -> storage InvalidError ->
                # InterpretUpdateError -> NewInvalid(qualifiedResource.GroupKind())
                # (code reading, not captured).
                rv_s = meta.get("resourceVersion")
                raise status.invalid(res.gr, res.group, res.plural, name, [(
                    "FieldValueInvalid", "resourceVersion", "Invalid value: %s: "
                    "strconv.ParseUint: parsing %s: invalid syntax"
                    % (status.goquote(rv_s), status.goquote(rv_s)))])
            cur_rv = int(cur["metadata"]["resourceVersion"])
            if body_rv == 0:
                if not res.unconditional_update:
                    # store.go Update: NewInvalid(qualifiedResource as kind, ...)
                    raise status.invalid(res.gr, res.group, res.plural, name, [(
                        "FieldValueInvalid", "metadata.resourceVersion",
                        "Invalid value: 0x0: must be specified for an update")])
            elif body_rv != cur_rv:
                raise status.conflict(res, name)
            errs = R.validate(res, obj, on_update=True)
            if errs:
                raise status.invalid(res.qualified_kind, res.group, res.kind, name, errs)
            m = dict(meta)
            m["namespace"] = ns
            for k in ("uid", "creationTimestamp", "generateName"):
                if k in cur["metadata"]:
                    m[k] = cur["metadata"][k]
                else:
                    m.pop(k, None)
            m["resourceVersion"] = cur["metadata"]["resourceVersion"]
            new = dict(obj)
            new["metadata"] = R.order_meta(m)
            if new == cur:
                return cur, False  # no-op: the storage layer skips the write
            new["metadata"]["resourceVersion"] = str(self._next_rv())
            self.objects[(res.plural, ns, name)] = new
            self._emit("MODIFIED", res, new, client)
            return new, False

    def patch(self, res, ns, name, ctype, body, strict, client):
        """PATCH: applied to the current object under the lock, then the update
        rules (a resourceVersion the patch sets is a precondition: 409)."""
        import json
        from . import patch as P
        with self.cond:
            cur = self.objects.get((res.plural, ns, name))
            if cur is None:
                raise status.not_found(res, name)
            try:
                patched = P.apply(ctype, cur, body)
            except P.PatchError as e:
                raise status.bad_request(str(e))
            if not isinstance(patched, dict):
                raise status.bad_request("the patched object is not a JSON object")
            obj, _ = R.decode(res, json.dumps(patched).encode(), strict)
            new, _ = self.update(res, ns, name, obj, client)  # the lock is an RLock
            return new

    def delete(self, res, ns, name, precond_rv, precond_uid, client):
        with self.cond:
            cur = self.objects.get((res.plural, ns, name))
            if cur is None:
                raise status.not_found(res, name)
            if precond_uid and precond_uid != cur["metadata"].get("uid"):
                raise status.conflict(res, name, _storage_invalid_obj(
                    res, ns, name, "Precondition failed: UID in precondition: %s, UID in object "
                    "meta: %s" % (precond_uid, cur["metadata"].get("uid"))))
            if precond_rv and precond_rv != cur["metadata"]["resourceVersion"]:
                raise status.conflict(res, name, _storage_invalid_obj(
                    res, ns, name, "Precondition failed: ResourceVersion in precondition: %s, "
                    "ResourceVersion in object meta: %s"
                    % (precond_rv, cur["metadata"]["resourceVersion"])))
            del self.objects[(res.plural, ns, name)]
            gone = dict(cur)
            gone["metadata"] = dict(cur["metadata"])
            gone["metadata"]["resourceVersion"] = str(self._next_rv())
            self._emit("DELETED", res, gone, client)
            return cur

    def snapshot(self):
        """Remembers every object and the resourceVersion, as an etcd backup."""
        with self.cond:
            self._snap = (dict(self.objects), self.rv)  # stored dicts are never mutated
            return self.rv

    def restore(self):
        """Puts the snapshot back, as `etcdctl snapshot restore` followed by an API server
        restart: resourceVersions go backwards, the watch history is gone and every open
        watch ends (a client resuming at a newer resourceVersion waits, then gets "too large
        resource version").  Returns the restored resourceVersion."""
        with self.cond:
            if self._snap is None:
                raise ValueError("no snapshot to restore")
            self.objects = dict(self._snap[0])
            self.rv = self._snap[1]
            self.history.clear()
            self.floor = self.rv
            self.restores += 1
            self.generation += 1
            self.cond.notify_all()
            return self.rv

    def reset_history(self):
        with self.cond:
            self.history.clear()
            self.floor = self.rv
            self.generation += 1
            self.cond.notify_all()
