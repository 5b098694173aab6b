"""Upgrade pretix (build the version, then roll web, worker and cron with migrations run once) and roll back.

When the new version migrates the schema, nginx answers 503 + Retry-After (the maintenance page) from just before
`stack deploy` until every web and worker task runs the new code: old code never serves a migrating schema, and
the window is measured. Without migrations the roll is start-first with no window at all.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from ..core.retry import poll
from ..facts.pretix import new_migrations
from ..facts.rollout import not_rolled
from . import deploy as D, history, images, maintenance, migrations
from .build import build_images, record_tags

VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*(\.post[0-9]+)?$")
APP = "pretix"
SERVING = ("migrate", "web", "worker")      # the services whose old code must not serve a migrated schema


@dataclass
class Outcome:
    version: str
    tags: dict
    pending: list = field(default_factory=list)    # migrations the new version brought
    window_s: float | None = None                  # maintenance page shown this long (None: no window)
    seconds: float = 0.0
    after: list | None = None


def version_tags(version: str) -> dict:
    """The tags of pretix and of the images built from it (nginx: its static files) for this pretix version."""
    if not VERSION.match(version):
        raise OpsError(f"--pretix {version!r} is not a release number like 2026.8.0 (see pip index versions pretix)")
    names = [APP] + [n for n, deps in images.built_from().items() if APP in deps]
    content = images.content_tags(names)
    return {n: content[n] + images.version_suffix(APP, version) for n in names}


def build_version(remote: Remote, cl, state: Path, version: str, tags: dict, cas: list) -> list[str]:
    """Build and push the images of this version that the registry lacks; record them for `inv deploy`."""
    wanted = version_tags(version)
    missing = [n for n in images.image_names() if n in wanted
               and not remote.run(cl.node(cl.build_node), images.manifest_probe(cl, n, wanted[n]), echo=False).ok]
    if missing:
        say(f"upgrade: building pretix {version}: {', '.join(f'{n}:{wanted[n]}' for n in missing)}")
        build_images(remote, cl, missing, {**tags, **wanted}, cas, False)
    else:
        say(f"upgrade: pretix {version} images already in the registry: {', '.join(wanted.values())}")
    record_tags(state, wanted)
    return missing


def guard_schema(ref: str, applied: list[str] | None, shipped: list[str]) -> None:
    """Refuse to run a pretix image that does not know every applied migration (it is older than the schema)."""
    unknown = new_migrations(applied or [], shipped)
    if unknown:
        raise OpsError(f"{ref.rsplit('/', 1)[-1]} is older than the database: it does not know {len(unknown)} applied "
                       f"migration(s) ({', '.join(unknown[:3])}...); deploy a pretix at least as new "
                       f"(`inv upgrade --pretix VERSION`) or restore a backup from before the upgrade (`inv restore`)")


def deploy(remote: Remote, cl, state: Path, tags: dict, web, workers, timeout: float, tag=None,
           rotate=()) -> tuple[float, list | None, list | None]:
    """`inv deploy` under the lock: the images checked, never older code than the schema, the stack deployed and
    converged. Returns the seconds to converge and the migrations applied before and after."""
    mgr = D.first_manager(remote)
    with D.deploy_lock(remote, mgr, D.lock_scope(cl)):
        say(f"deploy: {cl.stack} to {cl.name} via {mgr.name}: " + ", ".join(f"{n}:{t}" for n, t in tags.items()))
        now = D.current_shape(remote, mgr, cl.stack) or D.Shape()
        shape = D.Shape(int(web or now.web), int(workers or now.workers))
        before = migrations.applied(remote, cl)
        D.require_images(remote, cl, tags, tag)                # a missing image is named before anything runs
        if before and tags.get("pretix") != history.deployed(state).get("pretix"):
            ref = images.image_ref(cl, "pretix", tags["pretix"])
            guard_schema(ref, before, migrations.shipped(remote, cl, ref))   # never older code than the schema
        took = D.deploy_stack(remote, mgr, cl, state, tags, shape, timeout, tag, rotate)
        return took, before, migrations.applied(remote, cl)


def wait_serving(remote: Remote, mgr, cl, tags: dict, timeout: float) -> None:
    """Until migrate completed and every web and worker task runs the new image (the window may close)."""
    ref = images.image_ref(cl, APP, tags[APP])
    last = []

    def rolled():
        services, tasks = D.snapshot(remote, mgr, cl.stack)
        last[:] = not_rolled(services, tasks, cl.stack, {s: ref for s in SERVING})
        return not last

    if not poll(rolled, timeout, first=2, cap=5):
        raise OpsError(f"the new version does not serve after {timeout:.0f} s: {'; '.join(last)} "
                       f"(`inv logs migrate`, `inv logs web`)")


def roll(remote: Remote, mgr, cl, state: Path, tags: dict, shape: D.Shape, pending: list, before: list,
         timeout: float) -> float | None:
    """stack deploy of the new images, behind the maintenance page while migrations run; the window's length."""
    names = D.prepare(remote, mgr, cl, state, tags)
    opened = maintenance.turn_on(remote, cl, f"upgrade: {len(pending)} migration(s)") if pending else None
    if opened:
        say(f"  maintenance page ON: {len(pending)} migration(s) to run ({', '.join(pending[:3])}...)")
    window = None
    try:
        changed = D.apply(remote, mgr, cl, tags, names, shape)
        if opened:
            wait_serving(remote, mgr, cl, tags, timeout)
            maintenance.turn_off(remote, cl)
            window = time.time() - opened
            say(f"  maintenance page OFF after {window:.1f} s: migrations done, web and worker on the new version")
        D.wait_converged(remote, mgr, cl.stack, timeout, changed)
    except BaseException:
        if opened and window is None:
            close_after_failure(remote, cl, before)
        raise
    say(f"  {D.replace_default_admin(remote, cl, state / 'shop' / 'admin_password')}")
    return window


