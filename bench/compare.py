#!/usr/bin/env python3
"""A tuning change's before/after table: `bench/compare.py --before DIR... --after DIR...` (each DIR a
results/bench/<timestamp> folder, or its summary.json) prints the mean of each figure over the runs given."""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ops.bench.compare import table  # noqa: E402


def load(path: str) -> dict:
    p = Path(path)
    p = p / "summary.json" if p.is_dir() else p
    if not p.is_file():
        sys.exit(f"error: no bench summary at {p}: give a results/bench/<timestamp> folder or its summary.json")
    return json.loads(p.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--before", nargs="+", required=True, help="bench runs before the change")
    ap.add_argument("--after", nargs="+", required=True, help="bench runs after the change, same flags")
    ap.add_argument("--side", default="ha", help="ha or baseline (default ha)")
    args = ap.parse_args()
    print(table([load(p) for p in args.before], [load(p) for p in args.after], args.side), end="")


if __name__ == "__main__":
    main()
