#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Renders one kustomization of deploy/ with `kubectl kustomize` and checks
what must hold in the rendered objects.

    test_deploy_manifests.py --source-dir DIR [--kubectl PATH] TARGET
    test_deploy_manifests.py --source-dir DIR --sources

    test_deploy_manifests.py --source-dir DIR [--kubectl PATH] --mutations
    test_deploy_manifests.py --source-dir DIR [--kubectl PATH] --flags-of DAEMON

TARGET is a directory under deploy/ holding a kustomization.yaml (a
Kustomization, or a Component, which is rendered on top of deploy/base
through a temporary kustomization). --sources checks the manifests as
written (image placeholders, no registry host).

The rendered YAML is turned into JSON by kubectl itself
(`kubectl label --local -o json`, which needs no cluster), so no YAML
parser is needed here. Exit 0 when every check passes, 1 with one line per
failed check, 77 (ctest SKIP_RETURN_CODE) when kubectl is absent.

What is checked, per rendered kustomization:
- RBAC: no ClusterRole/ClusterRoleBinding, no wildcard, no nonResourceURLs;
  every rule is one of the rights of the base or a component (Leases
  get/watch/update by name + create; Events create/patch; EndpointSlices
  get/update by name, create only through the opt-in
  components/endpointslice-create; Endpoints get/watch/update by name +
  create), the named rules name exactly the election, and an optional right
  is granted only when a daemon of the kustomization uses that mode. The
  RoleBinding binds the Role to the pods' ServiceAccount.
- EndpointSlices: without the create opt-in, every daemon in EndpointSlice
  mode has its slice shipped (named after the election, in its namespace);
  a shipped slice carries the labels the daemon writes
  (kubernetes.io/service-name = its --endpointslice Service, managed-by =
  ENDPOINTSLICE_MANAGED_BY of daemon/endpointslice_codec.h), an addressType,
  and no endpoints (the leader's to write: declared, every apply would empty
  the slice).
- The sidecar: a native sidecar (restartPolicy: Always) or the first regular
  container; POD_NAME/POD_NAMESPACE/POD_IP from the downward API (and
  POD_UID, NODE_NAME, when set, from metadata.uid, spec.nodeName); its socket
  and --install-probe path on a writable emptyDir; resources set.
- Every exec of leader-probe (probe or command) runs a path on the emptyDir
  mounted in that container, the file the daemon installs (or the image's own
  /usr/bin/leader-probe in the sidecar), and asks the socket the daemon
  serves. A livenessProbe that runs it passes --alive (without it, every
  follower would be restarted).
- The sidecar's livenessProbe is no httpGet, tcpSocket or grpc check: any pod
  can hold the connections of a port (the HTTP listener takes 16 per address,
  64 in all) and so get a healthy sidecar restarted; it runs
  `leader-probe --alive` on the pod-private socket instead, and a sidecar
  that opens a port (--http, --metrics-addr) has that livenessProbe.
- --metrics-addr: its port is among the sidecar's ports, and no container's
  livenessProbe uses it (by number or name).
- API credentials only in the sidecar: the pod's automount is off when
  there is an application container, and the projected token (token and
  ca.crt) is mounted in the sidecar alone.
- Every container: runAsNonRoot, readOnlyRootFilesystem,
  allowPrivilegeEscalation false, capabilities drop ALL (none added),
  seccomp RuntimeDefault, not privileged.
- The restricted Pod Security Standard: every Namespace shipped enforces it
  (label pod-security.kubernetes.io/enforce: restricted), and the pods meet
  it (the container settings above; no host namespaces, host ports,
  hostPath or other volume types beyond the restricted list, sysctls,
  non-default procMount, or capabilities added).
- A warm standby (a routing mode, two or more replicas) spreads its pods over
  nodes: a topologySpreadConstraint (maxSkew 1, topologyKey
  kubernetes.io/hostname) or a podAntiAffinity on kubernetes.io/hostname,
  selecting the pods.
- terminationGracePeriodSeconds covers the release (renew deadline + 5 s).
- Routing mode vs. rollout: readiness mode (a readinessProbe execs
  leader-probe) needs Recreate or maxUnavailable 100% and no
  PodDisruptionBudget, and a Service selecting the pods; EndpointSlice mode
  needs no leader-probe readiness, a selector-less Service with the named
  ports, a rollout that keeps pods available, and NODE_NAME from spec.nodeName
  (the endpoint's nodeName: without it kube-proxy drops the traffic of a
  Service with a Local traffic policy).
