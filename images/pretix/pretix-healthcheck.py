"""Docker HEALTHCHECK for every pretix mode (the entrypoint records the mode).

web: GET http://127.0.0.1:8000/healthcheck/ must answer 200.
worker: the celery worker of this container answers a ping.
cron: the heartbeat file was touched recently (every successful runperiodic).
migrate/shell/manage: always healthy (one-shot or interactive).
"""
import os
import socket
import subprocess
import sys
import time
import urllib.request

STATE_DIR = "/tmp/pretix-cluster"


def read(name, default=""):
    try:
        with open(os.path.join(STATE_DIR, name)) as f:
            return f.read().strip()
    except OSError:
        return default


def main():
    mode = read("mode", "web")
    if mode == "web":
        req = urllib.request.Request(
            "http://127.0.0.1:8000/healthcheck/",
            headers={"Host": "localhost", "X-Forwarded-Proto": "http"},
        )
        try:
            with urllib.request.urlopen(req, timeout=8) as r:
                return 0 if r.status == 200 else 1
        except Exception as e:  # noqa: BLE001
            print(f"healthcheck failed: {e}")
            return 1
    if mode == "worker":
        r = subprocess.run(
            ["celery", "-A", "pretix.celery_app", "inspect", "ping",
             "-d", f"celery@{socket.gethostname()}", "--timeout", "5"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=25,
        )
        if r.returncode != 0:
            print(r.stdout.decode(errors="replace")[-500:])
        return 0 if r.returncode == 0 else 1
    if mode == "cron":
        interval = int(os.environ.get("CRON_INTERVAL", "300"))
        try:
            age = time.time() - os.stat(os.path.join(STATE_DIR, "cron-heartbeat")).st_mtime
        except OSError:
            print("no successful runperiodic yet")
            return 1
        return 0 if age < 2 * interval + 120 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
