#!/bin/bash
# Patroni post_bootstrap: runs once, on the node that initialised the cluster. Creates the pretix
# role and database. psql reads the password from the secret itself: never in argv or a log.
# Argument: Patroni's connection string to the local postgres.
set -euo pipefail
: "${PG_PRETIX_USER:=pretix}" "${PG_PRETIX_DB:=pretix}"
echo "pg-post-bootstrap: creating role $PG_PRETIX_USER and database $PG_PRETIX_DB" >&2
psql "$1" -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=terse -v user="$PG_PRETIX_USER" -v db="$PG_PRETIX_DB" <<'SQL'
SET log_statement = 'none';
SET log_min_error_statement = 'panic';
\set pw `tr -d '\r\n' < "$PG_PRETIX_PASSWORD_FILE"`
CREATE ROLE :"user" LOGIN PASSWORD :'pw';
CREATE DATABASE :"db" OWNER :"user" ENCODING 'UTF8';
SQL