- Images: tagged by the kustomization's `images:`, no registry host.
"""
import argparse
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
SOCKET_DEFAULT = "/var/run/leader-election/leader.sock"
IMAGE_PROBE = "/usr/bin/leader-probe"
DAEMON_IMAGE = "leader-elector"
PLACEHOLDERS = {"leader-elector", "example-app"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

# (apiGroup, resource) -> (verbs allowed on the named object, verbs allowed
# without a name, the component/mode that grants it or None for the base)
RIGHTS = {
    ("coordination.k8s.io", "leases"): ({"get", "watch", "update"}, {"create"}, None),
    ("", "events"): (set(), {"create", "patch"}, "events"),
    ("discovery.k8s.io", "endpointslices"): ({"get", "update"}, {"create"}, "endpointslice"),
    ("", "endpoints"): ({"get", "watch", "update"}, {"create"}, "endpoints-lock"),
}
# Unnamed rights granted by a component of their own (an opt-in), not by the
# component of the named ones: create on EndpointSlices cannot be limited by
# name, and kube-proxy routes a Service to every slice labelled with its name.
UNNAMED_MODE = {("discovery.k8s.io", "endpointslices"): "endpointslice-create"}
COMPONENTS = {m for _, _, m in RIGHTS.values() if m} | set(UNNAMED_MODE.values())

# The label values the daemon writes into its EndpointSlice.
CODEC_H = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "daemon",
                       "endpointslice_codec.h")
LABEL_SERVICE = "kubernetes.io/service-name"
LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"


def daemon_managed_by():
    with open(CODEC_H, encoding="utf-8") as f:
        m = re.search(r'^#define\s+ENDPOINTSLICE_MANAGED_BY\s+"([^"]+)"', f.read(), re.M)
    if not m:
        raise SystemExit(f"FAIL: no ENDPOINTSLICE_MANAGED_BY in {CODEC_H}")
    return m.group(1)

failures = []


def fail(msg):
    failures.append(msg)


def render(kubectl, source_dir, target):
    """Returns the rendered objects (list of dicts) of deploy/TARGET."""
    path = os.path.join(source_dir, "deploy", target)
    with open(os.path.join(path, "kustomization.yaml"), encoding="utf-8") as f:
        is_component = re.search(r"^kind:\s*Component\s*$", f.read(), re.M) is not None
    tmp = None
    try:
        if is_component:
            # A Component cannot be built alone: put it on top of the base.
            tmp = tempfile.mkdtemp(prefix="le-deploy-")
            base = os.path.relpath(os.path.join(source_dir, "deploy", "base"), tmp)
            comp = os.path.relpath(path, tmp)
            with open(os.path.join(tmp, "kustomization.yaml"), "w", encoding="utf-8") as f:
                f.write("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                        f"resources:\n- {base}\ncomponents:\n- {comp}\n")
            path = tmp
        r = subprocess.run([kubectl, "kustomize", path], capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            raise SystemExit(f"FAIL: kubectl kustomize deploy/{target}: {r.stderr.strip()}")
        yaml_text = r.stdout
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"rendered deploy/{target}: {yaml_text.count(chr(10))} lines")
    # YAML -> JSON without a cluster: a no-op label removal, printed locally.
    env = dict(os.environ, KUBECONFIG=os.devnull)
    r = subprocess.run([kubectl, "label", "--local", "-f", "-", "-o", "json",
                        "leader-election.test/none-"], input=yaml_text, capture_output=True,
                       text=True, timeout=60, env=env)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: converting deploy/{target} to JSON: {r.stderr.strip()}")
    objs, dec, s, i = [], json.JSONDecoder(), r.stdout, 0
    while True:
        while i < len(s) and s[i].isspace():
            i += 1
        if i >= len(s):
            break
        o, i = dec.raw_decode(s, i)
        objs.extend(o["items"] if o.get("kind") == "List" else [o])
    n_docs = len([d for d in re.split(r"^---$", yaml_text, flags=re.M) if d.strip()])
    if len(objs) != n_docs:
        raise SystemExit(f"FAIL: {len(objs)} JSON objects for {n_docs} YAML documents")
    return objs


def parse_args(argv):
    """Returns {flag: [values]} of a command line (--f=v, --f v, --bool)."""
    out, i = {}, 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            if "=" in a:
                k, v = a[2:].split("=", 1)
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                k, v = a[2:], argv[i + 1]
                i += 1
            else:
                k, v = a[2:], ""
            out.setdefault(k, []).append(v)
        i += 1
    return out


def duration_s(text):
    """Go duration or plain seconds -> seconds."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    total, units = 0.0, {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text):
        total += float(num) * units[unit]
    return total


def image_has_registry_host(image):
    first = image.split("/", 1)[0]
    return "/" in image and ("." in first or ":" in first or first == "localhost")


def env_value(c, name):
    for e in c.get("env", []):
        if e["name"] == name:
            return e
    return None


def mount_of(c, volumes, path):
    """The (volume, relative path, mount) holding path in container c, longest mount first."""
    best = None
    for m in c.get("volumeMounts", []):
        mp = m["mountPath"].rstrip("/")
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best[2]["mountPath"].rstrip("/")):
                best = (volumes.get(m["name"]), posixpath.relpath(path, mp), m)
    return best


def probe_execs(c):
    """(where, argv) of every exec of leader-probe in container c."""
    out = []
    for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
        cmd = c.get(kind, {}).get("exec", {}).get("command")
        if cmd and posixpath.basename(cmd[0]) == "leader-probe":
            out.append((kind, cmd))
    for hook in ("postStart", "preStop"):
        cmd = c.get("lifecycle", {}).get(hook, {}).get("exec", {}).get("command")
        if cmd and posixpath.basename(cmd[0]) == "leader-probe":
            out.append((hook, cmd))
    cmd = c.get("command")
    if cmd and posixpath.basename(cmd[0]) == "leader-probe":
        out.append(("command", cmd))
    return out


