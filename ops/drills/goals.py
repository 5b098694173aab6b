"""The drills' goals as data, and the pure verdict of one run: which goals it missed (none = passed)."""
from __future__ import annotations

from dataclasses import dataclass

from ..load.records import Record
from ..load.timeline import Timeline, rate

RETURN_WINDOW_S = 30.0       # a returned node: full speed again within this, measured over the next window


@dataclass(frozen=True)
class Goal:
    recovery_s: float | None      # fault -> end of the last failed purchase, at most (None: in-flight only)
    max_gap_s: float | None       # no stretch without a completed purchase, from the fault until sales resumed,
                                  # longer than this (Timeline.fault_gap_s)
    node_fault: bool = False      # the node returns: no failure caused by the return, 90 % speed within 30 s
    speed_share: float = 0.9


GOALS = {
    "db": Goal(10, 10),
    "redis": Goal(5, 5),
    "pg-proxy": Goal(5, 5),
    "redis-proxy": Goal(5, 5),
    "nginx": Goal(5, 5),
    "web": Goal(None, None),
    "worker": Goal(None, None),
    "partition": Goal(30, 30, node_fault=True),
    "node": Goal(30, 30, node_fault=True),
}


def in_flight_only(records: list[Record], fault: float) -> list[Record]:
    """Failed purchases that started after the fault (a purchase in flight at the fault may fail). `fault` is when
    the fault took effect (a killed container's death): a web task killed over SSH died ~0.6 s after the command
    started, and a purchase begun in between had its request inside that task (a 502 at +0.65 s, 2026-12-07)."""
    return [r for r in records if not r.ok and r.t0 >= fault]


def caused_by_return(records: list[Record], returned: float) -> list[Record]:
    """Failed purchases that started after the node came back."""
    return [r for r in records if not r.ok and r.t0 >= returned]


def speed_after_return(records: list[Record], returned: float) -> float | None:
    """Completed purchases/min in the window that starts RETURN_WINDOW_S after the return."""
    done = [r.t1 for r in records if r.ok]
    start = returned + RETURN_WINDOW_S
    if not done or max(done) < start + RETURN_WINDOW_S / 2:
        return None   # the run ended too early to say
    return rate(done, start, min(start + RETURN_WINDOW_S, max(done) + 1e-9))


def missed(goal: Goal, tl: Timeline, records: list[Record], audit_ok: bool, lost: int,
           healthy: bool, returned: float | None = None, unmailed: int = 0, landed: float | None = None) -> list[str]:
    """Every goal this run missed, one line each (empty: the run passed)."""
    out = []
    if lost:
        out.append(f"{lost} confirmed order(s) LOST")
    if unmailed:
        out.append(f"{unmailed} confirmed order(s) without their confirmation mail")
    if not audit_ok:
        out.append("the order audit failed (duplicates or quota disagreement)")
    if not healthy:
        out.append("the cluster did not become whole again after the drill")
    if goal.recovery_s is None:
        late = in_flight_only(records, landed or tl.fault)
        if late:
            out.append(f"{len(late)} purchase(s) started after the fault failed (only those in flight may)")
    else:
        if tl.recovery_s is not None and tl.recovery_s > goal.recovery_s:
            out.append(f"recovery {tl.recovery_s:.1f} s > {goal.recovery_s:.0f} s")
        if tl.fault_gap_s is not None and tl.fault_gap_s > goal.max_gap_s:
            out.append(f"{tl.fault_gap_s:.1f} s without a completed purchase > {goal.max_gap_s:.0f} s")
    if goal.node_fault and returned is not None:
        out += _return_goals(goal, tl, records, returned)
    return out


def _return_goals(goal: Goal, tl: Timeline, records: list[Record], returned: float) -> list[str]:
    out = []
    caused = caused_by_return(records, returned)
    if caused:
        out.append(f"{len(caused)} purchase(s) failed after the node came back")
    speed = speed_after_return(records, returned)
    if speed is None:
        out.append("the run ended too soon after the return to measure the speed")
    elif tl.rate_before and speed < goal.speed_share * tl.rate_before:
        out.append(f"{speed:.0f} purchases/min from {RETURN_WINDOW_S:.0f} s after the return < "
                   f"{goal.speed_share:.0%} of {tl.rate_before:.0f} before the fault")
    return out
