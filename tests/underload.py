"""Purchases measured around an action (a task run while buyers buy): the shared load generator inside the lab's
bridge namespace, the timeline around the action, the order audit. Used by integration tests, and by hand:

    python -m tests.underload --buyers 3 --before 20 --budget 600 --after 30 -- upgrade --pretix 2026.8.0

(the lab and state come from the PXC_* environment, as for `inv`).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from ops.cluster.mail import undelivered
from ops.core.errors import ApiError
from ops.core.inventory import load_cluster
from ops.core.remote import Remote
from ops.load.audit import fetch_audit, snapshot_quota
from ops.load.options import LoadOptions
from ops.load.runner import LoadProcess, plan
from ops.load.timeline import purchase_stats, timeline
from ops.shop.api import Api
from ops.shop.seed import load_seed
from tests.labs import PROJECT, defaults, lab_spec

SEED = PROJECT / "scripts" / "seed.yaml"


def state_dir(lab: dict) -> Path:
    return Path(lab.get("PXC_STATE_DIR") or os.environ["PXC_STATE_DIR"]) / lab["PXC_CLUSTER"]


def around(lab: dict, action, buyers: int = 3, before_s: float = 15, budget_s: float = 60, after_s: float = 15,
           out_dir: Path | None = None, mails: bool = False) -> dict:
    """Buyers buy for before_s, then action() runs (within budget_s), then after_s more; the figures as a dict
    (with mails: the confirmed orders whose mail the lab's sink has not received within 2 minutes)."""
    spec = lab_spec(lab)
    seed = load_seed(SEED)
    token_file = state_dir(lab) / "shop" / "api_token"
    api = Api(spec.public_url, token_file.read_text().strip())
    options = LoadOptions(organizer=seed.organizer.slug, event=seed.event.slug, looker_ratio=0.0, pacing=1.0,
                          token_file=str(token_file))
    out_dir = out_dir or PROJECT / "results" / "underload" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    quota_before = answered(lambda: snapshot_quota(api, options.organizer, options.event))
    run = plan(spec.public_url, out_dir, int(before_s + budget_s + after_s), workers=1, options=options,
               users=buyers, spawn_rate=buyers, netns=spec.net_ns)
    with LoadProcess(run, show=lambda line: print(line, file=sys.stderr, flush=True)) as load:
        time.sleep(max(0.0, load.result.started + before_s - time.time()))
        t0 = time.time()
        outcome = action()
        t1 = time.time()
        result = load.wait()
    records = result.records
    audit = answered(lambda: fetch_audit(api, options.organizer, options.event, records, result.started,
                                         quota_before, result.run.options.run_id))
    tl = timeline(records, t0, fault_end=t1)
    failed = [r for r in records if not r.ok]
    unmailed = sorted(mail_missing(lab, {r.email for r in records if r.ok})) if mails else None
    return {"action_s": round(t1 - t0, 1), "purchases": purchase_stats(records), "timeline": tl.lines(),
            "failed": [{"t_s": round(r.t1 - t0, 1), "step": r.step, "cause": r.cause, "error": (r.error or "")[:160]}
                       for r in failed],
            "audit": audit.lines(), "audit_ok": audit.ok, "lost": list(audit.lost), "outcome": outcome,
            "load": result.lines(), "gap_s": asdict(tl).get("longest_gap_s"), "unmailed": unmailed}


def mail_missing(lab: dict, addresses: set[str], wait_s: float = 120) -> set[str]:
    """The addresses the lab's mail sink holds no message for after wait_s."""
    clusters = os.environ.get("PXC_CLUSTERS_DIR") or defaults()["clusters_dir"]
    cl = load_cluster(lab["PXC_CLUSTER"], PROJECT / clusters)
    with Remote(cl, echo=False) as remote:
        return undelivered(remote, cl, addresses, wait_s)


def answered(call, tries: int = 6):
    """An API call on a slow or recovering shop (it may time out): tried again a few times, bounded."""
    for i in range(tries):
        try:
            return call()
        except ApiError:
            if i == tries - 1:
                raise
            time.sleep(10)


def inv_action(lab: dict, *args, timeout: int = 1800):
    """An action that runs `inv ARGS` with the lab's settings and returns (exit code, last output lines)."""
    def run():
        env = {**os.environ, **lab}
        p = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=PROJECT, env=env, capture_output=True,
                           text=True, timeout=timeout)
        return {"exit": p.returncode, "out": (p.stdout + p.stderr).strip().splitlines()[-25:]}
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buyers", type=int, default=3, help="concurrent buyers")
    ap.add_argument("--before", type=float, default=20, help="seconds of load before the action")
    ap.add_argument("--budget", type=float, default=120, help="seconds the action may take (load keeps running)")
    ap.add_argument("--after", type=float, default=20, help="seconds of load after the budget")
    ap.add_argument("--mails", action="store_true", help="also wait for every confirmed order's mail in the lab's sink")
    ap.add_argument("task", nargs=argparse.REMAINDER, help="-- the inv task and its flags")
    a = ap.parse_args()
    lab = {k: v for k, v in os.environ.items() if k.startswith("PXC_")}
    task = [w for w in a.task if w != "--"]
    figures = around(lab, inv_action(lab, *task), a.buyers, a.before, a.budget, a.after, mails=a.mails)
    print(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
