#!/bin/sh
# Healthy when the local server accepts connections (primary or hot standby).
exec pg_isready -q -h /var/run/postgresql -p 5432 -U postgres -d postgres -t 4
