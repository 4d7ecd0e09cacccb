#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Run a test command and fail if any bearer token shows up in its output.

usage: kube_token_guard.py CMD [ARGS...]   (under tests/server/with-apiserver.py)

Collects the tokens of every token file the test server exported
(KUBEAPI_TOKEN_FILE, KUBEAPI_RO_TOKEN_FILE, KUBEAPI_TOKEN_FILE_1..9) and, after
the command ran, of every file named *token* in KUBEAPI_DIR (tokens the test
wrote itself, e.g. a rotated one), plus KUBEAPI_ADMIN_TOKEN. The command's
stdout and stderr are captured, echoed, and searched for each of them.
Exits with the command's status, or 1 if a token leaked.
"""
import os
import subprocess
import sys


def tokens_from(path, found):
    try:
        if os.path.getsize(path) > 16384:
            return
        with open(path, "rb") as f:
            tok = f.read().strip()
    except OSError:
        return
    if len(tok) >= 8:
        found.add(tok)


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    found = set()
    names = ["KUBEAPI_TOKEN_FILE", "KUBEAPI_RO_TOKEN_FILE"] + \
        ["KUBEAPI_TOKEN_FILE_%d" % i for i in range(1, 10)]
    for n in names:
        if os.environ.get(n):
            tokens_from(os.environ[n], found)
    proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=600)
    out = proc.stdout
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    d = os.environ.get("KUBEAPI_DIR")
    if d and os.path.isdir(d):
        for name in os.listdir(d):
            if "token" in name and not name.endswith(".json"):
                tokens_from(os.path.join(d, name), found)
    admin = os.environ.get("KUBEAPI_ADMIN_TOKEN", "").encode()
    if len(admin) >= 8:
        found.add(admin)
    leaked = [t for t in found if t in out]
    if leaked:
        sys.stderr.write("kube_token_guard: %d token(s) appear in the output\n" % len(leaked))
        return 1
    sys.stderr.write("kube_token_guard: %d tokens checked, none in %d bytes of output\n"
                     % (len(found), len(out)))
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
