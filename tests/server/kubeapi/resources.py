# SPDX-License-Identifier: MIT
"""The served resources, their wire codec and validation.

Shapes follow the Go types: JSON key order is Go struct order, unknown fields
are dropped when a typed object is decoded (and refused with
?fieldValidation=Strict), MicroTime is decoded with the layout
"2006-01-02T15:04:05.000000Z07:00" and re-encoded in UTC with exactly six
fractional digits.  References: tests/data/k8s-api/README.md, sections 1-2 of the
research notes it cites; the Lease fixture
tests/data/k8s-api/lease-upstream-testdata-HEAD-fixture.json gives the key order.
"""

import calendar
import re

from . import status

# ObjectMeta, in Go struct order (lease-upstream-testdata-HEAD-fixture.json).
# selfLink is dropped: no server since 1.20 returns it.
META_KEYS = ["name", "generateName", "namespace", "uid", "resourceVersion",
             "generation", "creationTimestamp", "deletionTimestamp",
             "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences",
             "finalizers", "managedFields"]
META_STRINGS = {"name", "generateName", "namespace", "uid", "resourceVersion",
                "creationTimestamp", "deletionTimestamp"}
META_MAPS = {"labels", "annotations"}
META_LISTS = {"ownerReferences", "finalizers", "managedFields"}
META_INTS = {"generation", "deletionGracePeriodSeconds"}


class Resource:
    def __init__(self, group, version, plural, singular, kind, fields, short_names=(),
                 categories=(), create_on_update=False, unconditional_update=True,
                 storage_hash=None, return_deleted=False, bookmark_extra=None,
                 field_selectors=("metadata.name", "metadata.namespace")):
        self.group = group
        self.version = version
        self.plural = plural
        self.singular = singular
        self.kind = kind
        self.fields = fields  # top-level keys after kind/apiVersion/metadata
        self.short_names = list(short_names)
        self.categories = list(categories)
        # registry strategies (pkg/registry/.../strategy.go)
        self.create_on_update = create_on_update
        self.unconditional_update = unconditional_update
        self.storage_hash = storage_hash
        self.return_deleted = return_deleted
        self.bookmark_extra = bookmark_extra or {}
        self.field_selectors = field_selectors

    @property
    def etcd_prefix(self):
        # the storage key prefix of the real registry (pkg/registry/*/storage);
        # Endpoints live under "services/endpoints"
        return "/registry/services/endpoints" if self.plural == "endpoints" else \
            "/registry/" + self.plural

    @property
    def api_version(self):
        return "%s/%s" % (self.group, self.version) if self.group else self.version

    @property
    def gr(self):
        # GroupResource.String(): 'leases.coordination.k8s.io', 'endpoints'
        return "%s.%s" % (self.plural, self.group) if self.group else self.plural

    @property
    def qualified_kind(self):
        # GroupKind.String(): 'Lease.coordination.k8s.io', 'Endpoints'
        return "%s.%s" % (self.kind, self.group) if self.group else self.kind

    def discovery(self):
        """APIResource in discovery order: name, singularName, namespaced, kind,
        verbs, shortNames, categories, storageVersionHash
        (discovery-apis-coordination.k8s.io-v1-APIResourceList-eks.json)."""
        d = {"name": self.plural, "singularName": self.singular, "namespaced": True,
             "kind": self.kind,
             "verbs": ["create", "delete", "deletecollection", "get", "list", "patch",
                       "update", "watch"]}
        if self.short_names:
            d["shortNames"] = self.short_names
        if self.categories:
            d["categories"] = self.categories
        if self.storage_hash:
            d["storageVersionHash"] = self.storage_hash
        return d

    def bookmark(self, rv):
        """A BOOKMARK object: the watched kind with only metadata.resourceVersion,
        every zero-valued non-omitempty field encoded as Go does
        (watch-bookmark-pod-go-apiserver.jsonl: creationTimestamp null, spec
        {"containers":null}, status {})."""
        obj = {"kind": self.kind, "apiVersion": self.api_version,
               "metadata": {"resourceVersion": str(rv), "creationTimestamp": None}}
        obj.update(self.bookmark_extra)
        return obj


