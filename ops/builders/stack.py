"""Builders of the docker stack/service/secret commands, the deploy lock and the in-container probes."""
from __future__ import annotations

from .docker import docker, sh


def secret_ls() -> str:
    return docker("secret", "ls", "--format", "{{.Name}}")


def secret_create(name: str, key: str, stack: str) -> str:
    """The value comes on stdin: it never appears in a command line or process list."""
    return docker("secret", "create", "--label", f"pxc.stack={stack}", "--label", f"pxc.key={key}", name, "-")


def secrets_rm(stack: str) -> str:
    return f"docker secret ls -q --filter label=pxc.stack={stack} | xargs -r docker secret rm"


def stack_deploy(stack: str, compose_file: str, env: dict, *more_files: str) -> str:
    """The whole stack (services not in the files are removed); more files merge over the first."""
    files = [a for f in (compose_file, *more_files) for a in ("--compose-file", f)]
    return sh(*_env(env), "docker", "stack", "deploy", "--prune", "--resolve-image", "always", *files, stack)


def stack_config(compose_file: str, env: dict) -> str:
    """The stack file as Docker reads it: anchors merged, variables interpolated (YAML on stdout)."""
    return sh(*_env(env), "docker", "stack", "config", "--compose-file", compose_file)


def _env(env: dict) -> list[str]:
    """`env K=V ...`: the stack file's variables (names of secrets, never their values)."""
    return ["env", *(f"{k}={v}" for k, v in sorted(env.items()))]


def stack_deploy_some(stack: str) -> str:
    """Deploy the stack file on stdin (some of the stack's services; the others are left alone) and wait until
    its services converged."""
    return docker("stack", "deploy", "--detach=false", "--quiet", "--resolve-image", "always", "--compose-file", "-",
                  stack)


def service_labels(stack: str, services: list[str], key: str) -> str:
    """'<service> <value of label key>' per existing service ('<no value>' when unset)."""
    fmt = f'{{{{.Spec.Name}}}} {{{{index .Spec.Labels "{key}"}}}}'
    return docker("service", "inspect", "--format", fmt, *(f"{stack}_{s}" for s in services)) + " 2>/dev/null"


def service_ls(stack: str) -> str:
    return docker("service", "ls", "--filter", f"label=com.docker.stack.namespace={stack}", "--format", "{{json .}}")


def stack_ps(stack: str) -> str:
    return docker("stack", "ps", "--no-trunc", "--format", "{{json .}}", stack)


def service_ps(service: str) -> str:
    return docker("service", "ps", "--no-trunc", "--format",
                  "{{.Name}} {{.Node}} {{.DesiredState}} {{.CurrentState}} {{.Error}}", service)


def service_logs(service: str, tail: int = 20, follow: bool = False) -> str:
    args = ["service", "logs", "--no-task-ids", "--tail", str(tail)]
    if follow:
        args.append("--follow")
    return docker(*args, service)


def service_restart(service: str) -> str:
    """Replace every task of the service by a new one, in the stack's update order (update_config)."""
    return docker("service", "update", "--detach", "--force", service)


def service_scale(service: str, replicas: int, max_per_node: int) -> str:
    return docker("service", "update", "--detach", "--replicas", str(replicas), "--replicas-max-per-node",
                  str(max_per_node), service)


def service_spec_digests(stack: str) -> str:
    """One line '<service> <digest of its spec>' per service: a no-op `stack deploy` bumps versions only."""
    return (f"for s in $(docker service ls -q --filter label=com.docker.stack.namespace={stack}); do "
            "echo \"$(docker service inspect --format '{{.Spec.Name}}' $s) "
            "$(docker service inspect --format '{{json .Spec}}' $s | sha256sum | cut -c1-16)\"; done")


def service_images(stack: str, services: list[str]) -> str:
    """'<service> <image>' per existing service (missing services print nothing)."""
    names = " ".join(f"{stack}_{s}" for s in services)
    return (f"for s in {names}; do docker service inspect --format "
            "'{{.Spec.Name}} {{.Spec.TaskTemplate.ContainerSpec.Image}}' $s 2>/dev/null; done; true")


def update_states(stack: str) -> str:
    """'<service> <update state>' per service of the stack (updating, completed, rollback_completed, ...)."""
    return (f"docker service ls -q --filter label=com.docker.stack.namespace={stack} | xargs -r docker service "
            "inspect --format '{{.Spec.Name}} {{if .UpdateStatus}}{{.UpdateStatus.State}}{{else}}none{{end}}'")


def stack_rm(stack: str) -> str:
    return docker("stack", "rm", stack)


def stack_containers(stack: str) -> str:
    """Ids of this node's containers that belong to the stack (empty once they are all gone)."""
    return docker("ps", "-q", "--filter", f"label=com.docker.stack.namespace={stack}")


