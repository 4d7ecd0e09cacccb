#!/bin/sh
# SPDX-License-Identifier: MIT
# The full test suite: builds the release, asan (ASan+UBSan) and fuzz presets
# and runs every ctest test in each (unit, integration, fuzz smoke runs), then
# the unit tests once under valgrind. Exits non-zero on the first failure.
#   tests/run.sh              everything
#   tests/run.sh PRESET...    only these presets (release asan fuzz valgrind)
set -eu
cd "$(dirname "$0")/.."

presets=${*:-release asan fuzz valgrind}
jobs=$(nproc)

for p in $presets; do
    case "$p" in
    release | asan | fuzz | debug)
        echo "=== preset $p: configure, build, test"
        cmake --preset "$p" >/dev/null
        cmake --build --preset "$p" -j "$jobs"
        ctest --preset "$p"
        ;;
    valgrind)
        echo "=== unit tests under valgrind (release build)"
        cmake --preset release >/dev/null
        cmake --build --preset release -j "$jobs"
        # The engine simulation runs 100 seeds here instead of 2000 (valgrind is ~50x slower).
        ELECTION_SIM_SEEDS=100 ctest --test-dir build/release -L unit -T memcheck --output-on-failure -j "$jobs"
        ;;
    *)
        echo "run.sh: unknown preset '$p' (release asan fuzz valgrind debug)" >&2
        exit 64
        ;;
    esac
done
