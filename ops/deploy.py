"""`inv deploy`, `inv status`, `inv logs`, `inv scale`, `inv destroy`: the pretix stack on the swarm."""
from __future__ import annotations

import getpass
import json
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from invoke import Collection
from invoke.exceptions import Exit

from . import commands, images, secrets, stack as S, stackconfig
from .context import PROJECT, expected_errors, load, setting, state_dir, task
from .errors import OpsError, RemoteError
from .remote import Remote, say
from .build import recorded_tags
from .swarm import swarm_facts

STACK_FILE = PROJECT / "stack" / "pretix.yml"
CLUSTER_HELP = "cluster inventory name (clusters/NAME.yaml; default from invoke.yaml)"


def lock_dir(stack: str) -> str:
    return f"/var/tmp/pxc-{stack}.deploy-lock"


def first_manager(remote: Remote):
    """The first manager that answers: deploys survive the loss of any one manager."""
    errors = []
    for node in remote.cluster.managers:
        r = remote.run(node, "docker node ls -q >/dev/null", echo=False, timeout=30)
        if r.ok:
            return node
        errors.append(r.describe())
    raise RemoteError("no manager answers:\n" + "\n".join(errors))


@contextmanager
def deploy_lock(remote: Remote, node, stack: str):
    path = lock_dir(stack)
    owner = f"{getpass.getuser()}@{socket.gethostname()} {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}"
    r = remote.run(node, f"mkdir {path} && echo {commands.sh(owner)} > {path}/owner", echo=False)
    if not r.ok:
        held = remote.run(node, f"cat {path}/owner", echo=False).stdout.strip() or "unknown"
        raise OpsError(f"deploy lock {path} on {node.name} is held by {held}: wait for that deploy, "
                       f"or remove a stale lock with `inv unlock`")
    try:
        yield
    finally:
        remote.run(node, commands.sh("rm", "-rf", path), echo=False)


def require_images(remote: Remote, cl, tags: dict, explicit: str | None) -> None:
    node = cl.node(cl.build_node)
    missing = [n for n in stackconfig.IMAGE_ORDER
               if not remote.run(node, images.manifest_probe(cl, n, tags[n]), echo=False).ok]
    if missing:
        which = ", ".join(f"{n}:{tags[n]}" for n in missing)
        fix = f"inv build --tag {explicit} --cluster {cl.name}" if explicit else f"inv build --cluster {cl.name}"
        raise OpsError(f"images missing in registry {cl.registry}: {which}: run `{fix}`")


def ensure_secrets(remote: Remote, mgr, cl, state: Path, rotate=()) -> dict:
    values, generated = secrets.load_values(state, tuple(rotate))
    all_values = secrets.with_config(values, cl.public_url)
    names = secrets.names(all_values)
    existing = set(remote.check(mgr, S.secret_ls(), echo=False).stdout.split())
    for key, name in names.items():
        if name not in existing:
            remote.check(mgr, S.secret_create(name, key, cl.stack), stdin=all_values[key])
            say(f"  secret {key}: created {name}")
    if generated:
        say(f"  generated {', '.join(generated)} (kept 0600 in {state})")
    return names


def ensure_placement(remote: Remote, mgr, cl) -> list[str]:
    facts = swarm_facts(remote)
    ids = {n.name: facts[n.name].node_id for n in cl.nodes}
    specs = json.loads(remote.check(mgr, commands.node_inspect(*ids.values()), echo=False).stdout)
    by_id = {s["ID"]: (s.get("Spec", {}).get("Labels") or {}) for s in specs}
    current = {name: by_id.get(i, {}) for name, i in ids.items()}
    lb_nodes = [n.name for n in cl.nodes if n.labels.get("pxc.lb") == "true"]
    changes = []
    for node, labels in S.placement([n.name for n in cl.nodes], current, lb_nodes).items():
        remote.check(mgr, commands.node_label_add(ids[node], labels))
        changes.append(f"{node}: {', '.join(labels)}")
    return changes


