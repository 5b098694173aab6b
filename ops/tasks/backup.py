"""`inv backup` (a backup set now), `backup.list`, `backup.check`, `backup.drill`, `backup.media`, and `inv restore`."""
from __future__ import annotations

import json
import time

from invoke import Collection
from invoke.exceptions import Exit

from ..cluster import backup as BK, deploy, restore as R
from ..cluster.deploy import first_manager, wait_converged
from ..core.errors import OpsError
from ..core.files import read_text
from ..core.output import say
from ..core.remote import Remote
from ..drills import backup as DR
from ..facts import backup as F
from ..shop.seed import load_seed
from .audited import audited, note
from .context import HELP, expected_errors, load, state_dir, task
from .lab import lab_of
from .shop import DEFAULT_SEED, shop_api, shop_state


@task(default=True, help={"type": "full, incr (default: incremental on the last backup) or diff",
                          "cluster": HELP["cluster"]})
@audited("backup")
@expected_errors
def backup(c, type="incr", cluster=None):  # noqa: A002 - the flag is --type
    """A backup set now: pgBackRest backup of the primary, restore point + manifest, media, secret references."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        say(f"backup: {type} backup set of {cl.name}")
        s = BK.take(remote, cl, type)
    note(set=s["id"], label=s["label"])
    for line in BK.summary_lines(s):
        say(line)


@task(name="list", help={"json": "print the backup service's answer as JSON", "cluster": HELP["cluster"]})
@expected_errors
def list_(c, json_=False, cluster=None):
    """The backup sets (database backup, orders, media, secrets as now?) and the WAL each history keeps."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        listing = BK.listing(remote, cl)
    if json_:
        print(json.dumps(listing, indent=1))
        return
    try:
        names = deploy.secret_names_now(cl, state_dir(c, cl.name))
    except (OpsError, ValueError):
        names = None
    for line in F.set_lines(listing, names):
        say(line)


@task(help={"cluster": HELP["cluster"]})
@expected_errors
def check(c, cluster=None):
    """pgBackRest's check (WAL archiving reaches the repository) and verify (every backup file is intact)."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        ok, lines = BK.check(remote, cl)
    for line in lines:
        say(line)
    if not ok:
        raise Exit("error: the backup repository failed its check: see the lines above (`inv logs backup`)", 1)
    say("backup.check: ok")


@task(help={"set": "the backup set to restore (an id or pgBackRest label from `inv backup.list`; default: the "
                   "newest, or the newest before --time)",
            "time": "restore to this point in time (ISO 8601, e.g. 2026-11-30T10:15:00Z; no zone = UTC)",
            "timeout": "seconds to wait for the shop to be healthy again (default 900)",
            "cluster": HELP["cluster"]})
@audited("restore")
@expected_errors
def restore(c, set=None, time_=None, timeout=900, cluster=None):  # noqa: A002 - the flag is --set
    """Restore a backup set (to its restore point, or to --time) into the deployed cluster, then verify it."""
    cl = load(c, cluster)
    at = F.parse_time(time_) if time_ else None
    with Remote(cl, echo=False) as remote:
        mgr = first_manager(remote)
        res = R.restore(remote, cl, mgr, set, at)
        say(f"  waiting for the shop (up to {int(timeout)}s)")
        wait_converged(remote, mgr, cl.stack, float(timeout))
    report(res)
    note(set=res["plan"].chosen["id"], time=time_)
    if res["problems"]:
        raise Exit("error: the restored database differs from its backup set:\n  " + "\n  ".join(res["problems"]), 1)


def report(res: dict) -> None:
    """The restore's figures and its verification against the backup set."""
    p, now = res["plan"], res["now"]
    kind = "exactly as recorded" if p.exact else "every recorded order and event present"
    say(f"restore: database back in {res['database_s']:.0f}s, whole restore {res['seconds']:.0f}s")
    say(f"  orders now {now['orders']['count']} (set recorded {p.chosen['db']['orders']['count']}), "
        f"events {len(now['events'])}; media {res['media']['objects']} objects ({res['media']['copied']} copied)")
    say(f"  verification ({kind}): " + ("ok" if not res["problems"] else "; ".join(res["problems"])))


@task(help={"seed": HELP["seed"], "cluster": HELP["cluster"]})
@audited("backup.drill")
@expected_errors
def drill(c, seed=None, cluster=None):
    """Drill: buy, note the time, delete the event by mistake, restore to the noted time: event and orders back."""
    cl = load(c, cluster)
    s = load_seed(seed or DEFAULT_SEED)
    api = shop_api(c, cl)
    with Remote(cl, echo=False) as remote:
        mgr = first_manager(remote)
        res = DR.restore_drill(remote, cl, mgr, api, cl.public_url, s.organizer.slug, s.event.slug)
    report(res)
    say(f"drill: order {res['code']} bought before {res['noted']}: {'back' if res['order_back'] else 'MISSING'}; "
        f"{res['seconds_total']:.0f}s in all")
    if res["problems"] or not res["order_back"]:
        raise Exit("error: the restore drill failed: see the lines above", 1)


@task(help={"order": "the order whose ticket to download (default: the newest pending order)",
            "cut": "lab only: cut the node whose worker rendered the PDF off for this many seconds and download "
                   "again through the other replicas (default 0: no cut)",
            "seed": HELP["seed"], "cluster": HELP["cluster"]})
@expected_errors
def media(c, order=None, cut=0, seed=None, cluster=None):
    """Shared media: an order's ticket PDF through every web replica (and, --cut, with its renderer's node gone)."""
    cl = load(c, cluster)
    s = load_seed(seed or DEFAULT_SEED)
    api = shop_api(c, cl)
    lab = lab_of(c, cl)
    if float(cut) and lab is None:
        raise OpsError("--cut works on the lab only")
    token = read_text(shop_state(c, cl.name) / "api_token") or ""
    started = time.monotonic()
    with Remote(cl, echo=False) as remote:
        res = DR.media_drill(remote, cl, first_manager(remote), api, token, s.organizer.slug, s.event.slug, order,
                             lab if float(cut) else None, float(cut))
    for phase in ("before", "after"):
        for node, answer in sorted(res.get(phase, {}).items()):
            say(f"  {phase:6} via web on {node}: {answer}")
    if "entry_after" in res:
        say(f"  after  via the shop's entry: {res['entry_after']}")
    bad = [f"{p} {n}" for p in ("before", "after") for n, a in res.get(p, {}).items() if not DR.all_ok({n: a}, res["sha"])]
    say(f"backup.media: order {res['code']} (rendered on {res['renderer'] or 'unknown'}), "
        f"{'all downloads identical' if not bad else 'FAILED: ' + ', '.join(bad)} ({time.monotonic() - started:.0f}s)")
    if bad:
        raise Exit("error: a ticket download failed: see the lines above", 1)


ns = Collection("backup", backup, list_, check, drill, media)
