# SPDX-License-Identifier: MIT
"""A small client of the daemon's socket protocol (proto/PROTOCOL.md, v1):
one request line, one JSON reply line (WATCH: a stream of them)."""

import json
import socket
import time


class ProtoError(RuntimeError):
    pass


def _connect(path, timeout):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except OSError:
        s.close()
        raise
    return s


def _read_line(s, limit=4096):
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(limit)
        if not chunk:
            raise ProtoError("connection closed before a reply line (%r)" % buf[:200])
        buf += chunk
        if len(buf) > limit:
            raise ProtoError("reply longer than %d bytes" % limit)
    line = buf.split(b"\n", 1)[0]
    try:
        msg = json.loads(line)
    except ValueError as e:
        raise ProtoError("reply is not JSON: %s: %r" % (e, line[:200]))
    if not isinstance(msg, dict) or msg.get("proto") != 1:
        raise ProtoError("not a protocol v1 reply: %r" % line[:200])
    return msg


def request(path, verb, timeout=2.0):
    """Sends one request line and returns the parsed reply (a dict)."""
    s = _connect(path, timeout)
    try:
        s.sendall(verb.encode() + b"\n")
        return _read_line(s)
    finally:
        s.close()


def status(path, timeout=2.0):
    return request(path, "STATUS", timeout)


def resign(path, timeout=5.0):
    return request(path, "RESIGN", timeout)


def wait_socket(path, timeout):
    """Waits until a daemon answers STATUS on path; returns its reply or raises."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            return status(path, timeout=1.0)
        except (OSError, ProtoError) as e:
            last = e
        time.sleep(0.02)
    raise ProtoError("no daemon answers on %s within %.1fs: %s" % (path, timeout, last))
