"""Drill goals on recorded drill logs (records of real runs on the lab) and on small hand-made tables."""
import json
from pathlib import Path

import pytest

from ops.drills.goals import GOALS, caused_by_return, in_flight_only, missed, speed_after_return
from ops.drills.run import mail_line
from ops.load.records import Record, parse_records
from ops.load.timeline import timeline

FIX = Path(__file__).parent / "fixtures" / "drills"


def recorded(name):
    meta = json.loads((FIX / f"{name}.json").read_text())
    return meta, parse_records((FIX / f"{name}.jsonl").read_text())


def rec(t0, t1, ok=True):
    return Record(run="r", kind="browser", t0=t0, t1=t1, ok=ok, code="C" if ok else None, email="e",
                  cause=None if ok else "http 500")


def test_recorded_db_drill_passes_its_goal():
    meta, records = recorded("db")
    tl = timeline(records, meta["fault_at"])
    assert (round(tl.recovery_s, 1), round(tl.longest_gap_s, 1)) == (3.3, 9.3)
    assert missed(GOALS["db"], tl, records, audit_ok=True, lost=0, healthy=True) == []


def test_recorded_partition_drill_misses_with_reasons():
    meta, records = recorded("partition")
    tl = timeline(records, meta["fault_at"], meta["returned"], meta["returned"])
    misses = missed(GOALS["partition"], tl, records, True, 0, True, meta["returned"])
    assert misses[:2] == ["recovery 42.2 s > 30 s", "36.4 s without a completed purchase > 30 s"]
    assert any(m.startswith("38 purchases/min from 30 s after the return < 90% of 51") for m in misses)


def test_lost_orders_and_a_broken_cluster_always_fail():
    meta, records = recorded("db")
    tl = timeline(records, meta["fault_at"])
    assert missed(GOALS["db"], tl, records, audit_ok=False, lost=2, healthy=False) == [
        "2 confirmed order(s) LOST", "the order audit failed (duplicates or quota disagreement)",
        "the cluster did not become whole again after the drill"]


def test_confirmed_orders_without_their_mail_fail_the_drill():
    meta, records = recorded("db")
    tl = timeline(records, meta["fault_at"])
    assert missed(GOALS["db"], tl, records, True, 0, True, unmailed=3)[0] == (
        "3 confirmed order(s) without their confirmation mail")
    assert mail_line({}) is None
    assert mail_line({"confirmed": 4, "mailed": 4, "missing": []}) == (
        "mail: all 4 confirmed orders' mails reached the lab's sink")
    assert mail_line({"confirmed": 4, "mailed": 3, "missing": ["a@x.invalid"]}) == (
        "mail: 1 of 4 confirmed orders' mails NOT in the lab's sink (e.g. a@x.invalid; `inv logs worker`)")


@pytest.mark.parametrize("records, late", [
    ([rec(90, 101, ok=False), rec(99, 104)], 0),          # in flight at the fault: allowed
    ([rec(100.5, 102, ok=False), rec(99, 104)], 1),       # started after the fault: not allowed
])
def test_web_and_worker_allow_only_purchases_in_flight(records, late):
    assert len(in_flight_only(records, 100.0)) == late
    tl = timeline(records, 100.0)
    assert bool(missed(GOALS["web"], tl, records, True, 0, True)) == bool(late)


def test_a_purchase_begun_while_the_kill_was_landing_was_in_flight():
    """The kill command started at 100.0 and returned at 100.7 (the task died in between): a purchase begun at
    100.08 that failed with a 502 at 100.65 was in flight; one begun at 100.8 was not."""
    during = [rec(100.08, 100.65, ok=False), rec(99, 104)]
    tl = timeline(during, 100.0)
    assert missed(GOALS["web"], tl, during, True, 0, True, landed=100.7) == []
    assert missed(GOALS["web"], tl, during, True, 0, True) == [
        "1 purchase(s) started after the fault failed (only those in flight may)"]
    after = [rec(100.8, 101.2, ok=False), rec(99, 104)]
    assert missed(GOALS["web"], timeline(after, 100.0), after, True, 0, True, landed=100.7) == [
        "1 purchase(s) started after the fault failed (only those in flight may)"]


def test_return_goals_count_failures_after_the_return_and_the_speed_later():
    records = [rec(t, t + 2) for t in range(0, 100, 2)] + [rec(55, 56, ok=False)]
    assert [r.t0 for r in caused_by_return(records, 50.0)] == [55]
    assert speed_after_return(records, 50.0) == pytest.approx(33.0)   # 11 completions in [80, 100]
    assert speed_after_return(records, 80.0) is None                  # the run ends too soon after


def test_the_goal_judges_the_faults_stretch_not_the_loads_later_pauses():
    sales = [rec(t - 2, t) for t in range(2, 60, 3)]                   # every 3 s until 59 s; the fault at 60 s
    later = [rec(t - 2, t) for t in (*range(62, 81, 3), *range(89, 120, 3))]    # a 9 s pause from 80 s to 89 s
    tl = timeline(sales + later, 60)
    assert (tl.fault_gap_s, tl.longest_gap_s) == (2, 9)
    assert missed(GOALS["redis"], tl, sales + later, audit_ok=True, lost=0, healthy=True) == []
    slow = [r for r in later if r.t1 > 66]                             # sales resume only at 68 s
    tl = timeline(sales + slow, 60)
    assert missed(GOALS["redis"], tl, sales + slow, True, 0, True) == ["8.0 s without a completed purchase > 5 s"]
