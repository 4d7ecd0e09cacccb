#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmarks of leader-election (figures and ratios, not a pass/fail test):
# handoff and failover times (median, max over repeated runs), API requests
# per second at 1, 3, 10 and 30 candidates (side by side, one 65 s window),
# the daemon's memory (RssAnon, VmRSS) and CPU time while leading, STATUS
# queries per second and p99 latency with 1, 64 and 512 concurrent socket
# clients. About 3 minutes.
#   tests/bench/bench-election.sh                  from build/release (built if needed)
#   tests/bench/bench-election.sh -B DIR           from another build directory
#   tests/bench/bench-election.sh ... -- --runs 3  options of tests/bench/bench_election.py
#                                                  (--runs N --window S --candidates 1,3
#                                                   --only failover,api,status --json FILE)
set -eu
cd "$(dirname "$0")/../.."

build=build/release
while [ $# -gt 0 ]; do
    case "$1" in
    -B)
        build=$2
        shift 2
        ;;
    --)
        shift
        break
        ;;
    -h | --help)
        sed -n '2,12s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
    *)
        echo "bench-election.sh: unknown argument '$1' (try --help)" >&2
        exit 64
        ;;
    esac
done

if [ ! -f "$build/CMakeCache.txt" ]; then
    if [ "$build" = build/release ]; then
        cmake --preset release >/dev/null
    else
        echo "bench-election.sh: $build is not a configured build directory" >&2
        exit 1
    fi
fi
cmake --build "$build" --target leader-elector leader-probe bench-status-load -j "$(nproc)" >/dev/null

python=/usr/bin/python3
[ -x "$python" ] || python=python3
echo "leader-election benchmarks: $(nproc) CPUs, $(uname -sr), daemon $build/daemon/leader-elector"
exec "$python" tests/bench/bench_election.py --daemon "$build/daemon/leader-elector" \
    --probe "$build/probe/leader-probe" --load "$build/tests/bench-status-load" "$@"
