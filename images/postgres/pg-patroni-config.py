#!/usr/bin/python3
"""Writes Patroni's config (argv[1], mode 0600) from the PG_* environment (defaults are set by
pg-entrypoint) and the secret files. Prints nothing: the file holds passwords."""
import os
import sys

import yaml

E = os.environ
name = E["PG_NAME"]
ttl, loop_wait, retry_timeout = int(E["PG_TTL"]), int(E["PG_LOOP_WAIT"]), int(E["PG_RETRY_TIMEOUT"])
if loop_wait + 2 * retry_timeout > ttl:  # Patroni must be able to retry before its lock expires
    sys.exit(f"pg-patroni-config: PG_LOOP_WAIT + 2*PG_RETRY_TIMEOUT must be <= PG_TTL ({ttl})")


def secret(var):
    with open(E[var]) as f:
        return f.read().replace("\r", "").replace("\n", "")


callback = "/usr/local/bin/pg-callback"
config = {
    "scope": E["PG_SCOPE"],
    "name": name,
    "log": {"level": "INFO"},
    # GETs (pg-proxy's /primary check, peers) need no password; unsafe endpoints (switchover,
    # restart, reinit, config) need basic auth. patronictl takes it from here too.
    "restapi": {
        "listen": "0.0.0.0:8008",
        "connect_address": f"{name}:8008",
        "authentication": {"username": "patroni", "password": secret("PG_REST_PASSWORD_FILE")},
    },
    "etcd3": {"hosts": E["PG_ETCD_HOSTS"].split(","), "protocol": "http"},
    "bootstrap": {
        # Stored in etcd when the cluster is initialised; change later with patronictl edit-config.
        "dcs": {
            "ttl": ttl,
            "loop_wait": loop_wait,
            "retry_timeout": retry_timeout,
            # a crashed primary that restarted within ttl gets this long to come back before the
            # sync standby takes over (default 300 s would block failover)
            "primary_start_timeout": int(E["PG_PRIMARY_START_TIMEOUT"]),
            # a primary that cannot stop within this (e.g. WAL not acknowledged by an unreachable
            # sync standby) is killed by Patroni, before Docker's stop_grace_period runs out
            "primary_stop_timeout": 20,
            "maximum_lag_on_failover": 1048576,
            # every commit is confirmed by one standby; only that standby may be promoted
            "synchronous_mode": True,
            # strict (default): a commit is never acknowledged without a standby. Non-strict let
            # a restarted/promoted primary acknowledge ~3 s of commits alone before a standby
            # reattached (lab); strict cost no extra downtime there. Writes block only while no
            # standby runs at all (both other nodes down also loses the etcd quorum anyway).
            "synchronous_mode_strict": E["PG_SYNC_STRICT"].lower() == "true",
            # never: it keeps a primary without the leader key writable
            "failsafe_mode": False,
            "postgresql": {
                "use_pg_rewind": True,
                "use_slots": True,
                "parameters": {
                    "max_connections": int(E["PG_MAX_CONNECTIONS"]),
                    "max_wal_senders": 10,
                    "max_replication_slots": 10,
                    "wal_level": "replica",
                    "hot_standby": "on",
                    "wal_log_hints": "on",
                    "wal_keep_size": "256MB",
                    "max_slot_wal_keep_size": "2GB",
                    "hot_standby_feedback": "on",
                    "wal_sender_timeout": "10s",
                    "wal_receiver_timeout": "10s",
                    "password_encryption": "scram-sha-256",
                },
            },
        },
        "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "data-checksums"],
        "post_bootstrap": "/usr/local/bin/pg-post-bootstrap",
    },
    "postgresql": {
        "listen": "0.0.0.0:5432",
        "connect_address": f"{name}:5432",
        "data_dir": E["PGDATA"],
        "bin_dir": "/usr/lib/postgresql/15/bin",
        "pgpass": "/tmp/pgpass",
        "use_unix_socket": True,
        "authentication": {
            "superuser": {"username": "postgres", "password": secret("PG_SUPERUSER_PASSWORD_FILE")},
            # REPLICATION only (no superuser)
            "replication": {"username": "replicator", "password": secret("PG_REPLICATION_PASSWORD_FILE")},
            # Patroni grants it exactly the functions pg_rewind needs
            "rewind": {"username": "rewinder", "password": secret("PG_REWIND_PASSWORD_FILE")},
        },
        "parameters": {
            "unix_socket_directories": "/var/run/postgresql",
            "shared_buffers": E["PG_SHARED_BUFFERS"],
            "log_line_prefix": "%m [%p] %q%u@%d ",
            "log_min_duration_statement": 2000,
            # a standby's WAL receiver retries the leader every 5 s by default: after the leader restarted, every
            # commit waited (synchronous replication) until the next retry, ~5 s after the leader was up (drill.db)
            "wal_retrieve_retry_interval": "1s",
        },
        "pg_hba": [
            "local all all peer",
            "host replication replicator all scram-sha-256",
            "host all all all scram-sha-256",
        ],
        # clone (empty data dir) with an immediate checkpoint, not a spread one (lab: 110 s)
        "basebackup": [{"checkpoint": "fast"}],
        "use_pg_rewind": True,
        # a former primary that cannot be rewound, or whose timeline diverged, is re-cloned
        "remove_data_directory_on_rewind_failure": True,
        "remove_data_directory_on_diverged_timelines": True,
        "callbacks": {"on_start": callback, "on_role_change": callback},
    },
    "watchdog": {"mode": "off"},  # no /dev/watchdog in a container
}

# pgBackRest (pgbackup.py, also the backup image's): WAL archiving from every member into the S3 repository, and
# the restore bootstrap when `inv restore` left a request in this member's volume and its data dir is empty.
sys.path.insert(0, "/usr/local/lib/pxc")
import pgbackup  # noqa: E402

pgbackup.patroni_settings(config)

path = sys.argv[1]
tmp = path + ".tmp"
fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    yaml.safe_dump(config, f, default_flow_style=False, sort_keys=False)
os.replace(tmp, path)