def service_specs(remote: Remote, mgr, stack: str) -> dict:
    """A digest of each service's spec: a no-op `stack deploy` bumps versions but leaves specs equal."""
    r = remote.run(mgr, f"for s in $(docker service ls -q --filter label=com.docker.stack.namespace={stack}); do "
                        f"echo \"$(docker service inspect --format '{{{{.Spec.Name}}}}' $s) "
                        f"$(docker service inspect --format '{{{{json .Spec}}}}' $s | sha256sum | cut -c1-16)\"; done",
                   echo=False)
    return dict(line.split() for line in r.stdout.splitlines() if len(line.split()) == 2) if r.ok else {}


def snapshot(remote: Remote, mgr, stack: str):
    services = S.parse_service_ls(remote.check(mgr, S.service_ls(stack), echo=False).stdout)
    r = remote.run(mgr, S.stack_ps(stack), echo=False)
    tasks = S.parse_stack_ps(r.stdout) if r.ok else []
    return services, tasks


def wait_converged(remote: Remote, mgr, stack: str, timeout: float) -> float:
    started, delay, last = time.monotonic(), 1.0, None
    seen = frozenset(t.id for t in snapshot(remote, mgr, stack)[1] if t.state in ("Failed", "Rejected"))
    while True:
        services, tasks = snapshot(remote, mgr, stack)
        done, pending = S.converged(services, tasks, stack)
        elapsed = time.monotonic() - started
        if done:
            return elapsed
        if pending != last:
            say(f"  [{elapsed:5.0f}s] waiting for: {', '.join(pending)}")
            last = pending
        failing = S.failing_services(tasks, seen=seen)
        if failing or elapsed > timeout:
            explain_failure(remote, mgr, stack, failing or {p.split()[0].rstrip(':'): [] for p in pending})
            why = f"{', '.join(failing)} keep failing" if failing else f"not converged after {timeout:.0f}s"
            raise OpsError(f"deploy of {stack}: {why} (tasks and logs above; `inv logs SERVICE` for more)")
        time.sleep(delay)
        delay = min(delay * 1.5, 8)


def explain_failure(remote: Remote, mgr, stack: str, services) -> None:
    for svc in list(services)[:4]:
        name = svc if svc.startswith(f"{stack}_") else f"{stack}_{svc}"
        say(f"--- {name}: tasks ---")
        say(remote.run(mgr, S.service_ps(name), echo=False).stdout.rstrip())
        say(f"--- {name}: last log lines ---")
        r = remote.run(mgr, S.service_logs(name, tail=15), echo=False, timeout=30)
        say((r.stdout + r.stderr).rstrip())


@task(help={
    "tag": "deploy this tag for every image (default: what the last `inv build` pushed, per image)",
    "web": "number of pretix web replicas (default 2)",
    "workers": "number of Celery worker replicas (default 1)",
    "rotate": "regenerate this secret before deploying (only django_secret)",
    "timeout": "seconds to wait for every service to be healthy (default 900)",
    "cluster": CLUSTER_HELP,
})
@expected_errors
def deploy(c, tag=None, web=2, workers=1, rotate=None, timeout=900, cluster=None):
    """Deploy the stack: lock, secrets, node labels, stack deploy, migrations once, wait until healthy."""
    cl = load(c, cluster)
    state = state_dir(c, cl.name)
    tags = images.tags_for(tag, recorded_tags(state))
    started = time.monotonic()
    with Remote(cl, echo=False) as remote:
        mgr = first_manager(remote)
        with deploy_lock(remote, mgr, cl.stack):
            say(f"deploy: {cl.stack} to {cl.name} via {mgr.name}: "
                + ", ".join(f"{n}:{t}" for n, t in tags.items()))
            require_images(remote, cl, tags, tag)
            names = ensure_secrets(remote, mgr, cl, state, (rotate,) if rotate else ())
            for line in ensure_placement(remote, mgr, cl):
                say(f"  label {line}")
            env = stackconfig.stack_env(cl.registry, tags, names, int(web), int(workers), 80)
            before = service_specs(remote, mgr, cl.stack)
            remote_file = f"/tmp/pxc-{cl.stack}-stack.yml"
            remote.put(mgr, str(STACK_FILE), remote_file)
            r = remote.run(mgr, S.stack_deploy(cl.stack, remote_file, env), timeout=300)
            if not r.ok:
                raise OpsError(f"docker stack deploy failed: {r.describe()}")
            after = service_specs(remote, mgr, cl.stack)
            changed = sorted(s for s, v in after.items() if before.get(s) != v)
            say(f"  services changed: {', '.join(changed) if changed else 'none (nothing to do)'}")
            took = wait_converged(remote, mgr, cl.stack, float(timeout))
    (state / "deployed_tags.json").write_text(json.dumps(tags, indent=2) + "\n")
    say(f"deploy: healthy after {time.monotonic() - started:.0f}s (converged in {took:.0f}s). Shop: {cl.public_url}")


