#!/bin/sh
if [ "${REDIS_ROLE:-master}" = sentinel ]; then port=26379; else port=6379; fi
[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]
