"""Wait for what pretix needs before it starts.

``pretix-wait.py`` (deps): the database (through pgpool, must be a primary) and Redis (through
redis-proxy) answer. Reads the same pretix.cfg that pretix uses (PRETIX_CONFIG_FILE).
Exits 0 when both are reachable, 1 after WAIT_TIMEOUT seconds (default 300).

``pretix-wait.py migrations``: like ``migrate --check``, but in one long-lived process (Django is
set up once; a check costs a few ms instead of seconds of CPU): exits 0 as soon as no migration
is unapplied, 1 after MIGRATION_WAIT_TIMEOUT seconds (default 1200).
Never prints passwords.
"""
import configparser
import os
import socket
import sys
import time
from urllib.parse import urlparse


def log(msg):
    print(f"pretix-wait: {msg}", flush=True)


def db_ready(cfg):
    import psycopg2

    try:
        conn = psycopg2.connect(
            host=cfg.get("database", "host", fallback="pgpool"),
            port=cfg.getint("database", "port", fallback=5432),
            dbname=cfg.get("database", "name", fallback="pretix"),
            user=cfg.get("database", "user", fallback="pretix"),
            password=cfg.get("database", "password", fallback=""),
            connect_timeout=3,
        )
    except Exception as e:  # noqa: BLE001 - any failure means "not yet"
        return _reason(e)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_is_in_recovery()")
            (in_recovery,) = cur.fetchone()
    # PgBouncer accepts the login and then closes the connection while no member is primary (a deploy that
    # restarted every member: the web task exited 1 here and Swarm rolled the update back)
    except Exception as e:  # noqa: BLE001 - any failure means "not yet"
        return _reason(e)
    finally:
        conn.close()
    if in_recovery:
        return "connected, but the server is in recovery (no primary yet)"
    return None


def _reason(e):
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0] if text else ''}"


def redis_ready(url, password=None):
    u = urlparse(url)
    host, port = u.hostname or "redis-proxy", u.port or 6379
    auth = b""
    if password:  # RESP AUTH <password>, then PING: the answer to PING is the second line
        pw = password.encode()
        auth = b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(pw), pw)
    try:
        with socket.create_connection((host, port), timeout=3) as s:
            s.settimeout(3)
            s.sendall(auth + b"*1\r\n$4\r\nPING\r\n")
            data = b""
            while data.count(b"\r\n") < (2 if auth else 1):
                chunk = s.recv(64)
                if not chunk:
                    break
                data += chunk
            if auth:
                if not data.startswith(b"+OK"):
                    return f"{host}:{port}: AUTH refused: {data[:60]!r}"
                data = data.split(b"\r\n", 1)[1]
    except OSError as e:
        return f"{host}:{port}: {type(e).__name__}: {e}"
    if not data.startswith(b"+PONG"):
        return f"{host}:{port}: unexpected answer {data[:40]!r}"
    return None


def wait_migrations():
    timeout = int(os.environ.get("MIGRATION_WAIT_TIMEOUT", "1200"))
    interval = float(os.environ.get("MIGRATION_CHECK_INTERVAL", "5"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pretix.settings")
    import django

    django.setup()
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    start = time.monotonic()
    last_log = -1e9
    while True:
        elapsed = time.monotonic() - start
        try:
            conn = connections["default"]
            executor = MigrationExecutor(conn)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
            state = f"{len(plan)} unapplied migration(s)"
        except Exception as e:  # noqa: BLE001 - DB hiccup (failover): retry
            plan, state = None, f"check failed: {type(e).__name__}: {str(e).strip()[:200]}"
        finally:
            connections.close_all()
        if plan == []:
            log(f"database schema is up to date after {elapsed:.0f}s")
            return 0
        if elapsed > timeout:
            log(f"ERROR: gave up after {timeout}s waiting for migrations ({state}); is the migrate service failing?")
            return 1
        if elapsed - last_log >= 30:
            last_log = elapsed
            log(f"waiting for the migrate service: {state} ({elapsed:.0f}s/{timeout}s)")
        time.sleep(interval)


def main():
    if sys.argv[1:] == ["migrations"]:
        return wait_migrations()
    timeout = int(os.environ.get("WAIT_TIMEOUT", "300"))
    cfg_file = os.environ.get("PRETIX_CONFIG_FILE", "/etc/pretix/pretix.cfg")
    cfg = configparser.RawConfigParser()
    if not cfg.read(cfg_file):
        log(f"ERROR: cannot read config file {cfg_file}")
        return 1
    redis_url = cfg.get("redis", "location", fallback="redis://redis-proxy:6379/0")
    db_desc = f"{cfg.get('database', 'host', fallback='pgpool')}:{cfg.get('database', 'port', fallback='5432')}"
    start = time.monotonic()
    pending = {"database": True, "redis": True}
    last_log = 0.0
    while True:
        problems = {}
        if pending["database"]:
            err = db_ready(cfg)
            if err is None:
                pending["database"] = False
                log(f"database {db_desc} is ready (primary) after {time.monotonic() - start:.0f}s")
            else:
                problems["database"] = err
        if pending["redis"]:
            err = redis_ready(redis_url, cfg.get("redis", "password", fallback=None))
            if err is None:
                pending["redis"] = False
                log(f"redis {urlparse(redis_url).netloc} answers PING after {time.monotonic() - start:.0f}s")
            else:
                problems["redis"] = err
        if not problems:
            return 0
        elapsed = time.monotonic() - start
        if elapsed > timeout:
            for what, err in problems.items():
                log(f"ERROR: gave up waiting for {what} after {timeout}s: {err}")
            return 1
        if elapsed - last_log >= 10 or last_log == 0.0:
            last_log = elapsed or 0.001
            for what, err in problems.items():
                log(f"waiting for {what} ({elapsed:.0f}s/{timeout}s): {err}")
        time.sleep(2)


if __name__ == "__main__":
    sys.exit(main())
