"""Load the build-time schema snapshot into the cluster's database when it is empty (called by `migrate`).

Exit 0 after loading, 3 when the database already has a schema (nothing to do), 1 on errors. The SQL goes
through pg-proxy (PgBouncer, transaction pooling) as ONE transaction that ends with RESET ALL, so the dump's
session settings (search_path and friends) never stay on a pooled server connection.
"""
import configparser
import gzip
import os
import subprocess
import sys

SNAPSHOT = "/opt/pretix/schema.sql.gz"


def main():
    cfg = configparser.RawConfigParser()
    cfg.read(os.environ.get("PRETIX_CONFIG_FILE", "/run/secrets/pretix_cfg"))
    db = {k: cfg.get("database", k, fallback="") for k in ("host", "port", "name", "user", "password")}
    env = {**os.environ, "PGHOST": db["host"], "PGPORT": db["port"] or "5432", "PGDATABASE": db["name"],
           "PGUSER": db["user"], "PGPASSWORD": db["password"]}
    probe = subprocess.run(["psql", "-XtAc", "select to_regclass('public.django_migrations') is not null"],
                           env=env, capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        print(f"pretix-schema-load: cannot ask the database: {probe.stderr.strip()[-300:]}", flush=True)
        return 1
    if probe.stdout.strip() == "t":
        return 3
    with gzip.open(SNAPSHOT, "rb") as f:
        sql = f.read() + b"\nRESET ALL;\n"
    load = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"], input=sql, env=env,
                          capture_output=True, timeout=600)
    if load.returncode != 0:
        print(f"pretix-schema-load: loading the snapshot failed: {load.stderr.decode()[-500:]}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