# Storage version hashes: leases, configmaps, endpoints and events are copied from
# the real kubectl v1.28.15 discovery trace (tests/data/k8s-api/README.md); for
# pods and endpointslices no real value was captured, so none is sent (the field
# is optional and kubectl ignores it).
LEASES = Resource("coordination.k8s.io", "v1", "leases", "lease", "Lease", ["spec"],
                  create_on_update=True, unconditional_update=False,
                  storage_hash="gqkMMb/YqFM=", bookmark_extra={"spec": {}})
ENDPOINTS = Resource("", "v1", "endpoints", "endpoints", "Endpoints", ["subsets"],
                     short_names=["ep"], create_on_update=True, storage_hash="fWeeMqaN/OA=")
CONFIGMAPS = Resource("", "v1", "configmaps", "configmap", "ConfigMap",
                      ["immutable", "data", "binaryData"], short_names=["cm"],
                      storage_hash="qFsyl6wFWjQ=")
EVENTS = Resource("", "v1", "events", "event", "Event",
                  ["involvedObject", "reason", "message", "source", "firstTimestamp",
                   "lastTimestamp", "count", "type", "eventTime", "series", "action",
                   "related", "reportingComponent", "reportingInstance"],
                  short_names=["ev"], create_on_update=True, storage_hash="r2yiGXH7wu8=",
                  bookmark_extra={"involvedObject": {}, "source": {}, "firstTimestamp": None,
                                  "lastTimestamp": None, "eventTime": None,
                                  "reportingComponent": "", "reportingInstance": ""},
                  # the Event registry's selectable fields (ToSelectableFields of
                  # kubernetes pkg/registry/core/event/strategy.go): what `kubectl
                  # describe` selects an object's Events by (involvedObject.name,
                  # .namespace, .kind, .uid)
                  field_selectors=("metadata.name", "metadata.namespace", "involvedObject.kind",
                                   "involvedObject.namespace", "involvedObject.name",
                                   "involvedObject.uid", "involvedObject.apiVersion",
                                   "involvedObject.resourceVersion", "involvedObject.fieldPath",
                                   "reason", "reportingComponent", "source", "type"))
PODS = Resource("", "v1", "pods", "pod", "Pod", ["spec", "status"], short_names=["po"],
                categories=["all"], return_deleted=True,
                bookmark_extra={"spec": {"containers": None}, "status": {}})
ENDPOINTSLICES = Resource("discovery.k8s.io", "v1", "endpointslices", "endpointslice",
                          "EndpointSlice", ["addressType", "endpoints", "ports"],
                          bookmark_extra={"addressType": "", "endpoints": None})

NAMESPACES = Resource("", "v1", "namespaces", "namespace", "Namespace", ["spec", "status"],
                      short_names=["ns"])  # synthetic, read-only, not in discovery

CORE_V1 = [CONFIGMAPS, ENDPOINTS, EVENTS, PODS]  # alphabetical, as /api/v1 lists them
GROUPS = {
    "coordination.k8s.io": {"v1": [LEASES]},
    "discovery.k8s.io": {"v1": [ENDPOINTSLICES]},
}
ALL = CORE_V1 + [LEASES, ENDPOINTSLICES]


def lookup(group, version, plural):
    if group == "":
        if version != "v1":
            return None
        table = CORE_V1
    else:
        table = GROUPS.get(group, {}).get(version)
        if table is None:
            return None
    for r in table:
        if r.plural == plural:
            return r
    return None


# --- decoding ----------------------------------------------------------------

class DecodeError(Exception):
    pass


def _gotype(v):
    # the JSON type names Go's decoder uses in 'cannot unmarshal X into ...'
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def _unmarshal_err(v, struct, path, gotype):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        what = "number %s" % (repr(v) if isinstance(v, float) else v)
    else:
        what = _gotype(v)
    return DecodeError("json: cannot unmarshal %s into Go struct field %s.%s of type %s"
                       % (what, struct, path, gotype))


def _int32(v, struct, path):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _unmarshal_err(v, struct, path, "int32")
    if isinstance(v, float) or not (-2**31 <= v < 2**31):
        raise _unmarshal_err(v, struct, path, "int32")
    return v


def _string(v, struct, path):
    if v is None:
        return None
    if not isinstance(v, str):
        raise _unmarshal_err(v, struct, path, "string")
    return v


