"""Docker HEALTHCHECK for every pretix mode (the mode is the entrypoint argument of PID 1): liveness only.

web: gunicorn's master accepts connections on :8000 (no request: every pretix page touches the database, and a
     database failing over is no reason to restart the task; gunicorn itself restarts a stuck worker).
worker: the celery worker of this container signalled ready (a file, pretix_cluster_settings.py), and answers a ping
        at least every 3 minutes. The ping imports Django and Celery (~1 CPU-s), so it runs once a minute at most;
        the checks in between only read time stamps, which lets a short interval report a ready worker within
        seconds (a 60 s interval held every fresh deploy for a minute: Docker 20.10 has no start interval).
cron: the scheduling loop touched its heartbeat file recently.
migrate/shell/manage: always healthy (one-shot or interactive).
"""
import os
import socket
import subprocess
import sys
import time

STATE_DIR = "/tmp/pretix-cluster"
WORKER_READY = os.path.join(STATE_DIR, "worker-ready")     # written by pretix_cluster_settings.py (worker_ready)
PING_EVERY_S = 60
UNHEALTHY_AFTER_S = 180    # no answered ping for this long (as 3 failed checks 60 s apart did before)


def container_mode():
    try:
        with open("/proc/1/cmdline", "rb") as f:
            args = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return "web"
    for i, a in enumerate(args):
        if a.endswith("pretix-entrypoint"):
            return args[i + 1] if i + 1 < len(args) else "web"
    return "web"


def web_alive():
    try:
        socket.create_connection(("127.0.0.1", 8000), timeout=5).close()
        return 0
    except OSError as e:
        print(f"gunicorn does not accept connections: {e}")
        return 1


def mtime(path, default=None):
    try:
        return os.stat(path).st_mtime
    except OSError:
        return default


def touch(path):
    with open(path, "a"):
        os.utime(path)


def worker_step(now, ready, last_ok, last_tried):
    """What the worker's check does now: 'not ready', 'ping', 'ok' or 'stale' (no answered ping for too long).
    ready/last_ok/last_tried: times of the ready file and of the last answered and last tried ping (None: never)."""
    if ready is None:
        return "not ready"
    if now - (last_tried or 0) >= PING_EVERY_S:
        return "ping"
    return "ok" if now - (last_ok or ready) < UNHEALTHY_AFTER_S else "stale"


def worker_alive():
    now, ok_file, tried_file = time.time(), WORKER_READY + ".ping-ok", WORKER_READY + ".ping-tried"
    ready, last_ok = mtime(WORKER_READY), mtime(ok_file)
    step = worker_step(now, ready, last_ok, mtime(tried_file))
    if step == "ping":
        touch(tried_file)
        if worker_pings():
            touch(ok_file)
            return 0
        step = worker_step(now, ready, last_ok, now)
    if step == "not ready":
        print("the celery worker has not signalled ready yet")
    elif step == "stale":
        print(f"the celery worker has not answered a ping for {now - (last_ok or ready):.0f}s")
    return 0 if step == "ok" else 1


def worker_pings():
    r = subprocess.run(["celery", "-A", "pretix.celery_app", "inspect", "ping", "-d", f"celery@{socket.gethostname()}",
                        "--timeout", "5"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=25)
    if r.returncode != 0:
        print(r.stdout.decode(errors="replace")[-500:])
    return r.returncode == 0


def cron_problem(now, beat, interval):
    """Why the cron loop is unhealthy, or None. beat: time of its last heartbeat (None: never written); the loop
    writes it before its first round and after every round, so two missed rounds and 2 minutes mean it is stuck."""
    if beat is None:
        return "the cron loop has not written its heartbeat yet"
    if now - beat >= 2 * interval + 120:
        return f"no cron heartbeat for {now - beat:.0f}s"
    return None


def cron_alive():
    problem = cron_problem(time.time(), mtime(os.path.join(STATE_DIR, "cron-heartbeat")),
                           int(os.environ.get("CRON_INTERVAL", "300")))
    if problem:
        print(problem)
    return 1 if problem else 0


def main():
    return {"web": web_alive, "worker": worker_alive, "cron": cron_alive}.get(container_mode(), lambda: 0)()


if __name__ == "__main__":
    sys.exit(main())
