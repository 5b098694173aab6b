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


def stack_deploy(stack: str, compose_file: str, env: dict) -> str:
    assigns = [f"{k}={v}" for k, v in sorted(env.items())]
    return sh("env", *assigns, "docker", "stack", "deploy", "--prune", "--resolve-image", "always",
              "--compose-file", compose_file, stack)


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


def service_scale(service: str, replicas: int) -> str:
    return docker("service", "scale", "--detach", f"{service}={replicas}")


def service_spec_digests(stack: str) -> str:
    """One line '<service> <digest of its spec>' per service: a no-op `stack deploy` bumps versions only."""
    return (f"for s in $(docker service ls -q --filter label=com.docker.stack.namespace={stack}); do "
            "echo \"$(docker service inspect --format '{{.Spec.Name}}' $s) "
            "$(docker service inspect --format '{{json .Spec}}' $s | sha256sum | cut -c1-16)\"; done")


def stack_rm(stack: str) -> str:
    return docker("stack", "rm", stack)


def stack_containers(stack: str) -> str:
    """Ids of this node's containers that belong to the stack (empty once they are all gone)."""
    return docker("ps", "-q", "--filter", f"label=com.docker.stack.namespace={stack}")


def stack_volumes_rm(stack: str) -> str:
    return f"docker volume ls -q --filter label=com.docker.stack.namespace={stack} | xargs -r docker volume rm -f"


# --- the deploy lock: a directory on a manager (mkdir is atomic), with its owner inside ---------------

def lock_dir(stack: str) -> str:
    return f"/var/tmp/pxc-{stack}.deploy-lock"


def lock_acquire(stack: str, owner: str) -> str:
    """Fails (non-zero) when the lock is held; the owner line says who holds it."""
    path = lock_dir(stack)
    return f"mkdir {path} && echo {sh(owner)} > {path}/owner"


def lock_owner(stack: str) -> str:
    return f"cat {lock_dir(stack)}/owner"


def lock_release(stack: str) -> str:
    return sh("rm", "-rf", lock_dir(stack))


# --- probes: a command run inside whichever container of a service runs on this node -----------------

def probe_services(stack: str, services: list[str], inner: str, user: str = "") -> str:
    """On one node: for each service with a container here, print '<service>|<inner output on one line>'."""
    as_user = f"-u {user} " if user else ""
    return (f"for s in {' '.join(services)}; do "
            f"c=$(docker ps -q --filter label=com.docker.swarm.service.name={stack}_$s | head -n1); "
            f"[ -n \"$c\" ] && echo \"$s|$(docker exec {as_user}$c sh -c {sh(inner)} 2>&1 | tr '\\n' ' ')\"; "
            f"done; true")


def in_service(stack: str, service: str, inner: str, user: str = "") -> str:
    """Run inner in this node's container of the service (exit 3 when none runs here)."""
    as_user = f"-u {user} " if user else ""
    return (f"c=$(docker ps -q --filter label=com.docker.swarm.service.name={stack}_{service} | head -n1); "
            f"[ -n \"$c\" ] || exit 3; docker exec {as_user}$c sh -c {sh(inner)}")


PG_SERVICES = ["pg1", "pg2", "pg3"]
REDIS_SERVICES = ["redis1", "redis2", "redis3"]
SENTINEL_SERVICES = ["sentinel1", "sentinel2", "sentinel3"]
PSQL = "psql -h /var/run/postgresql -U postgres -XtA -F ' ' -c "
PG_IN_RECOVERY = PSQL + sh("select pg_is_in_recovery()")
PG_REPLICATION = PSQL + sh(
    "select application_name, state, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0) "
    "from pg_stat_replication order by 1")
REDIS_ROLE = "redis-cli -p 6379 info replication | grep -E '^(role|master_host|connected_slaves):'"
SENTINEL_MASTER = "redis-cli -p 26379 sentinel get-master-addr-by-name pxc"
