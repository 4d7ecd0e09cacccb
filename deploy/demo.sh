#!/bin/sh
# SPDX-License-Identifier: MIT
# The local demo (the README's first command): sets up and builds with
# deploy/setup.sh (idempotent: installs only missing Debian packages, builds
# build/release incrementally), then runs deploy/demo.py from build/release:
# a Kubernetes API test server and three leader-elector daemons as pods
# pod-a, pod-b and pod-c; each pod's probe answer and who leads; SIGTERM of
# the leader (measured handoff), SIGKILL of the next one (measured failover).
# Everything it starts is stopped and removed at the end, also on Ctrl-C.
#   deploy/demo.sh                      lease 10s, renew deadline 7s, retry 2s
#   deploy/demo.sh --lease-duration 15s --renew-deadline 10s --retry-period 2s
#   deploy/demo.sh --no-setup           skip deploy/setup.sh (already built)
set -eu
cd "$(dirname "$0")/.."

setup=1
for arg in "$@"; do
    case "$arg" in
    --no-setup) setup=0 ;;
    -h | --help)
        sed -n '2,13s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
    esac
done

if [ "$setup" -eq 1 ]; then
    deploy/setup.sh
fi

python=/usr/bin/python3
[ -x "$python" ] || python=python3
daemon=build/release/daemon/leader-elector
probe=build/release/probe/leader-probe
for f in "$daemon" "$probe"; do
    if [ ! -x "$f" ]; then
        echo "demo.sh: $f is missing: run deploy/setup.sh first" >&2
        exit 1
    fi
done

# Pass every argument but ours to the demo.
n=$#
while [ "$n" -gt 0 ]; do
    a=$1
    shift
    [ "$a" = "--no-setup" ] || set -- "$@" "$a"
    n=$((n - 1))
done
exec "$python" deploy/demo.py --daemon "$daemon" --probe "$probe" "$@"
