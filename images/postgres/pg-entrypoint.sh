#!/bin/bash
# pretix-cluster PostgreSQL node: renders Patroni's config and runs Patroni (4.1), which decides the
# role through etcd: bootstrap (first node to take the initialize key), clone from the leader
# (empty data dir), follow, pg_rewind / re-clone a former primary, promote on failover.
#
# Environment (no passwords: they are read from the secret files into the 0600 patroni.yml):
#   PG_NAME (required: pg1, = service name = container hostname), PG_SCOPE (pretix),
#   PG_ETCD_HOSTS (etcd1:2379,etcd2:2379,etcd3:2379), PG_SHARED_BUFFERS (256MB),
#   PG_PRETIX_USER / PG_PRETIX_DB (pretix), PG_SUPERUSER_PASSWORD_FILE, PG_REPLICATION_PASSWORD_FILE,
#   PG_PRETIX_PASSWORD_FILE, PG_REST_PASSWORD_FILE (/run/secrets/pg_*), PG_REWIND_PASSWORD_FILE
#   (default: the replication secret), PG_LOCK_WAIT (60: s to wait for an old container on the volume).
#   Cluster-wide (written to etcd at bootstrap only; later: patronictl edit-config):
#   PG_MAX_CONNECTIONS (200), PG_TTL (20), PG_LOOP_WAIT (2), PG_RETRY_TIMEOUT (9),
#   PG_PRIMARY_START_TIMEOUT (10), PG_SYNC_STRICT (true)
set -euo pipefail

# PG_MODE=standalone (`inv bench --baseline`): plain PostgreSQL, no Patroni, no etcd, no replicas. initdb on
# an empty volume, the pretix role and database (pg-post-bootstrap), then postgres in the foreground.
if [ "${PG_MODE:-patroni}" = standalone ]; then
    export PGDATA=/var/lib/postgresql/data/pgdata PG_PRETIX_PASSWORD_FILE="${PG_PRETIX_PASSWORD_FILE:-/run/secrets/pg_pretix_password}"
    if [ "$(id -u)" = 0 ]; then
        mkdir -p "$PGDATA" /var/run/postgresql
        chown postgres:postgres /var/lib/postgresql/data "$PGDATA" /var/run/postgresql
        chmod 0700 /var/lib/postgresql/data "$PGDATA"
        export HOME=/var/lib/postgresql
        exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
    fi
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        initdb -D "$PGDATA" --encoding=UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 >&2
        printf "listen_addresses = '*'\nmax_connections = %s\nshared_buffers = %s\n" \
            "${PG_MAX_CONNECTIONS:-200}" "${PG_SHARED_BUFFERS:-256MB}" >> "$PGDATA/postgresql.conf"
        echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
        pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >&2
        /usr/local/bin/pg-post-bootstrap "host=/var/run/postgresql user=postgres dbname=postgres"
        pg_ctl -D "$PGDATA" -m fast -w stop >&2
    fi
    echo "pg-entrypoint[standalone]: starting postgres (no Patroni)" >&2
    exec postgres -D "$PGDATA"
fi

: "${PG_NAME:?PG_NAME is required (pg1, pg2, ...)}"
: "${PG_SCOPE:=pretix}"
: "${PG_ETCD_HOSTS:=etcd1:2379,etcd2:2379,etcd3:2379}"
: "${PG_SHARED_BUFFERS:=256MB}"
: "${PG_MAX_CONNECTIONS:=200}"
: "${PG_PRETIX_USER:=pretix}"
: "${PG_PRETIX_DB:=pretix}"
: "${PG_TTL:=20}"
: "${PG_LOOP_WAIT:=2}"
: "${PG_RETRY_TIMEOUT:=9}"
: "${PG_PRIMARY_START_TIMEOUT:=10}"
: "${PG_SYNC_STRICT:=true}"
: "${PG_SUPERUSER_PASSWORD_FILE:=/run/secrets/pg_superuser_password}"
: "${PG_REPLICATION_PASSWORD_FILE:=/run/secrets/pg_replication_password}"
: "${PG_REWIND_PASSWORD_FILE:=$PG_REPLICATION_PASSWORD_FILE}"
: "${PG_PRETIX_PASSWORD_FILE:=/run/secrets/pg_pretix_password}"
: "${PG_REST_PASSWORD_FILE:=/run/secrets/pg_rest_password}"
export PG_NAME PG_SCOPE PG_ETCD_HOSTS PG_SHARED_BUFFERS PG_MAX_CONNECTIONS PG_PRETIX_USER PG_PRETIX_DB \
    PG_TTL PG_LOOP_WAIT PG_RETRY_TIMEOUT PG_PRIMARY_START_TIMEOUT PG_SYNC_STRICT \
    PG_SUPERUSER_PASSWORD_FILE PG_REPLICATION_PASSWORD_FILE PG_REWIND_PASSWORD_FILE \
    PG_PRETIX_PASSWORD_FILE PG_REST_PASSWORD_FILE
VOLUME_DIR=/var/lib/postgresql/data
: "${PG_LOCK_WAIT:=60}"
export PGDATA=${PGDATA:-$VOLUME_DIR/pgdata}
export PATRONI_CONFIG=/etc/pxc/patroni.yml

log() { echo "pg-entrypoint[$PG_NAME]: $*" >&2; }

# Root only to fix ownership of the volume, then drop to postgres.
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$VOLUME_DIR" "$PGDATA" /var/run/postgresql /etc/pxc
    chown postgres:postgres "$VOLUME_DIR" "$PGDATA" /var/run/postgresql /etc/pxc
    chmod 0700 "$VOLUME_DIR" "$PGDATA" /etc/pxc
    for f in "$PG_SUPERUSER_PASSWORD_FILE" "$PG_REPLICATION_PASSWORD_FILE" "$PG_REWIND_PASSWORD_FILE" \
             "$PG_PRETIX_PASSWORD_FILE" "$PG_REST_PASSWORD_FILE"; do
        [ -s "$f" ] || { log "ERROR: secret file $f missing or empty"; exit 1; }
    done
    export HOME=/var/lib/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

# One container per volume. After a partition Swarm starts the replacement task as soon as the
# node is back, while the old container may still be shutting down (seen in the lab: 30 s of
# overlap); postgres' own postmaster.pid interlock does not work across containers (separate
# PID/IPC namespaces). An flock on the volume does: Patroni inherits fd 9 and holds it for life.
exec 9>"$VOLUME_DIR/.pxc-instance.lock"
if ! flock -n 9; then
    log "another container still uses this volume: waiting up to ${PG_LOCK_WAIT}s for it to exit"
    flock -w "$PG_LOCK_WAIT" 9 || { log "ERROR: volume still in use, giving up"; exit 1; }
    log "volume lock acquired"
fi

[ "$(hostname)" = "$PG_NAME" ] || log "WARNING: hostname $(hostname) != PG_NAME $PG_NAME (set hostname: $PG_NAME in the stack)"
# pgBackRest: its config (repository, TLS server), then its TLS server for the backup service, kept running
# next to Patroni (fd 9 closed: the volume lock stays Patroni's alone)
/usr/local/bin/pg-backup-config pg
( while true; do pgbackrest server --log-level-console=warn; sleep 5; done ) 9>&- &
/usr/local/bin/pg-patroni-config "$PATRONI_CONFIG"
log "starting patroni (scope $PG_SCOPE, etcd $PG_ETCD_HOSTS)"
exec patroni "$PATRONI_CONFIG"
