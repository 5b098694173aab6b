"""`inv cluster.*`: read-only fan-out over the cluster's nodes and swarm membership, all over SSH."""
from __future__ import annotations

from invoke import Collection
from invoke.exceptions import Exit

from ..cluster.swarm import ensure_swarm
from ..core.output import say
from ..core.remote import Remote
from ..facts.docker import DOCKER_INFO, parse_docker_info
from .context import HELP, expected_errors, load, task


@task(help={"cluster": HELP["cluster"]})
@expected_errors
def check(c, cluster=None):
    """Reach every node over SSH and report its Docker engine and swarm state (docker info)."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        results = remote.run_all(cl.nodes, DOCKER_INFO, timeout=30)
    bad = 0
    for name, r in results.items():
        if not r.ok:
            bad += 1
            say(f"  {name}: {r.describe()}")
            continue
        f = parse_docker_info(r.stdout)
        role = "manager" if f.is_manager else "worker"
        say(f"  {name}: {f.hostname} docker {f.server_version}, swarm {f.state} ({role}, {f.managers} managers, "
            f"{f.nodes} nodes)")
    if bad:
        raise Exit(f"error: {bad} of {len(results)} nodes failed", 1)


@task(help={"command": "shell command to run on every node (read-only use; quoted)", "cluster": HELP["cluster"],
            "node": "run on this node only"})
@expected_errors
def run(c, command, cluster=None, node=None):
    """Run one command on every node (or --node) in parallel and print each node's output."""
    cl = load(c, cluster)
    nodes = [cl.node(node)] if node else cl.nodes
    with Remote(cl) as remote:
        results = remote.run_all(nodes, command)
    for name, r in results.items():
        say(f"--- {name} (exit {r.exit_code}) ---")
        say((r.stdout + r.stderr).rstrip() or r.error)
    if any(not r.ok for r in results.values()):
        raise Exit("error: " + "; ".join(r.describe() for r in results.values() if not r.ok), 1)


@task(help={"cluster": HELP["cluster"]})
@expected_errors
def swarm(c, cluster=None):
    """Make every inventory node a swarm member (init/join as needed) with its labels; idempotent."""
    cl = load(c, cluster)
    with Remote(cl) as remote:
        changes = ensure_swarm(remote)
    for line in changes or ["swarm already complete: nothing to change"]:
        say(f"  {line}")


ns = Collection("cluster", check, run, swarm)
