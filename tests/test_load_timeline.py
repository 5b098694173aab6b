"""Timeline maths on hand-made records and on the records of a real smoke run (tests/fixtures/load)."""
import json
from pathlib import Path

import pytest

from ops.load.records import Record, read_dir
from ops.load.timeline import longest_gap, purchase_stats, quantile, rate, throughput, timeline

FIX = Path(__file__).resolve().parent / "fixtures" / "load"
T = 1_000_000.0     # an epoch, so hand-made times read as offsets


def rec(t0, t1, ok=True, cause=None):
    return Record(run="r", kind="browser", t0=T + t0, t1=T + t1, ok=ok, code="C" if ok else None, email="e",
                  cause=cause, step=None if ok else "cart/add")


def steady(start, end, every=5.0, took=2.0):
    """One completed purchase every `every` s, each `took` s long."""
    out, t = [], start
    while t + took <= end:
        out.append(rec(t, t + took))
        t += every
    return out


@pytest.mark.parametrize("times, start, end, want", [
    ([], 0, 60, 0.0),
    ([1, 2, 3], 0, 60, 3.0),
    ([1, 2, 3], 0, 30, 6.0),
    ([0, 30, 59.9, 60], 0, 60, 3.0),        # [start, end)
    ([1], 10, 10, None),
])
def test_rate(times, start, end, want):
    assert rate(times, start, end) == want


@pytest.mark.parametrize("times, start, end, want", [
    ([], 0, 10, (10, 0, 10)),
    ([5], 0, 10, (5, 0, 5)),
    ([2, 3, 9], 0, 10, (6, 3, 9)),
    ([-5, 20], 0, 10, (10, 0, 10)),         # outside the window: ignored
    ([1], 5, 5, None),
])
def test_longest_gap(times, start, end, want):
    assert longest_gap(times, start, end) == want


@pytest.mark.parametrize("values, q, want", [
    ([], 0.5, None), ([3], 0.95, 3), ([1, 2, 3, 4], 0.5, 2), (list(range(1, 101)), 0.95, 95), ([5, 1], 0.0, 1),
])
def test_quantile(values, q, want):
    assert quantile(values, q) == want


def test_empty_run():
    tl = timeline([], T + 10)
    assert (tl.attempts, tl.first_failure_s, tl.longest_gap_s, tl.rate_before) == (0, None, None, None)
    assert tl.lines() == ["timeline: no purchase recorded"]
    assert throughput([]) is None


def test_no_failure():
    tl = timeline(steady(0, 120), T + 60)
    assert (tl.failed, tl.first_failure_s, tl.last_failure_s, tl.recovery_s, tl.causes) == (0, None, None, None, {})
    assert tl.rate_before == pytest.approx(12.0)
    assert tl.longest_gap_s == pytest.approx(5.0)
    assert tl.resumed_s == pytest.approx(2.0)           # the first purchase completed after the fault
    assert "no purchase failed after the fault" in tl.lines()


def test_failures_after_the_fault():
    # sales every 5 s; the fault at 60 s fails purchases ending 62..80 s; sales resume at 92 s
    records = steady(0, 60) + [rec(58, 62, False, "http 500"), rec(60, 70, False, "http 500"),
                               rec(65, 80, False, "timeout")] + steady(90, 150)
    tl = timeline(records, T + 60)
    assert (tl.failed, tl.failed_before_fault) == (3, 0)
    assert tl.first_failure_s == pytest.approx(2.0)
    assert tl.last_failure_s == tl.recovery_s == pytest.approx(20.0)
    assert tl.resumed_s == pytest.approx(32.0)
    assert tl.causes == {"http 500": 2, "timeout": 1}
    assert (tl.longest_gap_s, tl.gap_from_s, tl.gap_to_s) == pytest.approx((32.0, 0.0, 32.0))
    assert tl.gap_before_s == pytest.approx(5.0)
    assert tl.fault_gap_s == pytest.approx(32.0)         # the whole stretch lies before sales resumed
    lines = "\n".join(tl.lines())
    assert "failures from +2.0 s to +20.0 s after the fault (recovery 20.0 s); by cause: http 500 2, timeout 1" in lines
    assert ("longest stretch without a completed purchase after the fault: 32.0 s (from +0.0 s to +32.0 s); "
            "before the fault: 5.0 s") in lines


def test_a_stretch_before_the_fault_is_the_loads_not_the_faults():
    # a 12 s hole in the sales 35 s before the fault; another, from 56 s to 62 s, is under way at the fault (57 s)
    records = [r for r in steady(0, 120, every=2) if not T + 20 < r.t1 < T + 32 and r.t1 - T not in (58, 60)]
    tl = timeline(records, T + 57)
    assert tl.gap_before_s == pytest.approx(12.0)
    assert (tl.longest_gap_s, tl.gap_from_s, tl.gap_to_s) == pytest.approx((5.0, 0.0, 5.0))


