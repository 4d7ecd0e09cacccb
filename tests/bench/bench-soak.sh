#!/bin/sh
# SPDX-License-Identifier: MIT
# Soak benchmark of leader-elector (figures and a verdict, not a pass/fail
# test): five daemons against the Kubernetes API test server under the random
# fault mix of tests/integration/test_failover_chaos.py for an hour (two of them never
# killed nor restarted), each daemon sampled every 10 s: RssAnon and VmRSS,
# open descriptors, CPU time. Prints, per long-lived daemon, the figures at the
# start (after a warm-up) and the end, their growth per hour and CPU seconds
# per hour, the chaos test's safety checks, and a verdict line (goal: flat).
#   tests/bench/bench-soak.sh                        1 h, from build/release (built if needed)
#   tests/bench/bench-soak.sh --duration 10m         a shorter run
#   tests/bench/bench-soak.sh -B DIR ...             from another build directory
#   tests/bench/bench-soak.sh ... --sample 5 --warmup 2m --keep 2 --probe-hz 10 --seed N --json FILE
#                                              (options of tests/bench/bench_soak.py)
# On a shared machine: nice -n 19 tests/bench/bench-soak.sh
set -eu
cd "$(dirname "$0")/../.."

build=build/release
if [ "${1:-}" = -B ]; then
    build=$2
    shift 2
fi
case "${1:-}" in
-h | --help)
    sed -n '3,16s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
esac

if [ ! -f "$build/CMakeCache.txt" ]; then
    if [ "$build" = build/release ]; then
        cmake --preset release >/dev/null
    else
        echo "bench-soak.sh: $build is not a configured build directory" >&2
        exit 1
    fi
fi
cmake --build "$build" --target leader-elector leader-probe -j "$(nproc)" >/dev/null

python=/usr/bin/python3
[ -x "$python" ] || python=python3
echo "leader-election soak: $(nproc) CPUs, $(uname -sr), nice $(nice), daemon $build/daemon/leader-elector"
exec "$python" tests/bench/bench_soak.py --daemon "$build/daemon/leader-elector" \
    --probe "$build/probe/leader-probe" "$@"