# MicroTime: micro_time.go, RFC3339Micro = "2006-01-02T15:04:05.000000Z07:00".
MICRO_LAYOUT = "2006-01-02T15:04:05.000000Z07:00"
_LAYOUT_ELEMS = [("2006", "year"), ("-", None), ("01", "month"), ("-", None), ("02", "day"),
                 ("T", None), ("15", "hour"), (":", None), ("04", "minute"), (":", None),
                 ("05", "second"), (".000000", "frac"), ("Z07:00", "tz")]


def parse_microtime(value):
    """Go's time.Parse(RFC3339Micro, value), returning (epoch seconds, micros), or
    raising DecodeError with Go's message, e.g. 'parsing time "…103Z" as
    "2006-01-02T15:04:05.000000Z07:00": cannot parse ".103Z" as ".000000"'."""
    rest = value
    got = {}

    def bad(elem):
        return DecodeError("parsing time %s as %s: cannot parse %s as %s" % (
            status.goquote(value), status.goquote(MICRO_LAYOUT), status.goquote(rest),
            status.goquote(elem)))

    for elem, what in _LAYOUT_ELEMS:
        if what is None:
            if not rest.startswith(elem):
                raise bad(elem)
            rest = rest[len(elem):]
        elif what == "year":
            if len(rest) < 4 or not rest[:4].isdigit() or not rest[:4].isascii():
                raise bad(elem)
            got[what] = int(rest[:4])
            rest = rest[4:]
        elif what in ("month", "day", "hour", "minute", "second"):
            if len(rest) < 2 or not rest[:2].isascii() or not rest[:2].isdigit():
                raise bad(elem)
            got[what] = int(rest[:2])
            rest = rest[2:]
        elif what == "frac":
            if len(rest) < 7 or rest[0] not in ".," or not rest[1:7].isascii() \
                    or not rest[1:7].isdigit():
                raise bad(elem)
            got[what] = int(rest[1:7])
            rest = rest[7:]
        else:  # tz
            if rest.startswith("Z"):
                got["off"] = 0
                rest = rest[1:]
            elif (len(rest) >= 6 and rest[0] in "+-" and rest[3] == ":"
                  and rest[1:3].isdigit() and rest[4:6].isdigit()):
                off = int(rest[1:3]) * 3600 + int(rest[4:6]) * 60
                got["off"] = off if rest[0] == "+" else -off
                rest = rest[6:]
            else:
                raise bad(elem)
    if rest:
        raise DecodeError("parsing time %s: extra text: %s" % (status.goquote(value),
                                                                status.goquote(rest)))
    for field, lo, hi in (("month", 1, 12), ("hour", 0, 23), ("minute", 0, 59),
                          ("second", 0, 59)):
        if not lo <= got[field] <= hi:
            raise DecodeError("parsing time %s: %s out of range" % (status.goquote(value), field))
    if got["day"] < 1 or got["day"] > calendar.monthrange(max(got["year"], 1), got["month"])[1]:
        raise DecodeError("parsing time %s: day out of range" % status.goquote(value))
    secs = calendar.timegm((got["year"], got["month"], got["day"], got["hour"], got["minute"],
                            got["second"], 0, 0, 0)) - got["off"]
    return secs, got["frac"]


def format_microtime(secs, micros):
    t = __import__("time").gmtime(secs)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour,
                                                    t.tm_min, t.tm_sec, micros)


def format_time(secs):
    # metav1.Time: RFC3339, whole seconds, UTC 'Z'.
    t = __import__("time").gmtime(secs)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % t[:6]


def _microtime(v, path):
    if v is None:
        return None  # "null" decodes to the zero time, which is omitted on output
    if not isinstance(v, str):
        raise DecodeError("json: cannot unmarshal %s into Go value of type string" % _gotype(v))
    secs, micros = parse_microtime(v)
    return format_microtime(secs, micros)


LEASE_SPEC = [("holderIdentity", "string"), ("leaseDurationSeconds", "int32"),
              ("acquireTime", "micro"), ("renewTime", "micro"), ("leaseTransitions", "int32"),
              ("strategy", "string"), ("preferredHolder", "string")]


