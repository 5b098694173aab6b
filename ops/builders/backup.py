"""Builders of the backup and restore commands: the backup service's CLI, scaling services, the database members'
volumes and Patroni's state in etcd, the Redis cache flush, a ticket download through one web replica."""
from __future__ import annotations

from .docker import docker, sh
from .stack import ETCD_SERVICES, in_service

BACKUP_SERVICE = "backup"
APP_SERVICES = ("web", "worker", "cron")      # everything that writes to the database
PG_VOLUME_ROOT = "/var/lib/postgresql/data"   # the member's volume: pgdata/, the pgBackRest spool, the lock
RESTORE_REQUEST = "pxc-restore.json"          # read by the member's config (images/postgres/pgbackup.py)
PATRONI_NAMESPACE = "/service"                # Patroni's default etcd namespace: /service/<scope>/


def backup_cli(stack: str, *args: str) -> str:
    """pxc-backup (images/backup) in this node's backup container; JSON on stdout, progress on stderr."""
    return in_service(stack, BACKUP_SERVICE, sh("pxc-backup", *args))


def backup_progress(stack: str, *args: str) -> str:
    """pxc-backup with only its progress (stderr) on the output, its JSON answer dropped (asked for afterwards):
    a stream mixes the two."""
    return in_service(stack, BACKUP_SERVICE, sh("pxc-backup", *args) + " 2>&1 >/dev/null")


def services_here(stack: str, services) -> str:
    """The services (of those named) that have a running container on this node, one per line."""
    return (f"for s in {' '.join(services)}; do "
            f"[ -n \"$(docker ps -q --filter label=com.docker.swarm.service.name={stack}_$s)\" ] && echo $s; "
            "done; true")


def replicas(stack: str, services) -> str:
    """'<service> <desired replicas>' per (replicated) service."""
    names = " ".join(f"{stack}_{s}" for s in services)
    return (f"for s in {names}; do docker service inspect --format "
            "'{{.Spec.Name}} {{.Spec.Mode.Replicated.Replicas}}' $s; done")


def scale(stack: str, counts: dict[str, int]) -> str:
    """Set the replicas of several services at once (Swarm converges in the background)."""
    return docker("service", "scale", "--detach", *(f"{stack}_{s}={n}" for s, n in sorted(counts.items())))


def etcd_forget(scope: str) -> str:
    """Inside an etcd member: delete Patroni's whole state of the cluster (leader, members, initialize key)."""
    return sh("etcdctl", "--endpoints", ",".join(f"http://{e}:2379" for e in ETCD_SERVICES),
              "del", "--prefix", f"{PATRONI_NAMESPACE}/{scope}/")


def member_reset(volume: str, image: str, request: bool = False) -> str:
    """On the member's node, with the member stopped: empty its data dir and pgBackRest spool (the lock file
    stays); with request, also write the restore request read from stdin (printf builtin: never in argv)."""
    inner = f"rm -rf {PG_VOLUME_ROOT}/pgdata {PG_VOLUME_ROOT}/pgbackrest {PG_VOLUME_ROOT}/{RESTORE_REQUEST}"
    if request:
        inner += f" && cat > {PG_VOLUME_ROOT}/{RESTORE_REQUEST} && chown postgres:postgres {PG_VOLUME_ROOT}/*"
    run = ["run", "--rm", "--network", "none", "--user", "root", "--entrypoint", "/bin/sh",
           "--mount", f"type=volume,source={volume},target={PG_VOLUME_ROOT}"]
    if request:
        return f"input=$(cat); printf '%s\\n' \"$input\" | {docker(*run, '-i', image, '-c', inner)}"
    return docker(*run, image, "-c", inner)


def request_done(stack: str, member: str) -> str:
    """Remove the restore request from a running member (it only acts on an empty data dir, but must not linger)."""
    return in_service(stack, member, f"rm -f {PG_VOLUME_ROOT}/{RESTORE_REQUEST}")


#: inside a redis-proxy container: empty the cache database (pretix's cache and sessions), not Celery's queues
REDIS_FLUSH_CACHE = ("REDISCLI_AUTH=$(cat /run/secrets/redis_password) redis-cli --no-auth-warning "
                     "-h 127.0.0.1 -p 6379 -n 0 flushdb")

# Fetch one URL from the web replica this runs in (not through nginx): the API token comes on stdin.
_FETCH = ("import hashlib, sys, urllib.error, urllib.request as u; token = sys.stdin.readline().strip(); "
          "r = u.Request('http://127.0.0.1:8000' + sys.argv[1], headers={'Host': sys.argv[2], "
          "'Authorization': 'Token ' + token})\n"
          "try:\n    body = u.urlopen(r, timeout=60).read(); code = 200\n"
          "except urllib.error.HTTPError as e:\n    body = e.read(); code = e.code\n"
          "print(code, len(body), hashlib.sha256(body).hexdigest()[:16], body[:4].decode('latin-1'))")


def fetch_in_web(stack: str, path: str, host: str) -> str:
    """In this node's web container: GET path from that very replica; prints 'status bytes sha256 magic'."""
    return in_service(stack, "web", sh("python", "-c", _FETCH, path, host), stdin=True)


def delete_event_sql(organizer: str, event: str) -> str:
    """The mistake: an operator's DELETE in psql (pretix refuses to delete an event that has orders, so the
    drill does what a wrong statement does): the event and its orders are gone, FK checks off for the session."""
    sql = ("SET session_replication_role = replica; "
           f"DELETE FROM pretixbase_order WHERE event_id IN (SELECT e.id FROM pretixbase_event e JOIN "
           f"pretixbase_organizer o ON o.id = e.organizer_id WHERE o.slug = '{organizer}' AND e.slug = '{event}'); "
           f"DELETE FROM pretixbase_event e USING pretixbase_organizer o WHERE o.id = e.organizer_id "
           f"AND o.slug = '{organizer}' AND e.slug = '{event}';")
    return sh("psql", "-h", "/var/run/postgresql", "-U", "postgres", "-d", "pretix", "-XtA", "-v", "ON_ERROR_STOP=1",
              "-c", sql)
