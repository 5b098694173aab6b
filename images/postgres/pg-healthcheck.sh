#!/bin/bash
# Healthy = Patroni's HA loop runs (REST GET /liveness is 200). Deliberately not /health (postgres
# running): a replica that is still cloning, or whose postgres Patroni is restarting, must stay
# healthy, or Swarm would kill it and keep its name out of DNS. bash /dev/tcp: no curl needed.
exec 3<>/dev/tcp/127.0.0.1/8008 || exit 1
printf 'GET /liveness HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 3 status <&3 || exit 1
[[ $status == HTTP/1.?" 200"* ]]
