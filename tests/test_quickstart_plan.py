"""Unit tests for ops/shop/plan.py: the quickstart's decisions, on API answers captured from a seeded lab shop."""
import copy
import dataclasses
import json
from decimal import Decimal
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

from ops.shop.browser import is_stale
from ops.shop.plan import (CREATE, MANUAL_FIELDS, PATCH, UI, Change, ShopState, event_payload, observed, plan_all)
from ops.shop.seed import DateSpec, ProductSeed, load_seed

REPO = Path(__file__).resolve().parent.parent
API = Path(__file__).resolve().parent / "fixtures" / "api"
SEED = load_seed(REPO / "scripts" / "seed.yaml")
EV = "organizers/demo/events/conf/"


def answer(name: str):
    return json.loads((API / f"{name}.json").read_text())


def seeded(**fields) -> ShopState:
    """The lab shop as the default seed left it (GET answers), with fields replaced."""
    manual = {"enabled": True, **{k: getattr(SEED.manual_payment, k) for k in MANUAL_FIELDS}}
    state = ShopState(organizer=answer("organizer"), event=answer("event"), settings=answer("event_settings"),
                      categories=answer("categories")["results"], items=answer("items")["results"],
                      quotas=answer("quotas")["results"], questions=answer("questions")["results"], manual=manual)
    return dataclasses.replace(state, **fields)


def edited(name: str, index: int = 0, **fields) -> list:
    """The captured list `name` with fields of entry `index` replaced."""
    out = copy.deepcopy(answer(name)["results"])
    out[index].update(fields)
    return out


def event(**fields) -> dict:
    return {**answer("event"), **fields}


def seed_with(part: str, index: int | None = None, **fields):
    """The default seed with fields of seed.<part> (or seed.<part>[index]) replaced."""
    if index is None:
        return dataclasses.replace(SEED, **{part: dataclasses.replace(getattr(SEED, part), **fields)})
    entries = list(getattr(SEED, part))
    entries[index] = dataclasses.replace(entries[index], **fields)
    return dataclasses.replace(SEED, **{part: tuple(entries)})


def plus_product(**fields):
    return dataclasses.replace(SEED, products=SEED.products + (ProductSeed(**fields),))


def patch(target: str, what: str, **payload) -> Change:
    return Change(PATCH, EV + target, payload, f"updated {what}: {', '.join(sorted(payload))}")


REGULAR, STUDENT, QUOTA = "product 'Regular ticket'", "product 'Student ticket'", "quota 'Conference tickets'"
QUESTION = "question 'How did you hear about us?'"
LATE_BIRD = {"name": "Late bird", "default_price": "40.00", "category": None, "category_id": None, "admission": True}

