"""Facts about the data tier: Patroni's members, replication on the leader, etcd health, Redis roles."""
from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    name: str
    role: str            # Leader, Sync Standby, Replica (patronictl's words)
    state: str           # running, streaming, starting, stopped, ...
    timeline: int | None
    lag_mb: float | None


@dataclass(frozen=True)
class Standby:
    name: str
    state: str           # pg_stat_replication.state: streaming, catchup, ...
    lag_bytes: int


def parse_patroni(output: str) -> list[Member]:
    """`patronictl list -f json`: one entry per member of the cluster."""
    return [Member(m["Member"], m.get("Role", ""), m.get("State", ""), m.get("TL"), m.get("Lag in MB"))
            for m in json.loads(output or "[]")]


def parse_replication(output: str) -> list[Standby]:
    """pg_stat_replication rows 'name state lag' of the leader (joined on one line by the probe)."""
    parts = output.split()
    return [Standby(parts[i], parts[i + 1], int(float(parts[i + 2]))) for i in range(0, len(parts) - 2, 3)]


def leader(members: list[Member]) -> Member | None:
    return next((m for m in members if m.role == "Leader" and m.state == "running"), None)


def sync_standbys(members: list[Member]) -> list[str]:
    return [m.name for m in members if m.role == "Sync Standby"]


def database_problems(members: list[Member], standbys: list[Standby], expected: int) -> list[str]:
    """What is wrong with the PostgreSQL cluster (empty when it is whole): leader, sync standby, streaming."""
    problems = []
    leaders = [m.name for m in members if m.role == "Leader"]
    if not leaders:
        problems.append("NO LEADER")
    elif len(leaders) > 1:
        problems.append(f"{len(leaders)} leaders {leaders}")
    if not sync_standbys(members):
        problems.append("no synchronous standby: commits are confirmed by the leader alone")
    streaming = {s.name for s in standbys if s.state == "streaming"}
    missing = sorted(m.name for m in members if m.role != "Leader" and m.name not in streaming)
    absent = expected - len(members)
    if missing or absent > 0:
        problems.append(f"{len(streaming)} of {expected - 1} replicas streaming"
                        + (f" (not streaming: {', '.join(missing)})" if missing else "")
                        + (f", {absent} member(s) missing" if absent > 0 else ""))
    return problems


def database_summary(members: list[Member], standbys: list[Standby], expected: int) -> str:
    """One status line: the leader, each replica with its role, state and lag; problems flagged DEGRADED."""
    lead = leader(members)
    lag = {s.name: s for s in standbys}
    parts = [f"{m.name} {m.role.lower()} {lag[m.name].state if m.name in lag else m.state}"
             + (f" lag {lag[m.name].lag_bytes} B" if m.name in lag else "")
             for m in members if m.role != "Leader"]
    head = f"postgres: leader {lead.name} (timeline {lead.timeline})" if lead else "postgres: NO LEADER"
    problems = database_problems(members, standbys, expected)
    return f"{head}; {', '.join(parts) or 'no replicas'}" + (f"; DEGRADED: {'; '.join(problems)}" if problems else "")


def parse_etcd_health(output: str) -> dict[str, bool]:
    """`etcdctl endpoint health` lines: {endpoint: healthy}."""
    found = {}
    for line in output.splitlines():
        endpoint, sep, rest = line.partition(" is ")
        if sep and endpoint.startswith("http"):
            found[endpoint] = rest.startswith("healthy")
    return found


def etcd_summary(health: dict[str, bool], expected: int) -> str:
    ok = sorted(e.split("//")[-1].split(":")[0] for e, h in health.items() if h)
    line = f"etcd: {len(ok)}/{expected} members healthy ({', '.join(ok) or 'none'})"
    return line + ("" if len(ok) == expected else f"; DEGRADED: quorum needs {expected // 2 + 1}")


def parse_roles(answers: dict[str, str]) -> dict[str, str]:
    """{service: 'role:master master_host:... connected_slaves:N'} -> {service: master|slave}."""
    return {s: v.split()[0].replace("role:", "") for s, v in answers.items() if v.split()}


def redis_summary(sentinel_answers: dict[str, str], roles: dict[str, str], sentinels: int = 3) -> str:
    """One status line: the master the Sentinels name (they should agree) and every node's role."""
    named = sorted({v.split()[0] for v in sentinel_answers.values() if v.split()})
    said = ", ".join(named) or "none"
    listed = ", ".join(f"{s}={r}" for s, r in sorted(roles.items()))
    masters = [s for s, r in roles.items() if r == "master"]
    warn = "" if len(named) == 1 and len(masters) == 1 and named == masters else "; DEGRADED: sentinels and roles disagree"
    return f"redis: sentinels {len(sentinel_answers)}/{sentinels} say master is {said}; roles: {listed}{warn}"
