"""A stages table as data: loading, which stage runs when, a stage's own stats and a ramp's stop condition."""
from __future__ import annotations

import json
from pathlib import Path

from .scenario import bounded

STAGES_FILE = "stages.json"


def percentile(times: dict, n: int, q: float) -> int:
    """The q-percentile of a Locust response-time histogram ({rounded ms: count}) of n requests, by Locust's
    own rule (locust.stats.calculate_response_time_percentile), so it matches its CSV."""
    rank, seen = int(n * q), 0
    for t in sorted(times, reverse=True):
        seen += times[t]
        if n - seen <= rank:
            return t
    return 0


def load_table(source: str) -> dict | None:
    """A table from JSON text or a JSON file path; a bare list is a plain stages table. None for ""."""
    source = (source or "").strip()
    if not source:
        return None
    doc = json.loads(source if source[0] in "[{" else Path(source).read_text())
    doc = {"name": "stages", "stages": doc, "stop": None} if isinstance(doc, list) else doc
    for i, s in enumerate(doc.get("stages") or [None]):
        if not isinstance(s, dict) or not {"name", "duration_s", "users", "spawn_rate"} <= set(s):
            raise ValueError(f"stages table: stage {i + 1} needs name, duration_s, users and spawn_rate")
    bounded(doc["stages"])      # a table given by hand is bounded in time like the scenario's
    return doc


def stage_index(stages: list[dict], t: float) -> int | None:
    """The stage running t seconds into the table (None once it is over)."""
    end = 0.0
    for i, s in enumerate(stages):
        end += s["duration_s"]
        if t < end:
            return i
    return None


def window(entry) -> dict:
    """A snapshot of a Locust stats entry, to compare with later ones (the current stage's own stats)."""
    return {"times": dict(entry.response_times), "requests": entry.num_requests, "failures": entry.num_failures}


def since(now: dict, before: dict) -> dict:
    """What happened between two snapshots: response-time histogram, requests, failures."""
    times = {k: n - before["times"].get(k, 0) for k, n in now["times"].items()}
    return {"times": {k: n for k, n in times.items() if n > 0}, "requests": now["requests"] - before["requests"],
            "failures": now["failures"] - before["failures"]}


def stop_reason(stage_stats: dict, stop: dict | None) -> str | None:
    """Why a ramp must stop now (p95 or failure share over the limit), None to go on."""
    n = stage_stats["requests"]
    if not stop or n < stop.get("min_samples", 10):
        return None
    p95 = percentile(stage_stats["times"], n, 0.95)
    if p95 > stop["p95_ms"]:
        return f"p95 of {stop['name']} {p95 / 1000:.1f} s > {stop['p95_ms'] / 1000:g} s ({n} purchases)"
    share = stage_stats["failures"] / n
    if share > stop["fail_ratio"]:
        return f"{share:.1%} of {n} purchases failed > {stop['fail_ratio']:.0%}"
    return None


def stage_at(log: dict, t: float) -> str | None:
    """The name of the stage that epoch second t belongs to, from a stages.json document (for plots)."""
    for s in log.get("stages", []):
        if s["start"] <= t < (s["end"] if s["end"] is not None else float("inf")):
            return s["name"]
    return None
