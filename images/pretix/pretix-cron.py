"""`pretix runperiodic` every CRON_INTERVAL seconds, exactly once per cluster even while a partitioned node's
cron still runs: each run holds a lease in Redis (SET NX with an expiry, renewed while it runs). A run whose
lease cannot be renewed is stopped before the lease expires, so a rescheduled cron never overlaps it.
"""
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from configparser import RawConfigParser

import redis

LOCK_KEY = "pxc:cron:runperiodic"
STATE_DIR = "/tmp/pretix-cluster"
INTERVAL = int(os.environ.get("CRON_INTERVAL", "300"))
LEASE_S = int(os.environ.get("CRON_LEASE", "120"))        # expiry of the lease in Redis
RENEW_S = int(os.environ.get("CRON_RENEW", "20"))         # renewed this often while runperiodic runs
GIVE_UP_S = LEASE_S - 2 * RENEW_S                         # stop the run when not renewed for this long
RUN_TIMEOUT_S = int(os.environ.get("CRON_RUN_TIMEOUT", "900"))
# compare-and-set scripts: only the holder may renew or release its lease
RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def log(msg):
    print(f"pretix-cron: {msg}", flush=True)


def redis_client():
    cfg = RawConfigParser()
    cfg.read(os.environ.get("PRETIX_CONFIG_FILE", "/run/secrets/pretix_cfg"))
    return redis.Redis.from_url(cfg.get("redis", "location"), password=cfg.get("redis", "password", fallback=None),
                                socket_timeout=3, socket_connect_timeout=3)


def heartbeat():
    os.makedirs(STATE_DIR, exist_ok=True)
    with open(os.path.join(STATE_DIR, "cron-heartbeat"), "w") as f:
        f.write(str(time.time()))


def call(r, script, *args):
    try:
        return r.eval(script, 1, LOCK_KEY, *args)
    except redis.RedisError as e:
        log(f"redis: {type(e).__name__}: {e}")
        return None


def run_once(r, owner):
    """One runperiodic under the lease; True when it ran to completion."""
    try:
        if not r.set(LOCK_KEY, owner, nx=True, px=LEASE_S * 1000):
            log(f"another cron holds the lease ({r.get(LOCK_KEY)!r}): skipping this round")
            return False
    except redis.RedisError as e:
        log(f"cannot take the lease ({type(e).__name__}): skipping this round")
        return False
    started = renewed = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "pretix", "runperiodic"])
    try:
        while proc.poll() is None:
            time.sleep(1)
            now = time.monotonic()
            if now - renewed >= RENEW_S and call(r, RENEW, owner, LEASE_S * 1000) == 1:
                renewed = now
            if now - renewed > GIVE_UP_S or now - started > RUN_TIMEOUT_S:
                log("lease not renewed in time (partitioned?) or run too long: stopping runperiodic")
                proc.kill()
        log(f"runperiodic exited {proc.wait()} after {time.monotonic() - started:.0f}s")
        return proc.returncode == 0
    finally:
        call(r, RELEASE, owner)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    r = redis_client()
    log(f"every {INTERVAL}s, lease {LEASE_S}s renewed every {RENEW_S}s (owner {owner})")
    while True:
        heartbeat()  # the loop runs: healthy from the first round on, not only after its runperiodic
        run_once(r, owner)
        heartbeat()  # healthy while the loop runs, whether this round ran or another node's did
        time.sleep(INTERVAL)


if __name__ == "__main__":
    main()
