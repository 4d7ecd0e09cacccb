# SPDX-License-Identifier: MIT
"""Status bodies and JSON encoding exactly as the real API server writes them.

Key order of a Status follows the Go struct (kind, apiVersion, metadata, status,
message, reason, details, code); details follow (name, group, kind, uid, causes,
retryAfterSeconds), every one of them omitempty.  Real captures these follow are
copied under tests/data/k8s-api/ (see the README there):
  status-401-unauthorized-microk8s.json, status-404-unserved-resource-path.json,
  status-409-conflict-gke-resourcequota.json,
  status-403-forbidden-upstream-errors_test.jsonl,
  status-403-nonresource-anonymous-kcm-port.json,
  watch-error-410-expired-kind-v1.36.1.jsonl.
"""

import json


class ApiError(Exception):
    """An error answered with a body: a JSON Status or, for the filters that write
    plain text (429 of API Priority and Fairness, 503 of an unavailable aggregated
    API, 404 of an unknown path), a text body."""

    def __init__(self, code, body, content_type="application/json", headers=None):
        super().__init__(code)
        self.code = code
        self.body = body  # dict (Status) or str (plain text)
        self.content_type = content_type
        self.headers = headers or []


def encode(obj, pretty=False):
    """Compact JSON with a trailing newline, as Go's json.Encoder writes it
    (pretty: json.MarshalIndent(obj, "", "  ") and no newline, the server's
    ?pretty=true form).

    Go escapes <, >, & (HTML-safe encoding is on by default) and U+2028/U+2029,
    and writes other non-ASCII characters as UTF-8."""
    if pretty:
        s = json.dumps(obj, indent=2, ensure_ascii=False)
    else:
        s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    s = (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
         .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    # json.Encoder.Encode ends with a newline; the pretty serializer writes
    # json.MarshalIndent's output as is, without one (serializer/json/json.go).
    return (s if pretty else s + "\n").encode("utf-8")


def details(name=None, group=None, kind=None, uid=None, causes=None, retry_after=None):
    d = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    if kind:
        d["kind"] = kind
    if uid:
        d["uid"] = uid
    if causes:
        d["causes"] = causes
    if retry_after:
        d["retryAfterSeconds"] = retry_after
    return d


def failure(code, message, reason=None, det=None):
    """A Failure Status.  det=None omits details (401, 410, 500); det={} writes
    "details":{} as the real 404/403 captures do."""
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message}
    if reason:
        s["reason"] = reason
    if det is not None:
        s["details"] = det
    s["code"] = code
    return s


def success(det):
    # store.go finalizeDelete when ReturnDeletedObject is false: Status{Status:
    # Success, Details}; Code is 0 and therefore omitted.
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": det}


# --- the constructors of k8s.io/apimachinery/pkg/api/errors ------------------

def unauthorized():
    # Exactly tests/data/k8s-api/status-401-unauthorized-microk8s.json (no details).
    return ApiError(401, failure(401, "Unauthorized", "Unauthorized"))


def not_found(res, name):
    # NewNotFound: '%s %q not found', details {name, group, kind:<plural>}.
    return ApiError(404, failure(404, "%s %s not found" % (res.gr, goquote(name)), "NotFound",
                                 details(name, res.group, res.plural)))


def unserved_resource():
    # Unknown resource inside a served group/version:
    # tests/data/k8s-api/status-404-unserved-resource-path.json (byte for byte).
    return ApiError(404, failure(404, "the server could not find the requested resource",
                                 "NotFound", {}))


def page_not_found():
    # Unknown group or version: the Go mux's plain-text 404 (observed on kind v1.36.1).
    return ApiError(404, "404 page not found\n", "text/plain; charset=utf-8",
                    [("X-Content-Type-Options", "nosniff")])


def already_exists(res, name):
    return ApiError(409, failure(409, "%s %s already exists" % (res.gr, goquote(name)),
                                 "AlreadyExists", details(name, res.group, res.plural)))


OPTIMISTIC_LOCK_MSG = ("the object has been modified; please apply your changes to the "
                       "latest version and try again")


def conflict(res, name, err=OPTIMISTIC_LOCK_MSG):
    # NewConflict; compare status-409-conflict-gke-resourcequota.json.
    return ApiError(409, failure(409, "Operation cannot be fulfilled on %s %s: %s"
                                 % (res.gr, goquote(name), err), "Conflict",
                                 details(name, res.group, res.plural)))


