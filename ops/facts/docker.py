"""Facts: a command and a parser of its output (parsers are pure and tested on captured output)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from ..builders import docker as commands


@dataclass(frozen=True)
class SwarmFact:
    state: str            # LocalNodeState: inactive, pending, active, error, locked
    node_id: str
    cluster_id: str
    node_address: str
    is_manager: bool      # ControlAvailable
    managers: int
    nodes: int
    error: str
    hostname: str
    server_version: str
    heartbeat_s: float | None = None   # the swarm's dispatcher heartbeat period (managers only)

    @property
    def active(self) -> bool:
        return self.state == "active"


@dataclass(frozen=True)
class SwarmNodeRow:
    node_id: str
    hostname: str
    status: str           # Ready, Down, Unknown
    availability: str     # Active, Pause, Drain
    manager_status: str   # Leader, Reachable, Unreachable, "" for workers
    is_self: bool


DOCKER_INFO = commands.docker_info()
NODE_LS = commands.node_ls()


def parse_docker_info(output: str) -> SwarmFact:
    info = json.loads(output)
    swarm = info.get("Swarm") or {}
    cluster = swarm.get("Cluster") or {}
    return SwarmFact(
        state=swarm.get("LocalNodeState", "inactive"),
        node_id=swarm.get("NodeID", ""),
        cluster_id=cluster.get("ID", ""),
        node_address=swarm.get("NodeAddr", ""),
        is_manager=bool(swarm.get("ControlAvailable")),
        managers=int(swarm.get("Managers") or 0),
        nodes=int(swarm.get("Nodes") or 0),
        error=swarm.get("Error", ""),
        hostname=info.get("Name", ""),
        server_version=info.get("ServerVersion", ""),
        heartbeat_s=_heartbeat_s(cluster),
    )


def _heartbeat_s(cluster: dict) -> float | None:
    period = ((cluster.get("Spec") or {}).get("Dispatcher") or {}).get("HeartbeatPeriod")
    return period / 1e9 if period else None


def parse_docker_time(output: str) -> float | None:
    """Docker's RFC 3339 time with nanoseconds (State.FinishedAt: 2026-12-07T11:01:30.612345678Z) as epoch
    seconds; None for no time or Docker's zero time (a container that has not finished)."""
    m = re.search(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", output)
    if not m or m.group(1).startswith("0001-"):
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    whole = datetime.fromisoformat(m.group(1) + zone).timestamp()
    return whole + float("0" + (m.group(2) or ".0"))


def json_lines(output: str) -> list[dict]:
    """docker ... --format '{{json .}}' prints one JSON object per line."""
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def parse_node_ls(output: str) -> list[SwarmNodeRow]:
    rows = []
    for r in json_lines(output):
        rows.append(SwarmNodeRow(
            node_id=r["ID"],
            hostname=r["Hostname"],
            status=r["Status"],
            availability=r["Availability"],
            manager_status=r.get("ManagerStatus", ""),
            is_self=r.get("Self", False),
        ))
    return rows
