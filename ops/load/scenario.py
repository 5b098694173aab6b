"""The sale scenario (10,000 tickets in 7 days, a closing peak) and the bounded stages tables the shape plays."""
from __future__ import annotations

import math
from dataclasses import dataclass

TICKETS, SALE_DAYS = 10_000, 7.0            # the seed report's use case: 10,000 tickets sold in a week
# "a peak close to the end of the selling period" (seed report 1.2), not quantified there. Default: a quarter
# of all tickets in the last two hours -- a closing rush (last chance, early-bird deadline) that makes the
# peak ~21x the week's average; 10x that (~208/min) is beyond the ~100-150/min this machine's lab sustains,
# so the 10x stage finds the saturation point.
PEAK_SHARE, PEAK_HOURS = 0.25, 2.0
PEAK_FACTORS = (0.5, 1.0, 2.0, 10.0)        # the report's four phases: half, expected, twice, ten times
STAGE_S = 120                               # per stage: several purchases per user at 15 s pacing
PACING_S = 15.0                             # must exceed a purchase's duration, or the rate falls short
LOOKER_RATIO = 0.2
SPAWN_S = 10                                # every stage reaches its users within ~10 s
MAX_TOTAL_S = 3600                          # no table runs longer than an hour
RAMP_FIRST, RAMP_FACTOR, RAMP_STAGE_S, RAMP_MAX_STAGES, RAMP_MAX_S = 0.5, 1.5, 60, 10, 900
STOP = {"name": "browser purchase", "p95_ms": 5000, "fail_ratio": 0.01, "min_samples": 10}


@dataclass(frozen=True)
class Scenario:
    tickets: int = TICKETS
    days: float = SALE_DAYS
    peak_share: float = PEAK_SHARE
    peak_hours: float = PEAK_HOURS

    def __post_init__(self):
        if self.tickets <= 0 or self.days <= 0:
            raise ValueError("tickets and days must be positive")
        if not (0 < self.peak_share <= 1 and 0 < self.peak_hours <= self.days * 24):
            raise ValueError(f"peak: share {self.peak_share} must be in (0, 1] and hours {self.peak_hours} "
                             f"within the {self.days:g}-day sale")

    @property
    def average_per_min(self) -> float:
        return self.tickets / (self.days * 24 * 60)

    @property
    def peak_per_min(self) -> float:
        return self.tickets * self.peak_share / (self.peak_hours * 60)

    def lines(self) -> list[str]:
        return [f"scenario: {self.tickets} tickets in {self.days:g} days, {self.peak_share:.0%} of them in the "
                f"last {self.peak_hours:g} h",
                f"average {self.average_per_min:.2f} purchases/min, peak {self.peak_per_min:.1f} purchases/min "
                f"({self.peak_per_min / self.average_per_min:.0f}x the average)"]


def users_for(rate_per_min: float, pacing_s: float) -> int:
    """Buying users that offer rate_per_min at one purchase per pacing_s each (rounded up, at least 1)."""
    return max(1, math.ceil(rate_per_min * pacing_s / 60 - 1e-9))


def stage(name: str, duration_s: int, rate_per_min: float, pacing_s: float = PACING_S,
          looker_ratio: float = LOOKER_RATIO) -> dict:
    """One row: the buyers for the rate, plus lookers so that they are looker_ratio of all users."""
    if duration_s <= 0 or rate_per_min <= 0:
        raise ValueError(f"stage {name}: duration and rate must be positive")
    buyers = users_for(rate_per_min, pacing_s)
    users = buyers if looker_ratio <= 0 else math.ceil(buyers / (1 - looker_ratio) - 1e-9)
    return {"name": name, "duration_s": int(duration_s), "rate_per_min": round(rate_per_min, 2),
            "buyers": buyers, "users": users, "offered_per_min": round(buyers * 60 / pacing_s, 2),
            "spawn_rate": round(max(1.0, users / SPAWN_S), 2)}


def peak_stages(scn: Scenario = Scenario(), pacing_s: float = PACING_S, looker_ratio: float = LOOKER_RATIO,
                stage_s: int = STAGE_S, factors=PEAK_FACTORS) -> list[dict]:
    """The report's phases: factors x the peak rate, stage_s each."""
    return bounded([stage(f"{f:g}x peak", stage_s, scn.peak_per_min * f, pacing_s, looker_ratio) for f in factors])


def ramp_stages(start_per_min: float, pacing_s: float = PACING_S, looker_ratio: float = LOOKER_RATIO,
                factor: float = RAMP_FACTOR, stage_s: int = RAMP_STAGE_S, max_stages: int = RAMP_MAX_STAGES,
                max_total_s: int = RAMP_MAX_S) -> list[dict]:
    """Rates start, start x factor, ...: at most max_stages stages and max_total_s seconds."""
    if factor <= 1:
        raise ValueError("a ramp's factor must be above 1")
    count = min(max_stages, max_total_s // stage_s)
    return bounded([stage(f"ramp {i + 1}", stage_s, start_per_min * factor ** i, pacing_s, looker_ratio)
                    for i in range(count)], max_total_s)


def total_seconds(stages: list[dict]) -> int:
    return sum(s["duration_s"] for s in stages)


def bounded(stages: list[dict], max_total_s: int = MAX_TOTAL_S) -> list[dict]:
    """The table itself when its total time is within max_total_s (ValueError otherwise)."""
    if not stages:
        raise ValueError("a stages table needs at least one stage")
    if total_seconds(stages) > max_total_s:
        raise ValueError(f"the stages take {total_seconds(stages)} s, more than the bound of {max_total_s} s")
    return stages


def table(name: str, stages: list[dict], stop: dict | None = None, pacing_s: float = PACING_S,
          looker_ratio: float = LOOKER_RATIO) -> dict:
    """The JSON document the shape plays: stages in order; `stop` (a ramp) ends it early. Its users were
    derived for pacing_s and looker_ratio, which the run must use too (runner.plan_table applies them)."""
    return {"name": name, "stages": bounded(stages), "stop": stop, "pacing_s": pacing_s, "looker_ratio": looker_ratio}


def peaks_table(scn: Scenario = Scenario(), pacing_s: float = PACING_S, looker_ratio: float = LOOKER_RATIO,
                stage_s: int = STAGE_S) -> dict:
    return table("peaks", peak_stages(scn, pacing_s, looker_ratio, stage_s), None, pacing_s, looker_ratio)


def ramp_table(scn: Scenario = Scenario(), pacing_s: float = PACING_S, looker_ratio: float = LOOKER_RATIO,
               **ramp) -> dict:
    """A ramp from RAMP_FIRST x the peak rate, stopping on the STOP conditions (slow or failing purchases)."""
    return table("ramp", ramp_stages(scn.peak_per_min * RAMP_FIRST, pacing_s, looker_ratio, **ramp), dict(STOP),
                 pacing_s, looker_ratio)


def stage_lines(stages: list[dict]) -> list[str]:
    rows = [f"{'stage':<12} {'s':>5} {'rate/min':>9} {'offered':>8} {'buyers':>6} {'users':>5} {'spawn/s':>7}"]
    rows += [f"{s['name']:<12} {s['duration_s']:>5} {s['rate_per_min']:>9.1f} {s['offered_per_min']:>8.1f} "
             f"{s['buyers']:>6} {s['users']:>5} {s['spawn_rate']:>7.1f}" for s in stages]
    return rows + [f"total {total_seconds(stages)} s"]
