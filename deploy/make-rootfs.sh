#!/bin/sh
# SPDX-License-Identifier: MIT
# Assembles the root filesystem of the runtime image: the daemon, the shared
# libraries it loads (the closure ldd resolves, with the dynamic loader), the
# static probe and leader-run, the CA bundle, the OpenSSL configuration, a minimal /etc with
# the non-root user 65532, /tmp and the socket directory. Nothing else: no
# shell, no package manager. deploy/Dockerfile copies OUTDIR into a FROM
# scratch image; tests/integration/test_deploy_rootfs.py runs the binaries from it under
# chroot against the test API server.
#   deploy/make-rootfs.sh OUTDIR [BUILD_DIR]
#       OUTDIR must not exist or be empty; BUILD_DIR defaults to build/release
#       and holds daemon/leader-elector, probe/leader-probe and probe/leader-run.
#   deploy/make-rootfs.sh --probe-only OUTDIR [BUILD_DIR]
#       only the static probe, leader-run and /etc (no daemon, no libraries).
#
# Name resolution: glibc 2.34+ has the "files" and "dns" NSS modules built
# into libc.so.6, so no libnss_*.so is needed. In a pod the daemon reaches the
# API server at $KUBERNETES_SERVICE_HOST, an IP address: nothing is resolved.
# A --server URL with a host name is resolved through /etc/hosts and
# /etc/resolv.conf, which the container runtime (the kubelet) provides;
# /etc/nsswitch.conf here says "hosts: files dns".
set -eu

prog=$(basename "$0")
die() {
    echo "$prog: $*" >&2
    exit 1
}

probe_only=0
case "${1-}" in
--probe-only)
    probe_only=1
    shift
    ;;
-h | --help)
    sed -n '3,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//p}' "$0"
    exit 0
    ;;
-*)
    echo "$prog: unknown option '$1' (try --help)" >&2
    exit 64
    ;;
esac
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $prog [--probe-only] OUTDIR [BUILD_DIR] (try --help)" >&2
    exit 64
fi

src=$(cd "$(dirname "$0")/.." && pwd)
out=$1
build=${2:-$src/build/release}
daemon=$build/daemon/leader-elector
probe=$build/probe/leader-probe
run=$build/probe/leader-run
uid=65532
gid=65532

[ -x "$probe" ] || die "$probe not found: build first (deploy/setup.sh)"
[ -x "$run" ] || die "$run not found: build first (deploy/setup.sh)"
if [ "$probe_only" -eq 0 ]; then
    [ -x "$daemon" ] || die "$daemon not found: build first (deploy/setup.sh)"
fi
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
    die "$out exists and is not empty"
fi
command -v ldd >/dev/null || die "ldd not found (Debian package libc-bin)"

# The probe and leader-run must run without a loader: a scratch image has none.
for static in "$probe" "$run"; do
    if command -v readelf >/dev/null; then
        if readelf -lW "$static" | grep -q 'program interpreter'; then
            die "$static has a program interpreter: it must be linked -static (not -static-pie)"
        fi
    elif ldd "$static" >/dev/null 2>&1; then
        die "$static is dynamically linked: it must be linked -static"
    fi
done

umask 022
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ "$out" != / ] || die "refusing to assemble into /"
mkdir -p "$out/usr/bin" "$out/etc/ssl/certs" "$out/tmp" "$out/run/leader-election" \
    "$out/var" "$out/proc" "$out/sys" "$out/dev"
chmod 1777 "$out/tmp"
# The default socket directory, writable by the daemon's user when the image
# runs without a volume there (in a pod an emptyDir is mounted over it).
ln -s ../run "$out/var/run"

# copy FILE DEST: the file's content (symlinks followed) at DEST in the tree.
copy() {
    mkdir -p "$out$(dirname "$2")"
    cp -L "$1" "$out$2"
}

copy "$probe" /usr/bin/leader-probe
chmod 0755 "$out/usr/bin/leader-probe"
copy "$run" /usr/bin/leader-run
chmod 0755 "$out/usr/bin/leader-run"

