#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark of leader-probe (a script, not a ctest test): with hyperfine, in
# one run and side by side,
#   1. a static no-op program (musl-gcc -static, built here),
#   2. leader-probe against a live server answering "leader": the daemon's own
#      socket server (daemon/sock_server on sd-event, via fake-proto-server
#      --mode served; SERVER_MODE=leader uses the plain scripted server),
#   (and, for the split, leader-probe --version: the same process without the
#   round trip to the server)
#   3. the probe it replaces: sh -c 'curl -s http://localhost:PORT/ | grep -q "$HOSTNAME"'
#      against a local HTTP server (Python standard library) serving
#      {"name":"<hostname>"}.
# Prints wall-time means and ratios (probe to no-op, curl pipeline to probe), CPU
# (user+sys) ratios, and the probe's size and peak RSS (VmHWM).
# Targets: probe within 1.5x of the no-op; curl pipeline >= 20x the probe.
#
#   tests/bench/bench-probe.sh [BUILD_DIR]   (default: build/release)
#   RUNS=500 tests/bench/bench-probe.sh      (default 300 runs per command and round)
#   ROUNDS=5 tests/bench/bench-probe.sh      (default 3 rounds: on a busy machine the
#                                             median of the rounds' ratios is steadier)
#   SERVER_MODE=leader tests/bench/bench-probe.sh
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build/release}
case "$build" in /*) ;; *) build=$(pwd)/$build ;; esac
runs=${RUNS:-300}
rounds=${ROUNDS:-3}
python=/usr/bin/python3
[ -x "$python" ] || python=python3

probe=$build/probe/leader-probe
server=$build/tests/fake-proto-server
vmhwm=$build/tests/probe-vmhwm
for f in "$probe" "$server"; do
    if [ ! -x "$f" ]; then
        echo "bench-probe: $f not found: build first (cmake --preset release && cmake --build build/release)" >&2
        exit 64
    fi
done
for t in hyperfine musl-gcc curl; do
    command -v "$t" >/dev/null 2>&1 || { echo "bench-probe: $t is missing (deploy/setup.sh installs it)" >&2; exit 64; }
done

tmp=$(mktemp -d)
server_pid=""
http_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    [ -n "$http_pid" ] && kill "$http_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# 1. The static no-op.
printf 'int main(void) { return 0; }\n' > "$tmp/noop.c"
musl-gcc -static -Os -s -o "$tmp/noop" "$tmp/noop.c"

# 2. The socket server answering "leader" for this host.
sock=$tmp/leader.sock
"$server" --socket "$sock" --mode "${SERVER_MODE:-served}" > "$tmp/server.out" &
server_pid=$!
i=0
until grep -q READY "$tmp/server.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -le 100 ] || { echo "bench-probe: fake-proto-server did not start" >&2; exit 1; }
    sleep 0.05
done
"$probe" --socket "$sock" || { echo "bench-probe: the probe does not say leader" >&2; exit 1; }

# 3. The old sidecar's HTTP answer, on a free loopback port.
host=$(uname -n)
"$python" - "$host" > "$tmp/http.port" <<'EOF' &
import http.server, json, sys
body = json.dumps({"name": sys.argv[1]}).encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
http_pid=$!
i=0
until [ -s "$tmp/http.port" ]; do
    i=$((i + 1)); [ $i -le 100 ] || { echo "bench-probe: HTTP server did not start" >&2; exit 1; }
    sleep 0.05
done
port=$(cat "$tmp/http.port")
curl_cmd="sh -c 'curl -s http://localhost:$port/ | grep -q \"\$HOSTNAME\"'"
HOSTNAME=$host sh -c "curl -s http://localhost:$port/ | grep -q \"\$HOSTNAME\"" ||
    { echo "bench-probe: the curl pipeline does not match" >&2; exit 1; }

r=1
while [ $r -le "$rounds" ]; do
    echo "== round $r/$rounds, hyperfine: $runs runs each (no shell in between; the pipeline starts its own sh)"
    HOSTNAME=$host hyperfine -N --warmup 20 --runs "$runs" --export-json "$tmp/result.$r.json" \
        -n no-op "$tmp/noop" \
        -n leader-probe "$probe --socket $sock" \
        -n probe-no-ipc "$probe --version" \
        -n curl-pipeline "$curl_cmd"
    r=$((r + 1))
done

size=$(stat -c %s "$probe")
hwm="n/a"
if [ -x "$vmhwm" ]; then
    hwm=$("$vmhwm" 1024 "$probe" --socket "$sock" | sed -n 's/^VmHWM=\([0-9]*\) kB.*/\1 KiB/p')
fi

"$python" - "$size" "$hwm" "$tmp"/result.*.json <<'EOF'
import json, statistics, sys
size, hwm, files = sys.argv[1], sys.argv[2], sys.argv[3:]
def ms(x): return "%.3f ms" % (x * 1000)
def cpu(r): return r["user"] + r["system"]
rows = []
for n, f in enumerate(files, 1):
    res = {r["command"]: r for r in json.load(open(f))["results"]}
    noop, probe, curl = res["no-op"], res["leader-probe"], res["curl-pipeline"]
    noipc = res["probe-no-ipc"]
    print()
    print("round %-9d %12s %12s %12s %12s" % (n, "wall mean", "wall median", "wall min", "user+sys"))
    for name, r in (("no-op", noop), ("leader-probe", probe), ("probe-no-ipc", noipc),
                     ("curl-pipeline", curl)):
        print("  %-13s %12s %12s %12s %12s" % (name, ms(r["mean"]), ms(r["median"]), ms(r["min"]),
                                             ms(cpu(r))))
    rows.append({
        "wall probe/no-op (mean)": probe["mean"] / noop["mean"],
        "wall probe/no-op (median)": probe["median"] / noop["median"],
        "wall probe/no-op (min)": probe["min"] / noop["min"],
        "wall curl/probe (mean)": curl["mean"] / probe["mean"],
        "wall curl/probe (median)": curl["median"] / probe["median"],
        "wall curl/probe (min)": curl["min"] / probe["min"],
        "cpu probe/no-op": cpu(probe) / cpu(noop) if cpu(noop) > 0 else float("nan"),
        "cpu curl/probe": cpu(curl) / cpu(probe) if cpu(probe) > 0 else float("nan"),
    })
targets = {"wall probe/no-op (mean)": ("<=", 1.5), "wall probe/no-op (median)": ("<=", 1.5),
           "wall curl/probe (mean)": (">=", 20), "wall curl/probe (median)": (">=", 20),
           "cpu curl/probe": (">=", 20)}
print()
print("ratios per round, then their median over %d round(s):" % len(rows))
for key in rows[0]:
    vals = [r[key] for r in rows]
    med = statistics.median(vals)
    verdict = ""
    if key in targets:
        op, t = targets[key]
        ok = med <= t if op == "<=" else med >= t
        verdict = "(target %s %gx) %s" % (op, t, "ok" if ok else "MISSED")
    print("  %-26s %s  -> %6.2fx %s" % (key, " ".join("%6.2fx" % v for v in vals), med, verdict))
print("  (on a shared machine the means carry other processes' load; medians and minima")
print("   show the programs' own cost. The probe's time includes the server's answer.)")
print("probe size               %s bytes (limit 65536)" % size)
print("probe peak RSS (VmHWM)   %s (limit 1024 KiB)" % hwm)
EOF
