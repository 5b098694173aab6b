"""The faults a drill injects: a crashed container (the data tier's leader, a web task, a proxy), a node cut
off the network, a node's engine killed. Each names its target from facts, then acts through builders."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from ..builders import stack as S
from ..cluster import rolling, status
from ..cluster.deploy import snapshot
from ..cluster.swarm import swarm_facts
from ..core.errors import OpsError
from ..core.remote import Remote
from ..facts.docker import parse_docker_time
from ..facts.stack import converged
from ..lab import faults as lab_faults
from ..lab.spec import LabSpec


@dataclass
class Target:
    remote: Remote
    cl: object
    mgr: object
    spec: LabSpec | None = None       # the lab, for faults only the lab can inject (network, engine)
    node: str | None = None           # --node: the node to hit (default: the database leader's)
    struck_at: float | None = None    # when the destructive step started (finding the target is not the fault)
    landed_at: float | None = None    # when it took effect (a killed task dies): purchases begun before were in flight


@dataclass(frozen=True)
class Fault:
    name: str
    what: str                          # for the summary
    inject: Callable[[Target], str]    # returns what it hit
    heal: Callable[[Target, str], str] | None = None
    hold_s: float = 0                  # seconds between inject and heal
    lab_only: bool = False


def service_node(t: Target, service: str) -> str:
    """The inventory node running the service's (first) task."""
    r = t.remote.check(t.mgr, S.running_nodes(f"{t.cl.stack}_{service}"), echo=False)
    hosts = [line.split()[0] for line in r.stdout.splitlines() if " Running " in f" {line} "]
    by_host = {f.hostname: name for name, f in swarm_facts(t.remote).items()}
    for h in hosts:
        if h in by_host:
            return by_host[h]
    raise OpsError(f"no running task of {service}: is the stack healthy (inv status)?")


def strike(t: Target, action: Callable[[], object]):
    """Run the fault's destructive step and note when it started: the lookups before it (over SSH, slow under load)
    are not part of what buyers see, and counting them would hide part of the recovery inside the fault."""
    t.struck_at = time.time()
    result = action()
    t.landed_at = time.time()
    return result


def kill(t: Target, service: str) -> str:
    node = service_node(t, service)
    r = strike(t, lambda: t.remote.check(t.cl.node(node), S.kill_container(t.cl.stack, service), echo=False))
    died = parse_docker_time(r.stdout)
    # the instant it died, if the node's clock agrees with ours; else the strict bound: when the kill began
    t.landed_at = died if died and t.struck_at <= died <= t.landed_at else t.struck_at
    return f"{service} on {node}"


def leader(t: Target, image: str) -> str:
    name = rolling.leader_of(t.remote, t.cl, image)
    if not name:
        raise OpsError(f"no {image} leader/master to kill: the cluster is not whole (inv status)")
    return name


def victim_node(t: Target) -> str:
    """--node, else the node of the database leader (it holds the most: primary, an etcd member, ...)."""
    return t.node or service_node(t, leader(t, "postgres"))


def need_lab(t: Target, fault: str) -> LabSpec:
    if t.spec is None:
        raise OpsError(f"drill.{fault} cuts a node from this machine and works on the lab only; on a real cluster "
                       f"follow RUNBOOK.md (a node is gone)")
    return t.spec


def cut(t: Target) -> str:
    node = victim_node(t)
    spec = need_lab(t, "partition")
    strike(t, lambda: lab_faults.cut(spec, node))
    return node


def kill_engine(t: Target) -> str:
    node = victim_node(t)
    spec = need_lab(t, "node")
    strike(t, lambda: lab_faults.kill_engine(spec, node))
    return node


FAULTS = {f.name: f for f in (
    Fault("db", "the PostgreSQL leader's container killed", lambda t: kill(t, leader(t, "postgres"))),
    Fault("redis", "the Redis master's container killed", lambda t: kill(t, leader(t, "redis"))),
    Fault("web", "a web task's container killed", lambda t: kill(t, "web")),
    Fault("worker", "a worker task's container killed", lambda t: kill(t, "worker")),
    Fault("pg-proxy", "a pg-proxy task's container killed", lambda t: kill(t, "pg-proxy")),
    Fault("redis-proxy", "a redis-proxy task's container killed", lambda t: kill(t, "redis-proxy")),
    Fault("nginx", "an nginx task's container killed", lambda t: kill(t, "nginx")),
    Fault("partition", "a node cut off the network, then back", cut,
          heal=lambda t, node: (lab_faults.reconnect(t.spec, node), node)[1], hold_s=45, lab_only=True),
    Fault("node", "a node's engine (dockerd) killed, then restarted", kill_engine,
          heal=lambda t, node: (lab_faults.restart_engine(t.spec), node)[1], hold_s=45, lab_only=True),
)}
PROXIES = ("pg-proxy", "redis-proxy", "nginx")
ALL = ("db", "redis", "web", "worker", *PROXIES, "partition", "node")


def whole(remote: Remote, cl, mgr) -> list[str]:
    """What keeps the cluster from being whole (empty when it is): services, database, etcd, Redis."""
    services, tasks = snapshot(remote, mgr, cl.stack)
    done, pending = converged(services, tasks, cl.stack)
    problems = [] if done else [f"not converged: {', '.join(pending)}"]
    for line in (status.database_line(remote, cl), status.etcd_line(remote, cl), status.redis_line(remote, cl)):
        if "DEGRADED" in line or "NO LEADER" in line:
            problems.append(line)
    return problems
