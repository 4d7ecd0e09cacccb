# SPDX-License-Identifier: MIT
"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902), and
strategic merge patch approximated as a merge patch (exact for the maps and
scalars of Lease, ConfigMap and the metadata labels/annotations; list merge
keys and $patch directives are not modelled)."""

import copy
import json


class PatchError(ValueError):
    pass


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc, parts):
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise PatchError("doc is missing path: %s" % "/".join([""] + parts))
    return cur


def _get(doc, parts):
    if not parts:
        return doc
    par = _parent(doc, parts)
    k = parts[-1]
    if isinstance(par, dict) and k in par:
        return par[k]
    if isinstance(par, list) and k.isdigit() and int(k) < len(par):
        return par[int(k)]
    raise PatchError("doc is missing path: %s" % "/".join([""] + parts))


def _remove(doc, parts):
    par = _parent(doc, parts)
    k = parts[-1]
    if isinstance(par, dict) and k in par:
        return par.pop(k)
    if isinstance(par, list) and k.isdigit() and int(k) < len(par):
        return par.pop(int(k))
    raise PatchError("doc is missing path: %s" % "/".join([""] + parts))


def _add(doc, parts, value):
    if not parts:
        return value
    par = _parent(doc, parts)
    k = parts[-1]
    if isinstance(par, dict):
        par[k] = value
    elif isinstance(par, list):
        if k == "-":
            par.append(value)
        elif k.isdigit() and int(k) <= len(par):
            par.insert(int(k), value)
        else:
            raise PatchError("index out of range: %s" % k)
    else:
        raise PatchError("doc is missing path: %s" % "/".join([""] + parts))
    return doc


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise PatchError("json patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError("invalid operation %r" % (op,))
        parts = _pointer(op["path"])
        kind = op["op"]
        if kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, parts)
        elif kind == "replace":
            _get(doc, parts)
            if parts:
                _remove(doc, parts)
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "test":
            if _get(doc, parts) != op.get("value"):
                raise PatchError("testing value %s failed" % op["path"])
        elif kind in ("move", "copy"):
            src = _pointer(op.get("from", ""))
            val = _get(doc, src)
            if kind == "move":
                _remove(doc, src)
            doc = _add(doc, parts, copy.deepcopy(val))
        else:
            raise PatchError("unexpected operation %r" % kind)
    return doc


def apply(ctype, current, body):
    try:
        patch = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise PatchError("error decoding patch: %s" % e)
    if ctype == "application/json-patch+json":
        return json_patch(current, patch)
    if not isinstance(patch, dict):
        raise PatchError("patch must be a JSON object")
    return merge_patch(current, patch)
