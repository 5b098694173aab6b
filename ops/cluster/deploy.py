"""Deploying the stack (Kamal's shape): lock, images present, secrets, placement, stack deploy, convergence."""
from __future__ import annotations

import getpass
import json
import socket
import time
from secrets import token_urlsafe
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..builders import audit as A, docker as commands, stack as S
from ..core.errors import OpsError, RemoteError
from ..core.files import private_dir, read_text, write_private
from ..core.output import MASKER, say
from ..core.remote import Remote
from ..core.yamlfile import parse_yaml
from ..core.retry import delays, poll
from ..facts import stack as F
from . import images, mail, rolling, secrets, stackconfig
from .containers import in_one
from .swarm import swarm_facts

STACK_FILE = Path(__file__).resolve().parents[2] / "stack" / "pretix.yml"


@dataclass(frozen=True)
class Shape:
    """How many pretix web and worker replicas run (a deploy keeps what `inv scale` set unless told)."""
    web: int = 2
    workers: int = 2


def operator() -> str:
    """Who runs this task: the local user@host (the deploy lock's owner, the audit log's `who`)."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


def first_manager(remote: Remote):
    """The first manager that answers: deploys survive the loss of any one manager."""
    errors = []
    for node in remote.cluster.managers:
        r = remote.run(node, "docker node ls -q >/dev/null", echo=False, timeout=30)
        if r.ok:
            return node
        errors.append(r.describe())
    raise RemoteError("no manager answers:\n" + "\n".join(errors))


def lock_scope(cl) -> str:
    return f"{cl.name}-{cl.stack}"


@contextmanager
def deploy_lock(remote: Remote, node, stack: str):
    """stack: the lock's scope (lock_scope(cluster))."""
    owner = f"{operator()} {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}"
    if not remote.run(node, S.lock_acquire(stack, owner), echo=False).ok:
        held = remote.run(node, S.lock_owner(stack), echo=False).stdout.strip() or "unknown"
        raise OpsError(f"deploy lock {S.lock_dir(stack)} on {node.name} is held by {held}: wait for that deploy, "
                       f"or remove a stale lock with `inv unlock`")
    try:
        yield
    finally:
        remote.run(node, S.lock_release(stack), echo=False)


def require_images(remote: Remote, cl, tags: dict, explicit: str | None) -> None:
    node = cl.node(cl.build_node)
    missing = [n for n, t in tags.items() if not remote.run(node, images.manifest_probe(cl, n, t), echo=False).ok]
    if missing:
        which = ", ".join(f"{n}:{tags[n]}" for n in missing)
        fix = f"inv build --tag {explicit} --cluster {cl.name}" if explicit else f"inv build --cluster {cl.name}"
        raise OpsError(f"images missing in registry {cl.registry}: {which}: run `{fix}`")


def with_config(cl, state: Path, values: dict) -> dict:
    """The secret values plus the rendered pretix.cfg (mail relay included), as the stack gets them."""
    try:
        return secrets.with_config(values, cl.public_url, cl.mail, mail.relay_password(cl, state))
    except ValueError as exc:
        raise OpsError(f"pretix.cfg: {exc} (see the mail section of {cl.path})") from None


def secret_names_now(cl, state: Path) -> dict:
    """The Docker secret names the operator's state gives now, generating nothing (empty before a first deploy)."""
    path = state / "secrets.json"
    return secrets.names(with_config(cl, state, json.loads(path.read_text()))) if path.exists() else {}


def ensure_secrets(remote: Remote, mgr, cl, state: Path, rotate=()) -> dict:
    values, generated = secrets.load_values(state, tuple(rotate))
    all_values = with_config(cl, state, values)
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
    lb_nodes = [n.name for n in cl.nodes if n.labels.get(stackconfig.LB_LABEL) == "true"]
    changes = []
    for node, labels in stackconfig.placement([n.name for n in cl.nodes], current, lb_nodes).items():
        remote.check(mgr, commands.node_label_add(ids[node], labels))
        changes.append(f"{node}: {', '.join(labels)}")
    return changes


def current_shape(remote: Remote, mgr, stack: str) -> Shape | None:
    """The replicas the running stack has (None when it is not deployed)."""
    rows = F.parse_service_ls(remote.check(mgr, S.service_ls(stack), echo=False).stdout)
    desired = {s.short: s.desired for s in rows}
    if "web" not in desired:
        return None
    return Shape(max(1, desired["web"]), max(1, desired.get("worker", 2)))


