"""Docker HEALTHCHECK for every pretix mode (the mode is the entrypoint argument of PID 1): liveness only.

web: gunicorn's master accepts connections on :8000 (no request: every pretix page touches the database, and a
     database failing over is no reason to restart the task; gunicorn itself restarts a stuck worker).
worker: the celery worker of this container answers a ping.
cron: the scheduling loop touched its heartbeat file recently.
migrate/shell/manage: always healthy (one-shot or interactive).
"""
import os
import socket
import subprocess
import sys
import time

STATE_DIR = "/tmp/pretix-cluster"


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


def worker_alive():
    r = subprocess.run(["celery", "-A", "pretix.celery_app", "inspect", "ping", "-d", f"celery@{socket.gethostname()}",
                        "--timeout", "5"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=25)
    if r.returncode != 0:
        print(r.stdout.decode(errors="replace")[-500:])
    return 0 if r.returncode == 0 else 1


def cron_alive():
    interval = int(os.environ.get("CRON_INTERVAL", "300"))
    try:
        age = time.time() - os.stat(os.path.join(STATE_DIR, "cron-heartbeat")).st_mtime
    except OSError:
        print("no scheduling round yet")
        return 1
    return 0 if age < 2 * interval + 120 else 1


def main():
    return {"web": web_alive, "worker": worker_alive, "cron": cron_alive}.get(container_mode(), lambda: 0)()


if __name__ == "__main__":
    sys.exit(main())
