#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Run a command against a fresh Kubernetes API test server.

usage: with-apiserver.py [--plain] [--host ADDR] [--watch-history N]
                         [--bookmark-interval S] [--keep] [server options] -- CMD [ARGS...]

Starts tests/server/kubeapi on a free loopback port with a per-run CA, exports
KUBEAPI_URL, KUBEAPI_CA, KUBEAPI_TOKEN_FILE, KUBEAPI_RO_TOKEN_FILE,
KUBEAPI_ADMIN_TOKEN, KUBEAPI_DIR, KUBEAPI_PID and KUBEAPI_TOKEN_FILE_1..9 to CMD,
runs it, stops the server (SIGTERM, SIGKILL after 5 s), removes the directory
and exits with CMD's status (128+N if CMD died of signal N).  Every other
option before "--" is passed to the server (python3 -m kubeapi --help).
"""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kubeapi import ApiServer, ApiServerError  # noqa: E402


def main():
    argv = sys.argv[1:]
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        sys.stderr.write(__doc__)
        return 2
    i = argv.index("--")
    opts, cmd = argv[:i], argv[i + 1:]
    plain = False
    host = "127.0.0.1"
    keep = False
    extra = []
    j = 0
    while j < len(opts):
        o = opts[j]
        if o == "--plain":
            plain = True
        elif o == "--keep":
            keep = True
        elif o == "--host" and j + 1 < len(opts):
            host = opts[j + 1]
            j += 1
        elif o.startswith("--host="):
            host = o.split("=", 1)[1]
        else:
            extra.append(o)
        j += 1
    api = ApiServer(plain=plain, host=host, extra_args=extra, keep_dir=keep)
    try:
        api.start()
    except ApiServerError as e:
        sys.stderr.write("with-apiserver: %s\n" % e)
        return 1
    child = None

    def forward(signum, frame):
        if child is not None and child.poll() is None:
            child.send_signal(signum)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, forward)
    try:
        env = dict(os.environ)
        env.update(api.env)
        try:
            child = subprocess.Popen(cmd, env=env)
        except OSError as e:
            sys.stderr.write("with-apiserver: cannot run %s: %s\n" % (cmd[0], e))
            return 127
        rc = child.wait()
        if rc != 0:
            tail = api.log_tail(30)
            if tail:
                sys.stderr.write("with-apiserver: command exited %d; server log tail:\n%s"
                                 % (rc, tail))
        if keep:
            sys.stderr.write("with-apiserver: kept %s\n" % api.dir)
        return rc if rc >= 0 else 128 - rc
    finally:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
