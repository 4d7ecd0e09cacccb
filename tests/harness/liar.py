#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A deliberately unsafe stand-in for leader-elector: it ignores the API and
always says "leader" on its socket (STATUS, WATCH).  Only for the harness's
own tests: two of these must make Cluster.verify() fail."""

import json
import os
import signal
import socket
import sys
import threading
import time


def main():
    args = sys.argv[1:]
    opt = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("--")}
    path, ident = opt["--socket"], opt["--id"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(64)
    signal.signal(signal.SIGTERM, lambda *a: (os.unlink(path), os._exit(0)))

    def line():
        return (json.dumps({
            "proto": 1, "type": "status", "namespace": opt.get("--namespace", "default"),
            "election": opt.get("--election", "x"), "identity": ident, "hostname": "liar",
            "leader": ident, "is_leader": True, "term": 1, "since": "", "valid_ms": 1000,
            "state": "leading",
            "boottime_ms": int(time.clock_gettime(time.CLOCK_BOOTTIME) * 1000)}) + "\n").encode()

    def serve(c):
        try:
            req = c.recv(256).strip().upper()
            if req == b"WATCH":
                while True:
                    c.sendall(line())
                    time.sleep(0.2)
            c.sendall(line())
        except OSError:
            pass
        finally:
            c.close()

    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
