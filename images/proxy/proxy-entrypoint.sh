#!/bin/bash
# Renders the proxy's configuration for PROXY_KIND and runs it in the foreground; if a process ends, the
# container ends (Swarm restarts it). No stats page; the health endpoint listens on 127.0.0.1 only.
# Environment: PROXY_KIND (postgres|redis), PROXY_NODES (the members' service names), PROXY_CHECK_INTER (1s),
#   PROXY_MAXCONN (4096), PROXY_CLIENT_TIMEOUT (1h), PROXY_WARMUP_S (3: seconds until the first client is served);
#   postgres: PG_PRETIX_USER / PG_PRETIX_DB (pretix), PG_PRETIX_PASSWORD_FILE, PG_POOL_SIZE (20),
#     PG_QUERY_WAIT (30: seconds a transaction may wait for a primary), PG_HOLD_NOSRV (250ms: how long a login
#     waits while there is no primary);
#   redis: REDIS_PASSWORD_FILE (/run/secrets/redis_password)
# Argument "render": write the configuration (to PROXY_CONF_DIR, /run/haproxy) and check it, start nothing (tests).
set -euo pipefail
: "${PROXY_KIND:?PROXY_KIND must be postgres or redis}"
: "${PROXY_CHECK_INTER:=1s}"
: "${PROXY_MAXCONN:=4096}"
: "${PROXY_CLIENT_TIMEOUT:=1h}"
# HAProxy 2.6 counts a server as up from the moment its name resolves until its checks fail (there is no
# init-state yet): the frontends serve nobody during the first PROXY_WARMUP_S seconds (the checks run every
# PROXY_CHECK_INTER, a failed one again after 300-500 ms, two mark a server down).
: "${PROXY_WARMUP_S:=3}"
WARM_AT=$(( $(date +%s) + PROXY_WARMUP_S ))
DIR=${PROXY_CONF_DIR:-/run/haproxy}
CFG=$DIR/haproxy.cfg
umask 077   # the configuration holds a password: readable by the proxy's user only
log() { echo "proxy-entrypoint[$PROXY_KIND]: $*" >&2; }
secret() { [ -s "$1" ] || { log "ERROR: $1 is missing (is the secret attached?)"; exit 1; }; cat "$1"; }

common() {  # global, defaults, Docker's DNS
    cat <<CONF
# written by proxy-entrypoint at every start
global
    maxconn $PROXY_MAXCONN
    log stdout format raw local0 info
    # runtime API for a planned switchover (inv failover.redis steers the servers); the container's user only
    stats socket $DIR/admin.sock mode 600 level admin

defaults
    mode tcp
    log global
    option tcplog
    option dontlog-normal
    option log-health-checks
    timeout connect 2s
    timeout client $PROXY_CLIENT_TIMEOUT
    timeout server $PROXY_CLIENT_TIMEOUT
    timeout check 2s

# Docker's embedded DNS: task IPs change when a task restarts; re-resolve every second.
# A dead/unhealthy task vanishes from DNS (NX): keep its last address (hold nx) instead of putting the server
# into maintenance, because leaving DNS maintenance marks a server UP at once (HAProxy 2.6) and would send
# clients to a restarted old leader before its checks fail. But never hold an obsolete record: when the name
# resolves again (the task restarted, new IP), the server must move to the new address (with 'hold obsolete'
# the dead address was kept and the restarted primary stayed DOWN until HAProxy restarted, seen in the lab).
resolvers docker
    nameserver dns1 127.0.0.11:53
    resolve_retries 3
    timeout resolve 1s
    timeout retry 1s
    hold valid 1s
    hold other 3600s
    hold refused 3600s
    hold nx 3600s
    hold timeout 3600s
    hold obsolete 0s
    accepted_payload_size 8192

# container-local health endpoint for the HEALTHCHECK
frontend health
    mode http
    bind 127.0.0.1:8405
    timeout client 5s
    monitor-uri /healthz
CONF
}

servers() {  # $1 = port
    local n
    for n in ${PROXY_NODES:?PROXY_NODES names the members}; do echo "    server $n $n:$1"; done
}

postgres_backend() {
    : "${PG_HOLD_NOSRV:=250ms}"
    cat <<CONF

frontend pg_in
    bind 127.0.0.1:5433
    # While no member is primary, hold each new connection for ${PG_HOLD_NOSRV}, then let it fail: PgBouncer
    # retries a failed login at once (server_login_retry 0), and without the hold it opened 600-2,500
    # connections a second per proxy during a failover (pgbouncer, haproxy and dockerd's logging ~23 % of a core
    # each). With a primary, the rule passes on the first bytes: no delay. Until the first checks have run
    # (warm-up), every server counts as up: refuse rather than reach a replica.
    tcp-request inspect-delay $PG_HOLD_NOSRV
    tcp-request content accept if { date() ge $WARM_AT } { nbsrv(pg_primary) gt 0 }
    tcp-request content accept if { date() ge $WARM_AT } WAIT_END
    tcp-request content reject if WAIT_END
    default_backend pg_primary

backend pg_primary
    # Patroni answers GET /primary with 200 only on the node that holds the leader key; the body must also say
    # it runs as primary (a restarted leader starts read-only, then promotes). Body rule first: it reads the
    # whole answer (a failed status rule closes the socket while Patroni still writes, and it logs a traceback).
    balance first
    # A killed primary's address answers nothing: a connection begun between the kill and its failed checks
    # waited there ~7 s (connect 2 s, 3 retries; drill.db). A live member accepts within milliseconds: give up
    # after 500 ms, so that PgBouncer logs in again (held above while there is no primary) and finds the new one.
    timeout connect 500ms
    option redispatch 1
    option httpchk
    http-check connect port 8008
    http-check send meth GET uri /primary ver HTTP/1.0
    http-check expect rstring '"role": "(master|primary)"'
    http-check expect status 200
    default-server check inter $PROXY_CHECK_INTER fastinter 500ms downinter $PROXY_CHECK_INTER fall 2 rise 1 resolvers docker init-addr none on-marked-down shutdown-sessions
CONF
    servers 5432
}

