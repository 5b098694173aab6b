"""A planned switchover's decisions, pure: which standby takes over, whether the proxies paused and follow."""
from __future__ import annotations

import re

from ..core.errors import OpsError
from .data import Member, leader, sync_standbys
from .stack import parse_probe


def choose_candidate(members: list[Member], wanted: str | None) -> str | None:
    """The member that takes over from the leader (None: `wanted` leads already, nothing to do). Patroni in
    synchronous mode hands over to a synchronous standby only: default to it, refuse any other by name."""
    lead = leader(members)
    if lead is None:
        raise OpsError("no running PostgreSQL leader: the cluster is failing over by itself; wait and check "
                       "`inv status` (a planned switchover needs a leader)")
    names = [m.name for m in members]
    if wanted is not None and wanted not in names:
        raise OpsError(f"{wanted!r} is not a member of the PostgreSQL cluster (members: {', '.join(names)}); "
                       f"--to takes a member or an inventory node")
    if wanted == lead.name:
        return None
    syncs = [s for s in sync_standbys(members) if s != lead.name]
    if wanted is None:
        if syncs:
            return syncs[0]
        ready = [m for m in members if m.name != lead.name and m.state in ("streaming", "running")]
        if not ready:
            raise OpsError("no standby is streaming: nothing can take over now (`inv status`)")
        return min(ready, key=lambda m: (m.lag_mb or 0, m.name)).name
    if syncs and wanted not in syncs:
        raise OpsError(f"{wanted} is not the synchronous standby ({', '.join(syncs)} is): in synchronous mode Patroni "
                       f"hands over to it only, so nothing committed is lost; run `inv failover.db` (it picks "
                       f"{syncs[0]}) or `--to {syncs[0]}`")
    state = next(m.state for m in members if m.name == wanted)
    if state not in ("streaming", "running"):
        raise OpsError(f"{wanted} is {state}, not streaming: it cannot take over now (`inv status`)")
    return wanted


def server_connections(output: str) -> dict[str, int]:
    """{pg-proxy container: PgBouncer's open connections to the database} from every node's answer lines."""
    found = {}
    for container, value in parse_probe(output).items():
        found[container] = int(value) if value.strip().isdigit() else -1
    return found


def all_paused(counts: dict[str, int]) -> bool:
    """Every PgBouncer closed its database connections (PAUSE done: every transaction ended)."""
    return bool(counts) and all(n == 0 for n in counts.values())


def proxies_switched(output: str) -> dict[str, bool]:
    """{container: its HAProxy saw the new member UP and the old one DOWN} from 'c|<up>|<down>' lines."""
    found = {}
    for container, value in parse_probe(output).items():
        parts = value.split("|")
        found[container] = len(parts) == 2 and all(p.strip().isdigit() and int(p) > 0 for p in parts)
    return found


def replicas_caught_up(info: str) -> bool:
    """`info replication` of a master: every replica online at the master's offset (nothing left to copy), and
    the master counts one as good. Redis recounts its good replicas about once a second: until then a replica can
    be online while min-replicas-to-write still refuses writes (NOREPLICAS: one failed purchase in the lab)."""
    fields = dict(re.findall(r"(\w+):(\S+)", info))
    offset = fields.get("master_repl_offset")
    replicas = [dict(kv.split("=", 1) for kv in v.split(",") if "=" in kv)
                for k, v in fields.items() if re.fullmatch(r"slave\d+", k)]
    counted = fields.get("min_slaves_good_slaves", "1") != "0"   # absent when min-replicas-to-write is off
    return bool(replicas) and offset is not None and counted and all(
        r.get("state") == "online" and r.get("offset") == offset for r in replicas)