def prepare(remote: Remote, mgr, cl, state: Path, tags: dict, explicit: str | None = None, rotate=()) -> dict:
    """Everything before `stack deploy`: images in the registry, secrets, node labels, the maintenance folder on
    every node. Returns the secret names."""
    require_images(remote, cl, tags, explicit)
    names = ensure_secrets(remote, mgr, cl, state, rotate)
    for line in ensure_placement(remote, mgr, cl):
        say(f"  label {line}")
    folders = remote.run_all(cl.nodes, A.maintenance_prepare(lock_scope(cl)), timeout=30, echo=False)
    for r in (r for r in folders.values() if not r.ok):
        say(f"  warning: no maintenance folder on {r.node} ({r.describe()}): nginx cannot start there until a deploy "
            f"reaches it")
    return names


def apply(remote: Remote, mgr, cl, tags: dict, names: dict, shape: Shape) -> list[str]:
    """`docker stack deploy` with these images and replicas; the services whose spec changed."""
    env = {**stackconfig.stack_env(cl.registry, tags, names, shape.web, shape.workers, 80, len(cl.nodes)),
           "MAINTENANCE_DIR": A.maintenance_dir(lock_scope(cl))}
    changed = stack_deploy(remote, mgr, cl, STACK_FILE, env)
    say(f"  services changed: {', '.join(changed) if changed else 'none (nothing to do)'}")
    return changed


def deploy_stack(remote: Remote, mgr, cl, state: Path, tags: dict, shape: Shape, timeout: float,
                 explicit: str | None = None, rotate=()) -> float:
    """The whole deploy under a held lock: prepare, stack deploy, wait until converged, the admin password.
    Returns the seconds convergence took."""
    names = prepare(remote, mgr, cl, state, tags, explicit, rotate)
    changed = apply(remote, mgr, cl, tags, names, shape)
    took = wait_converged(remote, mgr, cl.stack, float(timeout), changed)
    say(f"  {replace_default_admin(remote, cl, state / 'shop' / 'admin_password')}")
    return took


def service_specs(remote: Remote, mgr, stack: str) -> dict:
    """A digest of each service's spec: a no-op `stack deploy` bumps versions but leaves specs equal."""
    r = remote.run(mgr, S.service_spec_digests(stack), echo=False)
    return dict(line.split() for line in r.stdout.splitlines() if len(line.split()) == 2) if r.ok else {}


def stack_deploy(remote: Remote, mgr, cl, stack_file: Path, env: dict) -> list[str]:
    """`docker stack deploy` of the stack file; returns the services whose spec changed."""
    before = service_specs(remote, mgr, cl.stack)
    remote_file = f"/tmp/pxc-{lock_scope(cl)}-stack.yml"
    remote.put(mgr, str(stack_file), remote_file)
    labels = settle_members(remote, mgr, cl, remote_file, env)
    r = remote.run(mgr, S.stack_deploy(cl.stack, remote_file, env, *labels), timeout=300)
    if not r.ok:
        raise OpsError(f"docker stack deploy failed: {r.describe()}")
    after = service_specs(remote, mgr, cl.stack)
    return sorted(s for s, v in after.items() if before.get(s) != v)


def settle_members(remote: Remote, mgr, cl, remote_file: str, env: dict) -> list[str]:
    """Members whose image or settings changed are deployed one at a time first (`stack deploy` would restart a
    whole group at once); returns the extra stack file that keeps every member's settings label."""
    r = remote.check(mgr, S.stack_config(remote_file, env), echo=False)
    flat = parse_yaml(r.stdout, "docker stack config", OpsError) or {}
    rolled = rolling.roll_members(remote, mgr, cl, flat)
    if rolled:
        say(f"  rolled one member at a time, the leader last: {', '.join(rolled)}")
    digests = rolling.member_digests(flat)
    if not digests:
        return []
    labels_path = remote_file.removesuffix(".yml") + "-labels.yml"
    remote.check(mgr, f"cat > {labels_path}", stdin=rolling.labels_file(digests), echo=False)
    return [labels_path]


def snapshot(remote: Remote, mgr, stack: str):
    services = F.parse_service_ls(remote.check(mgr, S.service_ls(stack), echo=False).stdout)
    r = remote.run(mgr, S.stack_ps(stack), echo=False)
    return services, (F.parse_stack_ps(r.stdout) if r.ok else [])


