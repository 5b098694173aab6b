"""Audit of a run against the REST API: confirmed orders lost (loud), duplicates, orphans, quota agreement."""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode

from ..core.errors import ApiError
from ..shop.api import Api, event_path
from .apiorder import run_of_email
from .options import email_safe
from .records import Record

LIVE = {"n": "pending", "p": "paid"}        # the statuses a quota counts (positions of such orders)
SINCE_MARGIN_S = 60.0                      # list orders from a bit before the run: clocks of nodes may differ


@dataclass(frozen=True)
class QuotaCheck:
    quota: int
    expected: dict              # {"paid": n, "pending": n} positions of the listed orders in this quota
    seen: dict                  # the same from quotas/<id>/availability/ (after - before when `delta`)
    delta: bool                 # compared as changes over the run (a snapshot before it was given)
    carts: int = 0              # positions still held in carts (abandoned by failed buyers; they expire)

    @property
    def ok(self) -> bool:
        return self.expected == self.seen

    def line(self) -> str:
        how = "changes over the run" if self.delta else "totals"
        verdict = "agree" if self.ok else "DISAGREE"
        return (f"quota {self.quota} ({how}): paid {self.seen['paid']} / pending {self.seen['pending']} in the quota, "
                f"orders say {self.expected['paid']} / {self.expected['pending']}: {verdict}"
                + (f"; positions held in carts: {self.carts}" if self.carts else ""))


@dataclass(frozen=True)
class Audit:
    run: str
    confirmed: int                      # purchases the buyers saw confirmed (an order code)
    found: int                          # of those, orders the API lists
    lost: tuple = ()                    # confirmed codes the API does not have: the worst outcome
    duplicates: dict = field(default_factory=dict)   # buyer email -> its order codes (more than one)
    orphans: tuple = ()                 # this run's orders no buyer saw confirmed (timed out, killed, ...)
    orphans_failed: int = 0             # of those, orders of buyers that recorded a failure
    foreign: int = 0                    # listed orders of other buyers (not this run)
    statuses: dict = field(default_factory=dict)     # this run's orders by status
    quota: QuotaCheck | None = None

    @property
    def ok(self) -> bool:
        return not self.lost and not self.duplicates and (self.quota is None or self.quota.ok)

    def lines(self) -> list[str]:
        out = [f"audit of run {self.run}: {'OK' if self.ok else 'FAILED'}; {self.found} of {self.confirmed} "
               f"confirmed orders found in the API"]
        if self.lost:
            out.append(f"LOST: {len(self.lost)} confirmed orders are missing from the API: {', '.join(self.lost[:20])}")
        if self.duplicates:
            out.append(f"DUPLICATES: {len(self.duplicates)} buyers have more than one order: "
                       + "; ".join(f"{e}: {', '.join(c)}" for e, c in list(self.duplicates.items())[:10]))
        if self.orphans:
            out.append(f"orphans (not an error): {len(self.orphans)} orders no buyer saw confirmed, "
                       f"{self.orphans_failed} of buyers that recorded a failure: {', '.join(self.orphans[:20])}")
        if self.statuses:
            by_status = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))
            out.append(f"this run's orders by status: {by_status}")
        if self.foreign:
            out.append(f"{self.foreign} orders of other buyers in the same period (ignored)")
        if self.quota:
            out.append(self.quota.line())
        return out


def audit(records: list[Record], orders: list[dict], run: str | None = None,
          quota: QuotaCheck | None = None) -> Audit:
    """Compare what the buyers saw (records) with the orders the API lists for the run's period."""
    run = run if run is not None else (records[0].run if records else "")
    emails = {r.email.lower() for r in records}
    tag = email_safe(run)
    ours = [o for o in orders if (o.get("email") or "").lower() in emails or run_of_email(o.get("email")) == tag]
    codes = {o["code"] for o in ours}
    confirmed = [r.code for r in records if r.ok and r.code]
    by_email, spelled = defaultdict(list), {}
    for o in ours:
        key = (o.get("email") or "").lower()
        by_email[key].append(o["code"])
        spelled.setdefault(key, o.get("email") or "")
    failed_emails = {r.email.lower() for r in records if not r.ok}
    orphans = [o for o in ours if o["code"] not in set(confirmed)]
    return Audit(
        run=run, confirmed=len(confirmed), found=sum(c in codes for c in confirmed),
        lost=tuple(c for c in confirmed if c not in codes),
        duplicates={spelled[e]: tuple(c) for e, c in by_email.items() if len(c) > 1},
        orphans=tuple(o["code"] for o in orphans),
        orphans_failed=sum((o.get("email") or "").lower() in failed_emails for o in orphans),
        foreign=len(orders) - len(ours), statuses=dict(Counter(o.get("status") for o in ours)), quota=quota)


