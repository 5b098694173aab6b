"""Quickstart UI for the event: wizard, product/quota/question forms, payment plugin and provider, live page."""
from __future__ import annotations

from .browser import Browser, named
from .plan import MANUAL_FIELDS
from .seed import DateSpec, Seed

MANUAL_ENABLED = 'input[name="payment_manual__enabled"]'
ANSWER_INPUTS = 'input[name^="form-"][name$="-answer_0"]'
# The category select is an AJAX select2: give it the option it would have fetched, then select it.
_PICK_CATEGORY = ("var s=arguments[0], id=String(arguments[1]), t=arguments[2];"
                  "if(!Array.from(s.options).some(o=>o.value===id)){s.appendChild(new Option(t,id,true,true));}"
                  "s.value=id; s.dispatchEvent(new Event('change',{bubbles:true}));"
                  "if(window.jQuery){jQuery(s).trigger('change');}")


def ctl_event(seed: Seed) -> str:
    return f"/control/event/{seed.organizer.slug}/{seed.event.slug}"


# ------------------------------------------------------------------------------------------ event wizard

def create_event(b: Browser, seed: Seed, ev: dict) -> None:
    """The event wizard: foundation (organizer, languages), basics, and no copy from another event."""
    b.go(f"/control/events/add?organizer={ev['organizer']}")
    _wizard_foundation(b, ev)
    _wizard_basics(b, ev)
    if b.all(named("copy-copy_from_event")):  # only when the organizer already has events: copy nothing
        if b.all('input[name="copy-copy_from_event"][value=""]'):
            b.click('input[name="copy-copy_from_event"][value=""]')
        b.submit(named("copy-copy_from_event"))
    b.wait(lambda d: b.path().startswith(ctl_event(seed) + "/"), "the new event's page")


def _wizard_foundation(b: Browser, ev: dict) -> None:
    b.el(named("foundation-organizer"))
    chosen = b.js("var s=document.querySelector('[name=\"foundation-organizer\"]');"
                  "return s.options[s.selectedIndex] ? s.options[s.selectedIndex].text : ''")
    if not (chosen or "").strip():
        raise LookupError(f"organizer {ev['organizer']} is not preselected in the event wizard")
    offered = b.attrs('input[name="foundation-locales"]', "value")
    if ev["locale"] not in offered:
        raise LookupError(f"event.locale {ev['locale']!r} is not offered by this pretix (offered: "
                          f"{', '.join(offered)}): pick one of those in the seed file")
    for locale in offered:
        b.check("foundation-locales", locale == ev["locale"], value=locale)
    if b.all('input[name="foundation-has_subevents"][value=""]'):
        b.check("foundation-has_subevents", True, value="")  # a single event, not a series
    b.submit(named("foundation-organizer"))


def _wizard_basics(b: Browser, ev: dict) -> None:
    b.el(named("basics-slug"))
    b.fill_i18n("basics-name", ev["name"])
    b.fill("basics-slug", ev["slug"])
    for key, raw in ev["dates"].items():
        if not b.all(named(f"basics-{key}_0")):
            continue
        when = DateSpec(raw).resolve(ev["timezone"])  # relative dates count from now, the creation
        b.set_value(f"basics-{key}_0", when.strftime("%Y-%m-%d"))
        b.set_value(f"basics-{key}_1", when.strftime("%H:%M"))
    if ev["location"]:
        b.fill_i18n("basics-location", ev["location"])
    b.select("basics-currency", ev["currency"])
    b.check("basics-no_taxes", ev["tax_rate"] is None)
    if ev["tax_rate"] is not None:
        b.fill("basics-tax_rate", ev["tax_rate"])
    b.select("basics-locale", ev["locale"])
    b.select("basics-timezone", ev["timezone"])
    b.submit(named("basics-slug"))


# ------------------------------------------------------------------------------------------ catalogue

def create_category(b: Browser, seed: Seed, c: dict) -> None:
    b.save_i18n(f"{ctl_event(seed)}/categories/add", "name", c["name"])


def create_product(b: Browser, seed: Seed, p: dict) -> None:
    """Name, price, category and admission; the rest (active, description) is PATCHed afterwards."""
    b.go(f"{ctl_event(seed)}/items/add")
    b.fill_i18n("name", p["name"])
    b.fill("default_price", p["default_price"])
    if p["category_id"] is not None:
        b.retry(lambda: b.js(_PICK_CATEGORY, b.el(named("category")), p["category_id"], p["category"]),
                "pick the category")
    if b.all('input[name="admission"][type=radio]'):  # radios: value "on" = admission ticket
        b.check("admission", True, value="on" if p["admission"] else "")
    elif b.all(named("admission")):
        b.check("admission", p["admission"])
    if b.all('input[name="quota_option"][value="none"]'):  # quotas are managed in their own step
        b.check("quota_option", True, value="none")
    b.submit(named(b.first_i18n("name")))


