"""Planned switchovers without a failed request: PostgreSQL through Patroni (PgBouncer paused meanwhile, so
transactions wait instead of failing) and Redis through the Sentinels; each waits until the new leader serves
through the proxies and the cluster is whole again."""
from __future__ import annotations

import json
import time
from contextlib import contextmanager

from ..builders import docker as commands, stack as S, switchover as B
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from ..core.retry import poll
from ..facts import data as D, switchover as F
from ..facts.stack import parse_probe
from . import rolling, status
from .containers import in_one
from .swarm import swarm_facts

PAUSE_WAIT_S = 10        # transactions in flight must end within this once PgBouncer pauses
ROUTE_WAIT_S = 30        # the proxies' health checks see the new primary within this
WHOLE_WAIT_S = 180       # the old leader rejoins as a standby within this
REDIS_HOLD_MS = 45000    # writes on the old Redis master wait at most this long (the pause ends by itself)
DRAIN_CHECKS_S = 3       # redis-proxy checks every 1 s (300 ms after a failure), fall 2: a replica is DOWN within this


def member_on_node(remote: Remote, mgr, cl, node: str) -> str:
    """The PostgreSQL member placed on an inventory node (its pxc.pgN label)."""
    node_id = swarm_facts(remote, [cl.node(node)])[node].node_id
    spec = json.loads(remote.check(mgr, commands.node_inspect(node_id), echo=False).stdout)[0]
    labels = spec.get("Spec", {}).get("Labels") or {}
    members = [m for m in S.PG_SERVICES if labels.get(f"pxc.{m}") == "true"]
    if not members:
        raise OpsError(f"no PostgreSQL member is placed on {node} (labels pxc.pg1..3): choose another node or a member")
    return members[0]


def _every_node(remote: Remote, cl, command: str) -> str:
    """The answer lines of every node that answered (parsers take '<container>|...' lines)."""
    results = remote.run_all(cl.nodes, command, timeout=30, echo=False)
    return "\n".join(r.stdout for r in results.values() if r.ok)


@contextmanager
def pgbouncer_paused(remote: Remote, cl):
    """PAUSE every PgBouncer (transactions in flight end, new ones wait), RESUME on the way out whatever happens."""
    t0 = time.monotonic()
    try:
        counts = F.server_connections(_every_node(remote, cl, B.pause_pgbouncer_drained(cl.stack, PAUSE_WAIT_S)))
        if not F.all_paused(counts):
            raise OpsError(f"PgBouncer did not pause within {PAUSE_WAIT_S} s (connections still open: {counts}): a "
                           f"long transaction runs; nothing was switched, try again")
        say(f"  pg-proxy: {len(counts)} PgBouncer paused after {time.monotonic() - t0:.1f} s (new transactions wait)")
        yield
    finally:
        _every_node(remote, cl, B.resume_pgbouncer(cl.stack))
        say(f"  pg-proxy: resumed; transactions waited at most {time.monotonic() - t0:.1f} s")


def patroni_switchover(remote: Remote, cl, lead: str, candidate: str) -> None:
    for member in [lead] + [m for m in S.PG_SERVICES if m != lead]:
        r = in_one(remote, cl, member, S.patroni_switchover(lead, candidate), user="postgres", timeout=120)
        if r is not None and r.ok:
            return
    raise OpsError(f"patronictl switchover {lead} -> {candidate} failed: {r.describe() if r else 'no pg container'} "
                   f"(`inv logs {lead}`)")


def wait_routed(remote: Remote, cl, backend: str, new: str, old: str, since: float, service: str) -> bool:
    def routed():
        seconds = int(time.monotonic() - since) + 5
        seen = F.proxies_switched(_every_node(remote, cl, B.proxy_changes(cl.stack, service, seconds, backend, new,
                                                                          old)))
        return bool(seen) and all(seen.values())
    return bool(poll(routed, ROUTE_WAIT_S, first=0.3, cap=1))


