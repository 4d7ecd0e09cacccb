# SPDX-License-Identifier: MIT
"""The Kubernetes API test server (Python standard library only).

Use from Python tests:  from kubeapi import ApiServer, lease
Run stand-alone:        python3 -m kubeapi --help (tests/server/with-apiserver.py wraps it)
"""
from .harness import ApiServer, ApiServerError, WatchStream, lease, make_certs  # noqa: F401
