#!/bin/bash
# Runs nginx with an upstream block of the live web tasks, re-resolved every NGINX_RESOLVE_EVERY seconds.
# Why not `proxy_pass http://tasks.web:8000` with a resolver: a variable upstream has no memory of failures, so
# every request could hit a dead task again; an upstream block marks a failed server down for a few seconds
# (max_fails=1) and retries an idempotent request elsewhere. Open-source nginx 1.22 cannot re-resolve the
# servers of an upstream block itself (the `resolve` parameter came to it in 1.27.3), hence this loop.
set -euo pipefail
: "${NGINX_UPSTREAM_NAME:=tasks.web}"
: "${NGINX_UPSTREAM_PORT:=8000}"
: "${NGINX_RESOLVE_EVERY:=2}"
: "${NGINX_MAINTENANCE_DIR:=/etc/nginx/pxc-maintenance}"   # bind-mounted by the stack; <dir>/on = maintenance
: "${NGINX_DRAIN_NOTICE:=3}"   # s of 404s from /nginx-health before counting requests (the LB checks every 1 s)
: "${NGINX_DRAIN_MAX:=20}"     # s to wait for requests in flight (keep below the stack's stop_grace_period)
DRAINING=/run/pxc-draining
UPSTREAM=/etc/nginx/pxc/upstream.conf
log() { echo "nginx-entrypoint: $*" >&2; }

servers() {  # the addresses of the live web tasks, sorted (empty while there are none)
    { getent ahostsv4 "$NGINX_UPSTREAM_NAME" 2>/dev/null || true; } | awk '{print $1}' | sort -u
}

render() {  # $1 = addresses, one per line
    local a
    {
        echo "# written by nginx-entrypoint: the web tasks behind $NGINX_UPSTREAM_NAME"
        if [ -z "$1" ]; then
            echo "server 127.0.0.1:9 down;  # no web task yet: 502 until one appears"
        fi
        for a in $1; do
            echo "server $a:$NGINX_UPSTREAM_PORT max_fails=1 fail_timeout=3s;"
        done
    } > "$UPSTREAM.new"
    mv "$UPSTREAM.new" "$UPSTREAM"
}

maintenance() { [ -f "$NGINX_MAINTENANCE_DIR/on" ] && echo on || echo off; }

in_flight() {  # requests nginx is answering, without this one (stub_status "Writing"); 0 when it cannot tell
    local line writing=1
    exec 3<>/dev/tcp/127.0.0.1/80 || { echo 0; return; }
    printf 'GET /nginx-status HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
    while IFS= read -r -t 3 line <&3; do
        [[ "$line" =~ Writing:\ ([0-9]+) ]] && writing=${BASH_REMATCH[1]}
    done
    exec 3<&-
    echo $((writing - 1))
}

# Stop without cutting a request: a graceful QUIT alone closes the listener at once, the load balancer then marks
# the node down and (HAProxy on-marked-down shutdown-sessions) cuts the requests nginx was still finishing.
drain() {
    local waited=0 n
    touch "$DRAINING"
    log "draining: /nginx-health answers 404, no new requests from the load balancer"
    sleep "$NGINX_DRAIN_NOTICE"
    while n=$(in_flight); [ "$n" -gt 0 ] && [ "$waited" -lt "$NGINX_DRAIN_MAX" ]; do
        sleep 1; waited=$((waited + 1))
    done
    log "drained: $n request(s) in flight after $((NGINX_DRAIN_NOTICE + waited))s; stopping nginx"
    kill -QUIT "$pid" 2>/dev/null; wait "$pid"; exit 0
}

mkdir -p "$(dirname "$UPSTREAM")"
rm -f "$DRAINING"
[ -d "$NGINX_MAINTENANCE_DIR" ] || mkdir -p "$NGINX_MAINTENANCE_DIR"   # not mounted (a plain docker run): never on
current=$(servers)
render "$current"
nginx -t -q
nginx -g 'daemon off;' &
pid=$!
trap drain TERM INT QUIT
log "upstream: $(echo $current | tr '\n' ' ')"
mode=$(maintenance)
log "maintenance: $mode"
while kill -0 "$pid" 2>/dev/null; do
    sleep "$NGINX_RESOLVE_EVERY" & wait $! || true
    if [ "$(maintenance)" != "$mode" ]; then
        mode=$(maintenance)
        log "maintenance: $mode (dynamic requests get $([ "$mode" = on ] && echo '503 + Retry-After' || echo 'the web tasks'))"
    fi
    fresh=$(servers)
    # keep the last known servers while the name does not resolve (a DNS hiccup is no reason for 502s)
    if [ -n "$fresh" ] && [ "$fresh" != "$current" ]; then
        render "$fresh"
        if nginx -t -q 2>/dev/null; then
            kill -HUP "$pid"
            log "upstream changed: $(echo $fresh | tr '\n' ' ')"
            current=$fresh
        fi
    fi
done
wait "$pid"
