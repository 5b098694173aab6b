#!/bin/bash
# Renders haproxy.cfg and runs HAProxy in the foreground (master-worker mode).
# Environment: PG_NODES ("pg1 pg2 pg3"), PG_PROXY_CHECK_INTER (1s), PG_PROXY_MAXCONN (4096),
#   PG_PROXY_CLIENT_TIMEOUT (1h)
set -euo pipefail
: "${PG_NODES:=pg1 pg2 pg3}"
: "${PG_PROXY_CHECK_INTER:=1s}"
: "${PG_PROXY_MAXCONN:=4096}"
: "${PG_PROXY_CLIENT_TIMEOUT:=1h}"
CFG=/run/haproxy/haproxy.cfg

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
    bind :5432
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

haproxy -c -q -f "$CFG"
echo "pg-proxy-entrypoint: starting haproxy for ($PG_NODES)" >&2
exec haproxy -W -db -f "$CFG"
