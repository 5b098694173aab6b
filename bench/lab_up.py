#!/usr/bin/env python3
"""Benchmark (not a test): cold and warm `inv lab.up` wall times, written to bench/results/lab_up.json."""
from benchlab import inv, write


def main() -> None:
    inv("lab.down", "--purge")
    results = {
        "cold_up_s": inv("lab.up")[0],              # nothing on disk: keys, namespaces, daemons, new swarm
        "idempotent_up_s": inv("lab.up")[0],        # everything running: nothing to change
        "down_s": inv("lab.down")[0],               # keeps data (images, swarm state)
    }
    results["warm_up_s"] = inv("lab.up")[0]         # data kept: daemons restart, swarm re-forms
    results["purge_down_s"] = inv("lab.down", "--purge")[0]
    write("lab_up", {**results, "goal_cold_up_s": 60})


if __name__ == "__main__":
    main()
