"""Stage maths on purchase records: per stage and whole run rates, percentiles, failures; the sustainable rate.

Figures come from the purchase records (every attempt, also those finishing after Locust stopped counting), not
from Locust's final CSV; only the per-step percentiles come from the CSV (the records carry no step times).
A purchase belongs to the stage in which it started; throughput counts completions inside the stage's window.
"""
from __future__ import annotations

import csv
import io
from collections import Counter

from ..load.records import Record
from ..load.scenario import STOP
from ..load.timeline import quantile, rate

QUANTILES = {"p50_s": 0.5, "p95_s": 0.95, "p99_s": 0.99}
CSV_QUANTILES = {"p50_ms": "50%", "p95_ms": "95%", "p99_ms": "99%"}


def windows(log: dict, records: list[Record]) -> list[dict]:
    """The stages as played (stages.json), each with a closed window: an open last stage ends at the last record."""
    last = max((r.t1 for r in records), default=None)
    out = []
    for s in log.get("stages", []):
        end = s["end"] if s.get("end") is not None else (last if last is not None else s["start"])
        out.append({"name": s["name"], "start": s["start"], "end": max(end, s["start"]), "users": s.get("users"),
                    "rate_per_min": s.get("rate_per_min")})
    return out


def describe(records: list[Record], start: float, end: float) -> dict:
    """Attempts started in [start, end), their outcome and percentiles; completions/min inside the window."""
    mine = [r for r in records if start <= r.t0 < end]
    done = [r.seconds for r in mine if r.ok]
    failed = [r for r in mine if not r.ok]
    finished = [r.t1 for r in records if r.ok]
    per_min = rate(finished, start, end)
    out = {"attempts": len(mine), "completed": len(done), "failed": len(failed),
           "failure_rate": round(len(failed) / len(mine), 4) if mine else None,
           "per_min": round(per_min, 2) if per_min is not None else None,
           "retries": sum(r.retries for r in mine),
           "causes": dict(Counter(r.cause or "unknown" for r in failed))}
    for key, q in QUANTILES.items():
        value = quantile(done, q)
        out[key] = round(value, 3) if value is not None else None
    return out


def sustainable(figures: dict, stop: dict = STOP) -> bool | None:
    """Did the shop sustain the stage: p95 of a whole purchase and the failure share in bounds (None: too few
    purchases started in it to say, as the ramp's stop condition)."""
    if figures["attempts"] < stop.get("min_samples", 10):
        return None
    if figures["p95_s"] is None:
        return False
    return figures["p95_s"] * 1000 <= stop["p95_ms"] and figures["failure_rate"] <= stop["fail_ratio"]


def stage_figures(records: list[Record], log: dict, stop: dict = STOP) -> list[dict]:
    """Per stage: its plan (users, offered rate) and what the records say, with the sustainable verdict."""
    browser = [r for r in records if r.kind == "browser"]
    out = []
    for w in windows(log, browser):
        figures = describe(browser, w["start"], w["end"])
        out.append({**w, "seconds": round(w["end"] - w["start"], 1), **figures,
                    "sustainable": sustainable(figures, stop)})
    return out


def whole_run(records: list[Record]) -> dict:
    """The whole run's browser purchases: from the first start to the last end."""
    browser = [r for r in records if r.kind == "browser"]
    if not browser:
        return describe([], 0, 0)
    return describe(browser, min(r.t0 for r in browser), max(r.t1 for r in browser) + 1e-9)


def highest_sustainable(stages: list[dict]) -> dict | None:
    """The stage with the most completed purchases/min among those sustained (None: none was)."""
    good = [s for s in stages if s["sustainable"] and s["per_min"] is not None]
    return max(good, key=lambda s: s["per_min"]) if good else None


def csv_percentiles(csv_text: str, types=("STEP", "PURCHASE")) -> dict:
    """{"<Type> <Name>": count, failures, p50/p95/p99 ms} from Locust's <prefix>_stats.csv."""
    out = {}
    for row in csv.DictReader(io.StringIO(csv_text)):
        if row.get("Type") in types:
            out[f"{row['Type']} {row['Name']}"] = {
                "count": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                **{k: _number(row.get(col)) for k, col in CSV_QUANTILES.items()}}
    return out


def _number(text: str | None) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def buckets(records: list[Record], origin: float, width_s: float = 10.0) -> list[dict]:
    """Per width_s bucket since origin: completed purchases/min, p50/p95 s of those completed, failures."""
    browser = [r for r in records if r.kind == "browser"]
    if not browser:
        return []
    end = max(r.t1 for r in browser)
    out, t = [], origin
    while t < end:
        done = [r.seconds for r in browser if r.ok and t <= r.t1 < t + width_s]
        out.append({"t": round(t - origin + width_s / 2, 1), "per_min": len(done) * 60 / width_s,
                    "p50_s": quantile(done, 0.5), "p95_s": quantile(done, 0.95),
                    "failed": sum(1 for r in browser if not r.ok and t <= r.t1 < t + width_s)})
        t += width_s
    return out
