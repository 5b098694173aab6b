#!/bin/bash
# pgpool-II entrypoint: renders pgpool.conf, pool_hba.conf, pool_passwd (from the secret files),
# waits until one backend is a primary, then runs pgpool in the foreground.
#
# Environment: PGPOOL_BACKENDS ("pg1 pg2 pg3"), PGPOOL_NUM_INIT_CHILDREN (64), PGPOOL_MAX_POOL (2),
#   PGPOOL_HEALTH_CHECK_PERIOD (2), PGPOOL_SEARCH_PRIMARY_TIMEOUT (60), PGPOOL_WAIT_TIMEOUT (300),
#   PG_SUPERUSER_PASSWORD_FILE, PG_REPMGR_PASSWORD_FILE, PG_PRETIX_PASSWORD_FILE, PG_PRETIX_USER (pretix)
set -euo pipefail

: "${PGPOOL_BACKENDS:=pg1 pg2 pg3}"
: "${PGPOOL_NUM_INIT_CHILDREN:=64}"
: "${PGPOOL_MAX_POOL:=2}"
: "${PGPOOL_HEALTH_CHECK_PERIOD:=2}"
: "${PGPOOL_SEARCH_PRIMARY_TIMEOUT:=60}"
: "${PGPOOL_WAIT_TIMEOUT:=300}"
: "${PG_SUPERUSER_PASSWORD_FILE:=/run/secrets/pg_superuser_password}"
: "${PG_REPMGR_PASSWORD_FILE:=/run/secrets/pg_repmgr_password}"
: "${PG_PRETIX_PASSWORD_FILE:=/run/secrets/pg_pretix_password}"
: "${PG_PRETIX_USER:=pretix}"

ETC=/etc/pgpool2
RUN=/var/run/pgpool
log() { echo "pgpool-entrypoint: $*" >&2; }
secret() { tr -d '\r\n' < "$1"; }

for f in "$PG_SUPERUSER_PASSWORD_FILE" "$PG_REPMGR_PASSWORD_FILE" "$PG_PRETIX_PASSWORD_FILE"; do
    [ -r "$f" ] || { log "ERROR: secret file $f missing"; exit 1; }
done

umask 077
{
    echo "postgres:TEXT$(secret "$PG_SUPERUSER_PASSWORD_FILE")"
    echo "repmgr:TEXT$(secret "$PG_REPMGR_PASSWORD_FILE")"
    echo "$PG_PRETIX_USER:TEXT$(secret "$PG_PRETIX_PASSWORD_FILE")"
} > "$ETC/pool_passwd"
# libpq password file for the health check / wait loop / admin psql inside the container
repmgr_pw=$(secret "$PG_REPMGR_PASSWORD_FILE")
printf '*:5432:*:repmgr:%s\n' "${repmgr_pw//:/\\:}" > "$HOME/.pgpass"
# pcp (pgpool admin) with a per-container random password, usable via `docker exec ... pcp_node_info -w`
pcp_pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "pcp:$(pg_md5 "$pcp_pw")" > "$ETC/pcp.conf"
echo "localhost:9898:pcp:$pcp_pw" > "$HOME/.pcppass"
unset pcp_pw repmgr_pw
umask 022

cat > "$ETC/pool_hba.conf" <<'HBA'
local   all         all                     trust
host    all         all         0.0.0.0/0   scram-sha-256
host    all         all         ::/0        scram-sha-256
HBA

{
cat <<CONF
# written by pgpool-entrypoint at every start
backend_clustering_mode = 'streaming_replication'
listen_addresses = '*'
port = 5432
socket_dir = '$RUN'
pcp_listen_addresses = 'localhost'
pcp_port = 9898
pcp_socket_dir = '$RUN'
pid_file_name = '$RUN/pgpool.pid'
logdir = '$RUN'
log_destination = 'stderr'
log_line_prefix = '%m: %a pid %p: '
log_connections = off
log_min_messages = warning

enable_pool_hba = on
pool_passwd = 'pool_passwd'
allow_clear_text_frontend_auth = off
authentication_timeout = 30

num_init_children = $PGPOOL_NUM_INIT_CHILDREN
max_pool = $PGPOOL_MAX_POOL
child_life_time = 300
connection_life_time = 600
client_idle_limit = 0
connection_cache = on
reset_query_list = 'ABORT; DISCARD ALL'

# no read/write splitting: everything goes to the primary (pretix needs read-your-writes)
load_balance_mode = off
statement_level_load_balance = off

sr_check_period = 5
sr_check_user = 'repmgr'
sr_check_password = ''
sr_check_database = 'postgres'
delay_threshold = 0

health_check_period = $PGPOOL_HEALTH_CHECK_PERIOD
health_check_timeout = 3
health_check_user = 'repmgr'
health_check_password = ''
health_check_database = 'postgres'
health_check_max_retries = 1
health_check_retry_delay = 1
connect_timeout = 3000

# repmgrd promotes; pgpool only detaches the dead node and finds the new primary
failover_command = ''
failback_command = ''
follow_primary_command = ''
failover_on_backend_error = on
failover_on_backend_shutdown = on
detach_false_primary = on
search_primary_node_timeout = $PGPOOL_SEARCH_PRIMARY_TIMEOUT
auto_failback = on
auto_failback_interval = 5

use_watchdog = off
memory_cache_enabled = off
CONF
i=0
for b in $PGPOOL_BACKENDS; do
cat <<CONF
backend_hostname$i = '$b'
backend_port$i = 5432
backend_weight$i = 1
backend_flag$i = 'ALLOW_TO_FAILOVER'
backend_application_name$i = '$b'
CONF
i=$((i + 1))
done
} > "$ETC/pgpool.conf"