def _decode_meta(meta, unknown):
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise DecodeError("json: cannot unmarshal %s into Go struct field .metadata of type "
                          "v1.ObjectMeta" % _gotype(meta))
    out = {}
    for k in META_KEYS:
        if k not in meta or meta[k] is None:
            continue
        v = meta[k]
        if k in META_STRINGS:
            _string(v, "ObjectMeta", "metadata." + k)
            if v == "":
                continue
        elif k in META_INTS:
            if isinstance(v, bool) or not isinstance(v, int):
                raise _unmarshal_err(v, "ObjectMeta", "metadata." + k, "int64")
        elif k in META_MAPS:
            if not isinstance(v, dict):
                raise _unmarshal_err(v, "ObjectMeta", "metadata." + k, "map[string]string")
            for mv in v.values():
                if not isinstance(mv, str):
                    raise _unmarshal_err(mv, "ObjectMeta", "metadata." + k, "string")
            if not v:
                continue
        elif k in META_LISTS:
            if not isinstance(v, list):
                raise _unmarshal_err(v, "ObjectMeta", "metadata." + k, "[]" + k)
            if not v:
                continue
        out[k] = v
    for k in meta:
        if k not in META_KEYS and k != "selfLink":
            unknown.append("metadata." + k)
    return out


def decode(res, body, strict=False):
    """Decode a request body into the canonical stored form of res.

    Returns (obj, warnings).  Raises status.ApiError (400) for what the real
    decoder refuses.  The wrapper texts are those of handlers/rest.go
    transformDecodeError:
      '%s in version %q cannot be handled as a %s: %v' (kind known), or
      'the object provided is unrecognized (must be of type %s): %v (%s)'."""
    import json
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        summary = body[:30].decode("utf-8", "replace")
        if len(body) > 30:
            summary += " ..."
        raise status.bad_request(
            "the object provided is unrecognized (must be of type %s): couldn't get "
            "version/kind; json parse error: %s (%s)" % (res.kind, _pyjson_msg(e), summary))
    if not isinstance(data, dict):
        raise status.bad_request(
            "the object provided is unrecognized (must be of type %s): couldn't get "
            "version/kind; json parse error: json: cannot unmarshal %s into Go value of type "
            "struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string "
            "\"json:\\\"kind,omitempty\\\"\" }" % (res.kind, _gotype(data)))
    kind = data.get("kind")
    api_version = data.get("apiVersion")
    for key, v in (("apiVersion", api_version), ("kind", kind)):
        if v is not None and not isinstance(v, str):
            summary = body[:30].decode("utf-8", "replace") + (" ..." if len(body) > 30 else "")
            raise status.bad_request(
                "the object provided is unrecognized (must be of type %s): couldn't get "
                "version/kind; json parse error: json: cannot unmarshal %s into Go struct field "
                ".%s of type string (%s)" % (res.kind, _gotype(v), key, summary))
    if api_version not in (None, "") and api_version != res.api_version:
        # create.go / update.go
        raise status.bad_request("the API version in the data (%s) does not match the expected "
                                 "API version (%s)" % (api_version, res.api_version))
    if kind not in (None, "") and kind != res.kind:
        raise status.bad_request("%s in version %s cannot be handled as a %s: no kind %s is "
                                 "registered for version %s" % (
                                     kind, status.goquote(res.version), res.kind,
                                     status.goquote(kind), status.goquote(res.api_version)))
    unknown = []
    try:
        meta = _decode_meta(data.get("metadata"), unknown)
        obj = {"kind": res.kind, "apiVersion": res.api_version, "metadata": meta}
        if res is LEASES:
            spec = data.get("spec")
            if spec is not None:
                if not isinstance(spec, dict):
                    raise DecodeError("json: cannot unmarshal %s into Go struct field Lease.spec "
                                      "of type v1.LeaseSpec" % _gotype(spec))
                out = {}
                for k, typ in LEASE_SPEC:
                    v = spec.get(k)
                    if typ == "string":
                        v = _string(v, "LeaseSpec", "spec." + k)
                    elif typ == "int32":
                        v = _int32(v, "LeaseSpec", "spec." + k)
                    else:
                        v = _microtime(v, "spec." + k)
                    if v is not None:
                        out[k] = v
                for k in spec:
                    if k not in dict(LEASE_SPEC):
                        unknown.append("spec." + k)
                # strategy.go PrepareForCreate/PrepareForUpdate: dropped while the
                # CoordinatedLeaderElection feature gate is off (the default).
                out.pop("strategy", None)
                out.pop("preferredHolder", None)
                obj["spec"] = out
            else:
                obj["spec"] = {}
        else:
            for k in res.fields:
                if k in data and data[k] is not None:
                    obj[k] = data[k]
        for k in data:
            if k not in ("kind", "apiVersion", "metadata") and k not in res.fields:
                unknown.append(k)
    except DecodeError as e:
        raise status.bad_request("%s in version %s cannot be handled as a %s: %s"
                                 % (res.kind, status.goquote(res.version), res.kind, e))
    if unknown and strict:
        raise status.bad_request("%s in version %s cannot be handled as a %s: strict decoding "
                                 "error: %s" % (res.kind, status.goquote(res.version), res.kind,
                                                ", ".join("unknown field %s" % status.goquote(u)
                                                          for u in unknown)))
    warnings = ["unknown field %s" % status.goquote(u) for u in unknown]
    return obj, warnings


