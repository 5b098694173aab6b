"""What the benchmark scripts share: the bench lab's settings, running a task through the real CLI, results."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# The bench lab: its own names, subnet and ports (never a person's `lab` or a test lab on the same machine).
LAB = {"PXC_LAB_NAME": "pxbench", "PXC_LAB_CLUSTER": "labbench", "PXC_LAB_SUBNET": "10.82.0",
       "PXC_LAB_HTTP_PORT": "38080", "PXC_LAB_EGRESS_PORT": "38889", "PXC_CLUSTERS_DIR": "/tmp/pxbench-clusters",
       "PXC_STATE_DIR": "/tmp/pxbench-state", "PXC_CLUSTER": "labbench"}


def inv(*args, env: dict | None = None, timeout: int = 3600) -> tuple[float, str]:
    """Run `inv ARGS` (exit on failure, with its output); its wall time in seconds and its stdout."""
    started = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=PROJECT, env={**os.environ, **(env or LAB)},
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        sys.exit(f"inv {' '.join(args)} failed:\n{p.stdout[-3000:]}\n{p.stderr[-2000:]}")
    return round(time.monotonic() - started, 1), p.stdout


def write(name: str, results: dict) -> Path:
    """bench/results/<name>.json with the time of the measurement; printed too."""
    results = {**results, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    out = PROJECT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return out