def quota_positions(orders: list[dict], items: list[int]) -> dict:
    """Positions of pending/paid orders whose product is in the quota: what the quota must count."""
    count = {"paid": 0, "pending": 0}
    for o in orders:
        if o.get("status") in LIVE:
            count[LIVE[o["status"]]] += sum(p.get("item") in items and not p.get("canceled") for p in o["positions"])
    return count


def created_at(order: dict) -> float:
    return datetime.fromisoformat(order["datetime"]).timestamp()


def quota_check(orders: list[dict], quota: dict, availability: dict, before: dict | None = None) -> QuotaCheck:
    """The quota's counts against the orders. With `before` ({"at": epoch, "availability": answer}, see
    snapshot_quota) as changes since then, counting the orders created since; else as totals, and `orders`
    must then be all of the event's."""
    seen = {"paid": availability["paid_orders"], "pending": availability["pending_orders"]}
    if before is not None:
        was = before["availability"]
        seen = {"paid": seen["paid"] - was["paid_orders"], "pending": seen["pending"] - was["pending_orders"]}
        orders = [o for o in orders if created_at(o) >= before["at"]]
    return QuotaCheck(quota=quota["id"], expected=quota_positions(orders, quota["items"]), seen=seen,
                      delta=before is not None, carts=availability.get("cart_positions", 0))


def orders_query(since: float | None) -> str:
    """orders/ listing, oldest first (new orders append to the last page while we page), created since `since`."""
    q = {"ordering": "datetime", "page_size": 50}
    if since is not None:
        q["created_since"] = datetime.fromtimestamp(since, timezone.utc).isoformat()
    return "orders/?" + urlencode(q)


def fetch_orders(api: Api, organizer: str, event: str, since: float | None) -> list[dict]:
    """The event's orders created since `since` (epoch; None: all of them), every page."""
    return api.list(event_path(organizer, event) + orders_query(since))


def fetch_quota(api: Api, organizer: str, event: str, quota_id: int | None = None) -> tuple[dict, dict]:
    """(the quota, its availability answer): quota_id, or the event's first quota."""
    path = event_path(organizer, event) + "quotas/"
    quota = api.get(f"{path}{quota_id}/") if quota_id else next(iter(api.list(path)), None)
    if not quota:
        raise ApiError(f"event {organizer}/{event} has no quota {quota_id or ''}: check the seed (quotas)")
    return quota, api.get(f"{path}{quota['id']}/availability/")


def snapshot_quota(api: Api, organizer: str, event: str, clock=time.time) -> dict:
    """The quota's availability just before a run, for a quota check as changes over the run."""
    at = clock()
    return {"at": at, "availability": fetch_quota(api, organizer, event)[1]}


def trim(order: dict) -> dict:
    """The fields the audit reads (no secrets): to keep the inputs next to a run's results."""
    return {"code": order["code"], "email": order.get("email"), "status": order.get("status"),
            "datetime": order.get("datetime"),
            "positions": [{"item": p.get("item"), "canceled": p.get("canceled", False)} for p in order["positions"]]}


def fetch_inputs(api: Api, organizer: str, event: str, since: float, quota_before: dict | None = None) -> dict:
    """What the audit reads: orders created since the run's start (a margin earlier), the quota and its
    availability; all the event's orders too when there is no snapshot from before the run (slower)."""
    start = min(since, quota_before["at"]) if quota_before else since
    orders = [trim(o) for o in fetch_orders(api, organizer, event, start - SINCE_MARGIN_S)]
    quota, availability = fetch_quota(api, organizer, event)
    every = None if quota_before else [trim(o) for o in fetch_orders(api, organizer, event, None)]
    return {"orders": orders, "quota": {"id": quota["id"], "items": quota["items"]}, "availability": availability,
            "before": quota_before, "all_orders": every}


def audit_inputs(records: list[Record], inputs: dict, run: str | None = None) -> Audit:
    """The audit of records against fetched (or recorded) inputs."""
    every = inputs["orders"] if inputs.get("before") else inputs["all_orders"]
    check = quota_check(every, inputs["quota"], inputs["availability"], inputs.get("before"))
    return audit(records, inputs["orders"], run, check)


def fetch_audit(api: Api, organizer: str, event: str, records: list[Record], since: float,
                quota_before: dict | None = None, run: str | None = None) -> Audit:
    """Audit a run against the API (see fetch_inputs); the quota as changes when a snapshot_quota from before
    the run is given, else as totals."""
    return audit_inputs(records, fetch_inputs(api, organizer, event, since, quota_before), run)
