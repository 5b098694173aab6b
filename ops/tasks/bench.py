"""`inv bench`: the seed's staged peaks (or a ramp) of browser purchases, verified orders, CPU per service,
report with plots in results/bench/<timestamp>/, optionally against pretix's small-scale baseline."""
from __future__ import annotations

import os

from invoke import Collection
from invoke.exceptions import Exit

from ..bench.capacity import CEILING, CORES_PER_NODE
from ..bench.measure import BenchPlan, Side
from ..bench.run import BaselineSetup, run_bench, summary_lines
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from ..load import scenario as SC
from ..load.options import LoadOptions
from ..shop.seed import load_seed
from . import stack as stack_tasks
from .context import HELP, PROJECT, expected_errors, load, state_dir, task
from .lab import lab_of
from .shop import DEFAULT_SEED, shop_api, shop_state

RESULTS = PROJECT / "results" / "bench"
FLAGS = {
    "mode": "peaks: the scenario's stages at --factors x the peak rate; ramp: rising stages until p95 of a whole "
            "purchase > 5 s or failures > 1 %, reporting the highest sustainable purchases/min (default peaks)",
    "duration": f"seconds per stage (default {SC.STAGE_S} for peaks, {SC.RAMP_STAGE_S} for ramp)",
    "factors": "peaks mode: the stages as factors of the peak rate, comma-separated (default 0.5,1,2,10)",
    "tickets": f"scenario: tickets sold in the sale (default {SC.TICKETS})",
    "days": f"scenario: selling days, a number (default {SC.SALE_DAYS:g})",
    "peak_share": f"scenario: share of the tickets sold in the closing peak, 0..1 (default {SC.PEAK_SHARE})",
    "peak_hours": f"scenario: hours of the closing peak, a number (default {SC.PEAK_HOURS:g})",
    "pacing": f"seconds between one buyer's purchases, a number (default {SC.PACING_S:g}; must exceed a purchase)",
    "looker_ratio": f"share of users that only browse, 0..1 (default {SC.LOOKER_RATIO})",
    "baseline": "also measure pretix's small-scale shape (stack/baseline.yml) in place of the HA stack, then "
                "deploy the HA stack again; reports HA/baseline",
    "idle": "seconds of the idle window before each side's load (its idle CPU; default 30)",
    "workers": "Locust worker processes (default: this machine's cores)",
    "cores_per_node": f"capacity model: cores of one node (default {CORES_PER_NODE})",
    "ceiling": f"capacity model: the utilisation a node may reach, 0..1 (default {CEILING})",
    "seed": HELP["seed"],
    "cluster": HELP["cluster"],
}


def plan_from(mode, duration, factors, tickets, days, peak_share, peak_hours, pacing, looker_ratio, idle,
              workers) -> BenchPlan:
    try:
        scn = SC.Scenario(int(tickets), float(days), float(peak_share), float(peak_hours))
        return BenchPlan(mode=mode, scenario=scn, pacing_s=float(pacing), looker_ratio=float(looker_ratio),
                         stage_s=int(duration) if duration else None,
                         factors=tuple(float(f) for f in str(factors).split(",") if f.strip()),
                         idle_s=float(idle), workers=int(workers or os.cpu_count() or 1))
    except ValueError as exc:
        raise OpsError(f"bench: {exc}") from None


@task(default=True, help=FLAGS)
@expected_errors
def bench(c, mode="peaks", duration=None, factors="0.5,1,2,10", tickets=SC.TICKETS, days=SC.SALE_DAYS,
          peak_share=SC.PEAK_SHARE, peak_hours=SC.PEAK_HOURS, pacing=SC.PACING_S, looker_ratio=SC.LOOKER_RATIO,
          baseline=False, idle=30, workers=None, cores_per_node=CORES_PER_NODE, ceiling=CEILING, seed=None,
          cluster=None):
    """Staged purchase load (Locust, distributed), every order verified, CPU per service, report + plots."""
    p = plan_from(mode, duration, factors, tickets, days, peak_share, peak_hours, pacing, looker_ratio, idle,
                  workers)
    cl = load(c, cluster)
    lab = lab_of(c, cl)
    s = load_seed(seed or DEFAULT_SEED)
    options = LoadOptions(organizer=s.organizer.slug, event=s.event.slug,
                          token_file=str(shop_state(c, cl.name) / "api_token"))
    setup = BaselineSetup(state_dir(c, cl.name), state_dir(c, cl.name) / "baseline" / "shop", seed or DEFAULT_SEED,
                          lambda: stack_tasks.deploy(c, cluster=cluster)) if baseline else None
    with Remote(cl, echo=False) as remote:
        side = Side("ha", remote, cl, cl.stack, shop_api(c, cl), options,
                    lab.public_url if lab else cl.public_url, lab.net_ns if lab else None)
        summary, out = run_bench(side, p, RESULTS, setup, float(cores_per_node), float(ceiling))
    for line in summary_lines(summary, out):
        say(line)
    if not summary["verified"]:
        raise Exit("error: bench: the orders confirmed to buyers do NOT match the new orders in the REST API "
                   f"(see above and {out / 'report.md'})", 1)
    if not summary["complete"]:
        raise Exit(f"error: bench: the load did not play its whole table (see above and {out / 'report.md'})", 1)


ns = Collection("bench")
ns.add_task(bench, default=True)
