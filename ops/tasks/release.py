"""`inv upgrade --pretix VERSION`, `inv rollback`, `inv maintenance`: new pretix releases and the way back."""
from __future__ import annotations

import time

from invoke import Collection

from ..cluster import backup as BK, deploy as D, history, images, maintenance, upgrade as U
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from .audited import audited, note
from .context import HELP, expected_errors, load, setting, state_dir, task


def backup_first(remote: Remote, cl, skip: bool) -> str | None:
    """The backup before the schema changes, as `inv backup` takes it; its id (`inv restore --set ID`)."""
    if skip:
        say("upgrade: --no-backup: NO backup taken (a migrated schema cannot be restored to before the upgrade)")
        return None
    say("upgrade: a backup set first (as `inv backup`)")
    taken = BK.take(remote, cl, "incr")
    for line in BK.summary_lines(taken):
        say(line)
    return taken.get("id")


@task(help={
    "pretix": "the pretix release to run, e.g. 2026.8.0 (PyPI: `pip index versions pretix`)",
    "no_backup": "go on without a backup first (a migrated schema can then not be restored)",
    "build_only": "build and push the version's images and record them for `inv deploy`; change nothing running",
    "timeout": "seconds the new version may take to serve, and the whole roll to converge (default 1200)",
    "extra_ca": "extra CA file trusted in the build (default: the build_extra_ca setting)",
    "cluster": HELP["cluster"],
})
@audited
@expected_errors
def upgrade(c, pretix, no_backup=False, build_only=False, timeout=1200, extra_ca=None, cluster=None):
    """Build pretix VERSION, back up, roll web, worker and cron with migrations once (maintenance page meanwhile)."""
    cl = load(c, cluster)
    state = state_dir(c, cl.name)
    tags = {**images.tags_for(None), **history.deployed(state)}
    cas = images.extra_ca_files(extra_ca or setting(c, "build_extra_ca"))
    with Remote(cl, echo=False) as remote:
        U.build_version(remote, cl, state, pretix, tags, cas)
        if build_only:
            say(f"upgrade: pretix {pretix} built; `inv deploy` (or `inv upgrade --pretix {pretix}`) runs it")
            return
        if U.deployed_already(state, pretix):
            say(f"upgrade: pretix {pretix} is deployed already: nothing to do")
            return
        mgr = D.first_manager(remote)
        backup = backup_first(remote, cl, no_backup)
        out = U.upgrade(remote, mgr, cl, state, pretix, float(timeout), backup)
    note(tags=out.tags, version=pretix, migrations=len(out.pending), backup=backup,
         window_s=round(out.window_s, 1) if out.window_s is not None else None)
    window = (f"maintenance page for {out.window_s:.1f} s while {len(out.pending)} migration(s) ran"
              if out.window_s is not None else "no maintenance window (no migration)")
    say(f"upgrade: pretix {pretix} serves; {window}; {out.seconds:.0f} s in all. Shop: {cl.public_url}")


@task(help={"timeout": "seconds to wait until the stack is healthy again (default 900)", "cluster": HELP["cluster"]})
@audited
@expected_errors
def rollback(c, timeout=900, cluster=None):
    """Return to the previously deployed images if no migration ran since; else refuse and name the restore."""
    cl = load(c, cluster)
    state = state_dir(c, cl.name)
    with Remote(cl, echo=False) as remote:
        tags, took = U.rollback(remote, D.first_manager(remote), cl, state, float(timeout))
    note(tags=tags)
    say(f"rollback: done in {took:.0f} s. Shop: {cl.public_url}")


@task(help={"on": "show the maintenance page (503 + Retry-After) for every dynamic request",
            "off": "serve the shop again", "cluster": HELP["cluster"]})
@audited("maintenance")
@expected_errors
def maintenance_(c, on=False, off=False, cluster=None):
    """Show or switch the maintenance page (nginx answers 503 + Retry-After while it is on)."""
    if on and off:
        raise OpsError("--on or --off, not both")
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        if on:
            maintenance.turn_on(remote, cl, "inv maintenance --on")
        elif off:
            missed = maintenance.turn_off(remote, cl)
            if missed:
                raise OpsError(f"maintenance flag not cleared on {', '.join(missed)} (unreachable): run again")
        say(maintenance.status_line(remote, cl) + f" (at {time.strftime('%H:%M:%SZ', time.gmtime())})")


ns = Collection(upgrade, rollback)
ns.add_task(maintenance_, name="maintenance")
