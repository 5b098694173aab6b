#!/bin/bash
# pretix-cluster Redis node. REDIS_ROLE:
#   master   initial master (only used when no Sentinel knows a master yet)
#   replica  replica of whatever master the Sentinels report (initially REDIS_INITIAL_MASTER)
#   sentinel a Sentinel monitoring REDIS_MASTER_NAME
# Every node asks the Sentinels who the master is before starting, so a restarted old master
# comes back as a replica instead of as a second (empty) master.
# Everything is addressed by service DNS names (task IPs change on restart):
# replica-announce-ip / sentinel announce-ip carry the name, Sentinels resolve hostnames.
# Safety: Redis and Sentinel require the password of the redis_password secret; a master accepts writes
# only while a replica follows it (min-replicas-to-write), so an isolated or deposed master refuses them;
# data nodes keep an append-only file on their volume, so queued Celery tasks survive a restart; a node
# with an empty dataset never starts as master while another data node holds keys or does not answer.
#
# Environment: REDIS_ROLE, REDIS_ANNOUNCE_NAME (this node's DNS name, e.g. redis2 / sentinel1),
#   REDIS_MASTER_NAME (pxc), REDIS_INITIAL_MASTER (redis1), REDIS_NODES ("redis1 redis2 redis3"),
#   REDIS_SENTINELS ("sentinel1 sentinel2 sentinel3"), SENTINEL_QUORUM (2),
#   SENTINEL_DOWN_AFTER_MS (3000), SENTINEL_FAILOVER_TIMEOUT_MS (10000), REDIS_MAXMEMORY (256mb),
#   REDIS_SELF_MASTER_WAIT (30), REDIS_DNS_WAIT (120), REDIS_PASSWORD_FILE (/run/secrets/redis_password),
#   REDIS_MIN_REPLICAS (1), REDIS_MIN_REPLICAS_MAX_LAG (10)
set -euo pipefail

# REDIS_ROLE=standalone (`inv bench --baseline`): one plain Redis, no replicas, no Sentinels, Redis' own
# persistence defaults; it requires the password of REDIS_PASSWORD_FILE when that file is there (else none).
if [ "${REDIS_ROLE:-}" = standalone ]; then
    pw_file="${REDIS_PASSWORD_FILE:-/run/secrets/redis_password}"
    { echo "bind 0.0.0.0"; echo "protected-mode no"; echo "port 6379"; echo "dir /data"; echo 'logfile ""'
      echo "maxmemory ${REDIS_MAXMEMORY:-256mb}"; echo "maxmemory-policy volatile-lru"
      if [ -r "$pw_file" ]; then echo "requirepass $(cat "$pw_file")"; fi; } > /data/redis.conf
    chmod 0600 /data/redis.conf
    echo "redis-entrypoint[standalone]: starting one plain redis-server" >&2
    exec redis-server /data/redis.conf
fi

: "${REDIS_ROLE:=master}"
: "${REDIS_ANNOUNCE_NAME:?REDIS_ANNOUNCE_NAME is required (the service name of this node)}"
: "${REDIS_MASTER_NAME:=pxc}"
: "${REDIS_INITIAL_MASTER:=redis1}"
: "${REDIS_NODES:=redis1 redis2 redis3}"
: "${REDIS_SENTINELS:=sentinel1 sentinel2 sentinel3}"
: "${SENTINEL_QUORUM:=2}"
: "${SENTINEL_DOWN_AFTER_MS:=3000}"
: "${SENTINEL_FAILOVER_TIMEOUT_MS:=10000}"
: "${REDIS_MAXMEMORY:=256mb}"
: "${REDIS_SELF_MASTER_WAIT:=30}"
: "${REDIS_DNS_WAIT:=120}"
: "${REDIS_PASSWORD_FILE:=/run/secrets/redis_password}"
: "${REDIS_MIN_REPLICAS:=1}"
: "${REDIS_MIN_REPLICAS_MAX_LAG:=10}"

if [ ! -r "$REDIS_PASSWORD_FILE" ]; then
    echo "redis-entrypoint: ERROR: $REDIS_PASSWORD_FILE is not readable (is the redis_password secret attached?)" >&2
    exit 1
fi
PASSWORD=$(cat "$REDIS_PASSWORD_FILE")
export REDISCLI_AUTH="$PASSWORD"   # redis-cli reads it from the environment: never on a command line

log() { echo "redis-entrypoint[$REDIS_ANNOUNCE_NAME/$REDIS_ROLE]: $*" >&2; }
rcli() { timeout 3 redis-cli --no-auth-warning -h "$1" -p "$2" "${@:3}" 2>/dev/null; }
has_data() { [ -n "$(find /data/appendonlydir -name '*.aof' -size +0 2>/dev/null | head -n1)" ]; }
resolves() { getent hosts "$1" >/dev/null 2>&1; }

# "host" of the master according to the first Sentinel (other than me) that answers, or nothing
sentinel_master() {
    local s out
    for s in $REDIS_SENTINELS; do
        [ "$s" = "$REDIS_ANNOUNCE_NAME" ] && continue
        resolves "$s" || continue
        out=$(rcli "$s" 26379 SENTINEL get-master-addr-by-name "$REDIS_MASTER_NAME" | head -n 1) || continue
        if [ -n "$out" ]; then echo "$out"; return 0; fi
    done
    return 0
}