ROWS = [
    # (id, seed, shop state, expected changes)
    ("seeded-shop-no-changes", SEED, seeded(), []),
    # products
    ("seed-price-changed", seed_with("products", 0, price=Decimal("30.00")), seeded(),
     [patch("items/1/", REGULAR, default_price="30.00")]),
    ("shop-price-changed", SEED, seeded(items=edited("items", 0, default_price="20.00")),
     [patch("items/1/", REGULAR, default_price="25.00")]),
    ("same-price-other-notation", SEED, seeded(items=edited("items", 0, default_price="25.0")), []),
    ("admission-active-description", seed_with("products", 1, admission=False, active=False, description="ID"),
     seeded(), [patch("items/2/", STUDENT, admission=False, active=False, description={"en": "ID"})]),
    ("product-out-of-its-category", seed_with("products", 0, category=None), seeded(),
     [patch("items/1/", REGULAR, category=None)]),
    ("shop-product-in-no-category", SEED, seeded(items=edited("items", 1, category=None)),
     [patch("items/2/", STUDENT, category=1)]),
    ("missing-product-created", plus_product(name="Late bird", price=Decimal("40.00")), seeded(),
     [Change(CREATE, "product", LATE_BIRD, "created product 'Late bird' at 40.00 EUR")]),
    ("missing-product-created-in-category",
     plus_product(name="Late bird", price=Decimal("40.00"), category="Tickets"), seeded(),
     [Change(CREATE, "product", {**LATE_BIRD, "category": "Tickets", "category_id": 1},
             "created product 'Late bird' at 40.00 EUR")]),
    ("missing-category-created-product-left-alone", seed_with("products", 0, category="VIP"), seeded(),
     [Change(CREATE, "category", {"name": "VIP"}, "created product category 'VIP'")]),
    # quotas
    ("quota-size-differs", seed_with("quotas", 0, size=500), seeded(), [patch("quotas/1/", QUOTA, size=500)]),
    ("quota-unlimited", seed_with("quotas", 0, size=None), seeded(), [patch("quotas/1/", QUOTA, size=None)]),
    ("quota-items-differ", SEED, seeded(quotas=edited("quotas", 0, items=[2])),
     [patch("quotas/1/", QUOTA, items=[1, 2])]),
    ("quota-items-in-other-order", SEED, seeded(quotas=edited("quotas", 0, items=[2, 1])), []),
    ("quota-missing-created", SEED, seeded(quotas=[]),
     [Change(CREATE, "quota", {"name": "Conference tickets", "size": 10000, "items": [1, 2]},
             "created quota 'Conference tickets' (10000)")]),
    # questions
    ("question-required-differs", seed_with("questions", 0, required=False), seeded(),
     [patch("questions/1/", QUESTION, required=False)]),
    ("question-type-differs", seed_with("questions", 0, type="multiline"), seeded(),
     [patch("questions/1/", QUESTION, type="T")]),
    ("question-becomes-choice", seed_with("questions", 0, type="choice", options=("Friends", "Web")), seeded(),
     [patch("questions/1/", QUESTION, type="C", options=[{"answer": {"en": "Friends"}}, {"answer": {"en": "Web"}}])]),
    ("question-options-differ", seed_with("questions", 0, type="choice", options=("Friends", "Web")),
     seeded(questions=edited("questions", 0, type="C", options=[{"id": 1, "answer": {"en": "Friends"}}])),
     [patch("questions/1/", QUESTION, options=[{"answer": {"en": "Friends"}}, {"answer": {"en": "Web"}}])]),
    ("question-identifier-differs", seed_with("questions", 0, identifier="SOURCE"), seeded(),
     [patch("questions/1/", QUESTION, identifier="SOURCE")]),
    ("question-identifier-not-in-seed", seed_with("questions", 0, identifier=None), seeded(), []),
    ("question-for-one-product", seed_with("questions", 0, products=("Student ticket",)), seeded(),
     [patch("questions/1/", QUESTION, items=[2])]),
    ("question-for-all-products", SEED, seeded(questions=edited("questions", 0, items=[1])),
     [patch("questions/1/", QUESTION, items=[1, 2])]),
    ("question-missing-created", SEED, seeded(questions=[]),
     [Change(CREATE, "question", {"question": "How did you hear about us?", "type": "S", "required": True,
                                  "identifier": "HEARD", "items": [1, 2], "options": []},
             "created question 'How did you hear about us?' (text, required)")]),
    # event
    ("event-name-differs", seed_with("event", name="Cluster Con"), seeded(),
     [Change(PATCH, EV, {"name": {"en": "Cluster Con"}}, "updated event conf: name")]),
    ("event-currency-differs", seed_with("event", currency="USD"), seeded(),
     [Change(PATCH, EV, {"currency": "USD"}, "updated event conf: currency")]),
    ("event-location-differs", seed_with("event", location="Porto"), seeded(),
     [Change(PATCH, EV, {"location": {"en": "Porto"}}, "updated event conf: location")]),
    ("event-location-removed", seed_with("event", location=None), seeded(),
     [Change(PATCH, EV, {"location": None}, "updated event conf: location")]),
    ("event-timezone-differs", seed_with("event", timezone="UTC"), seeded(),
     [Change(PATCH, EV, {"timezone": "UTC"}, "updated event conf: timezone")]),
    ("absolute-date-as-in-shop", seed_with("event", date_from=DateSpec("2026-12-09 09:00")), seeded(), []),
    ("absolute-dates-differ", seed_with("event", date_from=DateSpec("2026-12-10 09:00"),
                                        presale_end=DateSpec("2026-07-01 12:00")), seeded(),
     [Change(PATCH, EV, {"date_from": "2026-12-10T09:00:00+00:00", "presale_end": "2026-07-01T12:00:00+01:00"},
             "updated event conf: date_from, presale_end")]),
    ("relative-dates-never-patched", seed_with("event", date_from=DateSpec("+30d 09:00"),
                                               presale_end=DateSpec("+1d")), seeded(), []),
    ("event-without-end-date", SEED, seeded(event=event(date_to=None)), []),
    ("settings-locale-differs", SEED, seeded(settings={**answer("event_settings"), "locale": "de", "locales": ["de"]}),
     [Change(PATCH, EV + "settings/", {"locale": "en", "locales": ["de", "en"]},
             "updated event conf settings: locale, locales")]),
    # payment
    ("payment-plugin-missing", SEED, seeded(event=event(plugins=["pretix.plugins.sendmail"])),
     [Change(UI, "plugin", {"plugin": "pretix.plugins.manualpayment"},
             "enabled plugin pretix.plugins.manualpayment")]),
    ("manual-payment-off", SEED, seeded(manual={**seeded().manual, "enabled": False}),
     [Change(UI, "manual_payment", {"enabled": True}, "manual payment provider: enabled")]),
    ("manual-payment-text-differs", SEED, seeded(manual={**seeded().manual, "public_name": "Wire"}),
     [Change(UI, "manual_payment", {"public_name": "Bank transfer"}, "manual payment provider: public_name")]),
    ("manual-payment-not-wanted", seed_with("manual_payment", enabled=False),
     seeded(event=event(plugins=[])),
     [Change(UI, "manual_payment", {"enabled": False}, "manual payment provider: disabled")]),
    ("manual-payment-form-not-read", SEED, seeded(manual=None), []),
    # live and test mode
    ("testmode-on", SEED, seeded(event=event(testmode=True)),
     [Change(UI, "testmode", {"testmode": False}, "left test mode")]),
    ("not-live", SEED, seeded(event=event(live=False)), [Change(UI, "live", {"live": True}, "shop is live")]),
    ("new-event-offline-in-testmode", SEED, seeded(event=event(live=False, testmode=True)),
     [Change(UI, "testmode", {"testmode": False}, "left test mode"),
      Change(UI, "live", {"live": True}, "shop is live")]),
    ("seed-offline", dataclasses.replace(SEED, live=False), seeded(),
     [Change(UI, "live", {"live": False}, "shop taken offline")]),
    ("seed-offline-keeps-testmode", dataclasses.replace(SEED, live=False),
     seeded(event=event(live=False, testmode=True)), []),
    # organizer
    ("organizer-renamed", SEED, seeded(organizer={**answer("organizer"), "name": "Demo"}),
     [Change(UI, "organizer", {"name": "Pretix Cluster Demo"},
             "renamed organizer demo: 'Demo' -> 'Pretix Cluster Demo'")]),
]