def wait_whole(remote: Remote, cl, image: str) -> float:
    t0 = time.monotonic()
    if not poll(lambda: rolling.group_whole(remote, cl, image) is None, WHOLE_WAIT_S, first=1, cap=4):
        raise OpsError(f"the new leader serves, but the {image} cluster is not whole after {WHOLE_WAIT_S} s: "
                       f"{rolling.group_whole(remote, cl, image)} (`inv status`)")
    return time.monotonic() - t0


def db(remote: Remote, mgr, cl, to: str | None = None) -> str:
    """Switch the PostgreSQL leader over to `to` (a member or an inventory node; default: the sync standby)."""
    problem = rolling.group_whole(remote, cl, "postgres")
    if problem:
        raise OpsError(f"the database is not whole, no planned switchover now: {problem} (`inv status`)")
    members = status.pg_members(remote, cl)
    wanted = member_on_node(remote, mgr, cl, to) if to and to in [n.name for n in cl.nodes] else to
    candidate = F.choose_candidate(members, wanted)
    lead = D.leader(members).name
    if candidate is None:
        return f"failover.db: {lead} leads already: nothing to do"
    say(f"failover.db: {lead} -> {candidate} (Patroni switchover; PgBouncer holds transactions meanwhile)")
    in_one(remote, cl, lead, B.PG_CHECKPOINT, user="postgres", timeout=300)
    t0 = time.monotonic()
    with pgbouncer_paused(remote, cl):
        patroni_switchover(remote, cl, lead, candidate)      # returns once Patroni reports the switchover done
        if not poll(lambda: rolling.leader_of(remote, cl, "postgres") == candidate, 20, first=0.3, cap=2):
            raise OpsError(f"Patroni did not make {candidate} the leader within 20 s (`inv status`, `inv logs {lead}`)")
        say(f"  {candidate} leads after {time.monotonic() - t0:.1f} s")
        if not wait_routed(remote, cl, "pg_primary", candidate, lead, t0, "pg-proxy"):
            say(f"  warning: not every pg-proxy logged the change within {ROUTE_WAIT_S} s; resuming anyway")
    switched = time.monotonic() - t0
    whole = wait_whole(remote, cl, "postgres")
    return (f"failover.db: {candidate} is the leader, serving through pg-proxy after {switched:.1f} s; "
            f"{lead} streams again, cluster whole {whole:.0f} s later")


def redis_run_ids(remote: Remote, cl, services) -> dict[str, str]:
    return {s: v.split(":", 1)[-1].strip() for s, v in status.probe(remote, cl, services, B.REDIS_RUN_ID).items()}


def steer(remote: Remote, cl, command: str) -> None:
    """One runtime-API line to every redis-proxy's HAProxy."""
    _every_node(remote, cl, B.haproxy(cl.stack, "redis-proxy", command))


def sentinel_failover(remote: Remote, cl, old: str) -> str:
    r = next((r for s in S.SENTINEL_SERVICES if (r := in_one(remote, cl, s, S.sentinel_failover())) is not None
              and r.ok), None)
    if r is None:
        raise OpsError("no Sentinel accepted the failover (`inv status`, `inv logs sentinel1`)")
    new = poll(lambda: (m := rolling.leader_of(remote, cl, "redis")) not in (None, old) and m, 30, first=0.2, cap=1)
    if not new:
        raise OpsError("the Sentinels did not elect a new master within 30 s (`inv logs sentinel1`)")
    return new


def back_in_service(remote: Remote, cl, server: str) -> None:
    """Leave maintenance through drain (weight 0, checks running) and only then ready: leaving maintenance marks a
    server UP at once (HAProxy 2.6), and `balance first` would send clients to the old master before its checks
    find it is a replica now (seen in the lab: one failed purchase per switchover)."""
    steer(remote, cl, f"set server {server} state drain")
    time.sleep(DRAIN_CHECKS_S)
    steer(remote, cl, f"set server {server} state ready")


def caught_up(remote: Remote, cl, member: str) -> bool:
    """A replica of this Redis member is connected and has caught up with it."""
    return F.replicas_caught_up(status.probe(remote, cl, [member], B.REDIS_REPLICATION).get(member, ""))


