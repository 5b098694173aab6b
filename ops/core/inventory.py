"""Cluster inventory: one YAML file per cluster, validated before anything touches a node."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import InventoryError
from .yamlfile import parse_yaml

TOP_KEYS = {"name", "stack", "registry", "public_url", "base_image", "build_node", "jump", "proxy", "ssh", "nodes",
            "mail"}
REQUIRED_TOP = ("registry", "nodes")
SSH_KEYS = {"user", "port", "key_file", "known_hosts", "connect_timeout"}
NODE_KEYS = {"name", "address", "port", "user", "key_file", "role", "labels"}
JUMP_KEYS = {"proxy_command", "host", "port", "user", "key_file"}
MAIL_KEYS = {"host", "port", "tls", "ssl", "user", "from"}
MAIL_PASSWORD_FILE = "mail_password"   # in the cluster's state dir (0600): the relay's password, never in a file here
ROLES = ("manager", "worker")
DEBOOTSTRAP = "debootstrap"


@dataclass(frozen=True)
class Jump:
    """How to reach nodes: a ProxyCommand (%h/%p substituted) or a bastion host."""

    proxy_command: str | None = None
    host: str | None = None
    port: int = 22
    user: str = "root"
    key_file: str | None = None


@dataclass(frozen=True)
class Mail:
    """The SMTP relay pretix sends through; the default is the stack's own mail sink (service `mail`, the lab's)."""

    host: str = "mail"
    port: int = 25
    tls: bool = False            # STARTTLS after connecting
    ssl: bool = False            # TLS from the first byte (usually port 465)
    user: str | None = None      # its password: <state dir>/mail_password (0600), never in the inventory
    sender: str | None = None    # the From address (default: the stack's)

    @property
    def is_sink(self) -> bool:
        return self.host == "mail" and not self.user


@dataclass(frozen=True)
class Node:
    name: str
    address: str
    port: int
    user: str
    key_file: str
    role: str
    labels: dict = field(default_factory=dict)

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


@dataclass(frozen=True)
class Cluster:
    name: str
    path: str
    stack: str
    registry: str
    public_url: str
    base_image: str
    build_node: str
    known_hosts: str
    connect_timeout: int
    nodes: tuple[Node, ...]
    jump: Jump | None = None
    proxy: str | None = None
    mail: Mail = Mail()

    @property
    def managers(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.is_manager)

    @property
    def workers(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if not n.is_manager)

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise InventoryError(f"{self.path}: no node named {name!r} (known: {', '.join(n.name for n in self.nodes)})")

    @property
    def pulls_base(self) -> bool:
        """True when the base image can be pulled (a real cluster), False when we debootstrap it."""
        return self.base_image != DEBOOTSTRAP


def inventory_path(name: str, clusters_dir: str | os.PathLike) -> Path:
    """`--cluster NAME` means clusters/NAME.yaml; a path ending in .yaml is taken as is."""
    if name.endswith((".yaml", ".yml")):
        return Path(name)
    return Path(clusters_dir) / f"{name}.yaml"


def load_cluster(name: str, clusters_dir: str | os.PathLike = "clusters") -> Cluster:
    path = inventory_path(name, clusters_dir)
    if not path.is_file():
        known = sorted(p.stem for p in Path(clusters_dir).glob("*.yaml")) if Path(clusters_dir).is_dir() else []
        hint = f"known clusters: {', '.join(known)}" if known else "run `inv lab.up` to create the lab cluster"
        raise InventoryError(f"unknown cluster {name!r}: {path} does not exist ({hint})")
    data = parse_yaml(path.read_text(), str(path), InventoryError)
    return parse_cluster(data, path=str(path), default_name=path.stem)


def parse_cluster(data, path: str = "<inventory>", default_name: str = "cluster") -> Cluster:
    """Validate a parsed inventory; raise InventoryError with one line per problem."""
    problems = validate(data, path)
    if problems:
        raise InventoryError("\n".join(problems))
    base_dir = Path(path).parent
    ssh = data.get("ssh") or {}
    nodes = tuple(_node(n, ssh, base_dir) for n in data["nodes"])
    managers = [n for n in nodes if n.is_manager]
    return Cluster(
        name=data.get("name", default_name),
        path=path,
        stack=data.get("stack", "pretix"),
        registry=data["registry"],
        public_url=data.get("public_url", f"http://{managers[0].address}"),
        base_image=data.get("base_image", "debian:bookworm-slim"),
        build_node=data.get("build_node", managers[0].name),
        known_hosts=_resolve(base_dir, ssh["known_hosts"]),
        connect_timeout=int(ssh.get("connect_timeout", 10)),
        nodes=nodes,
        jump=_jump(data.get("jump"), base_dir),
        proxy=data.get("proxy"),
        mail=_mail(data.get("mail")),
    )


def validate(data, path: str) -> list[str]:
    """Every problem of an inventory as '<file>: <what> (<fix>)' lines; empty when valid."""
    if not isinstance(data, dict):
        return [f"{path}: expected a mapping of settings at the top level"]
    p = []
    p += _unknown_keys(data, TOP_KEYS, path, "top level")
    p += [f"{path}: missing required key {k!r}" for k in REQUIRED_TOP if k not in data]
    ssh = data.get("ssh") or {}
    if not isinstance(ssh, dict):
        return p + [f"{path}: 'ssh' must be a mapping"]
    p += _unknown_keys(ssh, SSH_KEYS, path, "ssh")
    if "known_hosts" not in ssh:
        p.append(f"{path}: missing ssh.known_hosts (the cluster's own known_hosts file; unknown host keys are refused)")
    elif not _readable(_resolve(Path(path).parent, ssh["known_hosts"])):
        p.append(f"{path}: ssh.known_hosts {ssh['known_hosts']!r} is not a readable file")
    p += _validate_jump(data.get("jump"), path)
    p += _validate_mail(data.get("mail"), path)
    nodes = data.get("nodes")
    if "nodes" in data:
        p += _validate_nodes(nodes, ssh, path)
    if "build_node" in data and isinstance(nodes, list):
        names = {n.get("name") for n in nodes if isinstance(n, dict)}
        if data["build_node"] not in names:
            p.append(f"{path}: build_node {data['build_node']!r} is not one of the nodes")
    return p


def _validate_nodes(nodes, ssh: dict, path: str) -> list[str]:
    if not isinstance(nodes, list) or not nodes:
        return [f"{path}: 'nodes' must be a non-empty list"]
    p, names, addresses = [], set(), set()
    base_dir = Path(path).parent
    for i, node in enumerate(nodes):
        where = f"nodes[{i}]"
        if not isinstance(node, dict):
            p.append(f"{path}: {where} must be a mapping")
            continue
        where = f"node {node.get('name', i)!r}"
        p += _unknown_keys(node, NODE_KEYS, path, where)
        for key in ("name", "address"):
            if key not in node:
                p.append(f"{path}: {where} is missing {key!r}")
        if node.get("name") in names:
            p.append(f"{path}: duplicate node name {node['name']!r}")
        names.add(node.get("name"))
        addr = (node.get("address"), node.get("port", ssh.get("port", 22)))
        if node.get("address") and addr in addresses:
            p.append(f"{path}: duplicate node address {addr[0]}:{addr[1]} ({where})")
        addresses.add(addr)
        if node.get("role", "manager") not in ROLES:
            p.append(f"{path}: {where} has role {node.get('role')!r}; use one of {', '.join(ROLES)}")
        if not isinstance(node.get("labels", {}), dict):
            p.append(f"{path}: {where} labels must be a mapping of name: value")
        key_file = node.get("key_file", ssh.get("key_file"))
        if key_file is None:
            p.append(f"{path}: {where} has no key_file (set ssh.key_file or the node's key_file)")
        elif not _readable(_resolve(base_dir, key_file)):
            p.append(f"{path}: {where} key_file {key_file!r} is not a readable file")
        port = node.get("port", ssh.get("port", 22))
        if not isinstance(port, int) or not 0 < port < 65536:
            p.append(f"{path}: {where} port {port!r} is not a TCP port")
    managers = sum(1 for n in nodes if isinstance(n, dict) and n.get("role", "manager") == "manager")
    if managers == 0:
        p.append(f"{path}: no manager node (set role: manager on 1, 3 or 5 nodes)")
    elif managers % 2 == 0:
        p.append(f"{path}: {managers} managers is an even number: Raft needs an odd count (1, 3 or 5) to keep quorum")
    return p


def _validate_jump(jump, path: str) -> list[str]:
    if jump is None:
        return []
    if not isinstance(jump, dict):
        return [f"{path}: 'jump' must be a mapping with proxy_command or host"]
    p = _unknown_keys(jump, JUMP_KEYS, path, "jump")
    if ("proxy_command" in jump) == ("host" in jump):
        p.append(f"{path}: jump needs exactly one of proxy_command or host")
    return p


def _validate_mail(mail, path: str) -> list[str]:
    if mail is None:
        return []
    if not isinstance(mail, dict):
        return [f"{path}: 'mail' must be a mapping (host, port, tls, ssl, user, from)"]
    if "password" in mail:
        return [f"{path}: mail.password must not be in the inventory: put the relay's password in the cluster's "
                f"state dir as {MAIL_PASSWORD_FILE} (mode 0600); deploy turns it into a Docker secret"]
    p = _unknown_keys(mail, MAIL_KEYS, path, "mail")
    if not isinstance(mail.get("host"), str) or not mail.get("host"):
        p.append(f"{path}: mail.host is missing (the SMTP relay's host name)")
    port = mail.get("port", 25)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        p.append(f"{path}: mail.port {port!r} is not a TCP port")
    for key in ("tls", "ssl"):
        if not isinstance(mail.get(key, False), bool):
            p.append(f"{path}: mail.{key} must be true or false, not {mail[key]!r}")
    if mail.get("tls") is True and mail.get("ssl") is True:
        p.append(f"{path}: mail.tls (STARTTLS) and mail.ssl (TLS from the start, port 465) exclude each other: "
                 f"set one")
    for key in ("user", "from"):
        value = mail.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip() or "\n" in value):
            p.append(f"{path}: mail.{key} must be a one-line string")
    if isinstance(mail.get("from"), str) and "@" not in mail["from"]:
        p.append(f"{path}: mail.from {mail['from']!r} is not an email address")
    return p


def _unknown_keys(mapping: dict, allowed: set, path: str, where: str) -> list[str]:
    return [
        f"{path}: unknown key {k!r} in {where} (allowed: {', '.join(sorted(allowed))})"
        for k in mapping
        if k not in allowed
    ]


def _node(raw: dict, ssh: dict, base_dir: Path) -> Node:
    return Node(
        name=raw["name"],
        address=str(raw["address"]),
        port=int(raw.get("port", ssh.get("port", 22))),
        user=raw.get("user", ssh.get("user", "root")),
        key_file=_resolve(base_dir, raw.get("key_file", ssh.get("key_file"))),
        role=raw.get("role", "manager"),
        labels={str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
    )


def _jump(raw, base_dir: Path) -> Jump | None:
    if not raw:
        return None
    key = raw.get("key_file")
    return Jump(
        proxy_command=raw.get("proxy_command"),
        host=raw.get("host"),
        port=int(raw.get("port", 22)),
        user=raw.get("user", "root"),
        key_file=_resolve(base_dir, key) if key else None,
    )


def _mail(raw) -> Mail:
    if not raw:
        return Mail()
    return Mail(host=raw["host"], port=int(raw.get("port", 25)), tls=bool(raw.get("tls", False)),
                ssl=bool(raw.get("ssl", False)), user=raw.get("user"), sender=raw.get("from"))


def _resolve(base_dir: Path, p: str) -> str:
    path = Path(os.path.expanduser(str(p)))
    return str(path if path.is_absolute() else (base_dir / path))


def _readable(p: str) -> bool:
    return os.path.isfile(p) and os.access(p, os.R_OK)


def dump_cluster(data: dict) -> str:
    """YAML text of an inventory mapping (used by the lab to write its own inventory)."""
    return yaml.safe_dump(data, sort_keys=False)
