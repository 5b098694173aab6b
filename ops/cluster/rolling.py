"""Rolling updates of the data tier's members: one member at a time and the leader/master last, after a planned
switchover, so a changed postgres, etcd or redis image, or a changed setting of theirs in the stack file, never
leaves the cluster without a primary or a quorum.

`docker stack deploy` updates every service at once; run before it, this leaves it nothing to do for them.
"""
from __future__ import annotations

import copy
import hashlib

import yaml

from ..builders import stack as S
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from ..core.retry import poll
from ..facts import data as D, stack as FS
from . import status

# (image, member services): members of one group restart one by one, the leader/master last
GROUPS = (("etcd", S.ETCD_SERVICES), ("postgres", S.PG_SERVICES), ("redis", S.REDIS_SERVICES),
          ("redis", S.SENTINEL_SERVICES))
HEALTHY_WAIT = 300
SPEC_LABEL = "pxc.spec"   # a member service's label: the digest of its settings as last deployed


def current_images(remote: Remote, mgr, stack: str, services: list[str]) -> dict[str, str]:
    r = remote.run(mgr, S.service_images(stack, services), echo=False)
    pairs = (line.split(None, 1) for line in r.stdout.splitlines() if len(line.split()) == 2)
    return {name.removeprefix(f"{stack}_"): image for name, image in pairs}


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


def roll_members(remote: Remote, mgr, cl, flat: dict) -> list[str]:
    """Deploy the members whose image or settings changed (flat: the stack file as `docker stack config` prints it)
    alone, one at a time, the leader last; returns what was rolled. A member whose image and settings both changed
    restarts once. The settings' digests are kept in each member's SPEC_LABEL."""
    digests = member_digests(flat)
    services = flat.get("services") or {}
    done = []
    for image, members in GROUPS:
        now = current_digests(remote, mgr, cl.stack, members)
        wanted = {m: services[m].get("image", "") for m in members if m in services}
        todo = to_roll(now, digests, current_images(remote, mgr, cl.stack, members), wanted, members)
        for member in _in_turn(remote, cl, image, members, list(todo)):
            say(f"  deploying {member} alone: {todo[member]}")
            r = remote.run(mgr, S.stack_deploy_some(cl.stack), stdin=member_stack(flat, member, digests[member]),
                           timeout=600)
            if not r.ok:
                raise OpsError(f"deploy of {member} alone failed: {r.describe()}")
            _wait_whole(remote, cl, image, member)
            done.append(member)
    return done


def to_roll(now: dict[str, str], digests: dict[str, str], images_now: dict[str, str], wanted: dict[str, str],
            members: list[str]) -> dict[str, str]:
    """Each member to deploy alone, with why; none while a member is missing (a first deploy creates them) or the
    stack file does not hold them all."""
    if any(m not in now or m not in digests or m not in images_now for m in members):
        return {}
    why = {}
    for m in members:
        image = images_now[m].split("@")[0] != wanted.get(m)   # the digest pin Swarm adds is not a change
        settings = "its settings changed" if now[m] else "its settings are not recorded yet"
        reasons = (["its image changed"] if image else []) + ([settings] if now[m] != digests[m] else [])
        if reasons:
            why[m] = " and ".join(reasons)
    return why


def _in_turn(remote: Remote, cl, image: str, members: list[str], todo: list[str]):
    """todo in order, the leader/master last, leadership moved away before its turn."""
    if not todo:
        return
    lead = leader_of(remote, cl, image) if members is not S.ETCD_SERVICES else None
    for member in order(todo, lead):
        if member == lead and image in ("postgres", "redis") and members is not S.SENTINEL_SERVICES:
            hand_over(remote, cl, image, member)
        yield member


def _wait_whole(remote: Remote, cl, image: str, member: str) -> None:
    if not poll(lambda: group_whole(remote, cl, image) is None, HEALTHY_WAIT, first=2, cap=5):
        raise OpsError(f"{member} did not rejoin after its update: {group_whole(remote, cl, image)} "
                       f"(`inv logs {member}`); the other members still run the old version")


def current_digests(remote: Remote, mgr, stack: str, members: list[str]) -> dict[str, str]:
    """SPEC_LABEL of each existing member ('' when unset)."""
    return FS.parse_service_labels(remote.run(mgr, S.service_labels(stack, members, SPEC_LABEL), echo=False).stdout,
                                   stack)


def settings_digest(service: dict) -> str:
    """A digest of a service's settings, without its image (compared on its own: to_roll) and its labels."""
    s = copy.deepcopy(service)
    s.pop("image", None)
    (s.get("deploy") or {}).pop("labels", None)
    return hashlib.sha256(yaml.safe_dump(s, sort_keys=True).encode()).hexdigest()[:16]


def member_digests(flat: dict) -> dict[str, str]:
    services = flat.get("services") or {}
    return {m: settings_digest(services[m]) for _, group in GROUPS for m in group if m in services}


def labels_file(digests: dict[str, str]) -> str:
    """A stack file merged over the real one: each member's SPEC_LABEL."""
    services = {m: {"deploy": {"labels": {SPEC_LABEL: d}}} for m, d in sorted(digests.items())}
    return yaml.safe_dump({"version": "3.8", "services": services}, sort_keys=False)


def member_stack(flat: dict, member: str, digest: str) -> str:
    """A stack file with only this member, its label set, and the stack's networks, volumes and secrets. `$` is
    doubled: Docker interpolates the file again."""
    service = copy.deepcopy(flat["services"][member])
    service.setdefault("deploy", {}).setdefault("labels", {})[SPEC_LABEL] = digest
    doc = {"version": flat.get("version", "3.8"), "services": {member: service},
           **{k: flat[k] for k in ("networks", "volumes", "secrets", "configs") if k in flat}}
    return yaml.safe_dump(_escape(doc), sort_keys=False)


def _escape(value):
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, dict):
        return {k: _escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape(v) for v in value]
    return value
