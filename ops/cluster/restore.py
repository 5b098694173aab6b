"""`inv restore`: bring a backup set (or a point in time after it) back into the deployed cluster.

Patroni's own way, robust against whatever ran before: every check first (nothing changes when one fails), then
the writers (web, worker, cron) and the three members stop, Patroni's state in etcd is forgotten and the members'
data dirs emptied; pg1 starts alone with a restore request in its volume and bootstraps from pgBackRest (custom
bootstrap: restore, replay WAL to the restore point or the time, promote), the other members clone it, media are
copied back, the Redis cache is emptied and the writers start again. Last, the restored database is compared
with the manifest the set recorded. A failed restore is re-run as is: it starts over from the stop.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field

from ..builders import backup as B, stack as S
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from ..core.retry import poll
from ..facts import backup as F, data as D
from . import backup, rolling, status

RESTORER = "pg1"            # the member that restores; the others clone it
LEADER_WAIT = 1800          # replaying a day of WAL on a slow node takes a while
STOP_WAIT = 180


@dataclass
class Plan:
    chosen: dict                          # the set's manifest (with order codes)
    request: dict                         # what the restoring member is told
    exact: bool                           # restored to the set's restore point (compare exactly)
    members: dict = field(default_factory=dict)    # member -> inventory node
    image: str = ""                       # the postgres image the members run
    apps: dict = field(default_factory=dict)       # writer service -> replicas to start again


def plan(remote: Remote, cl, mgr, set_id: str | None, at: dt.datetime | None) -> Plan:
    """Everything a restore needs, read before anything changes."""
    listing = backup.listing(remote, cl)
    chosen = F.choose(listing["sets"], set_id, at, now=dt.datetime.now(dt.timezone.utc))
    full = backup.cli(remote, cl, "show", chosen["id"])
    p = Plan(full, F.restore_request(full, at), exact=at is None)
    where = backup.nodes_running(remote, cl, S.PG_SERVICES)
    missing = [m for m in S.PG_SERVICES if not where.get(m)]
    if missing:
        raise OpsError(f"database member(s) {', '.join(missing)} not running: the restore needs the deployed "
                       f"cluster whole (`inv deploy`, `inv status`)")
    p.members = {m: where[m][0] for m in S.PG_SERVICES}
    p.image = rolling.current_images(remote, mgr, cl.stack, [RESTORER]).get(RESTORER, "")
    if not p.image:
        raise OpsError(f"cannot read the image of {cl.stack}_{RESTORER}: is the stack deployed (`inv status`)?")
    r = remote.check(mgr, B.replicas(cl.stack, B.APP_SERVICES), echo=False)
    p.apps = {n.removeprefix(f"{cl.stack}_"): int(c) for n, c in (line.split() for line in r.stdout.splitlines())}
    return p


def describe(p: Plan) -> str:
    target = p.request["target"]
    to = f"restore point {target['name']}" if "name" in target else f"the time {target['time']}"
    return (f"restoring set {p.chosen['id']} (pgBackRest {p.chosen['label']}, database {p.chosen['system_id']}) "
            f"up to {to}")


def stop(remote: Remote, cl, mgr, p: Plan) -> None:
    backup.cli(remote, cl, "pause")                      # no scheduled backup meanwhile
    say(f"  stopping the writers ({', '.join(p.apps)}) and the database members")
    remote.check(mgr, B.scale(cl.stack, {s: 0 for s in p.apps}), echo=False)
    remote.check(mgr, B.scale(cl.stack, {m: 0 for m in S.PG_SERVICES}), echo=False)

    def gone():
        return not any(backup.nodes_running(remote, cl, S.PG_SERVICES).values())
    if not poll(gone, STOP_WAIT, first=2, cap=5):
        raise OpsError(f"the database members did not stop within {STOP_WAIT}s: `inv status`; re-run the restore")


def reset(remote: Remote, cl, p: Plan) -> None:
    """Forget the old cluster (etcd) and empty every member's data dir; the restorer gets the request."""
    for node in cl.nodes:
        r = remote.run(node, S.in_service(cl.stack, S.ETCD_SERVICES[0], B.etcd_forget("pretix")), echo=False)
        if r.ok:
            break
        if r.exit_code != S.NOT_HERE:
            raise OpsError(f"could not clear Patroni's state in etcd: {r.describe()}")
    else:
        raise OpsError(f"{S.ETCD_SERVICES[0]} is not running: `inv status`; re-run the restore")
    for member, node in p.members.items():
        volume = f"{cl.stack}_{member}_data"
        stdin = json.dumps(p.request) if member == RESTORER else None
        remote.check(cl.node(node), B.member_reset(volume, p.image, request=stdin is not None), stdin=stdin,
                     echo=False, timeout=120)
        say(f"  {member} on {node}: data dir emptied" + (" (restore request written)" if stdin else ""))


