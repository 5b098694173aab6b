"""`inv deploy`, `status`, `logs`, `scale`, `destroy`, `unlock`: the pretix stack on the swarm."""
from __future__ import annotations

import json
import sys
import time

from invoke import Collection
from invoke.exceptions import Exit

from ..builders import stack as S
from ..cluster import deploy as D, images, rolling, stackconfig, status as ST
from ..cluster.build import recorded_tags
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from ..facts import stack as F
from .context import HELP, PROJECT, expected_errors, load, state_dir, task

STACK_FILE = PROJECT / "stack" / "pretix.yml"


@task(help={
    "tag": "deploy this tag for every image (default: what the last `inv build` pushed, per image)",
    "web": "number of pretix web replicas (default 2)",
    "workers": "number of Celery worker replicas (default 2: one node may die)",
    "rotate": "regenerate this secret before deploying (only django_secret)",
    "timeout": "seconds to wait for every service to be healthy (default 900)",
    "cluster": HELP["cluster"],
})
@expected_errors
def deploy(c, tag=None, web=2, workers=2, rotate=None, timeout=900, cluster=None):
    """Deploy the stack: lock, secrets, node labels, stack deploy, migrations once, wait until healthy."""
    cl = load(c, cluster)
    state = state_dir(c, cl.name)
    tags = images.tags_for(tag, recorded_tags(state))
    started = time.monotonic()
    with Remote(cl, echo=False) as remote:
        mgr = D.first_manager(remote)
        with D.deploy_lock(remote, mgr, D.lock_scope(cl)):
            say(f"deploy: {cl.stack} to {cl.name} via {mgr.name}: " + ", ".join(f"{n}:{t}" for n, t in tags.items()))
            D.require_images(remote, cl, tags, tag)
            names = D.ensure_secrets(remote, mgr, cl, state, (rotate,) if rotate else ())
            for line in D.ensure_placement(remote, mgr, cl):
                say(f"  label {line}")
            env = stackconfig.stack_env(cl.registry, tags, names, int(web), int(workers), 80, len(cl.nodes))
            for member in rolling.roll(remote, mgr, cl, tags):
                say(f"  rolled {member} (one member at a time, the leader last)")
            changed = D.stack_deploy(remote, mgr, cl, STACK_FILE, env)
            say(f"  services changed: {', '.join(changed) if changed else 'none (nothing to do)'}")
            took = D.wait_converged(remote, mgr, cl.stack, float(timeout), changed)
            say(f"  {D.replace_default_admin(remote, cl, state / 'shop' / 'admin_password')}")
    (state / "deployed_tags.json").write_text(json.dumps(tags, indent=2) + "\n")
    say(f"deploy: healthy after {time.monotonic() - started:.0f}s (converged in {took:.0f}s). Shop: {cl.public_url}")


@task(help={"cluster": HELP["cluster"]})
@expected_errors
def unlock(c, cluster=None):
    """Remove a stale deploy lock (after an interrupted deploy)."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        remote.check(D.first_manager(remote), S.lock_release(D.lock_scope(cl)))
    say(f"deploy lock of {cl.stack} removed")


@task(help={"service": "service name without the stack prefix (web, worker, pg1, nginx, ...)",
            "follow": "keep streaming new lines", "tail": "lines of history per task (default 50)",
            "cluster": HELP["cluster"]})
@expected_errors
def logs(c, service, follow=False, tail=50, cluster=None):
    """Show a service's logs (all its tasks, on every node)."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        r = remote.stream(D.first_manager(remote), S.service_logs(f"{cl.stack}_{service}", int(tail), follow),
                          lambda line: print(line, flush=True), timeout=24 * 3600)
        if not r.ok:
            raise OpsError(f"no logs for {service}: {r.describe()}")


@task(positional=["assignment"], help={"assignment": "SERVICE=N, e.g. web=4", "cluster": HELP["cluster"]})
@expected_errors
def scale(c, assignment, cluster=None):
    """Scale a service (web=N, worker=N); nginx picks new web replicas up by DNS, no restart."""
    name, _, n = assignment.partition("=")
    if not n.isdigit() or name not in ("web", "worker"):
        raise OpsError(f"expected web=N or worker=N, got {assignment!r} (pg, redis and cron have fixed counts)")
    cl = load(c, cluster)
    with Remote(cl) as remote:
        mgr = D.first_manager(remote)
        remote.check(mgr, S.service_scale(f"{cl.stack}_{name}", int(n), stackconfig.max_per_node(int(n),
                                                                                                  len(cl.nodes))))
        took = D.wait_converged(remote, mgr, cl.stack, 600)
    say(f"scale: {name}={n} converged in {took:.0f}s")


@task(help={"volumes": "also delete the stack's volumes on every node (ALL DATA)",
            "yes": "do not ask for confirmation", "cluster": HELP["cluster"]})
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
    """One screen: services (desired/running and nodes), PostgreSQL primary + lag, Redis master, URL."""
    cl = load(c, cluster)
    deployed = state_dir(c, cl.name) / "deployed_tags.json"
    with Remote(cl, echo=False) as remote:
        services, tasks = D.snapshot(remote, D.first_manager(remote), cl.stack)
        if not services:
            raise OpsError(f"stack {cl.stack} is not deployed on {cl.name}: run `inv deploy --cluster {cl.name}`")
        say(f"stack {cl.stack} on {cl.name}: {cl.public_url}")
        if deployed.exists():
            say("  images: " + ", ".join(f"{n}:{t}" for n, t in json.loads(deployed.read_text()).items()))
        for line in ST.service_lines(services, tasks):
            say(line)
        done, pending = F.converged(services, tasks, cl.stack)
        say("  " + ST.database_line(remote, cl))
        say("  " + ST.etcd_line(remote, cl))
        say("  " + ST.redis_line(remote, cl))
        say(f"  converged: {'yes' if done else 'no: ' + ', '.join(pending)}")


ns = Collection(deploy, status, logs, scale, destroy, unlock)
