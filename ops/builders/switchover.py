"""Builders of a planned switchover's steps on one node: PgBouncer paused and resumed in every pg-proxy container
(its signals: SIGUSR1 = PAUSE, SIGUSR2 = RESUME), the proxies' own view of the primary, the Redis run ids."""
from __future__ import annotations

from .docker import sh
from .stack import PSQL, _REDIS_AUTH

PGBOUNCER_BACKEND = "0100007F:1539"   # 127.0.0.1:5433 in /proc/net/tcp: PgBouncer's connections to HAProxy


def each(stack: str, service: str, inner: str) -> str:
    """inner in every container of the service on this node; one line '<container>|<output>' each."""
    return (f"for c in $(docker ps -q --filter label=com.docker.swarm.service.name={stack}_{service}); do "
            f"echo \"$c|$(docker exec $c sh -c {sh(inner)} 2>&1 | tr '\\n' ' ')\"; done; true")


# Run on the leader just before the pause: the shutdown checkpoint of the switchover then has little left to write,
# so transactions wait less.
PG_CHECKPOINT = PSQL + sh("checkpoint")


# a shell loop's head over this container's PgBouncer processes (by name: no pgrep in the image)
_EACH_PGBOUNCER = "for p in /proc/[0-9]*; do [ \"$(cat $p/comm 2>/dev/null)\" = pgbouncer ] && "


def pgbouncer_signal(stack: str, signal: str) -> str:
    """Send a signal to PgBouncer in every pg-proxy container here (tini/bash would not pass it on)."""
    inner = f"{_EACH_PGBOUNCER}kill -{signal} ${{p#/proc/}} && echo sent; done; true"
    return each(stack, "pg-proxy", inner)


def resume_pgbouncer(stack: str) -> str:
    return pgbouncer_signal(stack, "USR2")


# PgBouncer's open connections to the database (through HAProxy): 0 once PAUSE let every transaction finish
_SERVER_CONNECTIONS = f"awk '$3 == \"{PGBOUNCER_BACKEND}\" && $4 == \"01\"' /proc/net/tcp | wc -l"


def pause_pgbouncer_drained(stack: str, wait_s: int) -> str:
    """PAUSE PgBouncer in every pg-proxy container here and wait (in the container, at most wait_s) until it has
    closed its database connections; one line 'c|<connections left>' each (one round trip, not one per check)."""
    inner = (f"{_EACH_PGBOUNCER}kill -USR1 ${{p#/proc/}}; done; i=0; while [ $i -lt {int(wait_s) * 5} ]; do "
             f"n=$({_SERVER_CONNECTIONS}); [ \"$n\" = 0 ] && break; sleep 0.2; i=$((i + 1)); done; {_SERVER_CONNECTIONS}")
    return each(stack, "pg-proxy", inner)


def proxy_changes(stack: str, service: str, seconds: int, backend: str, new: str, old: str) -> str:
    """Per container of the service here, 'c|<n>|<m>': how often its HAProxy logged `new` UP and `old` DOWN in
    the last `seconds` (relative: no clock of this machine involved)."""
    return (f"for c in $(docker ps -q --filter label=com.docker.swarm.service.name={stack}_{service}); do "
            f"l=$(docker logs --since {int(seconds)}s $c 2>&1); "
            f"echo \"$c|$(echo \"$l\" | grep -c {sh(f'{backend}/{new} is UP')})|"
            f"$(echo \"$l\" | grep -c {sh(f'{backend}/{old} is DOWN')})\"; done; true")


REDIS_RUN_ID = f"{_REDIS_AUTH} -h 127.0.0.1 -p 6379 info server | grep '^run_id:'"


# --- Redis: writes held on the old master while the Sentinels switch, redis-proxy's HAProxy steered -------------
HAPROXY_SOCKET = "/run/haproxy/admin.sock"      # redis-proxy's runtime API (level admin, inside the container)
REDIS_BACKEND = "redis_master"
_CLI = ('$s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "haproxy runtime API $ARGV[0]: $!\\n"; '
        'print $s "$ARGV[1]\\n"; print while <$s>')


def haproxy(stack: str, service: str, command: str) -> str:
    """One runtime-API line ('cmd; cmd') to the HAProxy of every container of the service here (Debian's perl:
    the image has no socat)."""
    return each(stack, service, sh("perl", "-MIO::Socket::UNIX", "-e", _CLI, HAPROXY_SOCKET, command))


_MIN_REPLICAS_KEPT = "/tmp/pxc-min-replicas-to-write"   # the master's own value while a hold lowers it


def redis_pause_writes(ms: int) -> str:
    """Hold every write on this Redis (clients wait, nothing fails) for at most ms: it ends by itself.
    min-replicas-to-write goes to 0 first (its value kept in the container): Redis refuses a write for want of
    replicas before it looks at the pause, so once the Sentinels took the old master's replicas away, writes
    arriving in the hold failed with NOREPLICAS instead of waiting (failed purchases in the lab)."""
    cli = f"{_REDIS_AUTH} -p 6379"
    return (f"n=$({cli} config get min-replicas-to-write | tail -n 1); "
            f"if [ \"$n\" != 0 ]; then echo \"$n\" > {_MIN_REPLICAS_KEPT}; fi; "
            f"{cli} config set min-replicas-to-write 0 && {cli} client pause {int(ms)} write")


# the kept min-replicas-to-write back first (1 if none was kept), then the held writes go on
REDIS_UNPAUSE = (f"{_REDIS_AUTH} -p 6379 config set min-replicas-to-write \"$(cat {_MIN_REPLICAS_KEPT} 2>/dev/null "
                 f"|| echo 1)\" && {_REDIS_AUTH} -p 6379 client unpause")
REDIS_REPLICATION = f"{_REDIS_AUTH} -p 6379 info replication | tr -d '\\r'"