def _pyjson_msg(e):
    if isinstance(e, UnicodeDecodeError):
        return "invalid UTF-8 in JSON input"
    return str(e)


def order_meta(meta):
    return {k: meta[k] for k in META_KEYS if k in meta}


# --- validation --------------------------------------------------------------

DNS1123_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_DNS1123_RE = re.compile(DNS1123_SUBDOMAIN + r"\Z")
DNS1123_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
               "characters, '-' or '.', and must start and end with an alphanumeric character "
               "(e.g. 'example.com', regex used for validation is '%s')" % DNS1123_SUBDOMAIN)


def _goval(v):
    # field.Error value printing: strings quoted (%q), numbers with %v.
    if isinstance(v, str):
        return status.goquote(v)
    return str(v)


def validate(res, obj, on_update=False):
    """ValidateObjectMeta(NameIsDNSSubdomain) + the type's own rules
    (pkg/apis/coordination/validation/validation.go for Leases).  Returns a list
    of (cause_type, field, error body)."""
    errs = []
    meta = obj["metadata"]
    name = meta.get("name", "")
    if not name:
        if not meta.get("generateName"):
            errs.append(("FieldValueRequired", "metadata.name",
                         "Required value: name or generateName is required"))
    else:
        if len(name) > 253:
            errs.append(("FieldValueInvalid", "metadata.name",
                         "Invalid value: %s: must be no more than 253 characters" % _goval(name)))
        if not _DNS1123_RE.match(name):
            errs.append(("FieldValueInvalid", "metadata.name",
                         "Invalid value: %s: %s" % (_goval(name), DNS1123_MSG)))
    if res is LEASES:
        spec = obj.get("spec", {})
        d = spec.get("leaseDurationSeconds")
        if d is not None and d <= 0:
            errs.append(("FieldValueInvalid", "spec.leaseDurationSeconds",
                         "Invalid value: %d: must be greater than 0" % d))
        t = spec.get("leaseTransitions")
        if t is not None and t < 0:
            errs.append(("FieldValueInvalid", "spec.leaseTransitions",
                         "Invalid value: %d: must be greater than or equal to 0" % t))
    return errs


# --- selectors ---------------------------------------------------------------

def parse_label_selector(sel):
    """Equality- and existence-based label selectors: a=b, a==b, a!=b, a, !a,
    a in (x,y), a notin (x,y).  Returns a predicate on a labels dict."""
    if not sel:
        return lambda labels: True
    reqs = []
    parts = []
    depth = 0
    cur = ""
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for p in parts:
        p = p.strip()
        m = re.match(r"^([^\s!=]+)\s+(in|notin)\s+\((.*)\)$", p)
        if m:
            vals = {v.strip() for v in m.group(3).split(",")}
            key, op = m.group(1), m.group(2)
            reqs.append((key, op, vals))
        elif "!=" in p:
            k, v = p.split("!=", 1)
            reqs.append((k.strip(), "!=", v.strip()))
        elif "==" in p:
            k, v = p.split("==", 1)
            reqs.append((k.strip(), "=", v.strip()))
        elif "=" in p:
            k, v = p.split("=", 1)
            reqs.append((k.strip(), "=", v.strip()))
        elif p.startswith("!"):
            reqs.append((p[1:].strip(), "!exists", None))
        elif p:
            reqs.append((p, "exists", None))
        else:
            raise status.bad_request("unable to parse requirement: found '', expected: identifier")

    def pred(labels):
        for k, op, v in reqs:
            have = k in labels
            if op == "=" and labels.get(k) != v:
                return False
            if op == "!=" and have and labels[k] == v:
                return False
            if op == "in" and labels.get(k) not in v:
                return False
            if op == "notin" and have and labels[k] in v:
                return False
            if op == "exists" and not have:
                return False
            if op == "!exists" and have:
                return False
        return True
    return pred


