#!/usr/bin/env python3
"""Benchmark (not a test): time of a full quickstart and of a no-change re-run, on a deployed cluster.

A full run on an already seeded cluster uses fresh organizer/event slugs, so every object is created again
through the UI (only the admin password step is a re-login). Writes bench/results/quickstart.json.
"""
import argparse
import os
import time

from benchlab import inv, write


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cluster", default="lab", help="cluster with a deployed stack (default lab)")
    args = ap.parse_args()
    slug = f"b{int(time.time()) % 100000}"
    flags = ("--cluster", args.cluster, "--organizer", slug, "--event", slug)
    full_s, _ = inv("quickstart", *flags, env=dict(os.environ))
    rerun_s, out2 = inv("quickstart", *flags, env=dict(os.environ))
    write("quickstart", {"full_quickstart_s": full_s, "rerun_no_changes_s": rerun_s,
                         "rerun_said_no_changes": "quickstart: no changes" in out2, "goal_full_s": 60})


if __name__ == "__main__":
    main()
