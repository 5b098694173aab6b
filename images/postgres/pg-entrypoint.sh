#!/bin/bash
# pretix-cluster PostgreSQL 15 + repmgr node.
#
# Decides at every start what this node is:
#   * empty data dir, another node is primary  -> clone it (repmgr standby clone, fast checkpoint)
#   * empty data dir, no primary, I am PG_INITIAL_PRIMARY -> initdb --data-checksums, create users/dbs
#   * data dir of a former primary, another node is primary now -> crash-recover offline,
#     `repmgr node rejoin --force-rewind` (pg_rewind); if that fails: wipe and re-clone.
#     Never starts as a second primary.
#   * data dir of a standby -> follow the current primary (rejoin/re-clone if it cannot stream)
#   * nobody is primary (cold start of the whole cluster, or a fast restart before repmgrd
#     failed over) -> start read-only as a hot standby; follow whatever primary appears; after
#     PG_REJOIN_WAIT s the most advanced node among a visible majority promotes itself.
# Then runs repmgrd (automatic failover) and supervises both.
#
# Environment (no passwords here; they are read from the secret files):
#   PG_NODE_ID (1..), PG_NODE_NAME (pg1), PG_PEERS ("pg1 pg2 pg3"), PG_INITIAL_PRIMARY (pg1)
#   PG_SUPERUSER_PASSWORD_FILE, PG_REPMGR_PASSWORD_FILE, PG_PRETIX_PASSWORD_FILE
#   PG_PRETIX_DB (pretix), PG_PRETIX_USER (pretix), PG_REJOIN_WAIT (30), PG_STANDBY_WAIT (600),
#   PG_ALONE_WAIT (180: a former primary that sees no peer at all promotes alone after this)
#   PG_SHARED_BUFFERS (256MB), PG_MAX_CONNECTIONS (200), PG_DOWN_GRACE (40)
set -euo pipefail

BIN=/usr/lib/postgresql/15/bin
export PGDATA=${PGDATA:-/var/lib/postgresql/data}
CONF_DIR=/etc/pxc
REPMGR_CONF=$CONF_DIR/repmgr.conf
PGLOG=/var/log/postgresql/postgresql.log

: "${PG_NODE_NAME:?PG_NODE_NAME is required (pg1, pg2, ...)}"
: "${PG_NODE_ID:?PG_NODE_ID is required (1, 2, ...)}"
: "${PG_PEERS:=pg1 pg2 pg3}"
: "${PG_INITIAL_PRIMARY:=pg1}"
: "${PG_SUPERUSER_PASSWORD_FILE:=/run/secrets/pg_superuser_password}"
: "${PG_REPMGR_PASSWORD_FILE:=/run/secrets/pg_repmgr_password}"
: "${PG_PRETIX_PASSWORD_FILE:=/run/secrets/pg_pretix_password}"
: "${PG_PRETIX_DB:=pretix}"
: "${PG_PRETIX_USER:=pretix}"
: "${PG_REJOIN_WAIT:=30}"
: "${PG_STANDBY_WAIT:=600}"
: "${PG_SHARED_BUFFERS:=256MB}"
: "${PG_MAX_CONNECTIONS:=200}"
: "${PG_DOWN_GRACE:=40}"
: "${PG_ALONE_WAIT:=180}"
: "${PG_PRIORITY:=$((110 - PG_NODE_ID * 10))}"

log() { echo "pg-entrypoint[$PG_NODE_NAME]: $*" >&2; }

# ---------------------------------------------------------------- root part
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql /var/log/postgresql "$CONF_DIR"
    chown postgres:postgres "$PGDATA" /var/run/postgresql /var/log/postgresql "$CONF_DIR"
    chmod 0700 "$PGDATA"
    for f in "$PG_SUPERUSER_PASSWORD_FILE" "$PG_REPMGR_PASSWORD_FILE" "$PG_PRETIX_PASSWORD_FILE"; do
        [ -r "$f" ] || { log "ERROR: secret file $f missing"; exit 1; }
    done
    export HOME=/var/lib/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

# ---------------------------------------------------------------- helpers
secret() { tr -d '\r\n' < "$1"; }
sql_quote() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }

