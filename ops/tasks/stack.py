"""`inv deploy`, `status`, `logs`, `scale`, `restart`, `destroy`, `unlock`: the pretix stack on the swarm."""
from __future__ import annotations

import sys
import time

from invoke import Collection
from invoke.exceptions import Exit

from ..builders import stack as S
from ..cluster import audit, deploy as D, history, images, maintenance, stackconfig, status as ST, upgrade as U
from ..cluster.build import recorded_tags
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from ..core.retry import poll
from ..facts import audit as AF, stack as F
from ..facts.pretix import new_migrations
from .audited import audited, note
from .context import HELP, expected_errors, load, state_dir, task


@task(help={
    "tag": "deploy this tag for every image (default: what the last `inv build` pushed, per image)",
    "web": "number of pretix web replicas (default: what runs now, else 2)",
    "workers": "number of Celery worker replicas (default: what runs now, else 2: one node may die)",
    "rotate": "regenerate this secret before deploying (only django_secret)",
    "timeout": "seconds to wait for every service to be healthy (default 900)",
    "cluster": HELP["cluster"],
})
@audited
@expected_errors
def deploy(c, tag=None, web=None, workers=None, rotate=None, timeout=900, cluster=None):
    """Deploy the stack: lock, secrets, node labels, stack deploy, migrations once, wait until healthy."""
    cl = load(c, cluster)
    state = state_dir(c, cl.name)
    tags = images.tags_for(tag, recorded_tags(state))
    note(tags=tags)
    started = time.time()
    with Remote(cl, echo=False) as remote:
        took, before, after = U.deploy(remote, cl, state, tags, web, workers, float(timeout), tag,
                                       (rotate,) if rotate else ())
    history.record(state, "deploy", tags, started, before, after)
    note(migrations_ran=len(new_migrations(after or [], before or [])))
    say(f"deploy: healthy after {time.time() - started:.0f}s (converged in {took:.0f}s). Shop: {cl.public_url}")


@task(help={"cluster": HELP["cluster"]})
@audited
@expected_errors
def unlock(c, cluster=None):
    """Remove a stale deploy lock (after an interrupted deploy)."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        remote.check(D.first_manager(remote), S.lock_release(D.lock_scope(cl)))
    say(f"deploy lock of {cl.stack} removed")


LOGS_TIMEOUT_S = 120


@task(help={"service": "service name without the stack prefix (web, worker, pg1, nginx, ...)",
            "follow": "keep streaming new lines", "tail": "lines of history per task (default 50)",
            "cluster": HELP["cluster"]})
@expected_errors
def logs(c, service, follow=False, tail=50, cluster=None):
    """Show a service's logs (all its tasks, on every node)."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        r = remote.stream(D.first_manager(remote), S.service_logs(f"{cl.stack}_{service}", int(tail), follow),
                          lambda line: print(line, flush=True), timeout=24 * 3600 if follow else LOGS_TIMEOUT_S)
    if not follow and r.timed_out:
        # seen in the lab: `docker service logs` of a service whose tasks were replaced printed them all, then hung
        raise OpsError(f"`docker service logs` for {service} did not end within {LOGS_TIMEOUT_S}s (it can hang "
                       f"after the last line when tasks were replaced): the lines above are what it sent")
    if not r.ok:
        raise OpsError(f"no logs for {service}: {r.describe()}")


@task(positional=["assignment"], help={"assignment": "SERVICE=N, e.g. web=4", "cluster": HELP["cluster"]})
@audited
@expected_errors
def scale(c, assignment, cluster=None):
    """Scale a service (web=N, worker=N); nginx picks new web replicas up by DNS, no restart."""
    name, _, n = assignment.partition("=")
    if not n.isdigit() or name not in ("web", "worker"):
        raise OpsError(f"expected web=N or worker=N, got {assignment!r} (pg, redis and cron have fixed counts)")
    if int(n) < 1:
        raise OpsError(f"{name}=0 would stop every {name} task: scale to 1 or more (to stop the shop, "
                       f"`inv maintenance --on`)")
    cl = load(c, cluster)
    with Remote(cl) as remote:
        mgr = D.first_manager(remote)
        remote.check(mgr, S.service_scale(f"{cl.stack}_{name}", int(n), stackconfig.max_per_node(int(n),
                                                                                                  len(cl.nodes))))
        took = D.wait_converged(remote, mgr, cl.stack, 600)
        if not poll(lambda: all(s.running == int(n) for s in D.snapshot(remote, mgr, cl.stack)[0]
                                if s.short == name), 120, first=1, cap=5):   # scaled down: the extra ones drain
            raise OpsError(f"scale: {name} still runs more than {n} tasks after 120 s: `inv status`")
    say(f"scale: {name}={n} converged in {took:.0f}s")