def check_security(where, c, pod_sc):
    sc = c.get("securityContext", {})

    def eff(key):
        return sc.get(key, pod_sc.get(key))

    if eff("runAsNonRoot") is not True:
        fail(f"{where}: runAsNonRoot is not true")
    if eff("runAsUser") == 0:
        fail(f"{where}: runAsUser 0")
    if sc.get("readOnlyRootFilesystem") is not True:
        fail(f"{where}: readOnlyRootFilesystem is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        fail(f"{where}: allowPrivilegeEscalation is not false")
    if sc.get("privileged"):
        fail(f"{where}: privileged")
    caps = sc.get("capabilities", {})
    if "ALL" not in caps.get("drop", []):
        fail(f"{where}: capabilities do not drop ALL")
    if caps.get("add"):
        fail(f"{where}: capabilities added: {caps['add']}")
    if (eff("seccompProfile") or {}).get("type") != "RuntimeDefault":
        fail(f"{where}: seccompProfile is not RuntimeDefault")


# Volume types the restricted Pod Security Standard allows.
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret"}
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"


def check_pod_security(where0, spec, containers):
    for k in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(k) is True:
            fail(f"{where0}: {k}: the restricted Pod Security Standard forbids it")
    if spec.get("securityContext", {}).get("sysctls"):
        fail(f"{where0}: sysctls: not allowed by the restricted Pod Security Standard")
    for v in spec.get("volumes", []):
        kinds = set(v) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            fail(f"{where0}: volume {v['name']} of type {sorted(kinds - RESTRICTED_VOLUMES)}: "
                 f"not allowed by the restricted Pod Security Standard")
    for c in containers:
        for p in c.get("ports", []):
            if p.get("hostPort"):
                fail(f"{where0} container {c['name']}: hostPort {p['hostPort']}: not allowed "
                     f"by the restricted Pod Security Standard")
        if c.get("securityContext", {}).get("procMount", "Default") != "Default":
            fail(f"{where0} container {c['name']}: procMount: not allowed by the restricted "
                 f"Pod Security Standard")


def spreads_over_nodes(spec, labels):
    for t in spec.get("topologySpreadConstraints", []):
        if t.get("topologyKey") == "kubernetes.io/hostname" and t.get("maxSkew") == 1 and \
                selects(t.get("labelSelector", {}).get("matchLabels"), labels):
            return True
    anti = spec.get("affinity", {}).get("podAntiAffinity", {})
    terms = anti.get("requiredDuringSchedulingIgnoredDuringExecution", []) + \
        [w.get("podAffinityTerm", {}) for w in
         anti.get("preferredDuringSchedulingIgnoredDuringExecution", [])]
    return any(t.get("topologyKey") == "kubernetes.io/hostname" and
               selects(t.get("labelSelector", {}).get("matchLabels"), labels) for t in terms)


def check_image(where, image):
    if image_has_registry_host(image):
        fail(f"{where}: image '{image}' names a registry host")
    name = image.split("@")[0].rsplit("/", 1)[-1]
    if ":" not in name and "@" not in image:
        fail(f"{where}: image '{image}' has no tag: not set through kustomize images:")


def resolve_int_or_percent(v, replicas, round_up):
    if isinstance(v, int):
        return v
    pct = int(v.rstrip("%"))
    x = pct * replicas / 100
    return int(-(-x // 1)) if round_up else int(x // 1)


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_workload(w, objs, report):
    kind, name = w["kind"], w["metadata"]["name"]
    ns = w["metadata"].get("namespace", "")
    tmpl = w["spec"]["template"]
    spec = tmpl["spec"]
    pod_sc = spec.get("securityContext", {})
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    inits, regulars = spec.get("initContainers", []), spec.get("containers", [])
    where0 = f"{kind}/{name}"

    for c in inits + regulars:
        check_security(f"{where0} container {c['name']}", c, pod_sc)
        check_image(f"{where0} container {c['name']}", c["image"])
    check_pod_security(where0, spec, inits + regulars)

    daemons = [(c, True) for c in inits if c["image"].split("@")[0].rsplit("/", 1)[-1]
               .split(":")[0] == DAEMON_IMAGE]
    daemons += [(c, False) for c in regulars if c["image"].split("@")[0].rsplit("/", 1)[-1]
                .split(":")[0] == DAEMON_IMAGE]
    if len(daemons) != 1:
        fail(f"{where0}: expected one leader-elector container, found {len(daemons)}")
        return None
    d, native = daemons[0]
    where = f"{where0} sidecar {d['name']}"
    args = parse_args((d.get("command") or [])[1:] + d.get("args", []))
    if native:
        if d.get("restartPolicy") != "Always":
            fail(f"{where}: an init container without restartPolicy: Always (not a sidecar)")
        report.append("native sidecar")
    else:
        if d.get("restartPolicy"):
            fail(f"{where}: restartPolicy on a regular container")
        if len(regulars) > 1 and regulars[0] is not d:
            fail(f"{where}: a regular sidecar must be the first container")
        report.append("regular container" if len(regulars) == 1 else "regular sidecar")

    election = (args.get("election") or [None])[0]
    if not election:
        fail(f"{where}: no --election")
    for var, path in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace"),
                      ("POD_IP", "status.podIP")):
        e = env_value(d, var)
        if not e or e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != path:
            fail(f"{where}: {var} not from the downward API ({path})")
    for var, path in (("POD_UID", "metadata.uid"), ("NODE_NAME", "spec.nodeName")):
        e = env_value(d, var)
        if e and e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != path:
            fail(f"{where}: {var} not from the downward API ({path})")
    res = d.get("resources", {})
    if not (res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory")
            and res.get("limits", {}).get("memory")):
        fail(f"{where}: resources need cpu+memory requests and a memory limit")

    # API credentials: the sidecar has them (the kubelet's automount or the
    # same projected volume mounted explicitly); no other container does.
    SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

    def token_mount(c):
        for m in c.get("volumeMounts", []):
            v = volumes.get(m["name"], {})
            srcs = v.get("projected", {}).get("sources", [])
            if any("serviceAccountToken" in x for x in srcs):
                return m, srcs
        return None, None

    automount = spec.get("automountServiceAccountToken", True)
    m, srcs = token_mount(d)
    if m is None and automount is False:
        fail(f"{where}: no API credentials (automountServiceAccountToken: false and no "
             f"projected token mounted)")
    if m is not None:
        paths = {x.get("serviceAccountToken", {}).get("path") for x in srcs} | \
            {i.get("path") for x in srcs for i in x.get("configMap", {}).get("items", [])}
        if m["mountPath"].rstrip("/") != SA_DIR or not {"token", "ca.crt"} <= paths:
            fail(f"{where}: the projected token must give token and ca.crt at {SA_DIR}")
    for c in inits + regulars:
        if c is d:
            continue
        if automount is not False:
            fail(f"{where0} container {c['name']}: gets the election's API credentials "
                 f"(set automountServiceAccountToken: false, mount the token in the sidecar)")
        if token_mount(c)[0] is not None:
            fail(f"{where0} container {c['name']}: mounts a service-account token")

    def socket_of(c, argv):
        a = parse_args(argv)
        if "socket" in a:
            return a["socket"][-1]
        e = env_value(c, "LEADER_ELECTION_SOCKET")
        return e["value"] if e and "value" in e else SOCKET_DEFAULT

    def on_writable_emptydir(c, path, what):
        m = mount_of(c, volumes, path)
        if not m or not m[0] or "emptyDir" not in m[0]:
            fail(f"{where0} container {c['name']}: {what} {path} is not on an emptyDir")
            return None
        if m[2].get("readOnly"):
            fail(f"{where0} container {c['name']}: {what} {path} is on a read-only mount")
        return (m[0]["name"], m[1])

    d_socket = socket_of(d, (d.get("command") or [])[1:] + d.get("args", []))
    sock_loc = on_writable_emptydir(d, d_socket, "socket")
    installed = None
    if "install-probe" in args:
        installed = on_writable_emptydir(d, args["install-probe"][-1], "--install-probe")

    readiness_by_probe = False
    for c in inits + regulars:
        for what, argv in probe_execs(c):
            wh = f"{where0} container {c['name']} {what}"
            if c is d and argv[0] == IMAGE_PROBE:
                loc_ok = True
            else:
                m = mount_of(c, volumes, argv[0])
                loc = (m[0]["name"], m[1]) if m and m[0] and "emptyDir" in m[0] else None
                loc_ok = loc is not None and loc == installed
                if not loc_ok:
                    fail(f"{wh}: {argv[0]} is not the leader-probe the sidecar installs on "
                         f"the mounted emptyDir")
            if "--version" in argv or "--help" in argv:
                continue
            if what == "livenessProbe" and "--alive" not in argv:
                fail(f"{wh}: a livenessProbe running leader-probe without --alive restarts "
                     f"every pod that does not lead")
            p_sock = socket_of(c, argv[1:])
            m = mount_of(c, volumes, p_sock)
            if not m or not m[0] or (m[0]["name"], m[1]) != sock_loc:
                fail(f"{wh}: asks socket {p_sock}, not the socket the daemon serves "
                     f"({d_socket})")
            if what == "readinessProbe" and "--alive" not in argv:
                readiness_by_probe = True
            if loc_ok:
                report.append(f"{c['name']}.{what} -> {argv[0]}")

    # The sidecar's liveness must not depend on a port other pods can exhaust.
    for handler in ("httpGet", "tcpSocket", "grpc"):
        if handler in (d.get("livenessProbe") or {}):
            fail(f"{where}: livenessProbe {handler} on a port other pods can exhaust (16 "
                 f"connections per address, 64 in all): a healthy sidecar gets restarted; "
                 f"exec {IMAGE_PROBE} --alive on the socket instead")
    # A sidecar that opens a port has a liveness check that does not use it: leader-probe
    # --alive on the socket (the exec checks above make sure it asks the daemon's socket).
    d_live = (d.get("livenessProbe") or {}).get("exec", {}).get("command") or []
    if ("metrics-addr" in args or "http" in args) and not (
            d_live and posixpath.basename(d_live[0]) == "leader-probe" and "--alive" in d_live):
        fail(f"{where}: opens a port but has no livenessProbe running leader-probe --alive")
    # --metrics-addr: the port is declared (named, for a PodMonitor), and no container's
    # liveness uses it (the pod's containers share one network namespace: an application's
    # livenessProbe on that port would restart the application whenever other pods fill it).
    if "metrics-addr" in args:
        m_port = int(args["metrics-addr"][-1].rsplit(":", 1)[1])
        decl = [p for p in d.get("ports", []) if p.get("containerPort") == m_port]
        if not decl:
            fail(f"{where}: --metrics-addr port {m_port} is not among the sidecar's ports")
        m_names = {p.get("name") for p in decl if p.get("name")}
        for c in inits + regulars:
            lp = c.get("livenessProbe") or {}
            for handler in ("httpGet", "tcpSocket", "grpc"):
                port = (lp.get(handler) or {}).get("port")
                if port is not None and (port == m_port or port in m_names
                                         or str(port) == str(m_port)):
                    fail(f"{where0} container {c['name']}: livenessProbe {handler} on the "
                         f"metrics port {port}: any pod can fill it (16 connections per "
                         f"address, 64 in all)")
        report.append(f"metrics on :{m_port}")

    renew = duration_s(args["renew-deadline"][-1]) if "renew-deadline" in args else 10.0
    if "ttl" in args:
        renew = duration_s(args["ttl"][-1]) / 2
    grace = spec.get("terminationGracePeriodSeconds", 30)
    if grace < renew + 5:
        fail(f"{where0}: terminationGracePeriodSeconds {grace} < renew deadline {renew} s + 5 s")

    # Routing mode vs. rollout.
    labels = tmpl["metadata"].get("labels", {})
    replicas = w["spec"].get("replicas", 1)
    strategy = w["spec"].get("strategy", {})
    pdbs = [o for o in objs if o["kind"] == "PodDisruptionBudget"
            and o["metadata"].get("namespace", "") == ns
            and selects(o["spec"].get("selector", {}).get("matchLabels"), labels)]
    services = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Service"
                and o["metadata"].get("namespace", "") == ns}
    eps = (args.get("endpointslice") or [None])[-1]
    if (readiness_by_probe or eps) and replicas >= 2 and \
            not spreads_over_nodes(spec, labels):
        fail(f"{where0}: a warm standby without topologySpreadConstraints (maxSkew 1, "
             f"kubernetes.io/hostname) or podAntiAffinity: leader and standby may share a node")
    if readiness_by_probe and eps:
        fail(f"{where0}: EndpointSlice mode with a leader-probe readinessProbe: "
             f"readiness must reflect health only")
    if readiness_by_probe:
        report.append("readiness mode")
        if kind == "Deployment":
            ok = strategy.get("type") == "Recreate"
            if strategy.get("type", "RollingUpdate") == "RollingUpdate":
                mu = strategy.get("rollingUpdate", {}).get("maxUnavailable", "25%")
                ok = resolve_int_or_percent(mu, replicas, False) >= replicas and \
                    (mu == "100%" or isinstance(mu, int))
            if not ok:
                fail(f"{where0}: readiness mode needs maxUnavailable 100% (or Recreate): "
                     f"anything lower stalls the rollout")
        for p in pdbs:
            fail(f"{where0}: PodDisruptionBudget {p['metadata']['name']} in readiness mode "
                 f"blocks node drains")
        if not any(selects(s["spec"].get("selector"), labels) for s in services.values()):
            fail(f"{where0}: readiness mode but no Service selects the pods")
    elif eps:
        report.append("EndpointSlice mode")
        s = services.get(eps)
        if not s:
            fail(f"{where0}: --endpointslice {eps}: no Service {eps} in the kustomization")
        else:
            if s["spec"].get("selector"):
                fail(f"{where0}: Service {eps} has a selector: the endpoints controller "
                     f"would fight the leader's EndpointSlice")
            names = {p.get("name", "") for p in s["spec"].get("ports", [])}
            for ep in args.get("endpoint-port", []):
                if ep.split(":", 1)[0] not in names:
                    fail(f"{where0}: --endpoint-port {ep}: Service {eps} has no port of "
                         f"that name")
        if kind == "Deployment" and strategy.get("type", "RollingUpdate") == "RollingUpdate":
            mu = strategy.get("rollingUpdate", {}).get("maxUnavailable", "25%")
            if resolve_int_or_percent(mu, replicas, False) >= replicas:
                fail(f"{where0}: EndpointSlice mode: maxUnavailable {mu} takes every pod "
                     f"down at once; use a normal rolling update")
        if kind == "Deployment" and strategy.get("type") == "Recreate":
            fail(f"{where0}: EndpointSlice mode: Recreate takes every pod down at once")
        if not env_value(d, "NODE_NAME"):
            fail(f"{where}: EndpointSlice mode without NODE_NAME (downward API "
                 f"spec.nodeName): the endpoint has no nodeName, and kube-proxy drops the "
                 f"traffic of a Service with a Local traffic policy")
    else:
        report.append("no routing (HTTP/socket only)")
    return {"election": election, "args": args, "sa": spec.get("serviceAccountName", "default"),
            "ns": ns}


def check_rbac(objs, daemons, component):
    roles = [o for o in objs if o["kind"] == "Role"]
    for o in objs:
        if o["kind"] in ("ClusterRole", "ClusterRoleBinding"):
            fail(f"{o['kind']}/{o['metadata']['name']}: nothing cluster-wide is needed")
    if len(roles) != 1:
        fail(f"expected one Role, found {len(roles)}")
        return
    role = roles[0]
    elections = {d["election"] for d in daemons} or {"ELECTION"}
    used = set()
    for d in daemons:
        a = d["args"]
        if "events" in a and a["events"][-1] in ("", "true"):
            used.add("events")
        if "endpointslice" in a:
            used.add("endpointslice")
        if a.get("lock", ["leases"])[-1] in ("endpoints", "endpointsleases"):
            used.add("endpoints-lock")
    if component:
        used.add(component)
    granted = set()
    for i, rule in enumerate(role.get("rules", [])):
        where = f"Role {role['metadata']['name']} rule {i}"
        if rule.get("nonResourceURLs"):
            fail(f"{where}: nonResourceURLs")
        for field in ("apiGroups", "resources", "verbs", "resourceNames"):
            if any("*" in x for x in rule.get(field, [])):
                fail(f"{where}: wildcard in {field}")
        names = rule.get("resourceNames", [])
        if names and set(names) != elections:
            fail(f"{where}: resourceNames {names}, expected the election {sorted(elections)}")
        for g in rule.get("apiGroups", []):
            for r in rule.get("resources", []):
                if (g, r) not in RIGHTS:
                    fail(f"{where}: grants {g or 'core'}/{r}: not a right the daemon uses")
                    continue
                named, unnamed, mode = RIGHTS[(g, r)]
                allowed = named if names else unnamed
                if not names:
                    mode = UNNAMED_MODE.get((g, r), mode)
                extra = set(rule.get("verbs", [])) - allowed
                if extra:
                    fail(f"{where}: {g or 'core'}/{r} verbs {sorted(extra)} beyond "
                         f"{sorted(allowed)}{' by name' if names else ''}")
                if mode:
                    granted.add(mode)
                    if mode in UNNAMED_MODE.values():
                        if mode != component:
                            fail(f"{where}: {g or 'core'}/{r} verbs "
                                 f"{sorted(rule.get('verbs', []))} without a name: only "
                                 f"with the opt-in components/{mode}")
                    elif mode not in used:
                        fail(f"{where}: grants {g or 'core'}/{r} ({mode}) but no daemon "
                             f"uses that mode")
    for mode in used - granted:
        fail(f"Role: a daemon uses {mode} but the Role does not grant it")
    check_endpointslices(objs, daemons, "endpointslice-create" in granted)
    # Leases are always needed (base).
    lease_rules = [r for r in role.get("rules", []) if "leases" in r.get("resources", [])]
    if not any(r.get("resourceNames") for r in lease_rules) or \
            not any("create" in r.get("verbs", []) for r in lease_rules):
        fail("Role: the Lease rights of the base are missing")
    bindings = [o for o in objs if o["kind"] == "RoleBinding"]
    sas = {d["sa"] for d in daemons} or {"leader-elector"}
    for sa in sas:
        if not any(b["roleRef"]["kind"] == "Role"
                   and b["roleRef"]["name"] == role["metadata"]["name"]
                   and any(s["kind"] == "ServiceAccount" and s["name"] == sa
                           for s in b.get("subjects", [])) for b in bindings):
            fail(f"no RoleBinding binds Role {role['metadata']['name']} to ServiceAccount {sa}")
        if daemons and not any(o["kind"] == "ServiceAccount" and o["metadata"]["name"] == sa
                               for o in objs):
            fail(f"ServiceAccount {sa} is not part of the kustomization")


def check_endpointslices(objs, daemons, can_create):
    managed_by = daemon_managed_by()
    slices = {(o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in objs
              if o["kind"] == "EndpointSlice"}
    for (ns, name), o in sorted(slices.items()):
        where = f"EndpointSlice {name}"
        labels = o["metadata"].get("labels", {})
        if labels.get(LABEL_MANAGED_BY) != managed_by:
            fail(f"{where}: label {LABEL_MANAGED_BY} {labels.get(LABEL_MANAGED_BY)!r}, the "
                 f"daemon writes {managed_by!r}")
        if not labels.get(LABEL_SERVICE):
            fail(f"{where}: no label {LABEL_SERVICE}: no Service would use it")
        if o.get("addressType") not in ("IPv4", "IPv6"):
            fail(f"{where}: addressType {o.get('addressType')!r}, not IPv4 or IPv6")
        if "endpoints" in o or "ports" in o:
            fail(f"{where}: declares endpoints or ports: the leader writes them, and every "
                 f"apply would overwrite them")
        owners = [d for d in daemons if d["ns"] == ns and d["election"] == name
                  and d["args"].get("endpointslice")]
        if daemons and not owners:
            fail(f"{where}: no daemon in EndpointSlice mode has election {name}")
        for d in owners:
            svc = d["args"]["endpointslice"][-1]
            if labels.get(LABEL_SERVICE) != svc:
                fail(f"{where}: label {LABEL_SERVICE} {labels.get(LABEL_SERVICE)!r}, the "
                     f"daemon writes its --endpointslice {svc!r}")
    for d in daemons:
        if d["args"].get("endpointslice") and not can_create and \
                (d["ns"], d["election"]) not in slices:
            fail(f"election {d['election']}: EndpointSlice mode, no EndpointSlice "
                 f"{d['election']} shipped and no create right (the opt-in "
                 f"components/endpointslice-create)")


def check_target(kubectl, source_dir, target):
    objs = render(kubectl, source_dir, target)
    for o in objs:
        if o["kind"] == "Namespace" and \
                o["metadata"].get("labels", {}).get(PSA_ENFORCE) != "restricted":
            fail(f"Namespace {o['metadata']['name']}: label {PSA_ENFORCE} is not restricted")
    component = None
    if target.startswith("components/"):
        component = posixpath.basename(target.rstrip("/"))
        if component not in COMPONENTS:
            component = None
    daemons, report = [], []
    for o in objs:
        if o["kind"] in WORKLOAD_KINDS:
            r = check_workload(o, objs, report)
            if r:
                daemons.append(r)
        elif o["kind"] == "Pod":
            fail(f"Pod/{o['metadata']['name']}: ship workloads, not bare pods")
    check_rbac(objs, daemons, component)
    kinds = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objs)
    print("objects: " + ", ".join(kinds))
    if report:
        print("workload: " + "; ".join(report))


def check_sources(source_dir):
    """The manifests as written: images only through placeholders, no host."""
    deploy = os.path.join(source_dir, "deploy")
    n = 0
    for root, _, files in os.walk(deploy):
        for fn in files:
            p = os.path.join(root, fn)
            rel = os.path.relpath(p, source_dir)
            if fn.endswith((".yaml", ".yml")):
                with open(p, encoding="utf-8") as f:
                    text = f.read()
                for m in re.finditer(r"^\s*-?\s*image:\s*[\"']?([^\s\"'#]+)", text, re.M):
                    n += 1
                    if fn.startswith("kustomization"):
                        fail(f"{rel}: image: in a kustomization (use images:)")
                    elif m.group(1) not in PLACEHOLDERS:
                        fail(f"{rel}: image '{m.group(1)}' is not a placeholder "
                             f"({', '.join(sorted(PLACEHOLDERS))}) set through images:")
                for m in re.finditer(r"^\s*(?:-\s*)?newName:\s*[\"']?([^\s\"'#]+)", text, re.M):
                    if image_has_registry_host(m.group(1)):
                        fail(f"{rel}: newName '{m.group(1)}' names a registry host")
            elif fn == "Dockerfile" or fn.endswith(".Dockerfile"):
                with open(p, encoding="utf-8") as f:
                    for line in f:
                        m = re.match(r"\s*(?:FROM|ARG\s+\w*IMAGE\w*=)\s*(?:--\S+\s+)*(\S+)",
                                     line, re.I)
                        if m and image_has_registry_host(m.group(1)):
                            fail(f"{rel}: '{m.group(1)}' names a registry host")
    print(f"checked {n} image references in deploy/")


# The checks must be able to fail: each mutation breaks one rule in a copy of
# deploy/ and must be reported. (file under deploy/, old text, new text,
# target, expected words in a failure)
MUTATIONS = [
    ("examples/warm-standby-readiness/deployment.yaml", "maxUnavailable: 100%",
     "maxUnavailable: 50%", "examples/warm-standby-readiness", "stalls the rollout"),
    ("examples/warm-standby-readiness/service.yaml", "    protocol: TCP\n",
     "    protocol: TCP\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\n"
     "metadata:\n  name: x\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n"
     "      app.kubernetes.io/name: warm-standby\n",
     "examples/warm-standby-readiness", "blocks node drains"),
    ("base/role.yaml", 'verbs: ["get", "watch", "update"]',
     'verbs: ["get", "watch", "update", "list"]', "base", "beyond"),
    ("base/role.yaml", 'resources: ["leases"]\n  verbs: ["create"]',
     'resources: ["*"]\n  verbs: ["create"]', "examples/three-replicas", "wildcard"),
    ("base/rolebinding.yaml", "kind: Role\n", "kind: ClusterRole\n", "base",
     "binds Role"),
    ("examples/warm-standby-readiness/deployment.yaml",
     "- --socket\n            - /var/run/leader-election/leader.sock",
     "- --socket\n            - /tmp/leader.sock", "examples/warm-standby-readiness",
     "asks socket"),
    ("examples/warm-standby-readiness/deployment.yaml",
     "- /var/run/leader-election/leader-probe\n            - --socket",
     "- /usr/local/bin/leader-probe\n            - --socket",
     "examples/warm-standby-readiness", "is not the leader-probe"),
    ("examples/warm-standby-readiness/deployment.yaml",
     "          mountPath: /var/run/leader-election\n          readOnly: true\n",
     "          mountPath: /srv\n          readOnly: true\n",
     "examples/warm-standby-readiness-pre-1.29", "is not the leader-probe"),
    ("examples/warm-standby-readiness/deployment.yaml", "readOnlyRootFilesystem: true",
     "readOnlyRootFilesystem: false", "examples/warm-standby-readiness",
     "readOnlyRootFilesystem"),
    ("examples/warm-standby-readiness/deployment.yaml", "        restartPolicy: Always\n",
     "", "examples/warm-standby-readiness", "not a sidecar"),
    ("examples/warm-standby-readiness/deployment.yaml", "terminationGracePeriodSeconds: 30",
     "terminationGracePeriodSeconds: 5", "examples/warm-standby-readiness",
     "terminationGracePeriodSeconds"),
    ("examples/warm-standby-readiness/deployment.yaml", "fieldPath: status.podIP",
     "fieldPath: status.hostIP", "examples/warm-standby-readiness", "downward API"),
    ("examples/warm-standby-endpointslice/deployment.yaml", "maxUnavailable: 0",
     "maxUnavailable: 100%", "examples/warm-standby-endpointslice", "down at once"),
    ("examples/warm-standby-endpointslice/service.yaml", "spec:\n",
     "spec:\n  selector:\n    app.kubernetes.io/name: warm-standby\n",
     "examples/warm-standby-endpointslice", "has a selector"),
    ("examples/warm-standby-endpointslice/deployment.yaml",
     "        readinessProbe:\n          httpGet:\n            path: /health\n"
     "            port: http\n",
     "        readinessProbe:\n          exec:\n            command:\n"
     "            - /var/run/leader-election/leader-probe\n",
     "examples/warm-standby-endpointslice", "readiness must reflect health only"),
    ("examples/warm-standby-endpointslice/kustomization.yaml",
     "components:\n- ../../components/endpointslice\n", "",
     "examples/warm-standby-endpointslice", "does not grant it"),
    ("examples/warm-standby-endpointslice/deployment.yaml",
     "        - name: NODE_NAME\n          valueFrom:\n            fieldRef:\n"
     "              fieldPath: spec.nodeName\n", "",
     "examples/warm-standby-endpointslice", "without NODE_NAME"),
    ("examples/warm-standby-endpointslice/deployment.yaml", "fieldPath: spec.nodeName",
     "fieldPath: status.hostIP", "examples/warm-standby-endpointslice",
     "NODE_NAME not from the downward API"),
    ("components/endpointslice/kustomization.yaml", 'verbs: ["get", "update"]',
     'verbs: ["get", "update"]\n    - op: add\n      path: /rules/-\n      value:\n'
     '        apiGroups: ["discovery.k8s.io"]\n        resources: ["endpointslices"]\n'
     '        verbs: ["create"]',
     "examples/warm-standby-endpointslice", "only with the opt-in"),
    ("components/endpointslice/kustomization.yaml", 'verbs: ["get", "update"]',
     'verbs: ["get", "update", "patch"]', "components/endpointslice", "beyond"),
    ("components/endpointslice/kustomization.yaml", "resources:\n- endpointslice.yaml\n", "",
     "examples/warm-standby-endpointslice", "no EndpointSlice warm-standby shipped"),
    ("components/endpointslice/endpointslice.yaml",
     "managed-by: leader-elector.leader-election", "managed-by: leader-elector",
     "examples/warm-standby-endpointslice-pre-1.29", "the daemon writes"),
    ("examples/warm-standby-endpointslice/kustomization.yaml",
     "    - metadata.labels.[kubernetes.io/service-name]\n", "",
     "examples/warm-standby-endpointslice", "its --endpointslice"),
    ("components/endpointslice/endpointslice.yaml", "addressType: IPv4\n",
     "addressType: IPv4\nendpoints: []\n", "components/endpointslice", "declares endpoints"),
    ("examples/three-replicas/namespace.yaml", "enforce: restricted", "enforce: baseline",
     "examples/three-replicas", "is not restricted"),
    ("examples/warm-standby-endpointslice/namespace.yaml",
     "  labels:\n    pod-security.kubernetes.io/enforce: restricted\n", "",
     "examples/warm-standby-endpointslice-pre-1.29", "is not restricted"),
    ("examples/warm-standby-readiness/deployment.yaml",
     "      serviceAccountName: leader-elector\n",
     "      serviceAccountName: leader-elector\n      hostNetwork: true\n",
     "examples/warm-standby-readiness", "hostNetwork"),
    ("examples/three-replicas/deployment.yaml", "        emptyDir:\n",
     "        hostPath:\n          path: /run\n", "examples/three-replicas", "hostPath"),
    ("examples/warm-standby-readiness/deployment.yaml",
     "        topologyKey: kubernetes.io/hostname\n",
     "        topologyKey: topology.kubernetes.io/zone\n",
     "examples/warm-standby-readiness", "may share a node"),
    ("examples/warm-standby-endpointslice/deployment.yaml",
     "      topologySpreadConstraints:\n      - maxSkew: 1\n"
     "        topologyKey: kubernetes.io/hostname\n"
     "        whenUnsatisfiable: ScheduleAnyway\n        labelSelector:\n"
     "          matchLabels:\n            app.kubernetes.io/name: warm-standby\n", "",
     "examples/warm-standby-endpointslice", "may share a node"),
    ("examples/three-replicas/deployment.yaml", "fieldPath: metadata.uid",
     "fieldPath: metadata.name", "examples/three-replicas", "POD_UID not from the downward"),
    ("examples/three-replicas/deployment.yaml", "        - --events\n", "",
     "examples/three-replicas", "no daemon uses that mode"),
    ("examples/warm-standby-readiness/deployment.yaml",
     "      automountServiceAccountToken: false\n", "", "examples/warm-standby-readiness",
     "API credentials"),
    ("examples/warm-standby-endpointslice/deployment.yaml",
     "          readOnly: true\n      volumes:\n",
     "          readOnly: true\n        - name: kube-api-access\n"
     "          mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n      volumes:\n",
     "examples/warm-standby-endpointslice", "mounts a service-account token"),
    ("examples/three-replicas/deployment.yaml", "drop: [\"ALL\"]", "drop: [\"NET_RAW\"]",
     "examples/three-replicas", "drop ALL"),
    ("examples/three-replicas/deployment.yaml",
     "        livenessProbe:\n          exec:\n            command: [\"/usr/bin/leader-probe\", "
     "\"--alive\", \"--socket\", \"/var/run/leader-election/leader.sock\"]\n",
     "        livenessProbe:\n          httpGet:\n            path: /healthz\n"
     "            port: http\n",
     "examples/three-replicas", "on a port other pods can exhaust"),
    ("examples/three-replicas/deployment.yaml",
     "        livenessProbe:\n          exec:\n            command: [\"/usr/bin/leader-probe\", "
     "\"--alive\", \"--socket\", \"/var/run/leader-election/leader.sock\"]\n",
     "        livenessProbe:\n          tcpSocket:\n            port: 4040\n",
     "examples/three-replicas", "livenessProbe tcpSocket"),
    ("examples/three-replicas/deployment.yaml", '"--alive", ', "",
     "examples/three-replicas", "restarts every pod that does not lead"),
    ("examples/warm-standby-readiness/deployment.yaml",
     "          httpGet:\n            path: /health\n            port: http\n",
     "          httpGet:\n            path: /healthz\n            port: metrics\n",
     "examples/warm-standby-readiness", "livenessProbe httpGet on the metrics port"),
    ("examples/warm-standby-endpointslice/deployment.yaml",
     "        livenessProbe:\n          httpGet:\n            path: /health\n"
     "            port: http\n",
     "        livenessProbe:\n          tcpSocket:\n            port: 9090\n",
     "examples/warm-standby-endpointslice-pre-1.29", "livenessProbe tcpSocket on the metrics port"),
    ("examples/warm-standby-readiness/deployment.yaml",
     "        livenessProbe:\n          exec:\n            command: [\"/usr/bin/leader-probe\", "
     "\"--alive\", \"--socket\", \"/var/run/leader-election/leader.sock\"]\n"
     "          periodSeconds: 10\n", "",
     "examples/warm-standby-readiness", "no livenessProbe running leader-probe --alive"),
    ("examples/warm-standby-endpointslice/deployment.yaml",
     "        - name: metrics\n          containerPort: 9090\n",
     "        - name: metrics\n          containerPort: 9091\n",
     "examples/warm-standby-endpointslice", "is not among the sidecar's ports"),
    ("examples/warm-standby-readiness/deployment.yaml", "image: example-app",
     "image: some-app", "--sources", "not a placeholder"),
    ("examples/warm-standby-readiness/kustomization.yaml", "newName: traefik/whoami",
     "newName: localhost:5000/whoami", "--sources", "registry host"),
]


def run_mutations(kubectl, source_dir):
    global failures
    bad = 0
    for rel, old, new, target, expect in MUTATIONS:
        tmp = tempfile.mkdtemp(prefix="le-deploy-mut-")
        try:
            shutil.copytree(os.path.join(source_dir, "deploy"), os.path.join(tmp, "deploy"))
            p = os.path.join(tmp, "deploy", rel)
            with open(p, encoding="utf-8") as f:
                text = f.read()
            if old not in text:
                print(f"FAIL: mutation of {rel}: '{old[:40]}' not found (update MUTATIONS)")
                bad += 1
                continue
            with open(p, "w", encoding="utf-8") as f:
                f.write(text.replace(old, new))
            failures = []
            try:
                if target == "--sources":
                    check_sources(tmp)
                else:
                    check_target(kubectl, tmp, target)
            except SystemExit as e:
                failures.append(str(e))
            hit = [x for x in failures if expect in x]
            status = "caught" if hit else "MISSED"
            print(f"mutation {rel}: {status}: " + (hit[0] if hit else f"{failures}"))
            if not hit:
                bad += 1
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    failures = [f"{bad} mutation(s) not caught"] if bad else []


# Flags of the contract whose features (health checks, EndpointSlice mode, the
# lock types and Events) may not be in the daemon yet: while one of these is missing the flags check skips, visibly;
# any other unknown flag fails.
PENDING_FLAGS = {"events", "endpointslice", "endpoint-port", "health-http", "health-tcp",
                 "health-period", "health-timeout", "health-failures", "health-successes",
                 "lock"}


def check_flags(kubectl, source_dir, daemon):
    """Every flag the shipped manifests pass to the daemon is one it accepts."""
    r = subprocess.run([daemon, "--help"], capture_output=True, text=True, timeout=10)
    known = set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*)", r.stdout + r.stderr))
    if r.returncode != 0 or "election" not in known:
        fail(f"{daemon} --help: exit {r.returncode}, no flag list")
        return None
    used = {}
    for root, _, files in os.walk(os.path.join(source_dir, "deploy", "examples")):
        if "kustomization.yaml" not in files:
            continue
        target = os.path.relpath(root, os.path.join(source_dir, "deploy"))
        for o in render(kubectl, source_dir, target):
            if o["kind"] not in WORKLOAD_KINDS:
                continue
            spec = o["spec"]["template"]["spec"]
            for c in spec.get("initContainers", []) + spec.get("containers", []):
                if c["image"].split("@")[0].rsplit("/", 1)[-1].split(":")[0] != DAEMON_IMAGE:
                    continue
                for flag in parse_args((c.get("command") or [])[1:] + c.get("args", [])):
                    used.setdefault(flag, set()).add(target)
    missing = {f: sorted(t) for f, t in used.items() if f not in known}
    print("flags used by the examples: " + ", ".join(sorted(used)))
    for f, t in sorted(missing.items()):
        if f not in PENDING_FLAGS:
            fail(f"--{f} (used by {', '.join(t)}) is not a flag of {daemon}")
    pending = {f: t for f, t in missing.items() if f in PENDING_FLAGS}
    return pending


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--kubectl", default=shutil.which("kubectl"))
    ap.add_argument("--sources", action="store_true")
    ap.add_argument("--flags-of", metavar="DAEMON",
                    help="check that the daemon accepts every flag the examples pass")
    ap.add_argument("--mutations", action="store_true",
                    help="break each rule in a copy of deploy/ and expect a failure")
    ap.add_argument("target", nargs="?")
    a = ap.parse_args()
    if a.sources:
        check_sources(a.source_dir)
    else:
        if not a.target and not a.mutations and not a.flags_of:
            ap.error("TARGET, --sources, --flags-of or --mutations")
        if not a.kubectl or not os.access(a.kubectl, os.X_OK):
            print("SKIP: kubectl not found: cannot render the kustomizations")
            return SKIP
        if a.flags_of:
            if not os.access(a.flags_of, os.X_OK):
                print(f"SKIP: {a.flags_of} not built yet")
                return SKIP
            pending = check_flags(a.kubectl, a.source_dir, a.flags_of)
            if pending and not failures:
                for f, t in sorted(pending.items()):
                    print(f"SKIP: the daemon does not accept --{f} yet (a pending "
                          f"feature); {', '.join(t)} will not start until it does")
                return SKIP
        elif a.mutations:
            run_mutations(a.kubectl, a.source_dir)
        else:
            check_target(a.kubectl, a.source_dir, a.target)
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
