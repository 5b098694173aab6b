#!/bin/bash
# Build-time schema snapshot (run in the image's `schema` stage, as root): migrate an empty PostgreSQL from
# scratch, dump it, load the dump into a second database, migrate that one too (nothing may be left to do)
# and require both schemas to be identical. A deploy then loads the dump into an empty cluster in seconds
# instead of running 300 migrations for minutes; `migrate` still runs after it and finds nothing to do.
set -euo pipefail
OUT=${1:?usage: pretix-schema.sh OUTPUT.sql.gz}
PGBIN=/usr/lib/postgresql/15/bin
W=/tmp/schema
mkdir -p $W && chown postgres:postgres $W
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
as_pg $PGBIN/initdb -D $W/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg $PGBIN/pg_ctl -D $W/data -o "-c listen_addresses=127.0.0.1 -c fsync=off -k $W" -w start >/dev/null
trap 'as_pg $PGBIN/pg_ctl -D $W/data -m immediate stop >/dev/null' EXIT
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres "$@"; }
for db in fresh loaded; do psql_ -c "CREATE DATABASE $db"; done
cfg() { printf '[pretix]\ndatadir=%s\n[database]\nbackend=postgresql\nname=%s\nuser=postgres\nhost=127.0.0.1\n' "$W" "$1" > "$W/$1.cfg"; }
cfg fresh; cfg loaded
PRETIX_CONFIG_FILE=$W/fresh.cfg python -m pretix migrate --noinput >/dev/null
pg_dump -h 127.0.0.1 -U postgres --no-owner --no-privileges fresh > $W/snapshot.sql
psql_ -d loaded --single-transaction -f $W/snapshot.sql >/dev/null
left=$(PRETIX_CONFIG_FILE=$W/loaded.cfg python -m pretix migrate --noinput)
grep -q "No migrations to apply" <<<"$left" || { echo "pretix-schema: migrate found work after the snapshot" >&2; exit 1; }
# (pg_dump 15.14+ brackets its output with \restrict/\unrestrict and a random key: not part of the schema)
for db in fresh loaded; do
    pg_dump -h 127.0.0.1 -U postgres --schema-only --no-owner $db | grep -v '^\\\(un\)\?restrict ' > $W/$db.schema
done
diff $W/fresh.schema $W/loaded.schema >&2 || { echo "pretix-schema: schemas differ (above)" >&2; exit 1; }
gzip -9c $W/snapshot.sql > "$OUT"
sha256sum < $W/fresh.schema | cut -c1-16 > "${OUT%.sql.gz}.schema-digest"
echo "pretix-schema: $(grep -c '^CREATE TABLE' $W/fresh.schema) tables; identical after load + migrate"
