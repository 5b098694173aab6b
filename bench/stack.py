#!/usr/bin/env python3
"""Benchmark (not a test): cold build, deploy-to-healthy, warm redeploy and image sizes on a lab.

Writes bench/results/stack.json. `--cold` purges the bench lab first (no image cache: a true cold build).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PXC_LAB_NAME": "pxbench", "PXC_LAB_CLUSTER": "labbench", "PXC_LAB_SUBNET": "10.79.0",
       "PXC_LAB_HTTP_PORT": "38080", "PXC_LAB_EGRESS_PORT": "38889", "PXC_CLUSTERS_DIR": "/tmp/pxbench-clusters",
       "PXC_STATE_DIR": "/tmp/pxbench-state", "PXC_CLUSTER": "labbench"}


def inv(*args, timeout=3600) -> tuple[float, str]:
    started = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=PROJECT, env=ENV, capture_output=True,
                       text=True, timeout=timeout)
    if p.returncode != 0:
        sys.exit(f"inv {' '.join(args)} failed:\n{p.stdout[-3000:]}\n{p.stderr[-2000:]}")
    return round(time.monotonic() - started, 1), p.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cold", action="store_true", help="purge the bench lab first (cold image build)")
    ap.add_argument("--keep", action="store_true", help="leave the bench lab running afterwards")
    args = ap.parse_args()
    if args.cold:
        inv("lab.down", "--purge")
        subprocess.run(["rm", "-rf", "/tmp/pxbench-state"])
    results = {"lab_up_s": inv("lab.up")[0]}
    results["build_s"], out = inv("build")
    results["build_per_image_s"] = {m[0]: float(m[1]) for m in re.findall(r"\[(\S+)\] built and pushed \S+ in ([\d.]+)s", out)}
    results["deploy_to_healthy_s"], _ = inv("deploy")
    results["warm_redeploy_s"], out = inv("deploy")
    results["warm_redeploy_changed"] = re.search(r"services changed: (.*)", out).group(1)
    results["warm_build_s"], _ = inv("build")
    _, sizes = inv("cluster.run", "docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep pretix-cluster",
                   "--node", "n1")
    results["image_sizes"] = dict(line.split(" ", 1) for line in sizes.splitlines() if "pretix-cluster/" in line)
    results["cold"] = args.cold
    results["goals"] = {"cold_build_s": 600, "deploy_to_healthy_s": 180, "warm_redeploy_s": 30}
    results["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if not args.keep:
        inv("destroy", "--volumes", "--yes")
        inv("lab.down")
    out = PROJECT / "bench" / "results" / "stack.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
