#!/bin/sh
# Healthy when the local server accepts connections (primary or hot standby).
# Run as postgres so the socket's peer authentication succeeds (no log noise).
if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid=postgres --regid=postgres --init-groups \
        pg_isready -q -h /var/run/postgresql -p 5432 -U postgres -d postgres -t 4
fi
exec pg_isready -q -h /var/run/postgresql -p 5432 -U postgres -d postgres -t 4