def wait_converged(remote: Remote, mgr, stack: str, timeout: float, changed: list[str] = ()) -> float:
    """Wait (growing sleeps) until every service runs at its desired count, one-shots completed and the
    rolling updates of this deploy's services finished; a rolled-back update is a failure."""
    started, last = time.monotonic(), None
    seen = frozenset(t.id for t in snapshot(remote, mgr, stack)[1] if t.state in ("Failed", "Rejected"))
    for delay in delays(1.0, 1.5, 8):
        services, tasks = snapshot(remote, mgr, stack)
        done, pending = F.converged(services, tasks, stack)
        updating, rolled_back = F.updates_pending(F.parse_update_states(
            remote.run(mgr, S.update_states(stack), echo=False).stdout), list(changed))
        if rolled_back:
            explain_failure(remote, mgr, stack, rolled_back)
            raise OpsError(f"deploy of {stack}: Swarm rolled back the update of {', '.join(rolled_back)} (its new "
                           f"tasks failed; tasks and logs above): the old version keeps running")
        pending += updating
        elapsed = time.monotonic() - started
        if not pending:
            return elapsed
        if pending != last:
            say(f"  [{elapsed:5.0f}s] waiting for: {', '.join(pending)}")
            last = pending
        failing = F.failing_services(tasks, seen=seen)
        if failing or elapsed > timeout:
            explain_failure(remote, mgr, stack, failing or {p.split()[0].rstrip(':'): [] for p in pending})
            why = f"{', '.join(failing)} keep failing" if failing else f"not converged after {timeout:.0f}s"
            raise OpsError(f"deploy of {stack}: {why} (tasks and logs above; `inv logs SERVICE` for more)")
        time.sleep(delay)
    return 0.0  # pragma: no cover (delays() is endless)


def explain_failure(remote: Remote, mgr, stack: str, services) -> None:
    for svc in list(services)[:4]:
        name = svc if svc.startswith(f"{stack}_") else f"{stack}_{svc}"
        say(f"--- {name}: tasks ---")
        say(remote.run(mgr, S.service_ps(name), echo=False).stdout.rstrip())
        say(f"--- {name}: last log lines ---")
        r = remote.run(mgr, S.service_logs(name, tail=15), echo=False, timeout=30)
        say((r.stdout + r.stderr).rstrip())


def replace_default_admin(remote: Remote, cl, password_file: Path) -> str:
    """pretix's migrations create admin@localhost with password 'admin': replace it with a generated one,
    kept 0600 in the cluster's state (the quickstart logs in with it). Returns what was done."""
    password = read_text(password_file)
    if not password:
        password = token_urlsafe(24)
        private_dir(password_file.parent)
        write_private(password_file, password + "\n")  # kept before it is used: never lost
    MASKER.add(password)
    r = in_one(remote, cl, "web", S.ADMIN_RESET_INNER, stdin=password + "\n")
    if r is None or r.error:
        raise OpsError("no web container answers: cannot check pretix's default admin password (`inv status`)")
    if not r.ok:
        raise OpsError(f"could not replace pretix's default admin password: {r.describe()}")
    done = r.stdout.strip().splitlines()[-1:] == ["replaced"]
    return f"replaced pretix's default admin password (kept 0600 in {password_file})" if done else \
        "pretix's admin password is not the default: nothing to do"


def remove_stack(remote: Remote, mgr, cl, volumes: bool) -> None:
    """`docker stack rm`; with volumes, wait for every container to stop, then drop volumes and secrets."""
    remote.check(mgr, S.stack_rm(cl.stack))
    if not volumes:
        return
    # a volume still used by a stopping container on any node is not removed: wait for every node, then check
    # (a kept database volume would meet a fresh etcd on the next deploy: "system ID mismatch")
    poll(lambda: not left_on_nodes(remote, cl, S.stack_containers(cl.stack)), 180, first=2, cap=3)
    if not poll(lambda: not left_on_nodes(remote, cl, S.stack_volumes_rm(cl.stack)), 60, first=1, cap=5):
        raise OpsError(f"volumes of {cl.stack} still there: {left_on_nodes(remote, cl, S.stack_volumes(cl.stack))}; "
                       f"run `inv destroy --volumes` again once their containers are gone (`docker ps -a` there)")
    remote.check(mgr, S.secrets_rm(cl.stack))


def left_on_nodes(remote: Remote, cl, command: str) -> dict[str, str]:
    """{node: output} of the nodes where command printed something (or did not answer)."""
    results = remote.run_all(cl.nodes, command, timeout=120, echo=False)
    return {n: (r.stdout.strip() if r.ok else r.describe()) for n, r in results.items()
            if not r.ok or r.stdout.strip()}
