#!/usr/bin/env python3
"""Benchmark (not a test): the cold start (lab.up + build + deploy + quickstart from nothing but the system
packages, goal 5 minutes on 2 cores), a warm redeploy, a warm build and the image sizes.

Writes bench/results/stack.json. `--cold` purges the bench lab first (no image cache: a true cold start).
"""
import argparse
import re
import shutil

from benchlab import LAB, inv, write


def cold_start() -> dict:
    steps = {"lab_up_s": inv("lab.up")[0]}
    steps["build_s"], out = inv("build")
    per_image = {m[0]: float(m[1]) for m in re.findall(r"\[(\S+)\] built and pushed \S+ in ([\d.]+)s", out)}
    steps["deploy_to_healthy_s"] = inv("deploy")[0]
    steps["quickstart_s"] = inv("quickstart")[0]
    return {**steps, "cold_start_s": round(sum(steps.values()), 1), "build_per_image_s": per_image}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cold", action="store_true", help="purge the bench lab first (cold image build)")
    ap.add_argument("--keep", action="store_true", help="leave the bench lab running afterwards")
    args = ap.parse_args()
    if args.cold:
        inv("lab.down", "--purge")
        shutil.rmtree(LAB["PXC_STATE_DIR"], ignore_errors=True)
    results = cold_start()
    results["warm_redeploy_s"], out = inv("deploy")
    results["warm_redeploy_changed"] = re.search(r"services changed: (.*)", out).group(1)
    results["warm_build_s"] = inv("build")[0]
    _, sizes = inv("cluster.run", "docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep pretix-cluster",
                   "--node", "n1")
    results["image_sizes"] = dict(line.split(" ", 1) for line in sizes.splitlines() if "pretix-cluster/" in line)
    if not args.keep:
        inv("destroy", "--volumes", "--yes")
        inv("lab.down")
    write("stack", {**results, "cold": args.cold, "goals": {"cold_start_s": 300, "warm_redeploy_s": 30}})


if __name__ == "__main__":
    main()
