#!/bin/sh
# Healthy when a query through pgpool reaches a primary (read-write) backend.
r=$(PGCONNECT_TIMEOUT=4 psql -h 127.0.0.1 -p 5432 -U repmgr -d postgres -X -q -tA \
      -c "SELECT pg_is_in_recovery()" 2>/dev/null) || exit 1
[ "$r" = f ]
