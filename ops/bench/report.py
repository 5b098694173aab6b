"""report.md from summary.json (pure): the goals, each side's stages, steps, CPU and orders, the ratio, the
capacity model, against the seed report's 800 purchases/min and pretix's own figures."""
from __future__ import annotations

from . import capacity
from .summary import SEED_TARGET_PER_MIN

PLOTS = {"timeline": "timeline.png", "cpu": "cpu.png"}
SUSTAINED = {True: "yes", False: "no", None: "too few purchases"}


def _f(value, fmt: str = ".2f", none: str = "-") -> str:
    return none if value is None else format(value, fmt)


def verdict(ok) -> str:
    return {True: "met", False: "**MISSED**", None: "not measured"}[ok]


def goals_table(summary: dict) -> list[str]:
    rows = ["| goal | measured | verdict |", "| --- | --- | --- |"]
    rows += [f"| {g['goal']} | {_f(g['value'], 'g')} | {verdict(g['ok'])} |" for g in summary["goals"]]
    return rows


def targets_lines(summary: dict) -> list[str]:
    best = summary["ha"].get("highest_sustainable")
    cap = summary["capacity"]
    lines = [f"- The seed report's target: {SEED_TARGET_PER_MIN} purchases/min. pretix's own figures: about "
             f"{capacity.LOCK_CAP_PER_MIN} orders/min per event with quota locking, about "
             f"{capacity.UNLIMITED_CAP_PER_MIN} with unlimited quota."]
    if best:
        lines.append(f"- Highest sustainable on this cluster: **{best['per_min']:.1f} purchases/min** (stage "
                     f"{best['stage']}, p95 {best['p95_s']:.2f} s): {best['per_min'] / SEED_TARGET_PER_MIN:.1%} of "
                     f"the seed's target.")
    else:
        lines.append("- No stage was sustained (p95 <= 5 s, failures <= 1 %, of at least 10 purchases).")
    lines.append(f"- Projection (cores per node {cap['cores_per_node']:g}, each busy at most "
                 f"{cap['ceiling']:.0%}, plus {cap['spare_nodes']} spare node for HA):")
    lines += [f"  - {t['line']}" for t in cap["targets"]]
    if cap.get("per_node_per_min"):
        lines.append(f"  - one such node carries about {cap['per_node_per_min']:.0f} purchases/min of work "
                     f"(without the idle cost)")
    return lines


def stages_table(side: dict) -> list[str]:
    rows = ["| stage | users | offered/min | completed/min | attempts | failed | p50 s | p95 s | p99 s | "
            "retries | sustained |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for s in side["stages"] + [{**side["whole"], "name": "whole run", "users": None, "rate_per_min": None,
                                "sustainable": "-"}]:
        rows.append(f"| {s['name']} | {_f(s['users'], 'd')} | {_f(s['rate_per_min'], '.1f')} | "
                    f"{_f(s['per_min'], '.1f')} | {s['attempts']} | {s['failed']} | {_f(s['p50_s'])} | "
                    f"{_f(s['p95_s'])} | {_f(s['p99_s'])} | {s['retries']} | "
                    f"{SUSTAINED.get(s['sustainable'], '')} |")
    return rows


def steps_table(side: dict) -> list[str]:
    rows = ["| step (Locust CSV) | count | failures | p50 ms | p95 ms | p99 ms |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    rows += [f"| {name} | {v['count']} | {v['failures']} | {_f(v['p50_ms'], 'g')} | {_f(v['p95_ms'], 'g')} | "
             f"{_f(v['p99_ms'], 'g')} |" for name, v in side["steps"].items()]
    return rows


def cpu_table(side: dict) -> list[str]:
    cpu = side["cpu"]
    rows = [f"CPU over the run ({cpu['run']['seconds']:.0f} s): {cpu['run']['total']:.1f} s in all; idle before it: "
            f"{cpu['idle']['total_cores']:.2f} cores. Per purchase: {_f(cpu['per_purchase_total'], '.3f')} s "
            f"gross, **{_f(cpu['net_per_purchase_total'], '.3f')} s net of idle**.", "",
            "| service | CPU s (run) | s per purchase | net s per purchase | idle cores |",
            "| --- | ---: | ---: | ---: | ---: |"]
    for s, v in sorted(cpu["run"]["by_service"].items(), key=lambda kv: -kv[1]):
        rows.append(f"| {s} | {v:.1f} | {_f(cpu['per_purchase'].get(s), '.3f')} | "
                    f"{_f(cpu['net_per_purchase'].get(s), '.3f')} | {_f(cpu['idle']['cores'].get(s), '.3f')} |")
    rows += [f"- note: {n}" for n in cpu["notes"]]
    return rows