@pytest.mark.parametrize("seed, state, expected", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_plan(seed, state, expected):
    assert plan_all(seed, state) == expected


def apply_patches(state: ShopState, changes: list[Change]) -> ShopState:
    """What the API would hold after the PATCHes (the driver's job, done on plain dicts)."""
    s = copy.deepcopy(state)
    for c in changes:
        path = c.target.removeprefix(EV)
        if path == "":
            s.event.update(c.payload)
        elif path == "settings/":
            s.settings.update(c.payload)
        else:
            kind, oid = path.strip("/").split("/")
            next(o for o in getattr(s, kind) if o["id"] == int(oid)).update(c.payload)
    return s


PATCH_ROWS = [r for r in ROWS if r[3] and all(c.kind == PATCH for c in r[3])]


@pytest.mark.parametrize("seed, state, expected", [r[1:] for r in PATCH_ROWS], ids=[r[0] for r in PATCH_ROWS])
def test_verification_is_clean_after_the_patches(seed, state, expected):
    # verification is the same plans on the fresh state: once the PATCHes landed nothing is left to do
    assert plan_all(seed, apply_patches(state, plan_all(seed, state))) == []


def test_empty_shop_plans_every_creation_in_step_order():
    planned = [(c.kind, c.target) for c in plan_all(SEED, ShopState())]
    assert planned == [(CREATE, "organizer"), (CREATE, "event"), (CREATE, "category"), (CREATE, "product"),
                       (CREATE, "product"), (CREATE, "quota"), (CREATE, "question")]


def test_missing_event_is_created_with_dates_as_written():
    [change] = [c for c in plan_all(SEED, seeded(event=None)) if c.target == "event"]
    assert change.kind == CREATE and change.reason == "created event conf (Cluster Conference)"
    assert change.payload == event_payload(SEED)
    assert change.payload["dates"] == {"date_from": "+10d 09:00", "date_to": "+10d 18:00",
                                       "presale_start": "now", "presale_end": "+7d 23:59"}
    assert change.payload["tax_rate"] is None and change.payload["organizer"] == "demo"


def test_plans_leave_the_state_alone():
    state = seeded(items=edited("items", 0, default_price="1.00"), quotas=[])
    before = copy.deepcopy(state)
    plan_all(seed_with("event", name="Other"), state)
    assert state == before


def test_observed_is_what_the_summary_shows():
    assert observed(SEED, seeded()) == {
        "live": True, "testmode": False, "products": {"Regular ticket": "25.00", "Student ticket": "12.50"},
        "quotas": {"Conference tickets": 10000}, "manual_payment": True}
    assert observed(SEED, seeded(manual=None))["manual_payment"] is False


INSPECTOR = ('unknown error: unhandled inspector error: {"code":-32000,"message":"Node with given id does not '
             'belong to the document"}')


@pytest.mark.parametrize("exc, stale", [
    (WebDriverException(INSPECTOR), True),
    (StaleElementReferenceException("stale element reference: element is not attached"), True),
    (WebDriverException("unknown error: net::ERR_CONNECTION_REFUSED"), False),
    (ValueError("the form was rejected"), False),
], ids=["chromium-156-inspector-error", "stale-element", "other-webdriver-error", "not-selenium"])
def test_browser_retries_only_re_rendered_elements(exc, stale):
    assert is_stale(exc) is stale
