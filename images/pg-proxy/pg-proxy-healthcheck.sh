#!/bin/bash
# Liveness: pgbouncer accepts connections on :5432 and haproxy answers its local monitor URI. Not whether a
# primary exists right now: during a failover the proxy must stay (transactions wait in PgBouncer).
exec 4<>/dev/tcp/127.0.0.1/5432 || exit 1
exec 3<>/dev/tcp/127.0.0.1/8405 || exit 1
printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3
IFS= read -r -t 3 status <&3 || exit 1
[[ $status == HTTP/1.?" "[25]0[03]* ]]