def create_quota(b: Browser, seed: Seed, q: dict) -> None:
    b.go(f"{ctl_event(seed)}/quotas/add")
    b.fill("name", q["name"])
    b.fill("size", "" if q["size"] is None else str(q["size"]))
    for iid in q["items"]:
        if not b.all(f'input[name="itemvars"][value="{iid}"]'):
            raise LookupError(f"no checkbox for product id {iid} on the quota form")
        b.check("itemvars", True, value=str(iid))
    b.submit(named("size"))


def create_question(b: Browser, seed: Seed, q: dict) -> None:
    b.go(f"{ctl_event(seed)}/questions/add")
    b.fill_i18n("question", q["question"])
    b.select("type", q["type"])
    b.check("required", q["required"])
    if q["identifier"] and b.all(named("identifier")):
        b.fill("identifier", q["identifier"])
    for iid in q["items"]:
        b.check("items", True, value=str(iid))
    for idx, text in enumerate(q["options"]):
        b.fill(_answer_row(b, idx), text)
    b.submit(named(b.first_i18n("question")))


def _answer_row(b: Browser, idx: int) -> str:
    """The name of answer option input number idx, adding rows to the formset as needed."""
    if len(b.all(ANSWER_INPUTS)) <= idx:
        if not b.all("[data-formset-add]"):
            raise LookupError("no 'add answer option' button on the question form")
        b.click("[data-formset-add]")
        b.wait(lambda d: len(b.all(ANSWER_INPUTS)) > idx, "a new answer option row", 5)
    return b.attrs(ANSWER_INPUTS, "name")[idx]


# ------------------------------------------------------------------------------------------ payment

def enable_plugin(b: Browser, seed: Seed, payload: dict) -> None:
    plugin = payload["plugin"]
    b.go(f"{ctl_event(seed)}/settings/plugins")
    button = f'button[name="plugin:{plugin}"][value="enable"]'
    if not b.all(button):
        raise LookupError(f"no 'enable' button for plugin {plugin} (is it installed in the pretix image?)")
    b.submit(button=button)


def read_manual_payment(b: Browser, seed: Seed) -> dict | None:
    """The manual payment provider form (the REST API has no view of it); None when the page is missing."""
    b.go(f"{ctl_event(seed)}/settings/payment/manual")
    if b.is_not_found():
        return None
    out: dict = {"enabled": b.is_checked(MANUAL_ENABLED)}
    out.update({k: b.i18n_value(f"payment_manual_{k}") for k in MANUAL_FIELDS})
    return out


def set_manual_payment(b: Browser, seed: Seed, payload: dict) -> None:
    b.go(f"{ctl_event(seed)}/settings/payment/manual")
    if "enabled" in payload:
        b.check("payment_manual__enabled", payload["enabled"])
    for key in MANUAL_FIELDS:
        if key in payload:
            b.fill_i18n(f"payment_manual_{key}", payload[key])
    b.submit(MANUAL_ENABLED)


# ------------------------------------------------------------------------------------------ live page

def _live_form(name: str, value: str) -> str:
    """CSS of the control that makes a form on the live page post <name>=<value>."""
    return f'form input[name="{name}"][value="{value}"], form button[name="{name}"][value="{value}"]'


def leave_testmode(b: Browser, seed: Seed, payload: dict) -> None:
    b.go(f"{ctl_event(seed)}/live/")
    css = _live_form("testmode", "false")
    if not b.all(css):
        raise LookupError("no 'disable test mode' form on the live page")
    b.submit(css)  # keeps test orders ("delete" stays unchecked)


def set_live(b: Browser, seed: Seed, payload: dict) -> None:
    b.go(f"{ctl_event(seed)}/live/")
    css = _live_form("live", "true" if payload["live"] else "false")
    if not b.all(css):
        issues = "; ".join(b.texts(".alert-danger, .panel-body li"))[:300]
        raise LookupError(("cannot go live" if payload["live"] else "cannot go offline")
                          + (f": {issues}" if issues else ""))
    b.submit(css)