def leader_running(remote: Remote, cl, replicas: int = 0) -> bool:
    members = status.pg_members(remote, cl)
    lead = D.leader(members)
    streaming = [m for m in members if m.role != "Leader" and m.state == "streaming"]
    return bool(lead and lead.name == RESTORER and len(streaming) >= replicas)


def bring_back(remote: Remote, cl, mgr, p: Plan) -> float:
    started = time.monotonic()
    say(f"  starting {RESTORER}: pgBackRest restore, WAL replay, promotion (Patroni custom bootstrap)")
    remote.check(mgr, B.scale(cl.stack, {RESTORER: 1}), echo=False)
    if not poll(lambda: leader_running(remote, cl), LEADER_WAIT, first=3, cap=10):
        raise OpsError(f"{RESTORER} did not come up restored within {LEADER_WAIT}s: `inv logs {RESTORER}` "
                       f"(a target the archive cannot reach? see `inv backup.list`); re-run the restore")
    say(f"  {RESTORER} is the primary after {time.monotonic() - started:.0f}s; the other members clone it")
    remote.check(mgr, B.scale(cl.stack, {m: 1 for m in S.PG_SERVICES}), echo=False)
    if not poll(lambda: leader_running(remote, cl, replicas=1), 600, first=3, cap=10):
        raise OpsError("no member cloned the restored primary within 600s: `inv status`; re-run the restore")
    remote.run(cl.node(p.members[RESTORER]), B.request_done(cl.stack, RESTORER), echo=False)
    return time.monotonic() - started


def restart_apps(remote: Remote, cl, mgr, p: Plan) -> dict:
    media = backup.cli(remote, cl, "media-restore", p.chosen["id"], timeout=1800)
    say(f"  media: {media['objects']} objects in the set, {media['copied']} copied back")
    for node in cl.nodes:   # cached pages and sessions of the old database must not be served
        if remote.run(node, S.in_service(cl.stack, "redis-proxy", B.REDIS_FLUSH_CACHE), echo=False).ok:
            break
    say(f"  starting the writers again ({', '.join(f'{s}={n}' for s, n in p.apps.items())})")
    remote.check(mgr, B.scale(cl.stack, p.apps), echo=False)
    backup.cli(remote, cl, "resume")
    return media


def verify(remote: Remote, cl, p: Plan) -> tuple[dict, list[str]]:
    now = backup.cli(remote, cl, "manifest", timeout=600)
    return now, F.compare(p.chosen["db"], now, exact=p.exact)


def restore(remote: Remote, cl, mgr, set_id: str | None, at: dt.datetime | None) -> dict:
    """The whole restore; returns figures for the report. Raises OpsError naming the step and the fix."""
    started = time.monotonic()
    p = plan(remote, cl, mgr, set_id, at)
    say(describe(p))
    backup.cli(remote, cl, "flush", timeout=300)   # WAL of the running database up to now reaches the archive
    stop(remote, cl, mgr, p)
    reset(remote, cl, p)
    db_s = bring_back(remote, cl, mgr, p)
    media = restart_apps(remote, cl, mgr, p)
    now, problems = verify(remote, cl, p)
    return {"plan": p, "now": now, "problems": problems, "database_s": db_s, "media": media,
            "seconds": time.monotonic() - started}
