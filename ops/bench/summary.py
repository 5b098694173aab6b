"""A measured side as summary data (pure): stages, whole run, steps, CPU per service and per purchase, generator,
order verification; and the run's goals (CPU per purchase, HA/baseline ratio, sustainable rate, projection)."""
from __future__ import annotations

from ..load.audit import Audit
from ..load.records import Record
from ..load.scenario import STOP
from . import capacity
from .cpu import CpuUse
from .stats import csv_percentiles, highest_sustainable, stage_figures, whole_run

CPU_PER_PURCHASE_GOAL_S = 0.6     # CPU seconds per browser purchase, all services together, at most
RATIO_GOAL = 0.9                  # HA / baseline purchases per minute, at least
SEED_TARGET_PER_MIN = 800         # the seed report's target


def verification(audit: Audit) -> dict:
    """Orders confirmed to buyers against the run's new orders in the REST API: equal, no duplicates."""
    new_orders = audit.found + len(audit.orphans)
    problems = []
    if audit.lost:
        problems.append(f"{len(audit.lost)} confirmed orders are NOT in the API: {', '.join(audit.lost[:10])}")
    if audit.duplicates:
        problems.append(f"{len(audit.duplicates)} buyers have more than one order")
    if audit.orphans:
        problems.append(f"{len(audit.orphans)} orders in the API that no buyer saw confirmed "
                        f"({audit.orphans_failed} of buyers told it failed): {', '.join(audit.orphans[:10])}")
    if audit.quota is not None and not audit.quota.ok:
        problems.append(audit.quota.line())
    return {"verified": not problems, "confirmed": audit.confirmed, "new_orders_in_api": new_orders,
            "found": audit.found, "lost": list(audit.lost), "duplicates": {k: list(v) for k, v in audit.duplicates.items()},
            "orphans": list(audit.orphans), "problems": problems, "audit": audit.lines()}


def cpu_section(idle: CpuUse, run: CpuUse, completed: int) -> dict:
    """CPU seconds per service over the run and per completed purchase, gross and net of the idle cost."""
    idle_cores = idle.cores()
    per, net = {}, {}
    for s, v in run.by_service.items():
        if completed:
            per[s] = round(v / completed, 4)
            net[s] = round(max(0.0, v - idle_cores.get(s, 0.0) * run.seconds) / completed, 4)
    return {"idle": {"seconds": idle.seconds, "by_service": idle.by_service, "cores": idle_cores,
                     "total_cores": round(sum(idle_cores.values()), 3)},
            "run": {"seconds": run.seconds, "by_service": run.by_service, "total": run.total},
            "per_purchase": per, "per_purchase_total": round(sum(per.values()), 4) if completed else None,
            "net_per_purchase": net, "net_per_purchase_total": round(sum(net.values()), 4) if completed else None,
            "notes": list(idle.notes) + list(run.notes)}


def generator_section(result, completed: int) -> dict:
    return {"workers": result.run.workers, "netns": result.run.netns, "cpu_s": result.generator_cpu_s,
            "by_process": dict(result.cpu_s), "wall_s": result.wall_s, "exit_codes": dict(result.exit_codes),
            "killed": list(result.killed),
            "cpu_s_per_purchase": round(result.generator_cpu_s / completed, 4) if completed else None}


TABLE_ENDED = "the table ended"                          # the shape's words (ops/load/shape.py)
NOT_A_STOP = ("--run-time reached", "the run ended (--run-time or stop)")
GENERATOR_TROUBLE = ("went missing", "failed to send heartbeat", "Gave up waiting", "Traceback")


def completeness(doc: dict, log: dict, master_log: str = "") -> dict:
    """Did the run play its whole table (or stop on a ramp's condition)? If not, what the master logged."""
    stopped = log.get("stopped") or ""
    done = stopped == TABLE_ENDED or bool(doc.get("stop") and stopped and stopped not in NOT_A_STOP)
    played = [s["name"] for s in log.get("stages", [])]
    trouble = [line.strip() for line in master_log.splitlines() if any(t in line for t in GENERATOR_TROUBLE)]
    why = None if done else (f"the load stopped early ({stopped or 'no stage played'}) after "
                             f"{len(played)} of {len(doc['stages'])} stages" + (f": {trouble[-1]}" if trouble else ""))
    return {"complete": done, "played": played, "incomplete": why, "generator_log": trouble[-10:]}