def close_after_failure(remote: Remote, cl, before: list) -> None:
    """A failed upgrade: reopen the shop if the schema is unchanged (the old version still runs); keep the page
    if migrations ran (old code cannot serve the new schema) and say what to do."""
    now = migrations.applied(remote, cl)
    if now is not None and not new_migrations(now, before):
        maintenance.turn_off(remote, cl)
        say("  maintenance page OFF: no migration ran, the previous version keeps serving")
        return
    say("  maintenance page stays ON: migrations ran (or cannot be read) and the old code cannot serve the new "
        "schema; fix the cause and run the upgrade again, or restore the backup (`inv restore`), then "
        "`inv maintenance --off`")


def deployed_already(state: Path, version: str) -> bool:
    """The images of pretix `version` are the ones deployed now."""
    current = history.deployed(state)
    return {**current, **version_tags(version)} == current


def upgrade(remote: Remote, mgr, cl, state: Path, version: str, timeout: float, backup: str | None = None) -> Outcome:
    """Roll the cluster to pretix `version` (its images built already): lock, migrations checked, roll, record."""
    current = history.deployed(state)
    shape = D.current_shape(remote, mgr, cl.stack)
    if not current or shape is None:
        raise OpsError(f"stack {cl.stack} is not deployed on {cl.name}: deploy first (`inv deploy`)")
    tags = {**current, **version_tags(version)}
    if tags == current:
        say(f"upgrade: pretix {version} is deployed already: nothing to do")
        return Outcome(version, tags)
    started = time.time()
    before = migrations.applied(remote, cl)
    if before is None:
        raise OpsError("cannot read the applied migrations (no database leader?): the upgrade needs a running "
                       "database (`inv status`)")
    ref = images.image_ref(cl, APP, tags[APP])
    shipped = migrations.shipped(remote, cl, ref)
    guard_schema(ref, before, shipped)
    pending = new_migrations(shipped, before)
    say(f"upgrade: pretix {version}: {len(pending)} migration(s) to run" + (
        " (maintenance page while they run)" if pending else " (rolling start-first, no maintenance window)"))
    with D.deploy_lock(remote, mgr, D.lock_scope(cl)):
        window = roll(remote, mgr, cl, state, tags, shape, pending, before, timeout)
    after = migrations.applied(remote, cl)
    history.record(state, "upgrade", tags, started, before, after, version=version, window_s=window, backup=backup)
    return Outcome(version, tags, pending, window, time.time() - started, after)


def rollback(remote: Remote, mgr, cl, state: Path, timeout: float) -> tuple[dict, float]:
    """Return to the previously deployed images when no migration ran since; refuse otherwise (with the restore
    command). Returns the images now deployed and how long it took."""
    plan = history.rollback_target(history.load(state), history.deployed(state))
    applied = migrations.applied(remote, cl)
    why = history.refusal(plan, applied)
    if why:
        raise OpsError(why)
    started = time.time()
    tags = plan.target["tags"]
    say(f"rollback: to the images of {plan.target['time']} ({plan.target.get('kind', 'deploy')}); no migration "
        f"ran since: " + ", ".join(f"{n}:{t}" for n, t in tags.items() if plan.current["tags"].get(n) != t))
    shape = D.current_shape(remote, mgr, cl.stack) or D.Shape()
    with D.deploy_lock(remote, mgr, D.lock_scope(cl)):
        D.deploy_stack(remote, mgr, cl, state, tags, shape, timeout)
    history.record(state, "rollback", tags, started, applied, migrations.applied(remote, cl),
                   undid=plan.current["id"])
    record_tags(state, tags)     # a later plain `inv deploy` keeps these, never the images just rolled back
    return tags, time.time() - started
