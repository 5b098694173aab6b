"""The lab's shape as data: names, addresses, paths, config files and the argv lists that create it."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

LAB_PACKAGES = ("docker.io", "openssh-server", "iproute2", "debootstrap", "docker-registry", "haproxy",
                "tinyproxy", "socat", "curl", "psmisc")
# binary that proves each package is installed
PACKAGE_PROBES = {
    "docker.io": "/usr/sbin/dockerd", "openssh-server": "/usr/sbin/sshd", "iproute2": "/usr/sbin/ip",
    "debootstrap": "/usr/sbin/debootstrap", "docker-registry": "/usr/bin/docker-registry",
    "tinyproxy": "/usr/bin/tinyproxy", "socat": "/usr/bin/socat", "curl": "/usr/bin/curl",
    "psmisc": "/usr/bin/killall", "haproxy": "/usr/sbin/haproxy",
}
REGISTRY_PORT = 5000
NODE_PROXY_PORT = 3128   # inside each node namespace, on its loopback
ENTRY_NODE_PORT = 80     # the cluster's published HTTP entry on every LB node


@dataclass(frozen=True)
class LabSpec:
    """Every field comes from invoke.yaml's lab_* settings (the one place for their defaults)."""

    name: str
    cluster: str
    nodes: int
    subnet: str                      # /24, all inside namespaces we create
    root: str
    http_port: int                   # host loopback port of the shop
    egress_port: int                 # host loopback port of the egress proxy

    # --- names and addresses -------------------------------------------------
    @property
    def net_ns(self) -> str:
        return f"{self.name}-net"

    def node_names(self) -> list[str]:
        return [f"n{i}" for i in range(1, self.nodes + 1)]

    def node_ns(self, node: str) -> str:
        return f"{self.name}-{node}"

    def hostname(self, node: str) -> str:
        return f"{self.name}-{node}"

    def address(self, node: str) -> str:
        return f"{self.subnet}.{10 + int(node[1:])}"

    @property
    def gateway_address(self) -> str:
        return f"{self.subnet}.1"

    @property
    def registry(self) -> str:
        return f"{self.address('n1')}:{REGISTRY_PORT}"

    @property
    def cgroup_parent(self) -> str:
        return self.name

    def node_cgroup(self, node: str) -> str:
        return f"{self.name}/{node}"

    # --- paths ---------------------------------------------------------------
    @property
    def dir(self) -> Path:
        return Path(self.root) / self.name

    @property
    def run_dir(self) -> Path:
        return self.dir / "run"

    @property
    def ssh_dir(self) -> Path:
        return self.dir / "ssh"

    @property
    def client_key(self) -> Path:
        return self.ssh_dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.ssh_dir / "known_hosts"

    def node_dir(self, node: str) -> Path:
        return self.dir / node

    def node_run(self, node: str) -> Path:
        return self.run_dir / node

    def docker_sock(self, node: str) -> Path:
        return self.node_run(node) / "docker.sock"

    def host_key(self, node: str) -> Path:
        return self.node_dir(node) / "ssh_host_ed25519_key"

    def pidfile(self, what: str) -> Path:
        return self.run_dir / f"{what}.pid"

    @property
    def egress_sock(self) -> Path:
        return self.run_dir / "egress.sock"

    @property
    def entry_sock(self) -> Path:
        return self.run_dir / "entry.sock"

    @property
    def cache_dir(self) -> Path:
        return Path(self.root) / "cache"

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def node_proxy(self) -> str:
        return f"http://127.0.0.1:{NODE_PROXY_PORT}"


# --- network: argv lists -----------------------------------------------------

def netns_add(ns: str) -> list[str]:
    return ["ip", "netns", "add", ns]


def netns_del(ns: str) -> list[str]:
    return ["ip", "netns", "del", ns]


def in_ns(ns: str, argv: list[str]) -> list[str]:
    """Enter only the network namespace (not a private mount namespace like `ip netns exec`)."""
    return ["nsenter", f"--net=/run/netns/{ns}", *argv]


def bridge_setup(spec: LabSpec) -> list[list[str]]:
    ns = spec.net_ns
    return [
        ["ip", "-n", ns, "link", "set", "lo", "up"],
        ["ip", "-n", ns, "link", "add", "br0", "type", "bridge"],
        ["ip", "-n", ns, "addr", "add", f"{spec.gateway_address}/24", "dev", "br0"],
        ["ip", "-n", ns, "link", "set", "br0", "up"],
    ]


