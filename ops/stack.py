"""The deployed stack as data: placement labels, docker stack/service/secret commands and their parsers."""
from __future__ import annotations

from dataclasses import dataclass

from . import commands
from .facts import json_lines
from .stackconfig import NODE_LABELS

SPREAD_GROUPS = (("pxc.pg1", "pxc.pg2", "pxc.pg3"), ("pxc.redis1", "pxc.redis2", "pxc.redis3"))
ONE_SHOT = ("migrate",)   # services that run to completion once per deployed spec


def placement(node_names: list[str], current: dict[str, dict], lb_nodes: list[str]) -> dict[str, dict]:
    """Labels to add so each pg/redis member sits on its own node (round-robin) and nginx on the LB nodes.

    Labels already present anywhere are kept where they are: a PostgreSQL volume lives on its node.
    """
    add: dict[str, dict] = {}
    have = {label for labels in current.values() for label, v in labels.items() if v == "true"}
    for group in SPREAD_GROUPS:
        for i, label in enumerate(group):
            if label not in have:
                node = node_names[i % len(node_names)]
                add.setdefault(node, {})[label] = "true"
    if "pxc.lb" not in have:
        for node in lb_nodes or node_names[:1]:
            add.setdefault(node, {})["pxc.lb"] = "true"
    return add


assert set(NODE_LABELS) == {lbl for g in SPREAD_GROUPS for lbl in g} | {"pxc.lb"}


def secret_ls() -> str:
    return commands.docker("secret", "ls", "--format", "{{.Name}}")


def secret_create(name: str, key: str, stack: str) -> str:
    """The value comes on stdin: it never appears in a command line or process list."""
    return commands.docker("secret", "create", "--label", f"pxc.stack={stack}", "--label", f"pxc.key={key}",
                           name, "-")


def stack_deploy(stack: str, compose_file: str, env: dict) -> str:
    assigns = [f"{k}={v}" for k, v in sorted(env.items())]
    return commands.sh("env", *assigns, "docker", "stack", "deploy", "--prune", "--resolve-image", "always",
                       "--compose-file", compose_file, stack)


def service_ls(stack: str) -> str:
    return commands.docker("service", "ls", "--filter", f"label=com.docker.stack.namespace={stack}",
                           "--format", "{{json .}}")


def stack_ps(stack: str) -> str:
    return commands.docker("stack", "ps", "--no-trunc", "--format", "{{json .}}", stack)


def service_ps(service: str) -> str:
    return commands.docker("service", "ps", "--no-trunc", "--format",
                           "{{.Name}} {{.Node}} {{.DesiredState}} {{.CurrentState}} {{.Error}}", service)


def service_logs(service: str, tail: int = 20, follow: bool = False) -> str:
    args = ["service", "logs", "--no-task-ids", "--tail", str(tail)]
    if follow:
        args.append("--follow")
    return commands.docker(*args, service)


def service_scale(service: str, replicas: int) -> str:
    return commands.docker("service", "scale", "--detach", f"{service}={replicas}")


def stack_rm(stack: str) -> str:
    return commands.docker("stack", "rm", stack)


def stack_volumes_rm(stack: str) -> str:
    return (f"docker volume ls -q --filter label=com.docker.stack.namespace={stack} "
            f"| xargs -r docker volume rm -f")


def probe_services(stack: str, services: list[str], inner: str, user: str = "") -> str:
    """On one node: for each service with a container here, print '<service>|<inner output on one line>'."""
    as_user = f"-u {user} " if user else ""
    return (f"for s in {' '.join(services)}; do "
            f"c=$(docker ps -q --filter label=com.docker.swarm.service.name={stack}_$s | head -n1); "
            f"[ -n \"$c\" ] && echo \"$s|$(docker exec {as_user}$c sh -c {commands.sh(inner)} 2>&1 | tr '\\n' ' ')\"; "
            f"done; true")


def parse_probe(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        name, sep, value = line.partition("|")
        if sep:
            found[name.strip()] = value.strip()
    return found


PG_SERVICES = ["pg1", "pg2", "pg3"]
REDIS_SERVICES = ["redis1", "redis2", "redis3"]
SENTINEL_SERVICES = ["sentinel1", "sentinel2", "sentinel3"]
PSQL = "psql -h /var/run/postgresql -U postgres -XtA -F ' ' -c "
PG_IN_RECOVERY = PSQL + commands.sh("select pg_is_in_recovery()")
PG_REPLICATION = PSQL + commands.sh(
    "select application_name, state, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0) "
    "from pg_stat_replication order by 1")
REDIS_ROLE = "redis-cli -p 6379 info replication | grep -E '^(role|master_host|connected_slaves):'"
SENTINEL_MASTER = "redis-cli -p 26379 sentinel get-master-addr-by-name pxc"


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
