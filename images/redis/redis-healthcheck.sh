#!/bin/sh
# Healthy when the local Redis (or Sentinel) answers PING with the cluster's password (read from the secret).
if [ "${REDIS_ROLE:-master}" = sentinel ]; then port=26379; else port=6379; fi
REDISCLI_AUTH=$(cat "${REDIS_PASSWORD_FILE:-/run/secrets/redis_password}")
export REDISCLI_AUTH
[ "$(redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]
