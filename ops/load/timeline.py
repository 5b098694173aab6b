"""Sales around a fault, from purchase records: failures' timing and causes, longest gap, throughput, recovery."""
from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field

from .records import Record

BEFORE_S, AFTER_S, RETURN_WINDOW_S = 60.0, 300.0, 30.0


@dataclass(frozen=True)
class Timeline:
    fault: float
    fault_end: float | None = None
    returned: float | None = None
    attempts: int = 0
    completed: int = 0
    failed: int = 0
    failed_before_fault: int = 0         # not the fault's doing: the system was failing already
    first_failure_s: float | None = None  # fault -> t1 of the first purchase failing at or after it
    last_failure_s: float | None = None   # fault -> t1 of the last one
    resumed_s: float | None = None        # fault -> the first completed purchase after the last failure
    # the longest stretch without a completed purchase from the fault on (one under way at the fault counts from
    # the fault: the fault did not cause its first part), and where it starts/ends, relative to the fault
    longest_gap_s: float | None = None
    gap_from_s: float | None = None
    gap_to_s: float | None = None
    gap_before_s: float | None = None     # the longest stretch before the fault: the load's own unevenness
    # the fault's: the longest stretch from the fault until sales resumed (the whole window if they did not). A
    # stretch that begins once sales have resumed, with no failure after it, is the load's unevenness (6 buyers on
    # 2 cores: 3.2-6.4 s before the faults of 2026-12-07), which the goals do not judge
    fault_gap_s: float | None = None
    causes: dict = field(default_factory=dict)   # failures at or after the fault, by cause
    rate_before: float | None = None      # completed purchases/min in the BEFORE_S before the fault
    rate_during: float | None = None      # ... between the fault and its end
    rate_after: float | None = None       # ... from the fault's end (or the fault) to the end of the run
    rate_after_return: float | None = None  # ... in the RETURN_WINDOW_S after `returned`

    @property
    def recovery_s(self) -> float | None:
        """fault -> the end of the last failed purchase (None: the fault failed no purchase)."""
        return self.last_failure_s

    def lines(self) -> list[str]:
        if not self.attempts:
            return ["timeline: no purchase recorded"]
        span = f" until +{self.fault_end - self.fault:.0f} s" if self.fault_end is not None else ""
        out = [f"timeline: fault at {_clock(self.fault)}{span}; {self.attempts} purchases: {self.completed} "
               f"completed, {self.failed} failed ({self.failed_before_fault} before the fault)"]
        if self.first_failure_s is None:
            out.append("no purchase failed after the fault")
        else:
            out.append(f"failures from +{self.first_failure_s:.1f} s to +{self.last_failure_s:.1f} s after the "
                       f"fault (recovery {self.recovery_s:.1f} s); by cause: "
                       + ", ".join(f"{c} {n}" for c, n in sorted(self.causes.items(), key=lambda x: -x[1])))
        if self.resumed_s is not None:
            out.append(f"sales resumed {self.resumed_s:+.1f} s after the fault")
        if self.fault_gap_s is not None:
            out.append(f"longest stretch without a completed purchase until sales resumed: {self.fault_gap_s:.1f} s")
        if self.longest_gap_s is not None:
            before = f"; before the fault: {self.gap_before_s:.1f} s" if self.gap_before_s is not None else ""
            out.append(f"longest stretch without a completed purchase after the fault: {self.longest_gap_s:.1f} s "
                       f"(from {self.gap_from_s:+.1f} s to {self.gap_to_s:+.1f} s){before}")
        rates = [("before", self.rate_before), ("during", self.rate_during), ("after", self.rate_after),
                 (f"first {RETURN_WINDOW_S:.0f} s after the return", self.rate_after_return)]
        out.append("purchases/min: " + ", ".join(f"{k} {v:.1f}" for k, v in rates if v is not None))
        return out


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%SZ", time.gmtime(t))


def rate(times: list[float], start: float, end: float) -> float | None:
    """Events per minute among times in [start, end); None for an empty interval."""
    if end - start <= 0:
        return None
    return sum(start <= t < end for t in times) * 60 / (end - start)


def longest_gap(times: list[float], start: float, end: float) -> tuple[float, float, float] | None:
    """(length, from, to) of the longest stretch in [start, end] with no time in `times`."""
    if end <= start:
        return None
    points = [start, *sorted(t for t in times if start < t < end), end]
    return max(((b - a, a, b) for a, b in zip(points, points[1:])), key=lambda g: g[0])


def timeline(records: list[Record], fault: float, fault_end: float | None = None, returned: float | None = None,
             before_s: float = BEFORE_S, after_s: float = AFTER_S) -> Timeline:
    """The timeline of a run's records around a fault (epoch seconds); a purchase fails and completes at its t1."""
    if not records:
        return Timeline(fault, fault_end, returned)
    done = sorted(r.t1 for r in records if r.ok)
    failed = sorted((r for r in records if not r.ok), key=lambda r: r.t1)
    after = [r for r in failed if r.t1 >= fault]
    start, end = min(r.t0 for r in records), max(r.t1 for r in records)
    healed = fault_end if fault_end is not None else fault
    last = after[-1].t1 if after else fault
    # the wait for the run's first purchase is the load warming up, not a stretch without sales
    opened = done[0] if done and done[0] < fault else start
    window_end = min(end, healed + after_s)
    gap = longest_gap(done, fault, window_end)
    gap_before = longest_gap(done, max(opened, fault - before_s), fault)
    resumed = next((t for t in done if t > last), None)
    fault_gap = longest_gap(done, fault, min(resumed, window_end) if resumed is not None else window_end)
    return Timeline(
        fault, fault_end, returned, attempts=len(records), completed=len(done), failed=len(failed),
        failed_before_fault=len(failed) - len(after),
        first_failure_s=after[0].t1 - fault if after else None,
        last_failure_s=after[-1].t1 - fault if after else None,
        resumed_s=resumed - fault if resumed is not None else None,
        longest_gap_s=gap and gap[0], gap_from_s=gap and gap[1] - fault, gap_to_s=gap and gap[2] - fault,
        gap_before_s=gap_before and gap_before[0], fault_gap_s=fault_gap and fault_gap[0],
        causes=dict(Counter(r.cause or "unknown" for r in after)),
        rate_before=rate(done, max(start, fault - before_s), fault),
        rate_during=rate(done, fault, fault_end) if fault_end is not None else None,
        rate_after=rate(done, healed, end + 1e-9),   # the run's last completion counts
        rate_after_return=rate(done, returned, returned + RETURN_WINDOW_S) if returned is not None else None)


def throughput(records: list[Record]) -> float | None:
    """Completed purchases/min over the whole run (first start to last end)."""
    if not records:
        return None
    return rate([r.t1 for r in records if r.ok], min(r.t0 for r in records), max(r.t1 for r in records) + 1e-9)


def quantile(values: list[float], q: float) -> float | None:
    """The q-quantile (nearest rank) of values; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def purchase_stats(records: list[Record], kind: str | None = None) -> dict:
    """Attempts, completed, failed, completed/min and p50/p95 seconds of a completed purchase (of one kind)."""
    rs = [r for r in records if kind is None or r.kind == kind]
    done = [r.seconds for r in rs if r.ok]
    return {"attempts": len(rs), "completed": len(done), "failed": len(rs) - len(done),
            "per_min": throughput(rs), "p50_s": quantile(done, 0.5), "p95_s": quantile(done, 0.95)}
