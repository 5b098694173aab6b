"""Docker HEALTHCHECK for every pretix mode (the mode is the entrypoint argument of PID 1).

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


def main():
    mode = container_mode()
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