def test_a_stretch_once_sales_have_resumed_is_the_loads():
    # sales every 3 s; the fault at 60 s fails one purchase (63 s); sales resume at 68 s; later the load pauses 9 s
    records = ([r for r in steady(0, 150, every=3) if not T + 60 < r.t1 < T + 66 and not T + 86 < r.t1 < T + 95]
               + [rec(61, 63, False, "http 500")])
    tl = timeline(records, T + 60)
    assert (tl.recovery_s, tl.resumed_s) == pytest.approx((3.0, 8.0))
    assert tl.fault_gap_s == pytest.approx(8.0)          # from the fault (the last sale was at 59 s) to 68 s
    assert (tl.longest_gap_s, tl.gap_from_s) == pytest.approx((9.0, 26.0))   # 86 -> 95 s: reported, not judged
    assert "longest stretch without a completed purchase until sales resumed: 8.0 s" in tl.lines()


def test_no_sale_after_the_fault_makes_the_whole_window_the_faults():
    tl = timeline(steady(0, 60) + [rec(58, 70, False, "timeout")], T + 60, after_s=30)
    assert tl.resumed_s is None and tl.fault_gap_s == tl.longest_gap_s == pytest.approx(10.0)   # the run ends at 70 s


def test_failures_before_the_fault_are_not_the_faults():
    records = [rec(0, 3, False, "http 502"), rec(1, 4, False, "http 502")] + steady(5, 100)
    tl = timeline(records, T + 50)
    assert (tl.failed, tl.failed_before_fault, tl.first_failure_s, tl.causes) == (2, 2, None, {})


def test_rates_during_after_and_after_the_return():
    # steady every 5 s, none completed between the fault (100) and 130; the faulty node returns at 140
    records = [r for r in steady(0, 200) if not T + 100 <= r.t1 < T + 130]
    tl = timeline(records, T + 100, fault_end=T + 120, returned=T + 140)
    assert tl.rate_before == pytest.approx(12.0)        # 60 s before the fault
    assert tl.rate_during == 0.0
    assert tl.rate_after == pytest.approx(60 * 14 / (tl_end(records) - 120))
    assert tl.rate_after_return == pytest.approx(12.0)  # 6 in the 30 s after 140
    assert "first 30 s after the return 12.0" in tl.lines()[-1]


def tl_end(records):
    return max(r.t1 for r in records) - T


def test_window_bounds_the_gap():
    records = steady(0, 30) + steady(500, 530)   # a long pause far from the fault's window
    tl = timeline(records, T + 20, before_s=10, after_s=20)
    assert (tl.longest_gap_s, tl.gap_from_s, tl.gap_to_s) == pytest.approx((13.0, 7.0, 20.0))


def test_recorded_smoke_run():
    records = read_dir(FIX / "smoke")
    assert len(records) == 44 and all(r.ok and r.kind == "browser" for r in records)
    start = min(r.t0 for r in records)
    tl = timeline(records, start + 30)
    assert tl.failed == 0 and tl.first_failure_s is None
    assert 30 < tl.rate_before < 60 and 30 < tl.rate_after < 60    # 4 buyers at 6 s pacing: ~40/min
    assert tl.longest_gap_s < 12
    stats = purchase_stats(records, "browser")
    assert stats["completed"] == 44 and stats["failed"] == 0
    assert 0.5 < stats["p50_s"] <= stats["p95_s"] < 10
    assert purchase_stats(records, "api")["attempts"] == 0


def test_recorded_run_through_a_dropped_entry_point():
    """A real run (4 buyers, 1 looker, 6 s pacing) whose entry point (a loopback forwarder to the shop) reset its
    connections and refused new ones for 10 s (fault.json holds when)."""
    fault = json.loads((FIX / "fault" / "fault.json").read_text())
    records = read_dir(FIX / "fault")
    tl = timeline(records, fault["fault"], fault["fault_end"], returned=fault["fault_end"])
    assert (tl.attempts, tl.completed, tl.failed, tl.failed_before_fault) == (41, 33, 8, 0)
    assert tl.causes == {"connection": 8}
    assert 0 <= tl.first_failure_s < 1 and 9 < tl.last_failure_s < 10      # nothing fails once it is back
    assert tl.rate_during == 0.0
    assert 10 < tl.resumed_s < 15 and tl.longest_gap_s == pytest.approx(tl.resumed_s - tl.gap_from_s)
    assert 40 < tl.rate_before < 60 and 25 < tl.rate_after < 45


def test_the_wait_for_the_first_purchase_is_not_a_gap():
    first = rec(0, 9)                                    # the load's first purchase takes 9 s (warming up)
    records = [first] + steady(9, 60, every=3)
    tl = timeline(records, T + 30)
    assert tl.gap_before_s == pytest.approx(3.0)         # not the 9 s from the load's start
    no_sale_before = timeline([rec(0, 40)], T + 30)      # nothing sold before the fault: the load's start counts
    assert (no_sale_before.gap_before_s, no_sale_before.longest_gap_s) == pytest.approx((30.0, 10.0))