# a data node (not me) that reports role:master, preferring the one with most replicas
node_master() {
    local n info best="" best_slaves=-1 slaves
    for n in $REDIS_NODES; do
        [ "$n" = "$REDIS_ANNOUNCE_NAME" ] && continue
        resolves "$n" || continue
        info=$(rcli "$n" 6379 INFO replication | tr -d '\r') || continue
        if grep -q '^role:master' <<<"$info"; then
            slaves=$(sed -n 's/^connected_slaves://p' <<<"$info")
            if [ "${slaves:-0}" -gt "$best_slaves" ]; then best=$n; best_slaves=${slaves:-0}; fi
        fi
    done
    echo "$best"
}

# every other data node answers and holds no keys: an empty master loses nothing
others_empty() {
    local n keys
    for n in $REDIS_NODES; do
        [ "$n" = "$REDIS_ANNOUNCE_NAME" ] && continue
        resolves "$n" || return 1
        keys=$(rcli "$n" 6379 DBSIZE | tr -d '\r') || return 1
        [ "$keys" = 0 ] || return 1
    done
    return 0
}

run_server() {
    local master mode="" start
    master=$(sentinel_master)
    if [ "$master" = "$REDIS_ANNOUNCE_NAME" ]; then
        # Sentinels still think I am the master, but I restarted with an empty dataset.
        # Let them fail over first so the replicas' data survives; then follow the new master.
        log "sentinels still report me as master: waiting up to ${REDIS_SELF_MASTER_WAIT}s for their failover"
        start=$(date +%s)
        while [ $(( $(date +%s) - start )) -lt "$REDIS_SELF_MASTER_WAIT" ]; do
            sleep 1
            master=$(sentinel_master)
            [ -n "$master" ] && [ "$master" != "$REDIS_ANNOUNCE_NAME" ] && break
        done
        if [ "$master" = "$REDIS_ANNOUNCE_NAME" ]; then
            if has_data; then
                log "no failover happened: starting as master with my append-only data"
            elif others_empty; then
                # a fresh cluster whose master was restarted before anything was written (CI, 2026-12-07: the
                # Sentinels that could fail over waited for this name to resolve, and this node for them)
                log "no failover happened: every other data node answers and holds no keys: starting as master"
            else
                log "ERROR: sentinels still name me master but my dataset is empty: not starting as master (retry)"
                exit 1
            fi
            mode=master
        fi
    fi
    if [ -z "$mode" ]; then
        if [ -n "$master" ]; then
            log "sentinels report master $master"
            mode=replica
        else
            master=$(node_master)
            if [ -n "$master" ]; then
                log "no sentinel answered; $master reports role:master"
                mode=replica
            elif [ "$REDIS_ROLE" = master ]; then
                mode=master
            else
                master=$REDIS_INITIAL_MASTER
                mode=replica
            fi
        fi
    fi
    cat > /data/redis.conf <<EOF
# written by redis-entrypoint at every start
bind 0.0.0.0
protected-mode no
port 6379
dir /data
daemonize no
logfile ""
save ""
appendonly yes
appendfsync everysec
maxmemory $REDIS_MAXMEMORY
maxmemory-policy volatile-lru
replica-announce-ip $REDIS_ANNOUNCE_NAME
replica-announce-port 6379
replica-read-only yes
repl-diskless-sync yes
repl-diskless-sync-delay 0
repl-timeout 30
tcp-keepalive 30
min-replicas-to-write $REDIS_MIN_REPLICAS
min-replicas-max-lag $REDIS_MIN_REPLICAS_MAX_LAG
requirepass $PASSWORD
masterauth $PASSWORD
EOF
    chmod 0600 /data/redis.conf
    if [ "$mode" = replica ]; then
        echo "replicaof $master 6379" >> /data/redis.conf
        log "starting as replica of $master"
    else
        log "starting as master"
    fi
    exec redis-server /data/redis.conf
}

run_sentinel() {
    local master start myid
    master=$(sentinel_master)
    [ -n "$master" ] || master=$(node_master)
    [ -n "$master" ] || master=$REDIS_INITIAL_MASTER
    start=$(date +%s)
    until resolves "$master"; do
        if [ $(( $(date +%s) - start )) -ge "$REDIS_DNS_WAIT" ]; then
            log "ERROR: master name $master does not resolve after ${REDIS_DNS_WAIT}s"; exit 1
        fi
        log "waiting for $master to resolve"
        sleep 2
    done
    myid=$(printf '%s' "pretix-cluster-$REDIS_ANNOUNCE_NAME" | sha1sum | cut -c1-40)
    cat > /data/sentinel.conf <<EOF
# written by redis-entrypoint at every start (Sentinel rewrites it at runtime)
port 26379
bind 0.0.0.0
protected-mode no
daemonize no
logfile ""
dir /data
sentinel myid $myid
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $REDIS_ANNOUNCE_NAME
sentinel announce-port 26379
sentinel monitor $REDIS_MASTER_NAME $master 6379 $SENTINEL_QUORUM
sentinel down-after-milliseconds $REDIS_MASTER_NAME $SENTINEL_DOWN_AFTER_MS
sentinel failover-timeout $REDIS_MASTER_NAME $SENTINEL_FAILOVER_TIMEOUT_MS
sentinel parallel-syncs $REDIS_MASTER_NAME 1
sentinel auth-pass $REDIS_MASTER_NAME $PASSWORD
sentinel sentinel-pass $PASSWORD
requirepass $PASSWORD
EOF
    chmod 0600 /data/sentinel.conf
    log "starting sentinel monitoring $REDIS_MASTER_NAME at $master (quorum $SENTINEL_QUORUM)"
    exec redis-sentinel /data/sentinel.conf
}

case "$REDIS_ROLE" in
    master|replica) run_server ;;
    sentinel) run_sentinel ;;
    *) log "ERROR: unknown REDIS_ROLE"; exit 2 ;;
esac