@task(help={"cluster": CLUSTER_HELP})
@expected_errors
def unlock(c, cluster=None):
    """Remove a stale deploy lock (after an interrupted deploy)."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        mgr = first_manager(remote)
        remote.check(mgr, commands.sh("rm", "-rf", lock_dir(cl.stack)))
    say(f"deploy lock of {cl.stack} removed")


@task(help={"service": "service name without the stack prefix (web, worker, pg1, nginx, ...)",
            "follow": "keep streaming new lines", "tail": "lines of history per task (default 50)",
            "cluster": CLUSTER_HELP})
@expected_errors
def logs(c, service, follow=False, tail=50, cluster=None):
    """Show a service's logs (all its tasks, on every node)."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        mgr = first_manager(remote)
        r = remote.stream(mgr, S.service_logs(f"{cl.stack}_{service}", int(tail), follow),
                          lambda line: print(line, flush=True), timeout=24 * 3600)
        if not r.ok:
            raise OpsError(f"no logs for {service}: {r.describe()}")


@task(positional=["assignment"], help={"assignment": "SERVICE=N, e.g. web=4", "cluster": CLUSTER_HELP})
@expected_errors
def scale(c, assignment, cluster=None):
    """Scale a service (web=N, worker=N); nginx picks new web replicas up by DNS, no restart."""
    name, _, n = assignment.partition("=")
    if not n.isdigit() or name not in ("web", "worker"):
        raise OpsError(f"expected web=N or worker=N, got {assignment!r} (pg, redis and cron have fixed counts)")
    cl = load(c, cluster)
    with Remote(cl) as remote:
        mgr = first_manager(remote)
        remote.check(mgr, S.service_scale(f"{cl.stack}_{name}", int(n)))
        took = wait_converged(remote, mgr, cl.stack, 600)
    say(f"scale: {name}={n} converged in {took:.0f}s")


@task(help={"volumes": "also delete the stack's volumes on every node (ALL DATA)",
            "yes": "do not ask for confirmation", "cluster": CLUSTER_HELP})
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
        mgr = first_manager(remote)
        remote.check(mgr, S.stack_rm(cl.stack))
        if volumes:
            deadline = time.monotonic() + 120
            while remote.run(mgr, f"docker ps -q --filter label=com.docker.stack.namespace={cl.stack}",
                             echo=False).stdout.strip() and time.monotonic() < deadline:
                time.sleep(2)
            time.sleep(5)  # containers on other nodes stop asynchronously
            remote.run_all(cl.nodes, S.stack_volumes_rm(cl.stack), timeout=120)
            remote.check(mgr, f"docker secret ls -q --filter label=pxc.stack={cl.stack} | xargs -r docker secret rm")
            (state_dir(c, cl.name) / "secrets.json").unlink(missing_ok=True)
    say(f"destroy: stack {cl.stack} removed" + (" with its volumes and secrets" if volumes else
                                                 " (volumes and secrets kept)"))


