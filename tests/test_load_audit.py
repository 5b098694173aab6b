"""The audit on hand-made orders and on a real smoke run's records + the API answers it read (tests/fixtures/load)."""
import json
from pathlib import Path

import pytest

from ops.load.audit import audit, audit_inputs, orders_query, quota_check, quota_positions, trim
from ops.load.records import Record, read_dir

FIX = Path(__file__).resolve().parent / "fixtures" / "load"
RUN = "20990101T000000Z"
QUOTA = {"id": 7, "items": [1, 2]}


def email(n):
    return f"load-{RUN}-b-{n:012x}@example.invalid"


def rec(n, ok=True, code=None, t0=100.0):
    return Record(run=RUN, kind="browser", t0=t0, t1=t0 + 2, ok=ok, code=(code or f"C{n:04d}") if ok else None,
                  email=email(n), step=None if ok else "checkout/confirm poll", cause=None if ok else "timeout")


def order(n, code=None, status="n", items=(1,), mail=None, when="2099-01-01T00:01:00+00:00"):
    return {"code": code or f"C{n:04d}", "email": mail or email(n), "status": status, "datetime": when,
            "positions": [{"item": i, "canceled": False} for i in items]}


def avail(paid=0, pending=0, carts=0):
    return {"paid_orders": paid, "pending_orders": pending, "cart_positions": carts, "available_number": 10}


def test_all_found():
    a = audit([rec(1), rec(2)], [order(1), order(2)])
    assert (a.ok, a.confirmed, a.found, a.lost, a.duplicates, a.orphans, a.foreign) == (True, 2, 2, (), {}, (), 0)
    assert a.lines()[0] == f"audit of run {RUN}: OK; 2 of 2 confirmed orders found in the API"


def test_lost_orders_are_loud():
    a = audit([rec(1), rec(2), rec(3)], [order(1)])
    assert not a.ok and a.lost == ("C0002", "C0003")
    assert "LOST: 2 confirmed orders are missing from the API: C0002, C0003" in a.lines()
    assert a.lines()[0].startswith(f"audit of run {RUN}: FAILED")


def test_duplicates_same_buyer_two_orders():
    a = audit([rec(1)], [order(1), order(9, code="DUPE1", mail=email(1))])
    assert not a.ok
    assert a.duplicates == {email(1): ("C0001", "DUPE1")}
    assert a.orphans == ("DUPE1",)


@pytest.mark.parametrize("records, orders, want_orphans, want_failed, want_foreign", [
    ([rec(1), rec(2, ok=False)], [order(1), order(2)], ("C0002",), 1, 0),       # timed out, yet ordered
    ([rec(1)], [order(1), order(3)], ("C0003",), 0, 0),                          # run's email, no record (killed)
    ([rec(1)], [order(1), order(4, mail="someone@example.org")], (), 0, 1),      # another buyer: ignored
    ([rec(1)], [order(1), order(5, mail="load-OTHER-b-1@example.invalid")], (), 0, 1),   # another run
])
def test_orphans_and_foreign(records, orders, want_orphans, want_failed, want_foreign):
    a = audit(records, orders)
    assert a.ok
    assert (a.orphans, a.orphans_failed, a.foreign) == (want_orphans, want_failed, want_foreign)


def test_emails_compare_without_case():
    a = audit([rec(1)], [order(1, mail=email(1).upper())])
    assert a.ok and a.found == 1 and a.foreign == 0


@pytest.mark.parametrize("orders, want", [
    ([], {"paid": 0, "pending": 0}),
    ([order(1), order(2, status="p", items=(1, 2)), order(3, items=(3,))], {"paid": 2, "pending": 1}),
    ([order(1, status="c"), order(2, status="e")], {"paid": 0, "pending": 0}),      # cancelled, expired
    ([{**order(1), "positions": [{"item": 1, "canceled": True}, {"item": 2}]}], {"paid": 0, "pending": 1}),
])
def test_quota_positions(orders, want):
    assert quota_positions(orders, QUOTA["items"]) == want


def test_quota_totals():
    check = quota_check([order(1), order(2, status="p")], QUOTA, avail(paid=1, pending=1, carts=3))
    assert check.ok and not check.delta and check.carts == 3
    assert check.line() == ("quota 7 (totals): paid 1 / pending 1 in the quota, orders say 1 / 1: agree; "
                            "positions held in carts: 3")


def test_quota_changes_count_only_orders_since_the_snapshot():
    before = {"at": 1000.0, "availability": avail(pending=40)}
    orders = [order(1, when="1970-01-01T00:10:00+00:00"), order(2, when="1970-01-01T00:20:00+00:00")]
    check = quota_check(orders, QUOTA, avail(pending=41), before)      # order 1 (600 s) predates the snapshot
    assert check.delta and check.ok and check.seen == {"paid": 0, "pending": 1}


def test_quota_disagreement_fails_the_audit():
    check = quota_check([order(1)], QUOTA, avail(pending=2))
    a = audit([rec(1)], [order(1)], quota=check)
    assert not a.ok and "DISAGREE" in a.lines()[-1]


def test_empty():
    a = audit([], [])
    assert a.ok and a.confirmed == 0 and a.run == ""


def test_orders_query_is_oldest_first_and_filtered():
    assert orders_query(None) == "orders/?ordering=datetime&page_size=50"
    assert orders_query(0) == "orders/?ordering=datetime&page_size=50&created_since=1970-01-01T00%3A00%3A00%2B00%3A00"


def test_trim_keeps_no_secrets():
    full = {"code": "ABC12", "email": "x@y", "status": "n", "datetime": "t", "secret": "s3cr3t",
            "positions": [{"item": 1, "secret": "t1cket", "canceled": False, "attendee_name": "A"}]}
    assert trim(full) == {"code": "ABC12", "email": "x@y", "status": "n", "datetime": "t",
                          "positions": [{"item": 1, "canceled": False}]}


def test_recorded_smoke_run():
    records = read_dir(FIX / "smoke")
    inputs = json.loads((FIX / "smoke" / "audit-input.json").read_text())
    a = audit_inputs(records, inputs)
    assert a.ok, a.lines()
    assert a.confirmed == a.found == 44 and not a.orphans and not a.duplicates
    assert a.quota.delta and a.quota.seen == {"paid": 0, "pending": 44}


def test_recorded_run_through_a_dropped_entry_point():
    """Purchases cut off by the fault (connection reset/refused) left no order; one abandoned cart holds a seat."""
    records = read_dir(FIX / "fault")
    a = audit_inputs(records, json.loads((FIX / "fault" / "audit-input.json").read_text()))
    assert a.ok, a.lines()
    assert (a.confirmed, a.found, a.orphans, a.foreign) == (33, 33, (), 0)
    assert sum(not r.ok for r in records) == 8
    assert a.quota.carts == 1 and "positions held in carts: 1" in a.lines()[-1]