redis_backend() {  # $1 = password
    cat <<CONF

frontend redis_in
    bind :6379
    # warm-up: a connection made before the first checks have run waits until the end of the delay (HAProxy
    # evaluates the rules when bytes arrive and when the delay ends); later ones pass on their first bytes. Without
    # it every server counted as up and 'first' picked a replica: a Celery worker that connected 1.6 s after its
    # proxy started got ReadOnlyError and exited (a deploy).
    tcp-request inspect-delay ${PROXY_WARMUP_S}s
    tcp-request content accept if { date() ge $WARM_AT }
    tcp-request content accept if WAIT_END
    default_backend redis_master

backend redis_master
    # only a master that can take writes passes (min-replicas-to-write: it needs a replica); 'first' keeps
    # everything on one server even if two claim role:master for a moment during a failover
    balance first
    # a killed master's address does not answer: a client's connection used to hang there ~7 s (connect 2 s, 3
    # retries) until its checks failed, which held the Celery workers' reconnect (drill.redis). A live Redis
    # accepts within milliseconds: give up after 300 ms and pick a server again on every retry.
    timeout connect 300ms
    retries 10
    option redispatch 1
    option tcp-check
    tcp-check connect
    tcp-check send AUTH\\ $1\\r\\n
    tcp-check expect string +OK
    tcp-check send info\\ replication\\r\\n
    # min-recv: the reply's first 60 bytes hold both lines, so a mismatch is final at once. Without it HAProxy waited
    # for more bytes until the check's timeout: a master promoted a moment before its replica re-attached
    # (connected_slaves:0) stayed DOWN for another 2 s, and the workers' reconnects failed meanwhile (drill.redis).
    tcp-check expect min-recv 60 string role:master
    tcp-check expect min-recv 60 rstring connected_slaves:[1-9]
    tcp-check send QUIT\\r\\n
    tcp-check expect string +OK
    # a DOWN server (a replica) is checked every 300 ms and one passed check marks it UP: the new master serves
    # within ~0.3 s of its promotion (a replica never passes: role:master and a replica are required)
    default-server check inter $PROXY_CHECK_INTER fastinter 300ms downinter 300ms fall 2 rise 1 resolvers docker init-addr none on-marked-down shutdown-sessions
CONF
    servers 6379
}

pgbouncer_config() {  # PgBouncer on :5432 in front of HAProxy: a transaction waits through a failover
    : "${PG_PRETIX_USER:=pretix}" "${PG_PRETIX_DB:=pretix}" "${PG_POOL_SIZE:=20}" "${PG_QUERY_WAIT:=30}"
    printf '"%s" "%s"\n' "$PG_PRETIX_USER" "$(secret "${PG_PRETIX_PASSWORD_FILE:-/run/secrets/pg_pretix_password}")" \
        > "$DIR/userlist.txt"
    cat > "$DIR/pgbouncer.ini" <<CONF
; written by proxy-entrypoint at every start
[databases]
$PG_PRETIX_DB = host=127.0.0.1 port=5433 dbname=$PG_PRETIX_DB
[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 5432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $DIR/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = $PG_POOL_SIZE
; no primary yet: retry the server login at once, keep the clients' transactions queued (with a retry
; interval, PgBouncer 1.18 refuses new clients during that interval instead of queueing them)
server_login_retry = 0
server_connect_timeout = 3
query_wait_timeout = $PG_QUERY_WAIT
server_lifetime = 600
server_idle_timeout = 60
ignore_startup_parameters = extra_float_digits,options
log_connections = 0
log_disconnections = 0
log_pooler_errors = 1
stats_period = 300
CONF
}

case "$PROXY_KIND" in
    postgres)
        { common; postgres_backend; } > "$CFG"
        pgbouncer_config
        haproxy -c -q -f "$CFG"
        [ "${1:-}" != render ] || exit 0
        log "haproxy for ($PROXY_NODES), pgbouncer on :5432"
        haproxy -W -db -f "$CFG" &
        pgbouncer "$DIR/pgbouncer.ini" &
        trap 'kill -TERM $(jobs -p) 2>/dev/null' TERM INT
        wait -n || true
        log "a process ended: stopping the container"
        kill -TERM $(jobs -p) 2>/dev/null || true
        wait
        exit 1
        ;;
    redis)
        { common; redis_backend "$(secret "${REDIS_PASSWORD_FILE:-/run/secrets/redis_password}")"; } > "$CFG"
        haproxy -c -q -f "$CFG"
        [ "${1:-}" != render ] || exit 0
        log "haproxy for ($PROXY_NODES) on :6379"
        exec haproxy -W -db -f "$CFG"
        ;;
    *) log "ERROR: PROXY_KIND must be postgres or redis"; exit 2 ;;
esac
