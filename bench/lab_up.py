#!/usr/bin/env python3
"""Benchmark (not a test): cold and warm `inv lab.up` wall times, written to bench/results/lab_up.json."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PXC_LAB_NAME": "pxbench", "PXC_LAB_CLUSTER": "labbench", "PXC_LAB_SUBNET": "10.79.0",
       "PXC_LAB_HTTP_PORT": "38080", "PXC_LAB_EGRESS_PORT": "38889", "PXC_CLUSTERS_DIR": "/tmp/pxbench-clusters"}


def inv(*args) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "invoke", *args], cwd=PROJECT, env=ENV, check=True,
                   stdout=subprocess.DEVNULL)
    return round(time.monotonic() - started, 2)


def main() -> None:
    inv("lab.down", "--purge")
    results = {
        "cold_up_s": inv("lab.up"),              # nothing on disk: keys, namespaces, daemons, new swarm
        "idempotent_up_s": inv("lab.up"),        # everything running: nothing to change
        "down_s": inv("lab.down"),               # keeps data (images, swarm state)
    }
    results["warm_up_s"] = inv("lab.up")         # data kept: daemons restart, swarm re-forms
    results["purge_down_s"] = inv("lab.down", "--purge")
    results["goal_cold_up_s"] = 60
    results["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = PROJECT / "bench" / "results" / "lab_up.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
