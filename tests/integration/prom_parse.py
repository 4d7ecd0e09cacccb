#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A strict parser of the Prometheus text exposition format 0.0.4 (Python
standard library only), for tests: every line must be valid, and the
structural rules a scraper relies on must hold.

    prom_parse.py [FILE]     validate FILE (default stdin), print a summary,
                             exit 1 with "line N: reason" on the first error

    import prom_parse
    families = prom_parse.parse(text)   # {name: Family}, raises PromError
    prom_parse.value(families, "x_total", {"verb": "get"})

Checked: HELP/TYPE syntax and escapes (HELP: \\\\ and \\n; label values:
\\\\, \\" and \\n), at most one HELP and TYPE per family and TYPE before its
samples, metric and label names, samples of a family contiguous, no
duplicate series, float values (NaN, +Inf, -Inf), optional integer
timestamps, counters not negative, histograms: only _bucket/_sum/_count
samples, every series with an le="+Inf" bucket, le values ascending,
cumulative counts non-decreasing, +Inf bucket == _count, _sum present.
"""

import math
import re
import sys

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class PromError(Exception):
    pass


class Family:
    def __init__(self, name):
        self.name = name
        self.type = None
        self.help = None
        self.samples = []  # (sample name, labels dict, value, timestamp)

    def __repr__(self):
        return "Family(%s, %s, %d samples)" % (self.name, self.type, len(self.samples))


def parse_float(s):
    if s in ("NaN", "+Inf", "-Inf", "Inf"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
        raise PromError("bad value %r" % s)
    return float(s)


def unescape(s, allowed):
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s) or s[i + 1] not in allowed:
                raise PromError("invalid escape sequence in %r" % s)
            out.append("\n" if s[i + 1] == "n" else s[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_labels(s, i):
    """Parses {a="x",b="y"} starting at s[i] == '{'; returns (labels, next index)."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        m = LABEL_NAME.match(s, i)
        if not m:
            raise PromError("bad label name at column %d" % (i + 1))
        name = m.group(0)
        i = m.end()
        if s[i : i + 2] != '="':
            raise PromError("expected =\" after label %s" % name)
        i += 2
        j = i
        while j < len(s) and s[j] != '"':
            if s[j] == "\\":
                j += 1
            j += 1
        if j >= len(s):
            raise PromError("unterminated label value")
        if name in labels:
            raise PromError("duplicate label %s" % name)
        labels[name] = unescape(s[i:j], 'n"\\')
        i = j + 1
        if i < len(s) and s[i] == ",":
            i += 1
        elif i < len(s) and s[i] == "}":
            continue
        else:
            raise PromError("expected , or } after label %s" % name)


def family_of(name, families):
    """The family a sample belongs to (histogram/summary suffixes)."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            f = families.get(base)
            if f and f.type in ("histogram", "summary"):
                return base
    return name


def parse(text):
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise PromError("not UTF-8: %s" % e)
    if text and not text.endswith("\n"):
        raise PromError("the last line does not end in a newline")
    families = {}
    order = []  # family names in order of their samples, for contiguity
    closed = set()
    seen = set()
    for lineno, line in enumerate(text.split("\n")[:-1] if text else [], 1):
        try:
            parse_line(line, families, order, closed, seen)
        except PromError as e:
            raise PromError("line %d: %s: %r" % (lineno, e, line))
    for f in families.values():
        try:
            check_family(f)
        except PromError as e:
            raise PromError("family %s: %s" % (f.name, e))
    return families


def parse_line(line, families, order, closed, seen):
    if line.strip() == "":
        return
    if line.startswith("#"):
        parts = line[1:].lstrip(" \t").split(None, 2) if line[1:2] in (" ", "\t") else []
        if len(parts) >= 2 and parts[0] in ("HELP", "TYPE"):
            kind, name = parts[0], parts[1]
            if not METRIC_NAME.fullmatch(name):
                raise PromError("bad metric name in %s" % kind)
            f = families.setdefault(name, Family(name))
            if kind == "HELP":
                if f.help is not None:
                    raise PromError("second HELP for %s" % name)
                f.help = unescape(parts[2] if len(parts) > 2 else "", "n\\")
            else:
                if f.type is not None:
                    raise PromError("second TYPE for %s" % name)
                if f.samples:
                    raise PromError("TYPE after samples of %s" % name)
                if len(parts) != 3 or parts[2] not in TYPES:
                    raise PromError("bad TYPE")
                f.type = parts[2]
        return  # any other comment is ignored
    m = METRIC_NAME.match(line)
    if not m:
        raise PromError("bad metric name")
    name = m.group(0)
    i = m.end()
    labels = {}
    if i < len(line) and line[i] == "{":
        labels, i = parse_labels(line, i)
    rest = line[i:]
    if not rest.startswith((" ", "\t")):
        raise PromError("expected a blank before the value")
    fields = rest.split()
    if len(fields) not in (1, 2):
        raise PromError("expected a value and an optional timestamp")
    value = parse_float(fields[0])
    ts = None
    if len(fields) == 2:
        if not re.fullmatch(r"-?\d+", fields[1]):
            raise PromError("bad timestamp")
        ts = int(fields[1])
    fname = family_of(name, families)
    if fname in closed:
        raise PromError("samples of %s are not contiguous" % fname)
    if order and order[-1] != fname:
        closed.add(order[-1])
    if not order or order[-1] != fname:
        order.append(fname)
    key = (name, tuple(sorted(labels.items())))
    if key in seen:
        raise PromError("duplicate series")
    seen.add(key)
    f = families.setdefault(fname, Family(fname))
    f.samples.append((name, labels, value, ts))


def check_family(f):
    t = f.type or "untyped"
    if t == "counter":
        for name, labels, v, _ in f.samples:
            if not (v >= 0):
                raise PromError("counter %s%s is %r" % (name, labels, v))
    if t != "histogram":
        return
    series = {}
    for name, labels, v, _ in f.samples:
        rest = {k: x for k, x in labels.items() if k != "le"}
        key = tuple(sorted(rest.items()))
        s = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if name == f.name + "_bucket":
            if "le" not in labels:
                raise PromError("bucket without le")
            s["buckets"].append((parse_float(labels["le"]), v))
        elif "le" in labels:
            raise PromError("le on %s" % name)
        elif name == f.name + "_sum":
            s["sum"] = v
        elif name == f.name + "_count":
            s["count"] = v
        else:
            raise PromError("unexpected sample %s in a histogram" % name)
    for key, s in series.items():
        b = s["buckets"]
        if not b or not math.isinf(b[-1][0]) or b[-1][0] < 0:
            raise PromError("series %s: no le=\"+Inf\" bucket last" % (key,))
        for (le1, c1), (le2, c2) in zip(b, b[1:]):
            if not le2 > le1:
                raise PromError("series %s: le not ascending" % (key,))
            if c2 < c1:
                raise PromError("series %s: bucket counts not cumulative" % (key,))
        if s["count"] is None or s["sum"] is None:
            raise PromError("series %s: _count or _sum missing" % (key,))
        if s["count"] != b[-1][1]:
            raise PromError("series %s: _count %r != +Inf bucket %r" % (key, s["count"], b[-1][1]))
        if any(c < 0 or c != int(c) for _, c in b):
            raise PromError("series %s: bucket count not a natural number" % (key,))


def value(families, name, labels=None):
    """The value of one sample, None when absent."""
    labels = labels or {}
    f = families.get(family_of(name, families))
    if not f:
        return None
    for n, lab, v, _ in f.samples:
        if n == name and lab == labels:
            return v
    return None


def main(argv):
    data = open(argv[1], "rb").read() if len(argv) > 1 else sys.stdin.buffer.read()
    try:
        families = parse(data)
    except PromError as e:
        print("prom_parse: %s" % e, file=sys.stderr)
        return 1
    n = sum(len(f.samples) for f in families.values())
    print("ok: %d families, %d samples" % (len(families), n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