# Wait until some backend is a primary: pgpool started with no reachable primary would
# mark every node down and never re-attach a primary by itself.
start=$(date +%s)
while true; do
    for b in $PGPOOL_BACKENDS; do
        r=$(PGCONNECT_TIMEOUT=2 psql -h "$b" -p 5432 -U repmgr -d postgres -X -q -tA \
              -c "SELECT pg_is_in_recovery()" 2>/dev/null || true)
        if [ "$r" = f ]; then primary=$b; break 2; fi
    done
    if [ $(( $(date +%s) - start )) -ge "$PGPOOL_WAIT_TIMEOUT" ]; then
        log "ERROR: no primary among ($PGPOOL_BACKENDS) after ${PGPOOL_WAIT_TIMEOUT}s; exiting"
        exit 1
    fi
    log "waiting for a PostgreSQL primary among ($PGPOOL_BACKENDS)"
    sleep 3
done
log "primary is $primary after $(( $(date +%s) - start ))s; starting pgpool"
pgpool -n -D -f "$ETC/pgpool.conf" -F "$ETC/pcp.conf" -a "$ETC/pool_hba.conf" &
PGPOOL_PID=$!
trap 'kill -TERM "$PGPOOL_PID" 2>/dev/null; wait "$PGPOOL_PID"; exit 0' TERM INT

# Primary watcher. pgpool's auto_failback re-attaches only standbys: a node that pgpool detached
# (it was down) and that is a primary now (e.g. elected after a restart of the whole DB cluster)
# would stay detached and pgpool would have no primary. Attach such a node with pcp_attach_node;
# if pgpool still has no primary ${PGPOOL_NO_PRIMARY_EXIT}s after a real primary exists, exit so
# the orchestrator restarts pgpool with fresh state.
: "${PGPOOL_NO_PRIMARY_EXIT:=30}"
nodes=$(echo $PGPOOL_BACKENDS | wc -w)
no_primary_since=""
while kill -0 "$PGPOOL_PID" 2>/dev/null; do
    sleep 3 & wait $! || true
    have_primary=no; real_primary=""
    for i in $(seq 0 $((nodes - 1))); do
        info=$(timeout 5 pcp_node_info -h localhost -p 9898 -U pcp -w -n "$i" 2>/dev/null) || continue
        read -r host _port _st _w status_name _bs role _rest <<<"$info"
        if [ "$role" = primary ] && { [ "$status_name" = up ] || [ "$status_name" = waiting ]; }; then
            have_primary=yes
        elif [ "$status_name" = down ]; then
            r=$(PGCONNECT_TIMEOUT=2 psql -h "$host" -p 5432 -U repmgr -d postgres -X -q -tA \
                  -c "SELECT pg_is_in_recovery()" 2>/dev/null || true)
            if [ "$r" = f ]; then
                real_primary=$host
                log "backend $i ($host) is a primary but detached in pgpool: pcp_attach_node"
                timeout 10 pcp_attach_node -h localhost -p 9898 -U pcp -w -n "$i" >/dev/null 2>&1 || true
            fi
        fi
    done
    if [ "$have_primary" = yes ] || [ -z "$real_primary" ]; then
        no_primary_since=""
    else
        [ -n "$no_primary_since" ] || no_primary_since=$(date +%s)
        if [ $(( $(date +%s) - no_primary_since )) -ge "$PGPOOL_NO_PRIMARY_EXIT" ]; then
            log "ERROR: $real_primary is primary but pgpool has had no primary for ${PGPOOL_NO_PRIMARY_EXIT}s; exiting for a restart"
            kill -TERM "$PGPOOL_PID" 2>/dev/null; wait "$PGPOOL_PID" || true
            exit 1
        fi
    fi
done
wait "$PGPOOL_PID"; rc=$?
log "pgpool exited ($rc)"
exit "$rc"