def node_link_setup(spec: LabSpec, node: str) -> list[list[str]]:
    """A veth made inside the bridge namespace with its peer moved straight into the node namespace."""
    net, ns = spec.net_ns, spec.node_ns(node)
    return [
        ["ip", "-n", ns, "link", "set", "lo", "up"],
        ["ip", "-n", net, "link", "add", node, "type", "veth", "peer", "name", "eth0", "netns", ns],
        ["ip", "-n", net, "link", "set", node, "master", "br0", "up"],
        ["ip", "-n", ns, "addr", "add", f"{spec.address(node)}/24", "dev", "eth0"],
        ["ip", "-n", ns, "link", "set", "eth0", "up"],
    ]


# --- daemons: config text and argv lists -------------------------------------

def sshd_config(spec: LabSpec, node: str) -> str:
    # SetEnv points `docker` in SSH sessions at this node's own daemon, as on a real node.
    return "\n".join([
        f"ListenAddress {spec.address(node)}",
        "Port 22",
        f"HostKey {spec.host_key(node)}",
        f"PidFile {spec.pidfile(node + '-sshd')}",
        f"AuthorizedKeysFile {spec.ssh_dir / 'authorized_keys'}",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PrintMotd no",
        f"SetEnv DOCKER_HOST=unix://{spec.docker_sock(node)}",
        "Subsystem sftp internal-sftp",
        "",
    ])


def sshd_argv(spec: LabSpec, node: str) -> list[str]:
    cfg = spec.node_dir(node) / "sshd_config"
    return in_ns(spec.node_ns(node), ["unshare", "--uts", "sh", "-c",
                                      f"hostname {spec.hostname(node)} && exec /usr/sbin/sshd -f {cfg}"])


def daemon_json(spec: LabSpec, node: str) -> str:
    run = spec.node_run(node)
    return json.dumps({
        "data-root": str(spec.node_dir(node) / "docker"),
        "exec-root": str(run / "exec"),
        "pidfile": str(spec.pidfile(node + "-dockerd")),
        "hosts": [f"unix://{spec.docker_sock(node)}"],
        "exec-opts": ["native.cgroupdriver=cgroupfs"],
        "cgroup-parent": spec.node_cgroup(node),
        "storage-driver": "overlay2",
        "insecure-registries": [spec.registry],
        # Containers must never forward DNS to the host's resolvers (outside the lab, unroutable: lookups of
        # not-yet-healthy service names would hang ~20 s). The lab gateway answers at once: port unreachable.
        "dns": [spec.gateway_address],
        "log-driver": "json-file",
        "log-opts": {"max-size": "10m", "max-file": "2"},
    }, indent=2) + "\n"


def dockerd_argv(spec: LabSpec, node: str) -> list[str]:
    cfg = spec.node_dir(node) / "daemon.json"
    return in_ns(spec.node_ns(node), ["unshare", "--uts", "sh", "-c",
                                      f"hostname {spec.hostname(node)} && exec dockerd --config-file {cfg}"])


def registry_config(spec: LabSpec) -> str:
    return "\n".join([
        "version: 0.1",
        "log:",
        "  level: warn",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {spec.dir / 'registry'}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: {spec.registry}",
        "",
    ])


def registry_argv(spec: LabSpec) -> list[str]:
    return in_ns(spec.node_ns("n1"), ["docker-registry", "serve", str(spec.dir / "registry.yml")])


def tinyproxy_config(spec: LabSpec) -> str:
    return "\n".join([
        "User nobody",
        "Group nogroup",
        f"Port {spec.egress_port}",
        "Listen 127.0.0.1",
        "Allow 127.0.0.1",
        "Timeout 600",
        "MaxClients 64",
        "ConnectPort 443",
        "ConnectPort 80",
        "LogLevel Warning",
        "",
    ])


def tinyproxy_argv(spec: LabSpec) -> list[str]:
    return ["tinyproxy", "-d", "-c", str(spec.dir / "tinyproxy.conf")]


def dns_argv(spec: LabSpec) -> list[str]:
    """The lab's DNS: NXDOMAIN for every name Docker's embedded DNS forwards (see ops/lab/dns.py)."""
    script = Path(__file__).resolve().parent / "dns.py"
    return in_ns(spec.net_ns, [sys.executable, str(script), spec.gateway_address, str(spec.dir)])


