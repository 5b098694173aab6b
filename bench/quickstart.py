#!/usr/bin/env python3
"""Benchmark (not a test): time of a full quickstart and of a no-change re-run, on a deployed cluster.

A full run on an already seeded cluster uses fresh organizer/event slugs, so every object is created again
through the UI (only the admin password step is a re-login). Writes bench/results/quickstart.json.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def inv(*args) -> tuple[float, str]:
    started = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=PROJECT, capture_output=True, text=True,
                       timeout=1800, env=os.environ)
    if p.returncode != 0:
        sys.exit(f"inv {' '.join(args)} failed:\n{p.stdout[-3000:]}\n{p.stderr[-2000:]}")
    return round(time.monotonic() - started, 1), p.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cluster", default="lab", help="cluster with a deployed stack (default lab)")
    args = ap.parse_args()
    slug = f"b{int(time.time()) % 100000}"
    full_s, _ = inv("quickstart", "--cluster", args.cluster, "--organizer", slug, "--event", slug)
    rerun_s, out2 = inv("quickstart", "--cluster", args.cluster, "--organizer", slug, "--event", slug)
    results = {
        "full_quickstart_s": full_s,
        "rerun_no_changes_s": rerun_s,
        "rerun_said_no_changes": "quickstart: no changes" in out2,
        "goal_full_s": 60,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = PROJECT / "bench" / "results" / "quickstart.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