def side_summary(name: str, stack: str, doc: dict, log: dict, records: list[Record], csv_text: str, result,
                 idle: CpuUse, run: CpuUse, audit: Audit, master_log: str = "") -> dict:
    """One side (the HA stack or the baseline) of a bench run, as it goes into summary.json."""
    stages = stage_figures(records, log, doc.get("stop") or STOP)
    whole = whole_run(records)
    best = highest_sustainable(stages)
    return {"side": name, "stack": stack, "run_id": result.run.options.run_id, "table": doc["name"],
            "stopped": log.get("stopped"), **completeness(doc, log, master_log), "stages": stages, "whole": whole,
            "highest_sustainable": {"stage": best["name"], "per_min": best["per_min"], "p95_s": best["p95_s"]}
            if best else None,
            "steps": csv_percentiles(csv_text), "cpu": cpu_section(idle, run, whole["completed"]),
            "generator": generator_section(result, whole["completed"]), "orders": verification(audit),
            "out_dir": str(result.run.out_dir)}


def ratio(ha: dict, baseline: dict | None) -> dict | None:
    """HA / baseline purchases per minute: of the highest sustained stages when both have one, else whole runs."""
    if not baseline:
        return None
    a, b = ha.get("highest_sustainable"), baseline.get("highest_sustainable")
    basis = "highest sustainable stage"
    if not (a and b):
        a, b, basis = ha["whole"], baseline["whole"], "whole run"
    if not a.get("per_min") or not b.get("per_min"):
        return None
    by_stage = {s["name"]: (s["per_min"], t["per_min"]) for s in ha["stages"] for t in baseline["stages"]
                if s["name"] == t["name"] and s["per_min"] and t["per_min"]}
    return {"value": round(a["per_min"] / b["per_min"], 3), "basis": basis, "ha_per_min": a["per_min"],
            "baseline_per_min": b["per_min"],
            "by_stage": {k: round(h / base, 3) for k, (h, base) in by_stage.items()}}


def goals(ha: dict, baseline: dict | None) -> list[dict]:
    """The issue's goals, each with its measured value and verdict (None when this run could not measure it)."""
    cpu = ha["cpu"]["net_per_purchase_total"]
    r = ratio(ha, baseline)
    best = ha.get("highest_sustainable")
    return [
        {"goal": f"CPU seconds per browser purchase, all services (net of idle) <= {CPU_PER_PURCHASE_GOAL_S}",
         "value": cpu, "ok": None if cpu is None else cpu <= CPU_PER_PURCHASE_GOAL_S},
        {"goal": f"HA / baseline purchases per minute >= {RATIO_GOAL}",
         "value": r["value"] if r else None, "ok": None if not r else r["value"] >= RATIO_GOAL},
        {"goal": "highest sustainable purchases/min on this cluster (p95 <= 5 s, failures <= 1 %)",
         "value": best["per_min"] if best else None, "ok": None if not best else True},
    ]


def projection(ha: dict, cores_per_node: float, ceiling: float) -> dict:
    cpu = ha["cpu"]
    return capacity.model(cpu["net_per_purchase"], cpu["idle"]["cores"], cores_per_node, ceiling)


def run_summary(meta: dict, ha: dict, baseline: dict | None, cores_per_node: float, ceiling: float) -> dict:
    """summary.json: the run's settings, each side, the ratio, the goals and the capacity model."""
    return {**meta, "ha": ha, "baseline": baseline, "ratio": ratio(ha, baseline), "goals": goals(ha, baseline),
            "capacity": projection(ha, cores_per_node, ceiling),
            "verified": ha["orders"]["verified"] and (baseline is None or baseline["orders"]["verified"]),
            "complete": ha.get("complete", True) and (baseline is None or baseline.get("complete", True))}