# a leader's restart is a failover: those move their leadership first (inv failover.db / failover.redis)
RESTARTABLE = ("web", "worker", "cron", "nginx", "pg-proxy", "redis-proxy", "s3", "backup", "mail")


@task(positional=["service"], help={"service": f"one of {', '.join(RESTARTABLE)}", "cluster": HELP["cluster"]})
@audited
@expected_errors
def restart(c, service, cluster=None):
    """Restart a stateless service's tasks (Swarm's update order: one at a time), e.g. stuck workers."""
    if service not in RESTARTABLE:
        raise OpsError(f"restart takes one of {', '.join(RESTARTABLE)}, not {service!r} (a database, Redis, etcd or "
                       f"store member: move its leadership with `inv failover.db`/`failover.redis`, then "
                       f"`docker service update --force` by hand; see RUNBOOK.md)")
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        mgr = D.first_manager(remote)
        say(f"restart: {cl.stack}_{service}, one task after the other")
        remote.check(mgr, S.service_restart(f"{cl.stack}_{service}"))
        took = D.wait_converged(remote, mgr, cl.stack, 600, [f"{cl.stack}_{service}"])
    say(f"restart: {service} converged in {took:.0f}s")


@task(help={"volumes": "also delete the stack's volumes on every node (ALL DATA)",
            "yes": "do not ask for confirmation", "cluster": HELP["cluster"]})
@audited
@expected_errors
def destroy(c, volumes=False, yes=False, cluster=None):
    """Remove the stack (keeps volumes and secrets unless --volumes)."""
    cl = load(c, cluster)
    if not yes:
        if not sys.stdin.isatty():
            raise OpsError("destroy needs confirmation: run it in a terminal or pass --yes")
        answer = input(f"Remove stack {cl.stack} from {cl.name}{' AND ITS DATA' if volumes else ''}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise Exit("aborted", 1)
    with Remote(cl) as remote:
        D.remove_stack(remote, D.first_manager(remote), cl, volumes)
    if volumes:
        (state_dir(c, cl.name) / "secrets.json").unlink(missing_ok=True)
    say(f"destroy: stack {cl.stack} removed" + (" with its volumes and secrets" if volumes else
                                                 " (volumes and secrets kept)"))


@task(help={"cluster": HELP["cluster"]})
@expected_errors
def status(c, cluster=None):
    """One screen: services, PostgreSQL primary + lag, Redis master, the last deploy, the deploy lock, URL."""
    cl = load(c, cluster)
    deployed = history.deployed(state_dir(c, cl.name))
    with Remote(cl, echo=False) as remote:
        services, tasks = D.snapshot(remote, D.first_manager(remote), cl.stack)
        if not services:
            raise OpsError(f"stack {cl.stack} is not deployed on {cl.name}: run `inv deploy --cluster {cl.name}`")
        say(f"stack {cl.stack} on {cl.name}: {cl.public_url}")
        if deployed:
            say("  images: " + ", ".join(f"{n}:{t}" for n, t in deployed.items()))
        for line in ST.service_lines(services, tasks):
            say(line)
        done, pending = F.converged(services, tasks, cl.stack)
        say("  " + ST.database_line(remote, cl))
        say("  " + ST.etcd_line(remote, cl))
        say("  " + ST.redis_line(remote, cl))
        for line in audit.status_lines(remote, cl) + [maintenance.status_line(remote, cl)]:
            say("  " + line)
        say(f"  converged: {'yes' if done else 'no: ' + ', '.join(pending)}")


@task(help={"limit": "show the newest N entries (default 20)", "cluster": HELP["cluster"]})
@expected_errors
def history_(c, limit=20, cluster=None):
    """The audit log: every mutating task (who, when, what, images, result), newest first, from all managers."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        entries, silent = audit.read(remote, cl)
    shown = entries[:int(limit)]
    say(f"history of {cl.stack} on {cl.name}: {len(shown)} of {len(entries)} entries, newest first"
        + (f" (no answer from {', '.join(silent)})" if silent else ""))
    for line in AF.history_lines(shown) or ["  (empty: no mutating task has run since the audit log exists)"]:
        say(line)


ns = Collection(deploy, status, logs, scale, restart, destroy, unlock)
ns.add_task(history_, name="history")
