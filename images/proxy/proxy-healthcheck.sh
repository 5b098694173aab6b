#!/bin/bash
# Liveness: HAProxy answers its local monitor URI, and for postgres PgBouncer accepts connections. Not whether
# a primary/master exists right now: during a failover the proxy must stay.
exec 3<>/dev/tcp/127.0.0.1/8405 || exit 1
printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3
IFS= read -r -t 3 status <&3 || exit 1
[[ $status == HTTP/1.?" 200"* ]] || exit 1
if [ "${PROXY_KIND:-}" = postgres ]; then exec 4<>/dev/tcp/127.0.0.1/5432 || exit 1; fi
