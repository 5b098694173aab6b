"""Swarm membership as an idempotent operation over SSH: read each node's facts, change only what is missing."""
from __future__ import annotations

import json

from ..builders import docker as commands
from ..core.errors import OpsError
from ..core.inventory import Cluster
from ..core.output import MASKER, say
from ..core.remote import Remote, fail_on_errors
from ..core.retry import poll
from ..facts import docker as facts

# A node is marked down after 3 missed heartbeats. At Docker's default of 5 s, a 15 s network blip already made the
# swarm restart every task of the node, and on its return it replaced them again: a running nginx, the database's
# synchronous standby and the object store restarted 50-60 s after the return (partition drill), buyers slowed.
# 20 s: a node must be silent for about a minute. Nothing on the purchase path waits for that: web, worker and every
# proxy run two or more replicas on different nodes, and the data services are pinned to their nodes anyway.
HEARTBEAT_S = 20


def swarm_facts(remote: Remote, nodes=None) -> dict[str, facts.SwarmFact]:
    results = remote.run_all(nodes or remote.cluster.nodes, facts.DOCKER_INFO, timeout=30, echo=False)
    fail_on_errors(results)
    return {name: facts.parse_docker_info(r.stdout) for name, r in results.items()}


def settled_facts(remote: Remote, timeout: float) -> dict[str, facts.SwarmFact]:
    """Facts once no node is half-way (pending: a restarted member still reconnecting to its swarm)."""
    last = {}

    def settled():
        last["state"] = swarm_facts(remote)
        return all(f.state in ("active", "inactive") for f in last["state"].values())

    poll(settled, timeout)
    return last["state"]


def leader_rows(remote: Remote, node) -> list[facts.SwarmNodeRow] | None:
    """`docker node ls` from one manager, or None while the swarm has no leader (no quorum)."""
    r = remote.run(node, facts.NODE_LS, timeout=30, echo=False)
    return facts.parse_node_ls(r.stdout) if r.ok else None


def wait_for_leader(remote: Remote, cluster: Cluster, timeout: float) -> list[facts.SwarmNodeRow] | None:
    return poll(lambda: next((rows for m in cluster.managers if (rows := leader_rows(remote, m)) is not None),
                             None), timeout)


def ensure_swarm(remote: Remote, reset_broken: bool = False, quorum_wait: float = 40) -> list[str]:
    """Make every inventory node a swarm member with its role and labels. Returns what was changed."""
    cluster = remote.cluster
    state = settled_facts(remote, quorum_wait)
    changes = _repair(remote, state, reset_broken, quorum_wait)
    if changes:
        state = swarm_facts(remote)
    first = cluster.managers[0]
    if not any(state[m.name].active for m in cluster.managers):
        remote.check(first, commands.swarm_init(first.address))
        changes.append(f"{first.name}: initialised the swarm")
        state[first.name] = swarm_facts(remote, [first])[first.name]
    leader = next(m for m in cluster.managers if state[m.name].active)
    changes += _join_missing(remote, state, leader)
    changes += _ensure_labels(remote, leader)
    changes += _ensure_heartbeat(remote, leader)
    return changes


def _repair(remote: Remote, state: dict, reset_broken: bool, quorum_wait: float) -> list[str]:
    """Managers in different swarms, or a swarm without leader: refuse (real cluster) or reset (lab)."""
    cluster = remote.cluster
    active_ids = {state[m.name].cluster_id for m in cluster.managers if state[m.name].active}
    if len(active_ids) > 1:
        if not reset_broken:
            raise OpsError("managers belong to different swarms: run `docker swarm leave --force` on the odd ones out")
        return _reset(remote)
    if any(state[n.name].active for n in cluster.nodes) and wait_for_leader(remote, cluster, quorum_wait) is None:
        if not reset_broken:
            raise OpsError("the swarm has no leader (quorum lost): bring the managers back, or "
                           "`docker swarm init --force-new-cluster` on a surviving manager")
        say("swarm has no leader after restart: resetting it (lab only)")
        return _reset(remote)
    return []


def _join_missing(remote: Remote, state: dict, leader) -> list[str]:
    tokens, changes = {}, []
    for node in remote.cluster.nodes:
        if state[node.name].active:
            continue
        if node.role not in tokens:
            tokens[node.role] = remote.check(leader, commands.swarm_join_token(node.role), echo=False).stdout.strip()
            MASKER.add(tokens[node.role])
        remote.check(node, commands.swarm_join(tokens[node.role], leader.address, node.address), timeout=60)
        changes.append(f"{node.name}: joined as {node.role}")
    return changes


def _reset(remote: Remote) -> list[str]:
    results = remote.run_all(remote.cluster.nodes, commands.swarm_leave(), timeout=60)
    fail_on_errors({k: r for k, r in results.items() if "not part of a swarm" not in r.stderr})
    return ["left the broken swarm on every node"]


def _ensure_labels(remote: Remote, leader) -> list[str]:
    cluster = remote.cluster
    state = swarm_facts(remote)
    wanted = {state[n.name].node_id: (n, n.labels) for n in cluster.nodes if n.labels}
    if not wanted:
        return []
    r = remote.check(leader, commands.node_inspect(*wanted), echo=False)
    changes = []
    for spec in json.loads(r.stdout):
        node, labels = wanted[spec["ID"]]
        have = spec.get("Spec", {}).get("Labels") or {}
        missing = {k: v for k, v in labels.items() if have.get(k) != v}
        if missing:
            remote.check(leader, commands.node_label_add(spec["ID"], missing))
            changes.append(f"{node.name}: labels {', '.join(f'{k}={v}' for k, v in missing.items())}")
    return changes


def heartbeat_change(current: float | None, wanted: int = HEARTBEAT_S) -> str | None:
    """What to change about the dispatcher heartbeat; None when it is as wanted."""
    if current == wanted:
        return None
    return f"dispatcher heartbeat {current:g} s -> {wanted} s" if current else f"dispatcher heartbeat -> {wanted} s"


def _ensure_heartbeat(remote: Remote, leader) -> list[str]:
    change = heartbeat_change(swarm_facts(remote, [leader])[leader.name].heartbeat_s)
    if change:
        remote.check(leader, commands.swarm_heartbeat(HEARTBEAT_S))
    return [f"swarm: {change}"] if change else []


def swarm_summary(remote: Remote) -> tuple[dict, list[facts.SwarmNodeRow] | None]:
    state = {}
    results = remote.run_all(remote.cluster.nodes, facts.DOCKER_INFO, timeout=20, echo=False)
    for name, r in results.items():
        state[name] = facts.parse_docker_info(r.stdout) if r.ok else r
    rows = None
    for m in remote.cluster.managers:
        if isinstance(state.get(m.name), facts.SwarmFact):
            rows = leader_rows(remote, m)
            if rows is not None:
                break
    return state, rows