@contextmanager
def writes_held(remote: Remote, cl, old: str):
    """Writes on the old master wait (CLIENT PAUSE WRITE, bounded: it ends by itself) and redis-proxy keeps its
    clients there whatever its checks say, until the body has moved them. On the way out the proxies follow their
    checks again, the old master forced DOWN first if it was demoted. (A run killed with SIGKILL leaves the proxies'
    check of the old master off: restart redis-proxy, `docker service update --force <stack>_redis-proxy`.)"""
    backend_old = f"{B.REDIS_BACKEND}/{old}"
    held = in_one(remote, cl, old, B.redis_pause_writes(REDIS_HOLD_MS))
    if held is None or not held.ok:
        raise OpsError(f"could not hold the writes on {old}: {held.describe() if held else 'no container'} (nothing "
                       f"was changed; `inv status`)")
    demoted = False
    try:
        steer(remote, cl, f"disable health {backend_old}")
        poll(lambda: caught_up(remote, cl, old), 5, first=0.1, cap=0.5)
        yield
        demoted = True
    finally:
        # a demoted old master stays in maintenance until it replicates (see redis()): while the Sentinels convert
        # it, it may still answer role:master for a moment, and `balance first` would send clients back to it
        steer(remote, cl, f"enable health {backend_old}" + (f"; set server {backend_old} health down" if demoted
                                                             else f"; set server {backend_old} state ready"))
        released = in_one(remote, cl, old, B.REDIS_UNPAUSE)
        if released is None or not released.ok:   # the pause ends by itself; the lowered setting would not
            say(f"  warning: {old} may still hold writes with min-replicas-to-write 0: restart it "
                f"(`docker service update --force {cl.stack}_{old}`) once it is a replica")


def redis(remote: Remote, cl) -> str:
    """A Sentinel failover of the Redis master. Writes wait on the old master (never two masters taking writes, so
    nothing is lost) until the new one takes writes; then every proxy moves its clients there at once. A command
    still waiting at that moment fails (pretix's Redis client does not retry): the hold is kept as short as the
    Sentinels allow."""
    problem = rolling.group_whole(remote, cl, "redis")
    if problem:
        raise OpsError(f"Redis is not whole, no planned failover now: {problem} (`inv status`)")
    old = rolling.leader_of(remote, cl, "redis")
    say(f"failover.redis: {old} -> a replica the Sentinels choose (writes held on {old} meanwhile)")
    t0 = time.monotonic()
    with writes_held(remote, cl, old):
        new = sentinel_failover(remote, cl, old)
        say(f"  Sentinels name {new} after {time.monotonic() - t0:.1f} s")
        # the new master takes writes once a replica follows it (min-replicas-to-write): then move every proxy's
        # clients at once, without waiting for its checks to count up
        if not poll(lambda: caught_up(remote, cl, new), 10, first=0.1, cap=0.3):
            say(f"  warning: no replica follows {new} yet: moving the clients anyway")
        steer(remote, cl, f"set server {B.REDIS_BACKEND}/{new} health up; set server {B.REDIS_BACKEND}/{old} state "
                          f"maint; shutdown sessions server {B.REDIS_BACKEND}/{old}")
        say(f"  redis-proxy: clients moved to {new} after {time.monotonic() - t0:.1f} s")
    switched = time.monotonic() - t0

    def served():
        want = redis_run_ids(remote, cl, [new]).get(new)
        via = parse_probe(_every_node(remote, cl, B.each(cl.stack, "redis-proxy", B.REDIS_RUN_ID)))
        return want and via and all(v.split(":", 1)[-1].strip() == want for v in via.values())

    try:
        if not poll(served, ROUTE_WAIT_S, first=0.3, cap=1):
            raise OpsError(f"redis-proxy does not reach {new} after {ROUTE_WAIT_S} s (`inv logs redis-proxy`)")
        whole = wait_whole(remote, cl, "redis")
    finally:
        back_in_service(remote, cl, f"{B.REDIS_BACKEND}/{old}")
    return (f"failover.redis: {new} is the master, serving through redis-proxy after {switched:.1f} s (writes "
            f"waited at most that long); {old} replicates again, cluster whole {whole:.0f} s later")
