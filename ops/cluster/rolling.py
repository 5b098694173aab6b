"""Rolling updates of the data tier's members: one member at a time and the leader/master last, after a planned
switchover, so a changed postgres, etcd or redis image never leaves the cluster without a primary or a quorum.

`docker stack deploy` updates every service at once; run before it, this leaves it nothing to do for them.
"""
from __future__ import annotations

from ..builders import stack as S
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from ..core.retry import poll
from ..facts import data as D
from . import images, status

# (image, member services): members of one group restart one by one, the leader/master last
GROUPS = (("etcd", S.ETCD_SERVICES), ("postgres", S.PG_SERVICES), ("redis", S.REDIS_SERVICES),
          ("redis", S.SENTINEL_SERVICES))
HEALTHY_WAIT = 300


def current_images(remote: Remote, mgr, stack: str, services: list[str]) -> dict[str, str]:
    r = remote.run(mgr, S.service_images(stack, services), echo=False)
    pairs = (line.split(None, 1) for line in r.stdout.splitlines() if len(line.split()) == 2)
    return {name.removeprefix(f"{stack}_"): image for name, image in pairs}


def stale(now: dict[str, str], ref: str) -> list[str]:
    """Members whose image (digest pin ignored) is not ref."""
    return [s for s, image in now.items() if image.split("@")[0] != ref]


def order(members: list[str], first_last: str | None) -> list[str]:
    """Every member, the current leader/master (when known) last."""
    return sorted(members, key=lambda m: (m == first_last, m))


def group_whole(remote: Remote, cl, image: str) -> str | None:
    """None when the group is whole again, else its status line (for the wait)."""
    line = {"etcd": status.etcd_line, "postgres": status.database_line,
            "redis": status.redis_line}[image](remote, cl)
    return line if "DEGRADED" in line or "NO LEADER" in line else None


def leader_of(remote: Remote, cl, image: str) -> str | None:
    if image == "postgres":
        members = status.pg_members(remote, cl)
        lead = D.leader(members)
        return lead.name if lead else None
    if image == "redis":
        answers = status.probe(remote, cl, S.SENTINEL_SERVICES, S.SENTINEL_MASTER)
        return next((v.split()[0] for v in answers.values() if v.split()), None)
    return None


def hand_over(remote: Remote, cl, image: str, leader: str) -> None:
    """Move leadership away from the member about to restart (Patroni / the Sentinels decide where)."""
    service, inner, user = (("pg1", S.patroni_switchover(leader), "postgres") if image == "postgres"
                            else ("sentinel1", S.sentinel_failover(), ""))
    group = S.PG_SERVICES if image == "postgres" else S.SENTINEL_SERVICES
    for member in group:
        for node in cl.nodes:
            r = remote.run(node, S.in_service(cl.stack, member, inner, user), echo=False, timeout=120)
            if r.ok:
                say(f"  {image}: leadership moved away from {leader} (planned switchover)")
                poll(lambda: leader_of(remote, cl, image) not in (None, leader), 60, first=1)
                return
    raise OpsError(f"{image}: could not move leadership away from {leader}: switch over by hand, then deploy again")


def roll(remote: Remote, mgr, cl, tags: dict) -> list[str]:
    """Update the members whose image changed, one at a time; returns what was rolled."""
    done = []
    for image, members in GROUPS:
        now = current_images(remote, mgr, cl.stack, members)
        ref = images.image_ref(cl, image, tags[image])
        todo = stale(now, ref) if len(now) == len(members) else []   # a first deploy creates them all
        if not todo:
            continue
        lead = leader_of(remote, cl, image) if members is not S.ETCD_SERVICES else None
        for member in order(todo, lead):
            if member == lead and image in ("postgres", "redis") and members is not S.SENTINEL_SERVICES:
                hand_over(remote, cl, image, member)
            say(f"  rolling {member} to {ref.rsplit('/', 1)[-1]}")
            remote.check(mgr, S.service_update_image(f"{cl.stack}_{member}", ref), timeout=600)
            left = poll(lambda: group_whole(remote, cl, image) is None, HEALTHY_WAIT, first=2, cap=5)
            if not left:
                raise OpsError(f"{member} did not rejoin after its update: {group_whole(remote, cl, image)} "
                               f"(`inv logs {member}`); the other members still run the old image")
            done.append(member)
    return done