def busy_lines(summary: dict) -> list[str]:
    """A loud warning when this machine ran much more than the bench (other work competing for its cores)."""
    busy = [f"{name} {m['load_before']:g} before and {m['load_after']:g} after its load"
            for name in ("ha", "baseline") for m in [(summary.get(name) or {}).get("machine")]
            if m and max(m["load_before"], m["load_after"]) > 2 * m["cores"]]
    if not busy:
        return []
    cores = summary["ha"]["machine"]["cores"]
    return [f"**Warning: this machine was busy with other work** (load average on {cores} cores: "
            f"{'; '.join(busy)}): rates and latencies, and the ratio, are not representative; CPU per purchase "
            f"(cgroup counters) is the least affected figure when enough purchases complete.", ""]


def side_section(side: dict) -> list[str]:
    o, g = side["orders"], side["generator"]
    verdict = "verified" if o["verified"] else "**NOT VERIFIED**"
    lines = [f"## {side['side']} (stack `{side['stack']}`, run {side['run_id']}, table {side['table']})", "",
             f"Stopped: {side['stopped']}." + (f" **INCOMPLETE: {side['incomplete']}**" if side.get("incomplete")
                                                else ""), "", *stages_table(side), "", *steps_table(side), "", *cpu_table(side), "",
             f"Orders: {verdict}: {o['confirmed']} confirmed to buyers, {o['new_orders_in_api']} new orders of this "
             f"run in the REST API, {o['found']} of the confirmed found."]
    lines += [f"- **{p}**" for p in o["problems"]]
    lines += ["", f"Generator: Locust, {g['workers']} workers" + (f" in network namespace {g['netns']}" if g["netns"]
                                                                  else " on this machine")
              + f", {g['cpu_s']:.1f} CPU s over {g['wall_s']:.0f} s "
              f"({_f(g['cpu_s_per_purchase'], '.3f')} s per purchase); exit codes {g['exit_codes']}"
              + (f"; killed {g['killed']}" if g["killed"] else ""), ""]
    m = side.get("machine")
    if m:
        lines += [f"This machine: {m['cores']} cores, load average {m['load_before']:g} before the load, "
                  f"{m['load_after']:g} after.", ""]
    return lines


def ratio_lines(summary: dict) -> list[str]:
    r = summary.get("ratio")
    if not summary.get("baseline"):
        return ["## HA / baseline", "", "Not measured in this run (`inv bench --baseline`).", ""]
    if not r:
        return ["## HA / baseline", "", "The baseline completed no purchase: no ratio.", ""]
    lines = ["## HA / baseline", "", f"**{r['value']:.2f}** ({r['basis']}: HA {r['ha_per_min']:.1f} vs baseline "
                                     f"{r['baseline_per_min']:.1f} purchases/min)."]
    lines += [f"- {k}: {v:.2f}" for k, v in r["by_stage"].items()]
    return lines + [""]


def head_lines(summary: dict) -> list[str]:
    orders = "all verified" if summary["verified"] else "VERIFICATION FAILED"
    table = "" if summary.get("complete", True) else " **The load did not play its whole table** (see each side)."
    return [f"# Bench {summary['started']} on {summary['cluster']} ({summary['mode']})", "",
            f"Orders: **{orders}**.{table} Scenario: {'; '.join(summary['scenario_lines'])}. Pacing "
            f"{summary['pacing_s']:g} s, lookers {summary['looker_ratio']:.0%} of users.", "", *busy_lines(summary)]


def render(summary: dict) -> str:
    head = [*head_lines(summary), "## Goals", "", *goals_table(summary), "", "## Targets", "", *targets_lines(summary),
            "", f"![throughput and latency]({PLOTS['timeline']})", "", f"![CPU per service]({PLOTS['cpu']})", ""]
    body = side_section(summary["ha"]) + (side_section(summary["baseline"]) if summary.get("baseline") else [])
    notes = ["## How this was measured", "",
             "- Purchases/min count completed browser purchases inside each stage's window; percentiles are of "
             "whole purchases that started in the stage, from the purchase records (not Locust's final CSV).",
             "- CPU: each container's cgroup counter read over SSH before and after (idle window, then the run), "
             "summed per Swarm service; net = minus the idle rate over the run's length. Lookers' CPU is "
             "included in the cost of a purchase.",
             *[f"- {n}" for n in summary.get("notes", [])], ""]
    return "\n".join(head + ratio_lines(summary) + body + notes)