def stack_volumes(stack: str) -> str:
    """This node's volumes of the stack (by its label; the object store's volumes are named outside it)."""
    return docker("volume", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={stack}")


def stack_volumes_rm(stack: str) -> str:
    return f"{stack_volumes(stack)} | xargs -r docker volume rm -f >/dev/null 2>&1; {stack_volumes(stack)}"


# --- the deploy lock: a directory on a manager (mkdir is atomic), with its owner inside ---------------
# scope = "<cluster>-<stack>": labs on one machine share its file system, their locks must not collide

def lock_dir(scope: str) -> str:
    return f"/var/tmp/pxc-{scope}.deploy-lock"


def lock_acquire(scope: str, owner: str) -> str:
    """Fails (non-zero) when the lock is held; the owner line says who holds it."""
    path = lock_dir(scope)
    return f"mkdir {path} && echo {sh(owner)} > {path}/owner"


def lock_owner(scope: str) -> str:
    return f"cat {lock_dir(scope)}/owner"


def lock_release(scope: str) -> str:
    return sh("rm", "-rf", lock_dir(scope))


# --- probes: a command run inside whichever container of a service runs on this node -----------------

def probe_services(stack: str, services: list[str], inner: str, user: str = "") -> str:
    """On one node: for each service with a container here, print '<service>|<inner output on one line>'."""
    as_user = f"-u {user} " if user else ""
    return (f"for s in {' '.join(services)}; do "
            f"c=$(docker ps -q --filter label=com.docker.swarm.service.name={stack}_$s | head -n1); "
            f"[ -n \"$c\" ] && echo \"$s|$(docker exec {as_user}$c sh -c {sh(inner)} 2>&1 | tr '\\n' ' ')\"; "
            f"done; true")


NOT_HERE = 3   # exit code of in_service when the service has no container on the node


def running_nodes(service: str) -> str:
    """The nodes (hostnames) where the service has a running task, one per line (ask a manager)."""
    return docker("service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}",
                  service)


def kill_container(stack: str, service: str) -> str:
    """SIGKILL this node's container of the service, as a crash would (exit NOT_HERE when none runs here), and print
    when it died (State.FinishedAt; Swarm keeps the exited container)."""
    return (f"c=$(docker ps -q --filter label=com.docker.swarm.service.name={stack}_{service} | head -n1); "
            f"[ -n \"$c\" ] || exit {NOT_HERE}; docker kill --signal KILL $c >/dev/null || exit 1; "
            "docker wait $c >/dev/null; docker inspect --format '{{.State.FinishedAt}}' $c || true")


def in_service(stack: str, service: str, inner: str, user: str = "", stdin: bool = False) -> str:
    """Run inner in this node's container of the service (exit NOT_HERE when none runs here). With stdin, the
    input is read first (all of it, so the sender never writes to a closed channel) and piped in by the
    shell's printf builtin: it never appears in a process list."""
    opts = (f"-u {user} " if user else "") + ("-i " if stdin else "")
    find = (f"c=$(docker ps -q --filter label=com.docker.swarm.service.name={stack}_{service} | head -n1); "
            f"[ -n \"$c\" ] || exit {NOT_HERE}; ")
    if stdin:
        return f"input=$(cat); {find}printf '%s\\n' \"$input\" | docker exec {opts}$c sh -c {sh(inner)}"
    return f"{find}docker exec {opts}$c sh -c {sh(inner)}"


# The password comes on stdin (never on a command line); only the initial 'admin' password is replaced.
_ADMIN_RESET = ("import sys; from pretix.base.models import User; pw = sys.stdin.readline().strip(); "
                "u = User.objects.filter(email='admin@localhost').first(); "
                "initial = bool(u and u.check_password('admin')); "
                "initial and (u.set_password(pw) or u.save()); "
                "print('replaced' if initial else 'kept')")


ADMIN_RESET_INNER = f"pretix-entrypoint shell -c {sh(_ADMIN_RESET)}"


PG_SERVICES = ["pg1", "pg2", "pg3"]
ETCD_SERVICES = ["etcd1", "etcd2", "etcd3"]
REDIS_SERVICES = ["redis1", "redis2", "redis3"]
SENTINEL_SERVICES = ["sentinel1", "sentinel2", "sentinel3"]
PATRONI_CONFIG = "/etc/pxc/patroni.yml"
PATRONI_LIST = f"patronictl -c {PATRONI_CONFIG} list -f json"
PSQL = "psql -h /var/run/postgresql -U postgres -XtA -F ' ' -c "
PG_REPLICATION = PSQL + sh(
    "select application_name, state, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0) "
    "from pg_stat_replication order by 1")
ETCD_HEALTH = "etcdctl --endpoints " + ",".join(f"http://{e}:2379" for e in ETCD_SERVICES) + " endpoint health 2>&1"
# redis-cli reads the password from the environment, filled from the secret inside the container
_REDIS_AUTH = "REDISCLI_AUTH=$(cat /run/secrets/redis_password) redis-cli --no-auth-warning"
REDIS_ROLE = f"{_REDIS_AUTH} -p 6379 info replication | grep -E '^(role|master_host|connected_slaves):'"
SENTINEL_MASTER = f"{_REDIS_AUTH} -p 26379 sentinel get-master-addr-by-name pxc"


def patroni_switchover(leader: str, candidate: str | None = None) -> str:
    """A planned switchover through Patroni (the one authority); --force skips its questions."""
    args = ["patronictl", "-c", PATRONI_CONFIG, "switchover", "--leader", leader, "--force"]
    return sh(*args, *(["--candidate", candidate] if candidate else []))


def sentinel_failover(master_name: str = "pxc") -> str:
    return f"{_REDIS_AUTH} -p 26379 sentinel failover {master_name}"