def egress_host_argv(spec: LabSpec) -> list[str]:
    """Host side: unix socket -> the egress proxy on the host's loopback."""
    return ["socat", f"UNIX-LISTEN:{spec.egress_sock},fork,unlink-early,mode=600",
            f"TCP:127.0.0.1:{spec.egress_port}"]


def egress_node_argv(spec: LabSpec, node: str) -> list[str]:
    """Node side: 127.0.0.1:3128 inside the node namespace -> the unix socket."""
    return in_ns(spec.node_ns(node), ["socat", f"TCP-LISTEN:{NODE_PROXY_PORT},bind=127.0.0.1,fork,reuseaddr",
                                      f"UNIX-CONNECT:{spec.egress_sock}"])


def entry_lb_config(spec: LabSpec) -> str:
    """The lab's load balancer (as a cloud LB in front of a real cluster): every node's nginx, health-checked,
    so losing any one node keeps the shop reachable. It listens on a unix socket for the host's forwarder and
    on 127.0.0.1:<http_port> inside the lab's bridge namespace for load generators running in the lab."""
    servers = "\n".join(f"    server {n} {spec.address(n)}:{ENTRY_NODE_PORT} check" for n in spec.node_names())
    return f"""# written by `inv lab.up`: the lab's entry load balancer
global
    maxconn 8192
    log stdout format raw local0 warning

defaults
    mode http
    log global
    option dontlognull
    timeout connect 1s
    timeout client 130s
    timeout server 130s
    timeout http-request 30s
    timeout http-keep-alive 10s
    # a connection that could not be made is tried on another node; a request that reached nginx never is
    retries 2
    retry-on conn-failure
    option redispatch

frontend shop
    bind unix@{spec.entry_sock} mode 600
    bind 127.0.0.1:{spec.http_port}
    default_backend nginx_nodes

backend nginx_nodes
    balance roundrobin
    option httpchk GET /nginx-health
    # a draining nginx (its stop signal came) answers 404: no new requests, its requests in flight finish
    http-check disable-on-404
    http-check expect status 200
    default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
{servers}
"""


def entry_lb_argv(spec: LabSpec) -> list[str]:
    return in_ns(spec.net_ns, ["haproxy", "-db", "-f", str(spec.dir / "entry-lb.cfg")])


def entry_host_argv(spec: LabSpec) -> list[str]:
    """Host side: 127.0.0.1:<http_port> -> the unix socket; the root namespace never routes into the lab."""
    return ["socat", f"TCP-LISTEN:{spec.http_port},bind=127.0.0.1,fork,reuseaddr",
            f"UNIX-CONNECT:{spec.entry_sock}"]


def link_argv(spec: LabSpec, node: str, up: bool) -> list[str]:
    """Cut a node off the lab network (its only interface down) or bring it back."""
    return ["ip", "-n", spec.node_ns(node), "link", "set", "eth0", "up" if up else "down"]


def proxy_command(spec: LabSpec) -> str:
    """How the host reaches a node's sshd: a ProxyCommand that enters the lab's bridge namespace."""
    return f"ip netns exec {spec.net_ns} socat - TCP:%h:%p"


def inventory(spec: LabSpec) -> dict:
    """The lab's cluster inventory: the same format a real cluster uses."""
    return {
        "name": spec.cluster,
        "stack": "pretix",
        "registry": spec.registry,
        "public_url": spec.public_url,
        "base_image": "debootstrap",
        "build_node": "n1",
        "jump": {"proxy_command": proxy_command(spec)},
        "proxy": spec.node_proxy,
        "ssh": {"user": "root", "key_file": str(spec.client_key), "known_hosts": str(spec.known_hosts),
                "connect_timeout": 10},
        "nodes": [
            {"name": n, "address": spec.address(n), "role": "manager" if _is_manager(spec, n) else "worker",
             "labels": {"pxc.lb": "true"}}  # nginx on every node, behind the lab's entry load balancer
            for n in spec.node_names()
        ],
    }


def _is_manager(spec: LabSpec, node: str) -> bool:
    """1 or 2 nodes: one manager; 3 or 4: three; 5+: five (always odd)."""
    index = int(node[1:])
    managers = 1 if spec.nodes < 3 else 3 if spec.nodes < 5 else 5
    return index <= managers
