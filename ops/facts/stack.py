"""Facts about the deployed stack: parsers of docker service/stack/probe output, and convergence."""
from __future__ import annotations

from dataclasses import dataclass

from .docker import json_lines

ONE_SHOT = ("migrate",)   # services that run to completion once per deployed spec


def parse_probe(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        name, sep, value = line.partition("|")
        if sep:
            found[name.strip()] = value.strip()
    return found


@dataclass(frozen=True)
class ServiceRow:
    name: str
    mode: str
    running: int
    desired: int
    image: str

    @property
    def short(self) -> str:
        return self.name.split("_", 1)[-1]


def parse_service_ls(output: str) -> list[ServiceRow]:
    rows = []
    for r in json_lines(output):
        running, _, desired = r["Replicas"].partition("/")
        desired = desired.split(" ")[0]  # "1/1 (max 1 per node)"
        rows.append(ServiceRow(r["Name"], r["Mode"], int(running), int(desired or 0), r["Image"]))
    return sorted(rows, key=lambda s: s.name)


@dataclass(frozen=True)
class TaskRow:
    name: str          # stack_service.slot (or .node id for global)
    node: str
    desired: str       # Running, Shutdown
    current: str       # "Running 2 minutes ago", "Complete 1 minute ago", "Failed ..."
    error: str
    image: str
    id: str = ""

    @property
    def service(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def state(self) -> str:
        return self.current.split(" ", 1)[0]


def parse_stack_ps(output: str) -> list[TaskRow]:
    rows = []
    for r in json_lines(output):
        rows.append(TaskRow(r["Name"].strip().lstrip("\\_ ").strip(), r["Node"], r["DesiredState"],
                            r["CurrentState"], r.get("Error", ""), r.get("Image", ""), r.get("ID", "")))
    return rows


def converged(services: list[ServiceRow], tasks: list[TaskRow], stack: str) -> tuple[bool, list[str]]:
    """(done, what is still pending): long-running services at desired replicas, one-shots completed."""
    pending = []
    for s in services:
        if s.short in ONE_SHOT:
            mine = [t for t in tasks if t.service == s.name]
            if not any(t.state == "Complete" and s.image.split("@")[0] in (t.image.split("@")[0], "")
                       for t in mine):
                last = mine[0].current if mine else "no task yet"
                pending.append(f"{s.short}: {last}")
        elif s.running < s.desired or s.desired == 0:
            pending.append(f"{s.short} {s.running}/{s.desired}")
    return (not pending, pending)


def failing_services(tasks: list[TaskRow], threshold: int = 3, seen: frozenset = frozenset()) \
        -> dict[str, list[TaskRow]]:
    """Services whose tasks failed or were rejected repeatedly (restart loops, bad image, bad config).

    Tasks whose id is in seen (already there before this deploy) are history, not evidence.
    """
    bad: dict[str, list[TaskRow]] = {}
    for t in tasks:
        if t.state in ("Failed", "Rejected") and t.id not in seen:
            bad.setdefault(t.service, []).append(t)
    return {s: ts for s, ts in bad.items() if len(ts) >= threshold}


UPDATING = ("updating", "rollback_started", "paused", "rollback_paused")
ROLLED_BACK = ("rollback_completed", "rollback_paused", "paused")


def parse_service_labels(output: str, stack: str) -> dict[str, str]:
    """'<stack>_<service> <label value>' lines -> {service: value}; Go's '<no value>' (label unset) -> ''."""
    pairs = (line.split(None, 1) + [""] for line in output.splitlines() if line.strip())
    return {name.removeprefix(f"{stack}_"): value.strip().replace("<no value>", "") for name, value, *_ in pairs}


def parse_update_states(output: str) -> dict[str, str]:
    return dict(line.split(None, 1) for line in output.splitlines() if len(line.split()) == 2)


def updates_pending(states: dict[str, str], changed: list[str]) -> tuple[list[str], list[str]]:
    """(services of this deploy still updating, services whose update Swarm rolled back or paused)."""
    pending = sorted(f"{s.split('_', 1)[-1]} updating" for s in changed if states.get(s) in UPDATING)
    failed = sorted(s for s in changed if states.get(s) in ROLLED_BACK)
    return pending, failed
