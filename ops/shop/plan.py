"""Pure quickstart decisions: from the seed and the shop's current state (API JSON) to the changes to make."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from .api import event_path, i18n
from .seed import ProductSeed, QuestionSeed, QuotaSeed, Seed

CREATE = "create"  # a new object: only the admin UI can make it (or is the way a person would)
PATCH = "patch"  # an existing object: REST PATCH of payload to the API path in target
UI = "ui"  # an existing object changed through its admin page (plugin, payment provider, test mode, live)
MANUAL_PLUGIN = "pretix.plugins.manualpayment"
MANUAL_FIELDS = ("public_name", "checkout_description", "email_instructions", "pending_description")
EVENT_DATES = ("date_from", "date_to", "presale_start", "presale_end")


@dataclass(frozen=True)
class Change:
    """One change to make: kind CREATE/UI (target = what, e.g. "product") or PATCH (target = API path)."""

    kind: str
    target: str
    payload: dict
    reason: str


@dataclass(frozen=True)
class ShopState:
    """What the shop holds now: API answers (results of lists), plus the UI-only manual payment form."""

    organizer: dict | None = None
    event: dict | None = None
    settings: dict = field(default_factory=dict)
    categories: list = field(default_factory=list)
    items: list = field(default_factory=list)
    quotas: list = field(default_factory=list)
    questions: list = field(default_factory=list)
    manual: dict | None = None  # {"enabled": bool, <MANUAL_FIELDS>: str}; None: not read (the API cannot see it)


def _by_name(objects: list, key: str, locale: str) -> dict[str, dict]:
    return {i18n(o.get(key), locale): o for o in objects}


def _patch(target: str, payload: dict, what: str) -> list[Change]:
    """No change for an empty payload; else one PATCH whose reason names the fields."""
    if not payload:
        return []
    return [Change(PATCH, target, payload, f"updated {what}: {', '.join(sorted(payload))}")]


def _create_or_patch(seed: Seed, cur: dict | None, collection: str, what: str,
                     fields: Callable[[dict], dict], create: Change) -> list[Change]:
    """`create` when the shop lacks the object, else the PATCH of its fields that differ from the seed."""
    if cur is None:
        return [create]
    return _patch(_ev(seed) + f"{collection}/{cur['id']}/", fields(cur), what)


# ------------------------------------------------------------------------------------------ organizer

def plan_organizer(seed: Seed, state: ShopState) -> list[Change]:
    o = seed.organizer
    if state.organizer is None:
        return [Change(CREATE, "organizer", {"name": o.name, "slug": o.slug},
                       f"created organizer {o.slug} ({o.name})")]
    have = i18n(state.organizer.get("name"), seed.event.locale)
    if have == o.name:
        return []
    return [Change(UI, "organizer", {"name": o.name}, f"renamed organizer {o.slug}: {have!r} -> {o.name!r}")]


# ------------------------------------------------------------------------------------------ event

def plan_event(seed: Seed, state: ShopState) -> list[Change]:
    ev, base = seed.event, event_path(seed.organizer.slug, seed.event.slug)
    if state.event is None:
        return [Change(CREATE, "event", event_payload(seed), f"created event {ev.slug} ({ev.name})")]
    return (_patch(base, _event_fields(seed, state.event), f"event {ev.slug}")
            + _patch(base + "settings/", _settings_fields(seed, state.settings), f"event {ev.slug} settings"))


def event_payload(seed: Seed) -> dict:
    """What the event wizard needs; dates stay as written (relative ones resolve when the form is filled)."""
    ev = seed.event
    dates = {k: getattr(ev, k).raw for k in EVENT_DATES if getattr(ev, k) is not None}
    return {"organizer": seed.organizer.slug, "name": ev.name, "slug": ev.slug, "currency": ev.currency,
            "locale": ev.locale, "timezone": ev.timezone, "location": ev.location,
            "tax_rate": None if ev.tax_rate is None else str(ev.tax_rate), "dates": dates}


def _event_fields(seed: Seed, cur: dict) -> dict[str, Any]:
    ev, out = seed.event, {}
    if i18n(cur.get("name"), ev.locale) != ev.name:
        out["name"] = {ev.locale: ev.name}
    if cur.get("currency") != ev.currency:
        out["currency"] = ev.currency
    if (ev.location or "") != i18n(cur.get("location"), ev.locale):
        out["location"] = {ev.locale: ev.location} if ev.location else None
    if cur.get("timezone") and cur["timezone"] != ev.timezone:
        out["timezone"] = ev.timezone
    for key in EVENT_DATES:
        spec = getattr(ev, key)
        if spec is None or spec.is_relative:
            continue  # relative dates apply at creation only: a re-run must not move the event
        want = spec.resolve(ev.timezone)
        if not cur.get(key) or dt.datetime.fromisoformat(cur[key]) != want:
            out[key] = want.isoformat()
    return out


def _settings_fields(seed: Seed, settings: dict) -> dict[str, Any]:
    loc, out = seed.event.locale, {}
    if settings.get("locale") != loc:
        out["locale"] = loc
    if loc not in (settings.get("locales") or []):
        out["locales"] = sorted(set(settings.get("locales") or []) | {loc})
    return out


# ------------------------------------------------------------------------------------------ catalogue

def plan_categories(seed: Seed, state: ShopState) -> list[Change]:
    have = _by_name(state.categories, "name", seed.event.locale)
    return [Change(CREATE, "category", {"name": name}, f"created product category {name!r}")
            for name in seed.categories if name not in have]


def plan_products(seed: Seed, state: ShopState) -> list[Change]:
    loc = seed.event.locale
    cats = {n: c["id"] for n, c in _by_name(state.categories, "name", loc).items()}
    items = _by_name(state.items, "name", loc)
    return [c for p in seed.products for c in _create_or_patch(
        seed, items.get(p.name), "items", f"product {p.name!r}", lambda cur: _product_fields(p, cur, cats, loc),
        Change(CREATE, "product", _product_payload(p, cats.get(p.category)),
               f"created product {p.name!r} at {p.price} {seed.event.currency}"))]


def _product_payload(p: ProductSeed, category_id: int | None) -> dict:
    return {"name": p.name, "default_price": f"{p.price:.2f}", "category": p.category,
            "category_id": category_id, "admission": p.admission}


def _product_fields(p: ProductSeed, cur: dict, cats: dict[str, int], loc: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if Decimal(cur["default_price"]) != p.price:
        out["default_price"] = f"{p.price:.2f}"
    # a category the shop lacks is plan_categories' finding, not a reason to clear the product's
    if (not p.category or p.category in cats) and cur.get("category") != cats.get(p.category):
        out["category"] = cats.get(p.category)
    if bool(cur.get("admission")) != p.admission:
        out["admission"] = p.admission
    if bool(cur.get("active")) != p.active:
        out["active"] = p.active
    if p.description is not None and i18n(cur.get("description"), loc) != p.description:
        out["description"] = {loc: p.description}
    return out


def _item_ids(names: tuple[str, ...], items: dict[str, dict]) -> list[int]:
    """Ids of the named products the shop has (a missing one is plan_products' finding)."""
    return sorted(items[n]["id"] for n in names if n in items)


def plan_quotas(seed: Seed, state: ShopState) -> list[Change]:
    items = _by_name(state.items, "name", seed.event.locale)
    have = {q["name"]: q for q in state.quotas}
    out: list[Change] = []
    for q in seed.quotas:
        ids = _item_ids(q.products, items)
        out += _create_or_patch(
            seed, have.get(q.name), "quotas", f"quota {q.name!r}", lambda cur: _quota_fields(q, cur, ids),
            Change(CREATE, "quota", {"name": q.name, "size": q.size, "items": ids},
                   f"created quota {q.name!r} ({'unlimited' if q.size is None else q.size})"))
    return out


def _quota_fields(q: QuotaSeed, cur: dict, ids: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if cur.get("size") != q.size:
        out["size"] = q.size
    if sorted(cur.get("items") or []) != ids:
        out["items"] = ids
    return out


def plan_questions(seed: Seed, state: ShopState) -> list[Change]:
    loc = seed.event.locale
    items = _by_name(state.items, "name", loc)
    have = _by_name(state.questions, "question", loc)
    out: list[Change] = []
    for q in seed.questions:
        ids = _item_ids(q.products, items) if q.products else sorted(i["id"] for i in state.items)
        out += _create_or_patch(
            seed, have.get(q.question), "questions", f"question {q.question!r}",
            lambda cur: _question_fields(q, cur, ids, loc),
            Change(CREATE, "question", _question_payload(q, ids),
                   f"created question {q.question!r} ({q.type}, {'required' if q.required else 'optional'})"))
    return out


def _question_payload(q: QuestionSeed, ids: list[int]) -> dict:
    return {"question": q.question, "type": q.type_code, "required": q.required, "identifier": q.identifier,
            "items": ids, "options": list(q.options)}


def _question_fields(q: QuestionSeed, cur: dict, ids: list[int], loc: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if cur.get("type") != q.type_code:
        out["type"] = q.type_code
    if bool(cur.get("required")) != q.required:
        out["required"] = q.required
    if sorted(cur.get("items") or []) != ids:
        out["items"] = ids
    if q.identifier and cur.get("identifier") != q.identifier:
        out["identifier"] = q.identifier
    if q.options and [i18n(o.get("answer"), loc) for o in cur.get("options") or []] != list(q.options):
        out["options"] = [{"answer": {loc: o}} for o in q.options]
    return out


def _ev(seed: Seed) -> str:
    return event_path(seed.organizer.slug, seed.event.slug)


# ------------------------------------------------------------------------------------------ payment, live

def plan_payment_plugin(seed: Seed, state: ShopState) -> list[Change]:
    ev = state.event
    if ev is None or not seed.manual_payment.enabled or MANUAL_PLUGIN in (ev.get("plugins") or []):
        return []
    return [Change(UI, "plugin", {"plugin": MANUAL_PLUGIN}, f"enabled plugin {MANUAL_PLUGIN}")]


def plan_manual_payment(seed: Seed, state: ShopState) -> list[Change]:
    """The provider form's fields that differ (state.manual None: not read, nothing to say)."""
    m, cur = seed.manual_payment, state.manual
    if cur is None:
        return []
    payload: dict[str, Any] = {}
    if bool(cur.get("enabled")) != m.enabled:
        payload["enabled"] = m.enabled
    payload.update({k: getattr(m, k) for k in MANUAL_FIELDS if (cur.get(k) or "") != getattr(m, k)})
    if not payload:
        return []
    what = ["enabled" if payload.get("enabled") else "disabled"] if "enabled" in payload else []
    what += [k for k in MANUAL_FIELDS if k in payload]
    return [Change(UI, "manual_payment", payload, f"manual payment provider: {', '.join(what)}")]


def plan_live(seed: Seed, state: ShopState) -> list[Change]:
    ev = state.event
    if ev is None:
        return []
    out = []
    if seed.live and ev.get("testmode"):
        out.append(Change(UI, "testmode", {"testmode": False}, "left test mode"))
    if bool(ev.get("live")) != seed.live:
        out.append(Change(UI, "live", {"live": seed.live}, "shop is live" if seed.live else "shop taken offline"))
    return out


Planner = Callable[[Seed, ShopState], list[Change]]
PLANS: tuple[Planner, ...] = (plan_organizer, plan_event, plan_categories, plan_products, plan_quotas,
                              plan_questions, plan_payment_plugin, plan_manual_payment, plan_live)


def plan_all(seed: Seed, state: ShopState) -> list[Change]:
    """Every change still to make; after a good run this is empty (verification is this, nothing else)."""
    return [c for plan in PLANS for c in plan(seed, state)]


def observed(seed: Seed, state: ShopState) -> dict[str, Any]:
    """The few facts the summary shows (live, test mode, prices, quota sizes, manual payment)."""
    ev, loc = state.event or {}, seed.event.locale
    manual_on = bool((state.manual or {}).get("enabled")) and MANUAL_PLUGIN in (ev.get("plugins") or [])
    return {"live": ev.get("live"), "testmode": ev.get("testmode"),
            "products": {i18n(i["name"], loc): str(i["default_price"]) for i in state.items},
            "quotas": {q["name"]: q["size"] for q in state.quotas}, "manual_payment": manual_on}
