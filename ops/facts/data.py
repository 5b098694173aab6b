"""Facts about the data tier: PostgreSQL roles and replication, Redis roles and what the Sentinels say."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Standby:
    name: str
    state: str       # streaming, catchup, ...
    lag_bytes: int


def parse_in_recovery(answers: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """From {service: 't'|'f'|error text}: (the primaries, every answer)."""
    return sorted(s for s, v in answers.items() if v == "f"), answers


def parse_replication(output: str) -> list[Standby]:
    """pg_stat_replication rows 'name state lag' (joined on one line by the probe) of the primary."""
    parts = output.split()
    return [Standby(parts[i], parts[i + 1], int(float(parts[i + 2]))) for i in range(0, len(parts) - 2, 3)]


def database_summary(primaries: list[str], answers: dict[str, str], standbys: list[Standby], members: int) -> str:
    """One status line: the primary, its standbys and lag; NO PRIMARY, several primaries or DEGRADED flagged."""
    if not primaries:
        said = ", ".join(f"{k}={v}" for k, v in sorted(answers.items())) or "no containers"
        return f"postgres: NO PRIMARY ({said})"
    listed = ", ".join(f"{s.name} {s.state} lag {s.lag_bytes} B" for s in standbys) or "NONE streaming"
    warn = f"; WARNING: {len(primaries)} primaries {primaries}" if len(primaries) > 1 else ""
    streaming = sum(1 for s in standbys if s.state == "streaming")
    if streaming < members - 1:
        warn += f"; DEGRADED: {streaming} of {members - 1} standbys streaming"
    return f"postgres: primary {primaries[0]}; standbys: {listed}{warn}"


def parse_roles(answers: dict[str, str]) -> dict[str, str]:
    """{service: 'role:master master_host:... connected_slaves:N'} -> {service: master|slave}."""
    return {s: v.split()[0].replace("role:", "") for s, v in answers.items() if v.split()}


def redis_summary(sentinel_answers: dict[str, str], roles: dict[str, str], sentinels: int = 3) -> str:
    """One status line: the master the Sentinels name (they should agree) and every node's role."""
    named = sorted({v.split()[0] for v in sentinel_answers.values() if v.split()})
    said = ", ".join(named) or "none"
    listed = ", ".join(f"{s}={r}" for s, r in sorted(roles.items()))
    return f"redis: sentinels {len(sentinel_answers)}/{sentinels} say master is {said}; roles: {listed}"
