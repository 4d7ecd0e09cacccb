#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs every build and test dependency from Debian 12 packages, then
# configures and builds the release preset. Idempotent: packages already
# present are not touched, and the build is incremental.
#   deploy/setup.sh            install what is missing and build build/release
#   deploy/setup.sh --no-build install only
set -eu

PACKAGES="build-essential cmake pkg-config clang-14 libclang-rt-14-dev \
libcurl4-openssl-dev libsystemd-dev libjsmn-dev libmicrohttpd-dev libyaml-dev musl-tools \
python3 openssl ca-certificates curl socat hyperfine valgrind file procps iproute2 \
nghttp2-proxy clang-format-14"

build=1
for arg in "$@"; do
    case "$arg" in
    --no-build) build=0 ;;
    -h | --help)
        sed -n '2,7s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
    *)
        echo "setup.sh: unknown argument '$arg' (try --help)" >&2
        exit 64
        ;;
    esac
done

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    echo "setup.sh: installing:$missing"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || {
            echo "setup.sh: not root and no sudo: install as root:$missing" >&2
            exit 1
        }
        SUDO=sudo
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
    # nghttp2-proxy ships an nghttpx service (127.0.0.1:3000) that Debian enables and starts;
    # the tests run their own nghttpx on free ports and want no service left behind.
    case " $missing " in
    *" nghttp2-proxy "*)
        if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
            $SUDO systemctl disable --now nghttpx.service >/dev/null 2>&1 || true
        fi
        ;;
    esac
else
    echo "setup.sh: all Debian packages present"
fi

if [ "$build" -eq 1 ]; then
    cd "$(dirname "$0")/.."
    cmake --preset release >/dev/null
    cmake --build --preset release -j "$(nproc)"
fi
