#!/bin/bash
# Patroni callback (on_start, on_role_change; args: action role scope). When this node is or
# becomes the primary, (re)apply every role's password from the secrets, so a rotated secret
# takes effect on the next start/failover of the primary. psql reads the secrets itself.
set -euo pipefail
action=$1 role=$2
log() { echo "pg-callback[$action $role]: $*" >&2; }
case $role in master|primary) ;; *) exit 0 ;; esac
: "${PG_PRETIX_USER:=pretix}"
psql_local() { psql -h /var/run/postgresql -U postgres -d postgres -X -q -tA -v ON_ERROR_STOP=1 -v VERBOSITY=terse "$@"; }

for _ in $(seq 1 60); do  # promotion may still be finishing
    [ "$(psql_local -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] && break
    sleep 1
done
# synchronous_commit local: must not hang while no sync standby is attached
psql_local -v user="$PG_PRETIX_USER" <<'SQL' && log "passwords applied from the secrets" || log "WARNING: could not apply passwords"
SET log_statement = 'none';
SET log_min_error_statement = 'panic';
SET synchronous_commit = 'local';
\set pw `tr -d '\r\n' < "$PG_SUPERUSER_PASSWORD_FILE"`
ALTER ROLE postgres PASSWORD :'pw';
\set pw `tr -d '\r\n' < "$PG_REPLICATION_PASSWORD_FILE"`
ALTER ROLE replicator PASSWORD :'pw';
\set pw `tr -d '\r\n' < "$PG_REWIND_PASSWORD_FILE"`
ALTER ROLE rewinder PASSWORD :'pw';
\set pw `tr -d '\r\n' < "$PG_PRETIX_PASSWORD_FILE"`
SELECT count(*) > 0 AS pretix_exists FROM pg_roles WHERE rolname = :'user' \gset
\if :pretix_exists
ALTER ROLE :"user" PASSWORD :'pw';
\endif
SQL
