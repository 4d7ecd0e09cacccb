# SPDX-License-Identifier: MIT
"""Multi-daemon failover harness (Python standard library only).

    from harness import Cluster
    with Cluster(daemon, probe, pods=3) as c: ...

See cluster.py (processes, faults, the API) and monitor.py (probe and WATCH
observers, the overlap and term checks)."""
from .cluster import FAST, KUBECTL, Cluster, Handoff, Pod, free_port, parse_duration  # noqa: F401
from . import monitor, sockclient  # noqa: F401
