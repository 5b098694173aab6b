#!/bin/bash
# archive_command (`pgbackrest-archive push %p`) and restore_command (`pgbackrest-archive get %f "%p"`) of every
# member (installed under that name: pgBackRest requires its archive_command to contain "pgbackrest").
# The repository keeps one history (pgBackRest repo path) per database system identifier: a freshly initialised
# cluster starts its own and never mixes WAL with the backups of the cluster it may be about to be restored from;
# a restored cluster has the backup's identifier, so it goes on archiving into the history it came from.
set -euo pipefail
sysid=$(pg_controldata "$PGDATA" | sed -n 's/^Database system identifier: *//p')
[ -n "$sysid" ] || { echo "pgbackrest-archive: no system identifier in $PGDATA" >&2; exit 1; }
export PGBACKREST_REPO1_PATH="${BACKUP_REPO_PATH:-/pretix}/$sysid"
case "${1:-}" in
    push) exec pgbackrest --stanza="${BACKUP_STANZA:-pretix}" archive-push "$2" ;;
    get)  exec pgbackrest --stanza="${BACKUP_STANZA:-pretix}" archive-get "$2" "$3" ;;
    *)    echo "usage: pgbackrest-archive push WAL | get WAL PATH" >&2; exit 2 ;;
esac
