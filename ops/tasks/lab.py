"""`inv lab.*`: the cluster's nodes simulated on this machine (network namespaces, sshd, dockerd, a swarm)."""
from __future__ import annotations

import time

from invoke import Collection

from ..cluster.swarm import ensure_swarm, swarm_summary
from ..core.inventory import load_cluster
from ..core.output import say
from ..core.remote import Remote
from ..facts.docker import SwarmFact
from ..lab import runtime, spec as labspec, state, teardown
from .context import clusters_dir, expected_errors, setting, task

HELP = {
    "nodes": "number of lab nodes (default from invoke.yaml: 3, three managers, so one node can die)",
    "name": "lab name: prefix of its namespaces and folder (default from invoke.yaml)",
    "cluster": "inventory name the lab writes (default from invoke.yaml, so other tasks take --cluster lab)",
    "http_port": "host loopback port where the shop is reachable (default from invoke.yaml)",
    "egress_port": "host loopback port of the egress proxy used by image builds (default from invoke.yaml)",
    "purge": "also delete the lab's data: docker images, registry, keys",
}


def spec_from(c, nodes=None, name=None, cluster=None, http_port=None, egress_port=None) -> labspec.LabSpec:
    return labspec.LabSpec(
        name=name or setting(c, "lab_name"),
        cluster=cluster or setting(c, "lab_cluster"),
        nodes=int(nodes or setting(c, "lab_nodes")),
        subnet=setting(c, "lab_subnet"),
        root=setting(c, "lab_root"),
        http_port=int(http_port or setting(c, "lab_http_port")),
        egress_port=int(egress_port or setting(c, "lab_egress_port")),
    )


def lab_of(c, cl) -> labspec.LabSpec | None:
    """The configured lab when `cl` is its cluster (faults and load can then run inside its namespaces), else None."""
    lab = spec_from(c)
    return lab if lab.cluster == cl.name else None


def up_lab(c, spec: labspec.LabSpec) -> list[str]:
    started = time.monotonic()
    changes = runtime.bring_up(spec)
    path = runtime.write_inventory(spec, clusters_dir(c))
    with Remote(load_cluster(str(path)), echo=False) as remote:
        changes += ensure_swarm(remote, reset_broken=True)
    for line in changes:
        say(f"  changed: {line}")
    if not changes:
        say("  lab is ready: nothing to change")
    say(f"lab {spec.name}: {spec.nodes} nodes up in {time.monotonic() - started:.1f}s; inventory {path}")
    return changes


@task(help={k: v for k, v in HELP.items() if k != "purge"})
@expected_errors
def up(c, nodes=None, name=None, cluster=None, http_port=None, egress_port=None):
    """Create (or repair) the local lab: N nodes with sshd + dockerd in one swarm, a registry, egress proxy."""
    spec = spec_from(c, nodes, name, cluster, http_port, egress_port)
    up_lab(c, spec)
    say(f"  next: `inv lab.status`, `inv cluster.check --cluster {spec.cluster}`")


@task(help={k: HELP[k] for k in ("name", "cluster", "purge")})
@expected_errors
def down(c, name=None, cluster=None, purge=False):
    """Stop the lab and remove everything it created (processes, namespaces, mounts, cgroups)."""
    spec = spec_from(c, name=name, cluster=cluster)
    for line in teardown.tear_down(spec, purge=purge):
        say(f"  {line}")
    (clusters_dir(c) / f"{spec.cluster}.yaml").unlink(missing_ok=True)
    left = state.leftovers(spec)
    if left:
        say("lab down, but these remain:\n  " + "\n  ".join(left))
    else:
        say(f"lab {spec.name} is down; nothing of it remains" + ("" if purge else f" but its data in {spec.dir}"))


@task(help={k: HELP[k] for k in ("name", "cluster")})
@expected_errors
def status(c, name=None, cluster=None):
    """Print the lab's nodes, daemons, swarm state, registry and entry URL."""
    print_status(c, spec_from(c, name=name, cluster=cluster))


def print_status(c, spec: labspec.LabSpec) -> None:
    say(f"lab {spec.name} ({spec.dir})")
    say(f"  {'node':5} {'address':12} {'sshd':5} {'dockerd':8} {'swarm':9} {'role':8} status")
    inv = clusters_dir(c) / f"{spec.cluster}.yaml"
    facts, rows = ({}, None)
    if inv.exists():
        with Remote(load_cluster(str(inv)), echo=False) as remote:
            facts, rows = swarm_summary(remote)
    by_host = {r.hostname: r for r in rows or []}
    for n in spec.node_names():
        fact, row = facts.get(n), by_host.get(spec.hostname(n))
        swarm = fact.state if isinstance(fact, SwarmFact) else "unreachable"
        role = ("manager" if row.manager_status else "worker") if row else "-"
        st = f"{row.status}{'/' + row.manager_status if row.manager_status else ''}" if row else "-"
        say(f"  {n:5} {spec.address(n):12} {_yn(state.alive(spec, n + '-sshd')):5} "
            f"{_yn(state.alive(spec, n + '-dockerd')):8} {swarm:9} {role:8} {st}")
    managers = sum(1 for r in (rows or []) if r.manager_status)
    say(f"  swarm: {len(rows or [])} nodes, {managers} managers" if rows else "  swarm: no leader reachable")
    say(f"  registry {spec.registry}: {'answering' if state.registry_answers(spec) else 'DOWN'}")
    say(f"  egress proxy: {'up' if state.alive(spec, 'tinyproxy') else 'DOWN'} (nodes use {spec.node_proxy})")
    say(f"  shop entry: {spec.public_url} ({'forwarder up' if state.alive(spec, 'entry') else 'forwarder DOWN'})")


def _yn(v) -> str:
    return "up" if v else "DOWN"


ns = Collection("lab", up, down, status)