render_static_files() {
    umask 077
    local pw; pw=$(secret "$PG_REPMGR_PASSWORD_FILE")
    # .pgpass for repmgr (normal and replication connections) - passwords never go to argv/env
    printf '*:5432:*:repmgr:%s\n' "${pw//:/\\:}" > "$HOME/.pgpass"
    chmod 0600 "$HOME/.pgpass"
    cat > "$REPMGR_CONF" <<EOF
node_id=$PG_NODE_ID
node_name='$PG_NODE_NAME'
conninfo='host=$PG_NODE_NAME port=5432 user=repmgr dbname=repmgr connect_timeout=2'
data_directory='$PGDATA'
pg_bindir='$BIN'
replication_user='repmgr'
use_replication_slots=yes
failover='automatic'
priority=$PG_PRIORITY
promote_command='$BIN/repmgr standby promote -f $REPMGR_CONF'
follow_command='$BIN/repmgr standby follow -f $REPMGR_CONF --upstream-node-id=%n'
monitor_interval_secs=2
reconnect_attempts=3
reconnect_interval=1
connection_check_type='ping'
primary_visibility_consensus=true
standby_reconnect_timeout=60
node_rejoin_timeout=60
standby_follow_timeout=60
promote_check_timeout=30
log_level='INFO'
log_facility='STDERR'
log_status_interval=300
repmgrd_pid_file='/tmp/repmgrd.pid'
service_start_command='$BIN/pg_ctl -D $PGDATA -w -t 120 -l $PGLOG start'
service_stop_command='$BIN/pg_ctl -D $PGDATA -w -t 60 -m fast stop'
service_restart_command='$BIN/pg_ctl -D $PGDATA -w -t 120 -m fast -l $PGLOG restart'
service_reload_command='$BIN/pg_ctl -D $PGDATA reload'
EOF
    umask 022
}

render_pg_conf() {
    cat > "$PGDATA/postgresql.conf" <<EOF
# written by pg-entrypoint at every start
listen_addresses = '*'
port = 5432
max_connections = $PG_MAX_CONNECTIONS
shared_buffers = $PG_SHARED_BUFFERS
unix_socket_directories = '/var/run/postgresql'
password_encryption = scram-sha-256
shared_preload_libraries = 'repmgr'
wal_level = replica
wal_log_hints = on
max_wal_senders = 10
max_replication_slots = 10
max_slot_wal_keep_size = 2GB
wal_keep_size = 256MB
hot_standby = on
hot_standby_feedback = on
wal_sender_timeout = 10s
wal_receiver_timeout = 10s
wal_retrieve_retry_interval = 2s
recovery_target_timeline = 'latest'
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 2000
log_connections = off
include_if_exists = 'postgresql.local.conf'
EOF
    cat > "$PGDATA/pg_hba.conf" <<'EOF'
# written by pg-entrypoint at every start; repmgr lines before the generic ones
local   all             postgres                                peer
local   all             all                                     peer
host    repmgr          repmgr          all                     scram-sha-256
host    replication     repmgr          all                     scram-sha-256
host    all             all             all                     scram-sha-256
EOF
}