def invalid(qualified_kind, group, kind, name, errs):
    """NewInvalid: '%s %q is invalid: %s' with one error, '[e1, e2]' with more.

    errs: list of (cause_type, field, body) where body is field.Error.ErrorBody(),
    e.g. ("FieldValueInvalid", "spec.leaseDurationSeconds",
    "Invalid value: 0: must be greater than 0")."""
    texts = ["%s: %s" % (f, b) for (_, f, b) in errs]
    agg = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    causes = [{"reason": t, "message": b, "field": f} for (t, f, b) in errs]
    return ApiError(422, failure(422, "%s %s is invalid: %s" % (qualified_kind, goquote(name), agg),
                                 "Invalid", details(name, group, kind, causes=causes)))


def bad_request(message):
    # NewBadRequest: reason BadRequest, no details.
    return ApiError(400, failure(400, message, "BadRequest"))


def internal_plain(message):
    # A non-API error turned into a Status by ErrorToAPIStatus: code 500, no reason.
    return ApiError(500, failure(500, message))


def internal_error(message):
    # NewInternalError: 'Internal error occurred: %v', causes [{message}].
    return ApiError(500, failure(500, "Internal error occurred: " + message, "InternalError",
                                 {"causes": [{"message": message}]}))


def forbidden(res, name, user, verb, namespace):
    """responsewriters.Forbidden: NewForbidden(GroupResource, name, reason).

    'leases.coordination.k8s.io "X" is forbidden: User "U" cannot update resource
    "leases" in API group "coordination.k8s.io" in the namespace "ns"'; without a
    name '<gr> is forbidden: ...'; details {name?, group?, kind:<plural>}
    (status-403-forbidden-upstream-errors_test.jsonl)."""
    scope = ("in the namespace %s" % goquote(namespace)) if namespace else "at the cluster scope"
    reason = "User %s cannot %s resource %s in API group %s %s" % (
        goquote(user), verb, goquote(res.plural), goquote(res.group), scope)
    reason = reason.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if name:
        msg = "%s %s is forbidden: %s" % (res.gr, goquote(name), reason)
    else:
        msg = "%s is forbidden: %s" % (res.gr, reason)
    return ApiError(403, failure(403, msg, "Forbidden", details(name, res.group, res.plural)))


def expired(message):
    # NewResourceExpired: reason Expired, no details.  As a watch ERROR event:
    # watch-error-410-expired-kind-v1.36.1.jsonl.
    return failure(410, message, "Expired")


def too_many_requests_plain(retry_after):
    # API Priority and Fairness / max-in-flight filter: http.Error(w, "Too many
    # requests, please try again later.", 429) plus Retry-After (priority-and-fairness.go).
    return ApiError(429, "Too many requests, please try again later.\n",
                    "text/plain; charset=utf-8",
                    [("X-Content-Type-Options", "nosniff"), ("Retry-After", str(retry_after))])


def service_unavailable_plain():
    # The real 503 of the kubectl v1.28.15 discovery trace (tests/data/k8s-api/README.md):
    # text/plain 'service unavailable' + newline, Content-Length 20.
    return ApiError(503, "service unavailable\n", "text/plain; charset=utf-8",
                    [("X-Content-Type-Options", "nosniff")])


BODY_MEDIA_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
PATCH_MEDIA_TYPES = ["application/json-patch+json", "application/merge-patch+json",
                     "application/strategic-merge-patch+json", "application/apply-patch+yaml"]


def unsupported_media_type(accepted):
    # negotiation.errUnsupportedMediaType: 415, reason UnsupportedMediaType, no details.
    return ApiError(415, failure(415, "the body of the request was in an unknown format - "
                                 "accepted media types include: " + ", ".join(accepted),
                                 "UnsupportedMediaType"))


def method_not_allowed():
    # NewMethodNotSupported-like answer for verbs this server does not serve.
    return ApiError(405, failure(405, "the server does not allow this method on the requested "
                                 "resource", "MethodNotAllowed", {}))


def entity_too_large(limit):
    # NewRequestEntityTooLargeError: 'Request entity too large: %s'.
    return ApiError(413, failure(413, "Request entity too large: limit is %d" % limit,
                                 "RequestEntityTooLarge"))


def timeout_too_large_rv(rv, current):
    # storage.NewTooLargeResourceVersionError: NewTimeoutError(...) with a
    # ResourceVersionTooLarge cause (background knowledge, not captured).
    return ApiError(504, failure(504, "Timeout: Too large resource version: %d, current: %d"
                                 % (rv, current), "Timeout",
                                 {"causes": [{"reason": "ResourceVersionTooLarge",
                                              "message": "Too large resource version"}],
                                  "retryAfterSeconds": 1}),
                    headers=[("Retry-After", "1")])


def goquote(s):
    """Go's %q for the strings we quote (names, users): JSON-style escaping is
    the same for printable ASCII; non-printable characters use \\x or \\u."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif o < 0x20 or o == 0x7f:
            out.append("\\x%02x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
