#!/usr/bin/env python3
"""Command line for the quickstart (ops.shop.quickstart): seed a pretix through its admin UI, idempotently."""
from __future__ import annotations

import argparse
import json
import sys

from ops.core.errors import OpsError
from ops.shop.quickstart import DEFAULT_SEED, run_quickstart


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="quickstart.py",
        description="Seed a pretix through its admin UI (headless Chromium): admin password, organizer, "
                    "API token, event, products, quotas, question, manual payment, live. Idempotent.")
    ap.add_argument("--url", required=True, help="public URL of pretix, e.g. http://127.0.0.1:8080")
    ap.add_argument("--state-dir", required=True,
                    help="directory for secrets (admin_password, api_token; dir 0700, files 0600)")
    ap.add_argument("--seed", default=str(DEFAULT_SEED), help="seed file (default: %(default)s)")
    ap.add_argument("--screenshots", metavar="DIR", help="save a PNG after each step into DIR")
    ap.add_argument("--tickets", type=int, help="override the size of the first quota in the seed file")
    ap.add_argument("--organizer", metavar="SLUG", help="override organizer.slug")
    ap.add_argument("--event", metavar="SLUG", help="override event.slug")
    ap.add_argument("--timeout", type=float, default=30, help="seconds to wait for each page state (default 30)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON instead of a summary")
    ap.add_argument("-q", "--quiet", action="store_true", help="no step-by-step progress")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    log = None if a.quiet or a.json else (lambda line: print(line, flush=True))
    try:
        res = run_quickstart(a.url, a.state_dir, a.seed, screenshots=a.screenshots, tickets=a.tickets,
                             organizer=a.organizer, event=a.event, timeout=a.timeout, log=log)
    except OpsError as e:  # SeedError, QuickstartError: one line that names the fix
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    print(json.dumps(res.as_dict(), indent=2, default=str) if a.json else res.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
