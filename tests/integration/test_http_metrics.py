#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The metrics text through tests/integration/prom_parse.py: the daemon's whole registry
(test_http_metrics --dump) must parse, with the expected values, and the
parser itself must refuse what a scraper would refuse.

    test_http_metrics.py TEST_HTTP_METRICS"""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prom_parse  # noqa: E402

failures = []


def check(cond, what):
    print(("  ok: " if cond else "  FAIL: ") + what)
    if not cond:
        failures.append(what)


def main():
    out = subprocess.run([sys.argv[1], "--dump"], capture_output=True, timeout=60, check=True).stdout
    try:
        fam = prom_parse.parse(out)
        check(True, "the daemon's metrics parse (%d families)" % len(fam))
    except prom_parse.PromError as e:
        check(False, "the daemon's metrics parse: %s" % e)
        sys.stdout.write(out.decode("utf-8", "replace"))
        return 1
    v = prom_parse.value
    election = 'my-"election"\\x\n'
    check(v(fam, "leader_election_master_status", {"name": election}) == 1,
          "master_status with an escaped name label")
    check(fam["leader_election_master_status"].type == "gauge", "master_status is a gauge")
    name = {"name": election}
    check(v(fam, "leader_election_transitions_total", name) == 2, "transitions 2, by name")
    check(v(fam, "leader_election_term", name) == 42, "term, by name")
    # Every metric of the election carries its name: no sample of a leader_election_* family
    # but the process-wide ones lacks the label.
    per_process = {"leader_election_api_requests_total",
                   "leader_election_api_request_duration_seconds", "leader_election_socket_clients",
                   "leader_election_socket_requests_total", "leader_election_http_requests_total",
                   "leader_election_metrics_dropped_total", "leader_election_build_info"}
    unlabelled = sorted({n for f in fam.values() if f.name.startswith("leader_election_")
                         and f.name not in per_process
                         for n, labels, _, _ in f.samples if labels.get("name") != election})
    check(not unlabelled, "every election metric is labelled name=<election> %s" % unlabelled)
    bi = fam.get("leader_election_build_info")
    check(bi is not None and bi.type == "gauge" and len(bi.samples) == 1
          and bi.samples[0][2] == 1
          and re.fullmatch(r"\d+\.\d+\.\d+", bi.samples[0][1]["version"]),
          "build_info{version} 1: %r" % (bi.samples if bi else None))
    ts = v(fam, "leader_election_last_renew_timestamp_seconds", name)
    check(ts is not None and abs(ts - time.time()) < 60, "last renew timestamp %r (now %.0f)"
          % (ts, time.time()))
    check(fam["leader_election_last_renew_timestamp_seconds"].type == "gauge", "timestamp gauge")
    # The process collector, under the client libraries' names and types.
    for n, t in (("process_cpu_seconds_total", "counter"),
                 ("process_resident_memory_bytes", "gauge"), ("process_open_fds", "gauge"),
                 ("process_start_time_seconds", "gauge"), ("process_max_fds", "gauge"),
                 ("process_virtual_memory_bytes", "gauge")):
        check(n in fam and fam[n].type == t and v(fam, n) is not None and v(fam, n) >= 0,
              "%s %s %r" % (t, n, v(fam, n)))
    st = v(fam, "process_start_time_seconds")
    check(st is not None and time.time() - 600 < st <= time.time() + 1,
          "process_start_time_seconds %r is this run's" % st)
    rss = v(fam, "process_resident_memory_bytes")
    check(rss is not None and rss > 100 * 1024, "resident memory %r bytes" % rss)
    check(v(fam, "leader_election_api_requests_total", {"verb": "update", "code": "200"}) == 100,
          "api requests by verb and code")
    check(v(fam, "leader_election_api_requests_total", {"verb": "watch", "code": "<error>"}) == 20,
          "requests without an answer")
    h = "leader_election_api_request_duration_seconds"
    check(fam[h].type == "histogram", "duration is a histogram")
    check(v(fam, h + "_count", {"verb": "get"}) == 100, "histogram count")
    check(v(fam, h + "_bucket", {"verb": "get", "le": "+Inf"}) == 100, "+Inf bucket == count")
    check(v(fam, h + "_bucket", {"verb": "update", "le": "0.005"}) == 1, "le=0.005: only 0 s")
    n_series = len(set(tuple(sorted(l.items())) for _, l, _, _ in
                       fam["leader_election_api_requests_total"].samples))
    check(n_series == 64, "the label cap holds (%d series)" % n_series)
    check(v(fam, "leader_election_metrics_dropped_total") > 0, "dropped updates are counted")
    lr = v(fam, "leader_election_last_renew_seconds", name)
    check(lr is not None and 0 <= lr < 60, "last renew seconds %r" % lr)

    print("the parser refuses invalid text")
    bad = {
        "no final newline": "a 1",
        "bad name": "1a 1\n",
        "bad value": "a one\n",
        "bad escape in label": 'a{x="\\t"} 1\n',
        "unterminated label": 'a{x="1} 1\n',
        "duplicate label": 'a{x="1",x="2"} 1\n',
        "duplicate series": "a 1\na 2\n",
        "TYPE after samples": "a 1\n# TYPE a gauge\n",
        "two TYPEs": "# TYPE a gauge\n# TYPE a gauge\n",
        "unknown type": "# TYPE a thing\n",
        "bad HELP escape": "# HELP a x\\q\n",
        "not contiguous": "a 1\nb 1\na{x=\"1\"} 1\n",
        "negative counter": "# TYPE a counter\na -1\n",
        "histogram without +Inf": "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
        "histogram not cumulative": "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\n"
                                    "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n",
        "histogram count != +Inf": "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
        "histogram without sum": "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",
        "bad UTF-8": b"a{x=\"\xff\"} 1\n",
    }
    for what, text in bad.items():
        try:
            prom_parse.parse(text)
            check(False, "refused: " + what)
        except prom_parse.PromError:
            check(True, "refused: " + what)
    good = ("# HELP a Some \\\\ help\\n\n# TYPE a counter\na{x=\"\\\"\\n\\\\\",} 1.5e3 1700000000000\n"
            "# just a comment\n\nb NaN\nc +Inf\n")
    try:
        fam = prom_parse.parse(good)
        check(fam["a"].help == "Some \\ help\n" and v(fam, "a", {"x": '"\n\\'}) == 1500,
              "accepts escapes, trailing comma, timestamps, NaN, +Inf")
    except prom_parse.PromError as e:
        check(False, "accepts valid text: %s" % e)

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
