"""`lab.up`: create or repair the lab on this machine (runs as root; nodes are network namespaces)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..core.errors import LabError
from ..core.files import write_if_changed
from ..core.inventory import dump_cluster
from ..core.output import say
from . import spec as L
from .procs import kill, listening, sh, start, unix_answers, wait_until
from .state import alive, cgroup_pids, mounts_under, namespaces


def bring_up(spec: L.LabSpec) -> list[str]:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, dockerd): run `inv lab.up` as root")
    changes = ensure_packages()
    check_ports_free(spec)  # before anything is created: a refused lab.up leaves nothing behind
    changes += ensure_files(spec)
    changes += ensure_network(spec)
    changes += ensure_host_services(spec)
    for n in spec.node_names():
        changes += ensure_sshd(spec, n)
    changes += ensure_dockerds(spec)
    for n in spec.node_names():
        changes += ensure_node_egress(spec, n)
    changes += ensure_entry(spec)
    return changes


def ensure_packages() -> list[str]:
    missing = [pkg for pkg in L.LAB_PACKAGES if not Path(L.PACKAGE_PROBES[pkg]).exists()]
    if not missing:
        return []
    if os.geteuid() != 0:
        raise LabError(f"missing packages {', '.join(missing)}: run as root (apt-get install {' '.join(missing)})")
    say(f"lab: installing {', '.join(missing)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    sh(["apt-get", "update", "-qq"], timeout=600, env=env)
    sh(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], timeout=900, env=env)
    return [f"installed {', '.join(missing)}"]


def ensure_files(spec: L.LabSpec) -> list[str]:
    for d in [spec.dir, spec.run_dir, spec.ssh_dir, *(spec.node_dir(n) for n in spec.node_names()),
              *(spec.node_run(n) for n in spec.node_names()), spec.dir / "registry", spec.cache_dir]:
        d.mkdir(parents=True, exist_ok=True)
    os.chmod(spec.ssh_dir, 0o700)
    Path("/run/sshd").mkdir(exist_ok=True)
    changes = ensure_keys(spec)
    known = []
    for n in spec.node_names():
        kind, blob = Path(str(spec.host_key(n)) + ".pub").read_text().split()[:2]
        known.append(f"{spec.address(n)} {kind} {blob}\n")
    write_if_changed(spec.known_hosts, "".join(known), 0o600)
    write_if_changed(spec.dir / "registry.yml", L.registry_config(spec))
    write_if_changed(spec.dir / "tinyproxy.conf", L.tinyproxy_config(spec))
    if write_if_changed(spec.dir / "entry-lb.cfg", L.entry_lb_config(spec)) and alive(spec, "entry-lb"):
        kill(alive(spec, "entry-lb"))  # restarted with the new configuration by ensure_entry
        changes.append("entry load balancer: new configuration")
    for n in spec.node_names():
        write_if_changed(spec.node_dir(n) / "sshd_config", L.sshd_config(spec, n), 0o600)
        write_if_changed(spec.node_dir(n) / "daemon.json", L.daemon_json(spec, n))
    return changes


def ensure_keys(spec: L.LabSpec) -> list[str]:
    """The lab's SSH client key and each node's host key: generated here, never committed."""
    changes = []
    if not spec.client_key.exists():
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{spec.name}-ops", "-f", str(spec.client_key)])
        changes.append("generated the lab's SSH client key")
    auth = spec.ssh_dir / "authorized_keys"
    write_if_changed(auth, Path(str(spec.client_key) + ".pub").read_text(), 0o600)
    for n in spec.node_names():
        if not spec.host_key(n).exists():
            sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", spec.hostname(n), "-f", str(spec.host_key(n))])
            changes.append(f"{n}: generated its SSH host key")
    return changes


def ensure_network(spec: L.LabSpec) -> list[str]:
    changes, have = [], namespaces()
    exists = ("File exists", "already assigned")
    if spec.net_ns not in have:
        sh(L.netns_add(spec.net_ns))
        changes.append(f"created namespace {spec.net_ns}")
    if spec.gateway_address not in sh(["ip", "-n", spec.net_ns, "-br", "addr"], check=False).stdout:
        for argv in L.bridge_setup(spec):
            sh(argv, tolerate=exists)
        changes.append(f"{spec.net_ns}: bridge br0 at {spec.gateway_address}")
    for n in spec.node_names():
        ns = spec.node_ns(n)
        if ns not in have:
            sh(L.netns_add(ns))
            changes.append(f"created namespace {ns}")
        if spec.address(n) not in sh(["ip", "-n", ns, "-br", "addr"], check=False).stdout:
            for argv in L.node_link_setup(spec, n):
                sh(argv, tolerate=exists)
            changes.append(f"{n}: linked {spec.address(n)} to the lab bridge")
    return changes


def ensure_process(spec: L.LabSpec, what: str, argv: list[str], ready, timeout: float = 20,
                   env: dict | None = None, daemonizes: bool = False) -> list[str]:
    """Start a lab process unless it runs and is ready. A daemon that forks writes its own pidfile
    (named `what`); we then start it under `<what>-launch`."""
    if alive(spec, what) and ready():
        return []
    stale = alive(spec, what)
    if stale:
        kill(stale)
    name = f"{what}-launch" if daemonizes else what
    start(argv, spec.pidfile(name), spec.run_dir / f"{name}.log", env)
    wait_until(ready, timeout, what, spec.run_dir / f"{name}.log")
    return [f"started {what}"]


def docker_ping(spec: L.LabSpec, node: str) -> bool:
    return unix_answers(spec.docker_sock(node), b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n", b"200 OK")


def reset_node_runtime(spec: L.LabSpec, node: str) -> None:
    """Clear what a dead dockerd left behind (container processes, mounts, exec-root), keeping its data."""
    for pid in cgroup_pids(spec, node):
        kill(pid, grace=0)
    for m in mounts_under(spec.node_run(node)) + mounts_under(spec.node_dir(node) / "docker"):
        sh(["umount", "-l", m], check=False)
    shutil.rmtree(spec.node_run(node) / "exec", ignore_errors=True)
    spec.docker_sock(node).unlink(missing_ok=True)
    spec.pidfile(f"{node}-dockerd").unlink(missing_ok=True)


def ensure_sshd(spec: L.LabSpec, node: str) -> list[str]:
    return ensure_process(spec, f"{node}-sshd", L.sshd_argv(spec, node), daemonizes=True,
                          ready=lambda: alive(spec, f"{node}-sshd") and listening(22, spec.node_ns(node)))


def ensure_dockerds(spec: L.LabSpec) -> list[str]:
    """Start every missing dockerd first, then wait: a restarted swarm manager answers only once quorum is back."""
    changes = []
    for node in spec.node_names():
        if not alive(spec, f"{node}-dockerd"):
            reset_node_runtime(spec, node)
            # nodes pull stack images from the lab registry, so no DOCKER_SERVICE_PREFER_OFFLINE_IMAGE here
            start(L.dockerd_argv(spec, node), spec.pidfile(f"{node}-dockerd-launch"),
                  spec.run_dir / f"{node}-dockerd-launch.log")
            changes.append(f"{node}: started dockerd")
    for node in spec.node_names():
        wait_until(lambda: docker_ping(spec, node), 90, f"{node} dockerd",
                   spec.run_dir / f"{node}-dockerd-launch.log")
    return changes


def ensure_node_egress(spec: L.LabSpec, node: str) -> list[str]:
    return ensure_process(spec, f"{node}-egress", L.egress_node_argv(spec, node),
                          ready=lambda: listening(L.NODE_PROXY_PORT, spec.node_ns(node)))


def ensure_host_services(spec: L.LabSpec) -> list[str]:
    changes = ensure_process(spec, "dns", L.dns_argv(spec), ready=lambda: listening(53, spec.net_ns, udp=True))
    changes += ensure_process(spec, "tinyproxy", L.tinyproxy_argv(spec), ready=lambda: listening(spec.egress_port))
    changes += ensure_process(spec, "egress", L.egress_host_argv(spec),
                              ready=lambda: unix_answers(spec.egress_sock, timeout=1))
    return changes


def ensure_entry(spec: L.LabSpec) -> list[str]:
    changes = ensure_process(spec, "registry", L.registry_argv(spec),
                             ready=lambda: listening(L.REGISTRY_PORT, spec.node_ns("n1")))
    changes += ensure_process(spec, "entry-lb", L.entry_lb_argv(spec),
                              ready=lambda: unix_answers(spec.entry_sock, timeout=1))
    changes += ensure_process(spec, "entry", L.entry_host_argv(spec), ready=lambda: listening(spec.http_port))
    return changes


def check_ports_free(spec: L.LabSpec) -> None:
    for port, what, flag in ((spec.http_port, "entry", "--http-port"), (spec.egress_port, "tinyproxy",
                                                                        "--egress-port")):
        if not alive(spec, what) and listening(port):
            raise LabError(f"127.0.0.1:{port} is already taken by another program: pick another port "
                           f"(inv lab.up {flag} N) or stop that program")


def write_inventory(spec: L.LabSpec, clusters_dir: Path) -> Path:
    clusters_dir.mkdir(parents=True, exist_ok=True)
    path = clusters_dir / f"{spec.cluster}.yaml"
    text = "# Written by `inv lab.up` for this machine's lab; do not commit.\n" + dump_cluster(L.inventory(spec))
    write_if_changed(path, text)
    return path