def selectable_field(obj, key):
    """The value of a selectable field of a stored object ("" when absent), as
    the registries' field sets: metadata.name/namespace for every resource; for
    Events also involvedObject.*, reason, type, reportingComponent and source
    (source.component, else reportingComponent)."""
    if key == "source":
        return (obj.get("source") or {}).get("component") or obj.get("reportingComponent") or ""
    v = obj
    for part in key.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    return v if isinstance(v, str) else ""


def parse_field_selector(res, sel):
    """Field selectors with =, == or != on the fields the resource's registry
    offers (res.field_selectors: metadata.name / metadata.namespace, and the
    Event's own).  Returns (name or None, predicate on the whole object)."""
    if not sel:
        return None, lambda obj: True
    reqs = []
    exact_name = None
    for p in sel.split(","):
        p = p.strip()
        if not p:
            continue
        if "!=" in p:
            k, v, op = p.split("!=", 1) + ["!="]
        elif "==" in p:
            k, v, op = p.split("==", 1) + ["="]
        elif "=" in p:
            k, v, op = p.split("=", 1) + ["="]
        else:
            raise status.bad_request("invalid selector: '%s'; can't understand '%s'" % (sel, p))
        k = k.strip()
        if k not in res.field_selectors:
            # field selector conversion error of the registry (message as
            # fields.go: '%q is not a known field selector: only %q, %q').
            raise status.bad_request("%s is not a known field selector: only %s" % (
                status.goquote(k), ", ".join(status.goquote(f) for f in res.field_selectors)))
        if k == "metadata.name" and op == "=":
            exact_name = v
        reqs.append((k, op, v))

    def pred(obj):
        for k, op, v in reqs:
            have = selectable_field(obj, k)
            if (op == "=") != (have == v):
                return False
        return True
    return exact_name, pred


# --- Table (kubectl's human output) -----------------------------------------

# pkg/printers/internalversion/printers.go leaseColumnDefinitions; descriptions
# are the ObjectMeta / LeaseSpec swagger docs (the Name text is the one in the
# real kubectl v1.28.15 trace).
LEASE_COLUMNS = [
    {"name": "Name", "type": "string", "format": "name",
     "description": "Name must be unique within a namespace. Is required when creating "
     "resources, although some resources may allow a client to request the generation of an "
     "appropriate name automatically. Name is primarily intended for creation idempotence and "
     "configuration definition. Cannot be updated. More info: "
     "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
     "priority": 0},
    {"name": "Holder", "type": "string", "format": "",
     "description": "holderIdentity contains the identity of the holder of a current lease.",
     "priority": 0},
    {"name": "Age", "type": "string", "format": "",
     "description": "CreationTimestamp is a timestamp representing the server time when this "
     "object was created. It is not guaranteed to be set in happens-before order across "
     "separate operations. Clients may not set this value. It is represented in RFC3339 form "
     "and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
     "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
     "priority": 0},
]


def parse_time(s):
    return calendar.timegm(__import__("time").strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def human_duration(secs):
    """apimachinery/pkg/util/duration.HumanDuration."""
    s = int(secs)
    if secs < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm%ds" % (m, s % 60) if s % 60 else "%dm" % m
    if m < 180:
        return "%dm" % m
    h = s // 3600
    if h < 8:
        return "%dh%dm" % (h, m % 60) if m % 60 else "%dh" % h
    if h < 48:
        return "%dh" % h
    if h < 24 * 8:
        return "%dd%dh" % (h // 24, h % 24) if h % 24 else "%dd" % (h // 24)
    if h < 24 * 365 * 2:
        return "%dd" % (h // 24)
    if h < 24 * 365 * 8:
        y = h // (24 * 365)
        d = (h // 24) % 365
        return "%dy%dd" % (y, d) if d else "%dy" % y
    return "%dy" % (h // (24 * 365))
