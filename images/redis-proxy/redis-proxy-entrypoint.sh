#!/bin/bash
# Renders haproxy.cfg and runs HAProxy in the foreground (master-worker mode). Clients reach only the master
# that can take writes: it answers role:master AND has a replica following it (it refuses writes without one:
# min-replicas-to-write), so an isolated or deposed master never gets clients. No stats page.
# Environment: REDIS_NODES ("redis1 redis2 redis3"), REDIS_PROXY_CHECK_INTER (1s),
#   REDIS_PROXY_MAXCONN (4096), REDIS_PROXY_CLIENT_TIMEOUT (1h), REDIS_PASSWORD_FILE (/run/secrets/redis_password)
set -euo pipefail
: "${REDIS_NODES:=redis1 redis2 redis3}"
: "${REDIS_PROXY_CHECK_INTER:=1s}"
: "${REDIS_PROXY_MAXCONN:=4096}"
: "${REDIS_PROXY_CLIENT_TIMEOUT:=1h}"
: "${REDIS_PASSWORD_FILE:=/run/secrets/redis_password}"
CFG=/run/haproxy/haproxy.cfg
if [ ! -r "$REDIS_PASSWORD_FILE" ]; then
    echo "redis-proxy-entrypoint: ERROR: $REDIS_PASSWORD_FILE is not readable (is the redis_password secret attached?)" >&2
    exit 1
fi
PASSWORD=$(cat "$REDIS_PASSWORD_FILE")
umask 077   # the config holds the password for the health checks: readable by haproxy only

{
cat <<CONF
# written by redis-proxy-entrypoint at every start
global
    maxconn $REDIS_PROXY_MAXCONN
    log stdout format raw local0 info
    stats socket /run/haproxy/admin.sock mode 600 level admin

defaults
    mode tcp
    log global
    option tcplog
    option dontlog-normal
    option log-health-checks
    timeout connect 3s
    timeout client $REDIS_PROXY_CLIENT_TIMEOUT
    timeout server $REDIS_PROXY_CLIENT_TIMEOUT
    timeout check 2s

# Docker's embedded DNS: task IPs change when a task restarts; re-resolve every second.
# A dead/unhealthy task vanishes from DNS (NX): keep its last address (hold nx) instead of putting the server
# into maintenance, because leaving DNS maintenance marks a server UP at once (HAProxy 2.6) and would send
# clients to a restarted old master before its checks fail. But never hold an obsolete record: when the name
# resolves again (the task restarted, new IP), the server must move to the new address (with 'hold obsolete'
# the dead address was kept and the node was never used again, seen with pg-proxy in the lab).
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

frontend redis_in
    bind :6379
    default_backend redis_master

backend redis_master
    # only the current master passes; 'first' keeps everything on one server even if two
    # claim role:master for a moment during a failover
    balance first
    option tcp-check
    tcp-check connect
    tcp-check send AUTH\ $PASSWORD\r\n
    tcp-check expect string +OK
    tcp-check send info\ replication\r\n
    tcp-check expect string role:master
    tcp-check expect rstring connected_slaves:[1-9]
    tcp-check send QUIT\r\n
    tcp-check expect string +OK
    default-server check inter $REDIS_PROXY_CHECK_INTER fall 2 rise 2 resolvers docker init-addr none on-marked-down shutdown-sessions
CONF
for n in $REDIS_NODES; do
    echo "    server $n $n:6379"
done
cat <<CONF
CONF
} > "$CFG"

haproxy -c -q -f "$CFG"
echo "redis-proxy-entrypoint: starting haproxy for ($REDIS_NODES)" >&2
exec haproxy -W -db -f "$CFG"