pg_running() { "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }
pg_start() { "$BIN/pg_ctl" -D "$PGDATA" -w -t 300 -l "$PGLOG" start >/dev/null; }
pg_stop() { pg_running && "$BIN/pg_ctl" -D "$PGDATA" -w -t 60 -m fast stop >/dev/null || true; }
local_sql() { "$BIN/psql" -h /var/run/postgresql -U postgres -d postgres -X -q -tA -v ON_ERROR_STOP=1 "$@"; }
peer_sql() { # peer sql
    "$BIN/psql" "host=$1 port=5432 user=repmgr dbname=repmgr connect_timeout=2" -X -q -tA -v ON_ERROR_STOP=1 -c "$2" 2>/dev/null
}
resolves() { getent hosts "$1" >/dev/null 2>&1; }
# print the name of a peer (not me) that is a running primary, or nothing
find_primary() {
    local p r
    for p in $PG_PEERS; do
        [ "$p" = "$PG_NODE_NAME" ] && continue
        resolves "$p" || continue
        r=$(peer_sql "$p" "SELECT pg_is_in_recovery()") || continue
        if [ "$r" = f ]; then echo "$p"; return 0; fi
    done
    return 0
}
node_id_of() { echo "${1//[!0-9]/}"; }

wait_own_dns() {
    local i
    for i in $(seq 1 60); do resolves "$PG_NODE_NAME" && return 0; sleep 1; done
    log "WARNING: own name $PG_NODE_NAME does not resolve yet"
}

ensure_slot_on() { # primary slotname
    peer_sql "$1" "SELECT pg_create_physical_replication_slot('$2') WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '$2')" >/dev/null || true
}

wait_streaming() { # seconds
    local i s
    for i in $(seq 1 "$1"); do
        s=$(local_sql -c "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null || true)
        [ "$s" = streaming ] && return 0
        sleep 1
    done
    return 1
}

clone_from() { # primary
    local primary=$1
    log "cloning from primary $primary (pg_basebackup, fast checkpoint)"
    pg_stop
    find "$PGDATA" -mindepth 1 -delete
    "$BIN/repmgr" -f "$REPMGR_CONF" -h "$primary" -p 5432 -U repmgr -d repmgr \
        standby clone --fast-checkpoint -F
    render_pg_conf
    ensure_slot_on "$primary" "repmgr_slot_$PG_NODE_ID"
    pg_start
    "$BIN/repmgr" -f "$REPMGR_CONF" standby register --force --upstream-node-id="$(node_id_of "$primary")" \
        -h "$primary" -p 5432 -U repmgr -d repmgr || true
    wait_streaming 60 && log "standby of $primary is streaming" || log "WARNING: not streaming yet"
}

offline_crash_recovery() {
    local state
    state=$("$BIN/pg_controldata" "$PGDATA" | sed -n 's/^Database cluster state: *//p')
    case "$state" in
        "shut down"|"shut down in recovery") return 0 ;;
    esac
    log "data dir state is '$state': running crash recovery in single-user mode (no connections accepted)"
    rm -f "$PGDATA/standby.signal" "$PGDATA/recovery.signal"
    "$BIN/postgres" --single -D "$PGDATA" -c listen_addresses='' postgres </dev/null >>"$PGLOG" 2>&1 || true
}

rejoin() { # primary ; as standby via pg_rewind, else re-clone
    local primary=$1
    pg_stop
    offline_crash_recovery
    render_pg_conf
    ensure_slot_on "$primary" "repmgr_slot_$PG_NODE_ID"
    log "rejoining as standby of $primary (repmgr node rejoin --force-rewind)"
    if "$BIN/repmgr" -f "$REPMGR_CONF" node rejoin \
            -d "host=$primary port=5432 user=repmgr dbname=repmgr connect_timeout=2" \
            --force-rewind --config-files=postgresql.conf,pg_hba.conf --verbose \
        && { pg_running || pg_start; } && wait_streaming 30; then
        log "rejoined as standby of $primary"
        return 0
    fi
    log "rejoin failed: re-cloning from $primary"
    clone_from "$primary"
}

follow_as_standby() { # primary ; restart an existing standby data dir
    local primary=$1 auto=$PGDATA/postgresql.auto.conf pw
    render_pg_conf
    ensure_slot_on "$primary" "repmgr_slot_$PG_NODE_ID"
    # point primary_conninfo at the current primary
    touch "$auto"
    sed -i -e '/^primary_conninfo/d' -e '/^primary_slot_name/d' "$auto"
    cat >> "$auto" <<EOF
primary_conninfo = 'host=$primary port=5432 user=repmgr application_name=$PG_NODE_NAME connect_timeout=2'
primary_slot_name = 'repmgr_slot_$PG_NODE_ID'
EOF
    touch "$PGDATA/standby.signal"
    log "starting as standby of $primary"
    if pg_start && wait_streaming 30; then
        "$BIN/repmgr" -f "$REPMGR_CONF" standby register --force --upstream-node-id="$(node_id_of "$primary")" \
            -h "$primary" -p 5432 -U repmgr -d repmgr >/dev/null 2>&1 || true
        log "standby of $primary is streaming"
        return 0
    fi
    log "standby cannot stream from $primary"
    rejoin "$primary"
}

init_primary() {
    log "initialising a new cluster (initdb --data-checksums)"
    find "$PGDATA" -mindepth 1 -delete
    "$BIN/initdb" -D "$PGDATA" --data-checksums -U postgres --auth-local=peer --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 --pwfile=<(secret "$PG_SUPERUSER_PASSWORD_FILE") >/dev/null
    render_pg_conf
    pg_start
    local_sql <<EOF
CREATE ROLE repmgr WITH SUPERUSER LOGIN;
CREATE DATABASE repmgr OWNER repmgr;
CREATE ROLE "$PG_PRETIX_USER" WITH LOGIN;
CREATE DATABASE "$PG_PRETIX_DB" OWNER "$PG_PRETIX_USER" ENCODING 'UTF8';
EOF
    set_passwords
    "$BIN/repmgr" -f "$REPMGR_CONF" primary register --force
    log "new primary initialised"
}

set_passwords() { # primary only: (re)apply the passwords from the secrets (supports rotation)
    local_sql <<EOF
SET log_statement = 'none';
ALTER ROLE postgres PASSWORD $(sql_quote "$(secret "$PG_SUPERUSER_PASSWORD_FILE")");
ALTER ROLE repmgr PASSWORD $(sql_quote "$(secret "$PG_REPMGR_PASSWORD_FILE")");
ALTER ROLE "$PG_PRETIX_USER" PASSWORD $(sql_quote "$(secret "$PG_PRETIX_PASSWORD_FILE")");
EOF
}


start_unattached_standby() { # was_primary
    render_pg_conf
    if [ "$1" = yes ]; then
        # a crashed primary must not keep a stale primary_conninfo; it has none anyway
        sed -i -e '/^primary_conninfo/d' -e '/^primary_slot_name/d' "$PGDATA/postgresql.auto.conf" 2>/dev/null || true
    fi
    touch "$PGDATA/standby.signal"
    log "no primary visible: starting read-only (hot standby) until a primary appears or an election decides"
    pg_start
}

# "<timeline> <replayed-or-current LSN as integer>" of a running node (local when host is empty)
node_key() {
    local q="SELECT (SELECT timeline_id FROM pg_control_checkpoint()) || ' ' || ((CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END) - '0/0'::pg_lsn)::bigint"
    if [ -z "$1" ]; then local_sql -c "$q" 2>/dev/null; else peer_sql "$1" "$q"; fi
}

promote_me() {
    log "promoting this node"
    "$BIN/pg_ctl" -D "$PGDATA" -w -t 60 promote >/dev/null
    local i
    for i in $(seq 1 60); do
        [ "$(local_sql -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] && break
        sleep 1
    done
    set_passwords
    "$BIN/repmgr" -f "$REPMGR_CONF" primary register --force >/dev/null 2>&1 || true
    log "running as primary"
}

attach_running_standby() { # primary ; this node runs as an unattached hot standby
    local primary=$1 auto=$PGDATA/postgresql.auto.conf
    ensure_slot_on "$primary" "repmgr_slot_$PG_NODE_ID"
    sed -i -e '/^primary_conninfo/d' -e '/^primary_slot_name/d' "$auto"
    printf "primary_conninfo = 'host=%s port=5432 user=repmgr application_name=%s connect_timeout=2'\nprimary_slot_name = 'repmgr_slot_%s'\n" \
        "$primary" "$PG_NODE_NAME" "$PG_NODE_ID" >> "$auto"
    "$BIN/pg_ctl" -D "$PGDATA" reload >/dev/null
    if wait_streaming 20; then
        "$BIN/repmgr" -f "$REPMGR_CONF" standby register --force --upstream-node-id="$(node_id_of "$primary")" \
            -h "$primary" -p 5432 -U repmgr -d repmgr >/dev/null 2>&1 || true
        log "standby of $primary is streaming"
        return 0
    fi
    log "cannot stream from $primary (diverged history?)"
    rejoin "$primary"
}

key_better() { # keyA idA keyB idB : is A more advanced than B (timeline, LSN, lower id)?
    local ta la tb lb
    read -r ta la <<<"$1"; read -r tb lb <<<"$3"
    [ "${ta:-0}" -gt "${tb:-0}" ] && return 0
    [ "${ta:-0}" -lt "${tb:-0}" ] && return 1
    [ "${la:-0}" -gt "${lb:-0}" ] && return 0
    [ "${la:-0}" -lt "${lb:-0}" ] && return 1
    [ "$2" -lt "$4" ]
}

elect_or_follow() { # was_primary
    local was_primary=$1 start_ts elapsed primary me best best_key visible peers_total p k
    start_ts=$(date +%s)
    peers_total=$(echo $PG_PEERS | wc -w)
    while true; do
        primary=$(find_primary)
        if [ -n "$primary" ]; then
            log "$primary is primary"
            attach_running_standby "$primary"
            return 0
        fi
        elapsed=$(( $(date +%s) - start_ts ))
        if [ "$elapsed" -ge "$PG_REJOIN_WAIT" ]; then
            me=$(node_key "")
            best=$PG_NODE_NAME; best_key=$me; visible=1
            for p in $PG_PEERS; do
                [ "$p" = "$PG_NODE_NAME" ] && continue
                resolves "$p" || continue
                k=$(node_key "$p") || continue
                [ -n "$k" ] || continue
                visible=$((visible + 1))
                if key_better "$k" "$(node_id_of "$p")" "$best_key" "$(node_id_of "$best")"; then
                    best=$p; best_key=$k
                fi
            done
            if [ "$best" = "$PG_NODE_NAME" ] && [ $((visible * 2)) -gt "$peers_total" ]; then
                log "election: $visible of $peers_total nodes visible, this node is the most advanced ($me)"
                promote_me
                return 0
            fi
            if [ "$best" = "$PG_NODE_NAME" ] && [ "$was_primary" = yes ] && [ "$elapsed" -ge "$PG_ALONE_WAIT" ]; then
                log "WARNING: only $visible of $peers_total nodes visible after ${elapsed}s; promoting the former primary alone"
                promote_me
                return 0
            fi
            if [ "$elapsed" -ge "$PG_STANDBY_WAIT" ]; then
                log "ERROR: no primary after ${elapsed}s (best candidate: $best); exiting"
                exit 1
            fi
            log "no primary; election candidate is $best ($visible of $peers_total nodes visible), waiting"
        else
            log "no primary yet; waiting (${elapsed}s/${PG_REJOIN_WAIT}s) for a running failover before an election"
        fi
        sleep 3
    done
}


# ---------------------------------------------------------------- decide role
touch "$PGLOG"
tail -n 0 -F "$PGLOG" 2>/dev/null &
TAIL_PID=$!
render_static_files
wait_own_dns

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    start_ts=$(date +%s)
    while true; do
        primary=$(find_primary)
        if [ -n "$primary" ]; then clone_from "$primary"; break; fi
        if [ "$PG_NODE_NAME" = "$PG_INITIAL_PRIMARY" ]; then init_primary; break; fi
        if [ $(( $(date +%s) - start_ts )) -ge "$PG_STANDBY_WAIT" ]; then
            log "ERROR: no primary found among ($PG_PEERS) after ${PG_STANDBY_WAIT}s; exiting"; exit 1
        fi
        log "empty data dir, waiting for a primary to clone from"
        sleep 3
    done
else
    # Existing data dir (former primary or standby).
    if [ -e "$PGDATA/standby.signal" ]; then was_primary=no; else was_primary=yes; fi
    primary=$(find_primary)
    if [ -n "$primary" ] && [ "$was_primary" = yes ]; then
        log "data dir of a former primary; $primary is primary now"
        rejoin "$primary"
    elif [ -n "$primary" ]; then
        follow_as_standby "$primary"
    else
        # Nobody is primary. Never start read-write on a hunch: come up as a read-only hot standby
        # (queryable by the peers), then follow a primary as soon as one appears (repmgrd may be
        # promoting one right now), or - after PG_REJOIN_WAIT s and with a majority of the nodes
        # visible - let the most advanced node (timeline, replayed LSN; lowest id on a tie) promote.
        start_unattached_standby "$was_primary"
        elect_or_follow "$was_primary"
    fi
fi

# ---------------------------------------------------------------- supervise
REPMGRD_PID=""
start_repmgrd() {
    "$BIN/repmgrd" -f "$REPMGR_CONF" --daemonize=false &
    REPMGRD_PID=$!
}
shutdown() {
    log "stopping"
    [ -n "$REPMGRD_PID" ] && kill "$REPMGRD_PID" 2>/dev/null || true
    pg_stop
    kill "$TAIL_PID" 2>/dev/null || true
    exit 0
}
trap shutdown TERM INT

start_repmgrd
down=0
while true; do
    sleep 5 & wait $! || true
    if pg_running; then
        down=0
    else
        down=$((down + 5))
        log "postgres is not running (${down}s)"
        if [ "$down" -ge "$PG_DOWN_GRACE" ]; then
            log "ERROR: postgres down for ${down}s, exiting so the orchestrator restarts this node"
            kill "$REPMGRD_PID" 2>/dev/null || true
            exit 1
        fi
    fi
    if ! kill -0 "$REPMGRD_PID" 2>/dev/null; then
        log "repmgrd exited, restarting it"
        start_repmgrd
    fi
done
