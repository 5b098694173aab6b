"""Pure builders of the shell commands we run on nodes: commands are data, tested as whole strings."""
from __future__ import annotations

import shlex

SWARM_PORT = 2377


def sh(*argv: str) -> str:
    """One shell-quoted command line."""
    return shlex.join(str(a) for a in argv)


def docker(*argv: str) -> str:
    return sh("docker", *argv)


def docker_info() -> str:
    return docker("info", "--format", "{{json .}}")


def swarm_init(address: str) -> str:
    return docker("swarm", "init", "--advertise-addr", address, "--listen-addr", f"{address}:{SWARM_PORT}")


def swarm_heartbeat(seconds: int) -> str:
    return docker("swarm", "update", "--dispatcher-heartbeat", f"{seconds}s")


def swarm_join_token(role: str) -> str:
    return docker("swarm", "join-token", "--quiet", role)


def swarm_join(token: str, manager_address: str, address: str) -> str:
    return docker(
        "swarm", "join", "--token", token,
        "--advertise-addr", address, "--listen-addr", f"{address}:{SWARM_PORT}",
        f"{manager_address}:{SWARM_PORT}",
    )


def swarm_leave() -> str:
    return docker("swarm", "leave", "--force")


def node_ls() -> str:
    return docker("node", "ls", "--format", "{{json .}}")


def node_inspect(*node_ids: str) -> str:
    return docker("node", "inspect", *node_ids)


def node_label_add(node: str, labels: dict) -> str:
    args = []
    for key, value in sorted(labels.items()):
        args += ["--label-add", f"{key}={value}"]
    return docker("node", "update", *args, node)


def image_pull(ref: str) -> str:
    return docker("pull", ref)


def image_tag(source: str, target: str) -> str:
    return docker("tag", source, target)


def image_push(ref: str) -> str:
    return docker("push", ref)


def registry_manifest(registry: str, repository: str, tag: str) -> str:
    """Succeeds when the registry holds repository:tag (asked from a node, which can reach the registry)."""
    return sh("curl", "-fsS", "--max-time", "10", "-o", "/dev/null",
              "-H", "Accept: application/vnd.docker.distribution.manifest.v2+json",
              f"http://{registry}/v2/{repository}/manifests/{tag}")


def registry_probe(registry: str) -> str:
    """Ask the registry's v2 API from the node itself (the node can reach it, the host may not)."""
    return sh("curl", "-fsS", "--max-time", "5", f"http://{registry}/v2/_catalog")