def probe(remote: Remote, cl, services, inner, user="") -> dict[str, str]:
    """Run inner in whichever node hosts each service's container; {service: output}."""
    found = {}
    for r in remote.run_all(cl.nodes, S.probe_services(cl.stack, services, inner, user), timeout=30,
                            echo=False).values():
        if r.ok:
            found.update(S.parse_probe(r.stdout))
    return found


def database_line(remote: Remote, cl) -> str:
    roles = probe(remote, cl, S.PG_SERVICES, S.PG_IN_RECOVERY, "postgres")
    primaries = [s for s, v in roles.items() if v == "f"]
    if not primaries:
        return f"postgres: NO PRIMARY ({', '.join(f'{k}={v}' for k, v in roles.items()) or 'no containers'})"
    repl = probe(remote, cl, primaries[:1], S.PG_REPLICATION, "postgres").get(primaries[0], "")
    parts = repl.split()
    standbys = [f"{parts[i]} {parts[i + 1]} lag {parts[i + 2]} B" for i in range(0, len(parts) - 2, 3)]
    warn = f"; WARNING: {len(primaries)} primaries {primaries}" if len(primaries) > 1 else ""
    streaming = sum(1 for i in range(0, len(parts) - 2, 3) if parts[i + 1] == "streaming")
    if streaming < len(S.PG_SERVICES) - 1:
        warn += f"; DEGRADED: {streaming} of {len(S.PG_SERVICES) - 1} standbys streaming"
    return f"postgres: primary {primaries[0]}; standbys: {', '.join(standbys) or 'NONE streaming'}{warn}"


def redis_line(remote: Remote, cl) -> str:
    masters = probe(remote, cl, S.SENTINEL_SERVICES, S.SENTINEL_MASTER)
    answers = {v.split()[0] for v in masters.values() if v.split()}
    roles = probe(remote, cl, S.REDIS_SERVICES, S.REDIS_ROLE)
    role_of = {s: v.split()[0].replace("role:", "") for s, v in roles.items() if v}
    said = ", ".join(sorted(answers)) or "none"
    agree = f"sentinels {len(masters)}/3 say master is {said}"
    return f"redis: {agree}; roles: {', '.join(f'{s}={r}' for s, r in sorted(role_of.items()))}"


@task(help={"cluster": CLUSTER_HELP})
@expected_errors
def status(c, cluster=None):
    """One screen: services (desired/running and nodes), PostgreSQL primary + lag, Redis master, URL."""
    cl = load(c, cluster)
    deployed = state_dir(c, cl.name) / "deployed_tags.json"
    with Remote(cl, echo=False) as remote:
        mgr = first_manager(remote)
        services, tasks = snapshot(remote, mgr, cl.stack)
        if not services:
            raise OpsError(f"stack {cl.stack} is not deployed on {cl.name}: run `inv deploy --cluster {cl.name}`")
        tags = json.loads(deployed.read_text()) if deployed.exists() else {}
        say(f"stack {cl.stack} on {cl.name}: {cl.public_url}")
        if tags:
            say("  images: " + ", ".join(f"{n}:{t}" for n, t in tags.items()))
        say(f"  {'service':13} {'running':8} nodes")
        for s in services:
            nodes = sorted({t.node for t in tasks if t.service == s.name and t.desired == "Running"
                            and t.state == "Running"})
            if s.short in S.ONE_SHOT:
                last = next((t.current for t in tasks if t.service == s.name), "no task")
                say(f"  {s.short:13} {'once':8} {last}")
            else:
                flag = "" if s.running >= s.desired else "   <-- not converged"
                say(f"  {s.short:13} {f'{s.running}/{s.desired}':8} {', '.join(nodes)}{flag}")
        done, pending = S.converged(services, tasks, cl.stack)
        say("  " + database_line(remote, cl))
        say("  " + redis_line(remote, cl))
        say(f"  converged: {'yes' if done else 'no: ' + ', '.join(pending)}")


def root_tasks():
    return [deploy, status, logs, scale, destroy, unlock]
