"""One `inv bench` run: the HA side, optionally the baseline side, then results/bench/<timestamp>/ with
summary.json, report.md and the plots (written after the HA side already, so a failed baseline keeps them)."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

from ..core.files import private_dir, read_text
from ..core.output import MASKER, say
from ..core.errors import OpsError
from ..load.records import read_dir
from ..load.stages import STAGES_FILE
from ..shop.api import Api
from ..shop.quickstart import run_quickstart
from . import baseline as B, plots, report
from .measure import BenchPlan, Side, measure
from .stats import windows
from .summary import run_summary


@dataclass(frozen=True)
class BaselineSetup:
    state: Path                          # the cluster's state dir: secrets, deployed image tags
    shop_state: Path                     # the baseline shop's own admin password and API token
    seed: Path
    redeploy_ha: Callable[[], None]      # `inv deploy` (the HA stack back, whatever happened)
    timeout_s: float = 1800.0


def stamp(now: float | None = None) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now if now is not None else time.time()))


def meta(side: Side, p: BenchPlan, started: float) -> dict:
    """The run's settings for summary.json and the report's head."""
    return {"started": stamp(started), "cluster": side.cl.name, "mode": p.mode, "scenario": asdict(p.scenario),
            "scenario_lines": p.scenario.lines(), "pacing_s": p.pacing_s, "looker_ratio": p.looker_ratio,
            "stage_s": p.stage_s, "factors": list(p.factors), "idle_s": p.idle_s, "workers": p.workers,
            "notes": [f"this machine: {os.cpu_count()} cores" + (", shared by the lab's nodes and the generator"
                                                                    if side.netns else ", the generator's")]}


def side_records(summary: dict) -> tuple[list, list[dict]]:
    """A side's records and stage windows, read back from its output folder (for the plots)."""
    records_dir = Path(summary["out_dir"]) / "records"
    records = read_dir(records_dir, summary["run_id"])
    log_file = records_dir / STAGES_FILE
    log = json.loads(log_file.read_text()) if log_file.exists() else {"stages": []}
    return records, windows(log, records)


def write_results(out: Path, run_meta: dict, ha: dict, base: dict | None, cores_per_node: float,
                  ceiling: float) -> dict:
    """summary.json, the plots and report.md in out; returns the summary."""
    summary = run_summary(run_meta, ha, base, cores_per_node, ceiling)
    sides = {"ha": ha, **({"baseline": base} if base else {})}
    plots.timeline_plot({k: side_records(v) for k, v in sides.items()}, out / report.PLOTS["timeline"],
                        f"Bench {run_meta['started']} ({run_meta['mode']})")
    plots.cpu_plot({k: v["cpu"] for k, v in sides.items()}, out / report.PLOTS["cpu"])
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    (out / "report.md").write_text(report.render(summary))
    return summary


def measure_baseline(side: Side, p: BenchPlan, out: Path, b: BaselineSetup, measured: Callable[[dict], None],
                     show=say) -> dict:
    """The baseline deployed in place of the HA stack, seeded by the quickstart (its own state), measured; `measured`
    gets its summary while it still runs (the results are written even if the HA stack's redeploy then fails)."""
    with B.baseline_stack(side.remote, side.cl, b.state, b.redeploy_ha, b.timeout_s, show):
        for name in ("admin_password", "admin_password.new", "api_token"):   # a fresh database every time
            (b.shop_state / name).unlink(missing_ok=True)
        private_dir(b.shop_state)
        show("bench baseline: seeding it (quickstart, its own state)")
        run_quickstart(side.cl.public_url, b.shop_state, b.seed, log=lambda line: show(f"  {line}"))
        token = read_text(b.shop_state / "api_token")
        if not token:
            raise OpsError(f"the baseline's quickstart saved no API token in {b.shop_state}")
        MASKER.add(token)
        base = replace(side, name="baseline", stack=B.STACK, api=Api(side.cl.public_url, token),
                       options=replace(side.options, token_file=str(b.shop_state / "api_token")))
        summary = measure(base, p, out, show)
        measured(summary)
        return summary


def run_bench(side: Side, p: BenchPlan, results: Path, b: BaselineSetup | None = None,
              cores_per_node: float = 4, ceiling: float = 0.7, show=say) -> tuple[dict, Path]:
    """The whole run; (summary, its folder)."""
    started = time.time()
    out = results / stamp(started)
    out.mkdir(parents=True, exist_ok=True)
    run_meta = meta(side, p, started)
    show(f"bench: {p.mode} on {side.cl.name}, results in {out}")
    ha = measure(side, p, out / "ha", show)
    summary = write_results(out, run_meta, ha, None, cores_per_node, ceiling)
    if b is not None:
        done = {}

        def measured(base: dict) -> None:
            done["summary"] = write_results(out, run_meta, ha, base, cores_per_node, ceiling)

        measure_baseline(side, p, out / "baseline", b, measured, show)
        summary = done["summary"]
    return summary, out


def summary_lines(summary: dict, out: Path) -> list[str]:
    """What the task prints at the end: per side the rate, p95, CPU, orders; the ratio; the goals."""
    lines = []
    for name in ("ha", "baseline"):
        s = summary.get(name)
        if not s:
            continue
        w, cpu, best, o = s["whole"], s["cpu"], s["highest_sustainable"], s["orders"]
        lines.append(f"{name}: {w['completed']} of {w['attempts']} purchases, {w['per_min'] or 0:.1f}/min over the "
                     f"run, p95 {w['p95_s'] or 0:.2f} s; highest sustained "
                     f"{best['per_min'] if best else 0:.1f}/min; CPU {cpu['net_per_purchase_total'] or 0:.3f} s per "
                     f"purchase (net; gross {cpu['per_purchase_total'] or 0:.3f}); generator "
                     f"{s['generator']['cpu_s']:.1f} CPU s")
        verdict = "orders verified" if o["verified"] else "ORDERS NOT VERIFIED"
        lines.append(f"  {verdict}: {o['confirmed']} confirmed, {o['new_orders_in_api']} new in the API")
        lines += [f"  !!! {problem}" for problem in o["problems"]]
        if s.get("incomplete"):
            lines.append(f"  !!! INCOMPLETE: {s['incomplete']}")
    if summary.get("ratio"):
        lines.append(f"HA / baseline: {summary['ratio']['value']:.2f} ({summary['ratio']['basis']})")
    lines += [f"goal {g['goal']}: {g['value']} ({report.verdict(g['ok'])})" for g in summary["goals"]]
    lines.append(f"report: {out / 'report.md'}")
    return lines
