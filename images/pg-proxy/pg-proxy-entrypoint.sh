#!/bin/bash
# The database entry of the stack, two proven pieces in one container:
#   PgBouncer on :5432 (transaction pooling): clients keep their connections while the primary changes;
#     a transaction that arrives meanwhile WAITS for the new primary (query_wait_timeout) instead of failing.
#   HAProxy on 127.0.0.1:5433: forwards only to the member Patroni's REST API reports as primary.
# If either process ends, the container ends (Swarm restarts it).
# Environment: PG_NODES ("pg1 pg2 pg3"), PG_PROXY_CHECK_INTER (1s), PG_PROXY_MAXCONN (4096),
#   PG_PROXY_CLIENT_TIMEOUT (1h), PG_PRETIX_USER / PG_PRETIX_DB (pretix), PG_PRETIX_PASSWORD_FILE,
#   PG_POOL_SIZE (20), PG_QUERY_WAIT (30: seconds a transaction may wait for a primary)
set -euo pipefail
: "${PG_NODES:=pg1 pg2 pg3}"
: "${PG_PROXY_CHECK_INTER:=1s}"
: "${PG_PROXY_MAXCONN:=4096}"
: "${PG_PROXY_CLIENT_TIMEOUT:=1h}"
: "${PG_PRETIX_USER:=pretix}"
: "${PG_PRETIX_DB:=pretix}"
: "${PG_PRETIX_PASSWORD_FILE:=/run/secrets/pg_pretix_password}"
: "${PG_POOL_SIZE:=20}"
: "${PG_QUERY_WAIT:=30}"
CFG=/run/haproxy/haproxy.cfg
BOUNCER=/run/haproxy/pgbouncer.ini
USERS=/run/haproxy/userlist.txt
umask 077   # the user list holds the application user's password (never a superuser's)
[ -s "$PG_PRETIX_PASSWORD_FILE" ] || { echo "pg-proxy-entrypoint: ERROR: $PG_PRETIX_PASSWORD_FILE missing" >&2; exit 1; }

{
cat <<CONF
# written by pg-proxy-entrypoint at every start
global
    maxconn $PG_PROXY_MAXCONN
    log stdout format raw local0 info

defaults
    mode tcp
    log global
    option tcplog
    option dontlog-normal
    option log-health-checks
    timeout connect 2s
    timeout client $PG_PROXY_CLIENT_TIMEOUT
    timeout server $PG_PROXY_CLIENT_TIMEOUT
    timeout check 2s

# Docker's embedded DNS: task IPs change when a task restarts; re-resolve every second.
# A dead/unhealthy task vanishes from DNS (NX). Keep the last address instead of putting the
# server into maintenance: leaving DNS maintenance marks a server UP at once (HAProxy 2.6),
# which would send clients to a restarted old primary before its check failed. With the
# address kept, the server stays DOWN until a /primary check passes on the new IP.
# But 'hold obsolete' must stay 0: a held obsolete record counts as still present, so the
# server would keep the dead task's address and never move to the restarted task's new IP
# (seen in the lab with 3600s: the restarted primary stayed DOWN until HAProxy restarted).
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

frontend pg_in
    bind 127.0.0.1:5433
    default_backend pg_primary

backend pg_primary
    # Patroni answers GET /primary with 200 only on the node that holds the leader key; the body
    # must also say it runs as primary (a restarted leader starts read-only, then promotes).
    # Body rule first: it reads the whole answer (a failed status rule closes the socket while
    # Patroni still writes, and Patroni logs a traceback each time).
    # 'first' keeps everything on one server should two ever pass for a moment.
    balance first
    option httpchk
    http-check connect port 8008
    http-check send meth GET uri /primary ver HTTP/1.0
    http-check expect rstring '"role": "(master|primary)"'
    http-check expect status 200
    default-server check inter $PG_PROXY_CHECK_INTER fastinter 500ms downinter $PG_PROXY_CHECK_INTER fall 2 rise 1 resolvers docker init-addr none on-marked-down shutdown-sessions
CONF
for n in $PG_NODES; do
    echo "    server $n $n:5432"
done
cat <<CONF

# container-local health endpoint for the HEALTHCHECK (no stats page)
frontend health
    mode http
    bind 127.0.0.1:8405
    timeout client 5s
    monitor-uri /healthz
    monitor fail if { nbsrv(pg_primary) lt 1 }
CONF
} > "$CFG"

printf '"%s" "%s"\n' "$PG_PRETIX_USER" "$(cat "$PG_PRETIX_PASSWORD_FILE")" > "$USERS"
cat > "$BOUNCER" <<CONF
; written by pg-proxy-entrypoint at every start
[databases]
$PG_PRETIX_DB = host=127.0.0.1 port=5433 dbname=$PG_PRETIX_DB
[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 5432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $USERS
pool_mode = transaction
max_client_conn = 1000
default_pool_size = $PG_POOL_SIZE
; a failed server login (no primary yet) is retried after 1 s; waiting transactions stay queued
server_login_retry = 1
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

haproxy -c -q -f "$CFG"
echo "pg-proxy-entrypoint: haproxy for ($PG_NODES), pgbouncer for $PG_PRETIX_USER@$PG_PRETIX_DB" >&2
haproxy -W -db -f "$CFG" &
pgbouncer "$BOUNCER" &
trap 'kill -TERM $(jobs -p) 2>/dev/null' TERM INT
wait -n || true
echo "pg-proxy-entrypoint: a process ended: stopping the container" >&2
kill -TERM $(jobs -p) 2>/dev/null || true
wait
exit 1
