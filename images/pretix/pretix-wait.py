"""Wait until the database (through pgpool) and Redis (through redis-proxy) answer.

Reads the same pretix.cfg that pretix uses (PRETIX_CONFIG_FILE). Exits 0 when both
are reachable, 1 after WAIT_TIMEOUT seconds (default 300). Never prints passwords.
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
        return f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_is_in_recovery()")
            (in_recovery,) = cur.fetchone()
        if in_recovery:
            return "connected, but the server is in recovery (no primary yet)"
        return None
    finally:
        conn.close()


def redis_ready(url):
    u = urlparse(url)
    host, port = u.hostname or "redis-proxy", u.port or 6379
    try:
        with socket.create_connection((host, port), timeout=3) as s:
            s.settimeout(3)
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            data = s.recv(64)
    except OSError as e:
        return f"{host}:{port}: {type(e).__name__}: {e}"
    if not data.startswith(b"+PONG"):
        return f"{host}:{port}: unexpected answer {data[:40]!r}"
    return None


def main():
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
            err = redis_ready(redis_url)
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