if [ "$probe_only" -eq 0 ]; then
    copy "$daemon" /usr/bin/leader-elector
    chmod 0755 "$out/usr/bin/leader-elector"

    # Every library the loader resolves, at the path it resolved it to (the
    # loader searches those same system directories in the image), and the
    # loader itself at the path written in the binary (PT_INTERP).
    libs=$(LC_ALL=C ldd "$daemon") || die "ldd $daemon failed"
    if echo "$libs" | grep -q 'not found'; then
        echo "$libs" >&2
        die "$daemon: unresolved libraries"
    fi
    echo "$libs" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
        sort -u | while read -r lib; do
        copy "$lib" "$lib"
        chmod 0644 "$out$lib"
    done
    interp=$(readelf -lW "$daemon" 2>/dev/null |
        sed -n 's/.*program interpreter: \(.*\)\]$/\1/p')
    if [ -n "$interp" ]; then
        [ -e "$out$interp" ] || copy "$interp" "$interp"
        chmod 0755 "$out$interp"
    fi
    # glibc dlopen()s libgcc_s for thread cancellation and unwinding
    # (pthread_exit, backtrace); libcurl's resolver threads may end that way.
    # ldd cannot see a dlopen, so copy it beside libc.
    libc=$(echo "$libs" | awk '$1 ~ /^libc\.so/ { print $3 }')
    if [ -n "$libc" ] && [ -e "$(dirname "$libc")/libgcc_s.so.1" ] &&
        [ ! -e "$out$(dirname "$libc")/libgcc_s.so.1" ]; then
        copy "$(dirname "$libc")/libgcc_s.so.1" "$(dirname "$libc")/libgcc_s.so.1"
        chmod 0644 "$out$(dirname "$libc")/libgcc_s.so.1"
    fi

    # OpenSSL reads its configuration (Debian's sets the default security
    # level) from OPENSSLDIR/openssl.cnf; the same file as on the build host,
    # so TLS behaves in the image as in the tests.
    if command -v openssl >/dev/null; then
        ssldir=$(openssl version -d | sed -n 's/^OPENSSLDIR: "\(.*\)"$/\1/p')
        if [ -n "$ssldir" ] && [ -e "$ssldir/openssl.cnf" ]; then
            copy "$ssldir/openssl.cnf" /etc/ssl/openssl.cnf
            if [ "$ssldir" != /etc/ssl ]; then
                mkdir -p "$out$ssldir"
                ln -s /etc/ssl/openssl.cnf "$out$ssldir/openssl.cnf"
            fi
        fi
    fi
fi

# libcurl's default CA bundle (for a --server outside the cluster; in a pod
# the service account's ca.crt is used).
bundle=/etc/ssl/certs/ca-certificates.crt
[ -s "$bundle" ] || die "$bundle not found (Debian package ca-certificates)"
copy "$bundle" "$bundle"

cat >"$out/etc/passwd" <<EOF
root:x:0:0:root:/:/sbin/nologin
nonroot:x:$uid:$gid:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$out/etc/group" <<EOF
root:x:0:
nonroot:x:$gid:
EOF
cat >"$out/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF
chmod 0644 "$out/etc/passwd" "$out/etc/group" "$out/etc/nsswitch.conf" "$out$bundle"

if [ "$(id -u)" -eq 0 ]; then
    chown -R 0:0 "$out"
    chown "$uid:$gid" "$out/run/leader-election"
else
    echo "$prog: not root: files keep uid $(id -u); the Dockerfile runs this as root" >&2
fi

# Prove the tree is complete: run both binaries from it, the daemon with every
# symbol bound at load time (LD_BIND_NOW), as the image's user. With /proc
# mounted, as in a container, when a private mount namespace can be had (not
# inside a docker build, which lacks CAP_SYS_ADMIN; the binaries need no
# /proc for --version, a sanitizer build's runtime does).
chroot=$(command -v chroot || true)
unshare=$(command -v unshare || true)
in_tree() {
    if [ -n "$unshare" ] && "$unshare" --mount true 2>/dev/null; then
        # shellcheck disable=SC2016 # expanded by the inner shell
        env -i "$@" PATH=/usr/sbin:/usr/bin:/sbin:/bin R="$out" CHROOT="$chroot" \
            "$unshare" --mount --propagation private /bin/sh -c \
            'mount -t proc proc "$R/proc" && exec "$CHROOT" --userspec='"$uid:$gid"' "$R" "$@"' \
            sh "$bin" --version
    else
        env -i "$@" "$chroot" --userspec="$uid:$gid" "$out" "$bin" --version
    fi
}
if [ "$(id -u)" -eq 0 ] && [ -n "$chroot" ]; then
    bin=/usr/bin/leader-probe
    in_tree >/dev/null || die "leader-probe does not run from $out"
    bin=/usr/bin/leader-run
    in_tree >/dev/null || die "leader-run does not run from $out"
    if [ "$probe_only" -eq 0 ]; then
        bin=/usr/bin/leader-elector
        in_tree LD_BIND_NOW=1 >/dev/null || die "leader-elector does not run from $out"
    fi
    checked="checked under chroot"
else
    checked="not checked (needs root for chroot)"
fi

n=$(find "$out" -type f | wc -l)
size=$(du -sk "$out" | cut -f1)
echo "$prog: $out: $n files, ${size} KiB; $checked"
