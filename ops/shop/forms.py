"""The purchase journey's pure parsers: what a browser reads from each shop page and what it posts back.

Unit-tested on captured HTML in tests/fixtures/. The steps (platform facts, "The web purchase journey"):
event page (cart form, assets) -> cart/add (async JSON) -> checkout questions -> payment -> confirm (async
JSON) -> order page /<org>/<event>/order/<CODE>/<secret>/ saying "Thank you".
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import urljoin, urlsplit

from .html import Field, Form, parse_forms, parse_page


@dataclass
class CartForm:
    action: str                 # absolute URL of cart/add (with ?next=...)
    fields: dict[str, str]      # csrfmiddlewaretoken, subevent, ... (everything but the item inputs)
    items: dict[str, int]       # input name (item_<id> / variation_<id>_<vid>) -> max quantity (1 for checkbox)
    async_task: bool


def parse_cart_form(html: str, page_url: str) -> CartForm:
    """The event page's add-to-cart form: action, hidden fields, and the product inputs."""
    for f in parse_forms(html):
        names = f.names()
        if not any(re.match(r"^(item|variation)_\d+", n) for n in names):
            continue
        if "cart/add" not in f.action and "data-asynctask" not in f.attrs:
            continue
        fields, items = {}, {}
        for fl in f.fields:
            if re.match(r"^(item|variation)_\d+(_\d+)?$", fl.name):
                if fl.type == "checkbox":
                    items[fl.name] = 1
                else:
                    mx = fl.attrs.get("max") or ""
                    items[fl.name] = int(mx) if mx.isdigit() else (
                        max((int(v) for v, _, _ in fl.options if v.isdigit()), default=1) if fl.options else 1)
            elif fl.tag != "button" and fl.type not in ("checkbox", "radio") or fl.checked:
                if fl.tag != "button":
                    fields[fl.name] = fl.value
        return CartForm(action=urljoin(page_url, f.action or page_url), fields=fields, items=items,
                        async_task="data-asynctask" in f.attrs)
    raise ValueError("no add-to-cart form (with item_<id> inputs) on the event page")


def find_static_assets(html: str, page_url: str) -> list[str]:
    """Same-origin CSS/JS/image URLs a browser would load for this page (in page order, unique)."""
    origin = urlsplit(page_url).netloc
    out: list[str] = []
    for a in parse_page(html).assets:
        u = urljoin(page_url, a)
        if urlsplit(u).netloc == origin and urlsplit(u).scheme in ("http", "https") and u not in out:
            out.append(u)
    return out


@dataclass
class AsyncState:
    ready: bool
    success: bool | None
    redirect: str | None
    check_url: str | None
    message: str


def parse_async(data: dict[str, Any]) -> AsyncState:
    """Answer of an async (Celery) POST or of its check_url poll."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    return AsyncState(ready=bool(data.get("ready")), success=data.get("success"),
                      redirect=data.get("redirect"), check_url=data.get("check_url"),
                      message=str(data.get("message") or ""))


def main_post_form(html: str, must_have: Iterable[str] = ()) -> Form:
    """The page's main POST form: the one with a CSRF token and the most fields (optionally one having
    all names in must_have). Skips logout/search/language forms."""
    best = None
    for f in parse_forms(html):
        if f.method != "post" or "csrfmiddlewaretoken" not in f.names():
            continue
        if "/cart/" in f.action or f.attrs.get("id") == "cart-extend-form":
            continue  # the cart timer's "extend" form and cart edit forms are not the step's form
        if any(n not in f.names() for n in must_have):
            continue
        if best is None or len(f.fields) > len(best.fields):
            best = f
    if best is None:
        raise ValueError("no POST form" + (f" with {', '.join(must_have)}" if must_have else "") + " on the page")
    return best


def _answer_for(label: str, answers: dict[str, str]) -> str | None:
    """The answer given for the question whose label contains a key of `answers` (not "*")."""
    low = label.lower()
    for q, ans in answers.items():
        key = q.lower().strip(" ?*")
        if key and key in low:
            return ans
    return None


def _fill_value(fl: Field, label: str, email: str, answers: dict[str, str], n: int) -> str | None:
    """A value for an empty visible field, or None to leave it empty."""
    name = fl.name
    ans = _answer_for(label, answers)
    if ans is not None:
        return ans
    if name in ("email", "email_repeat") or name.endswith("-attendee_email") or (fl.required and fl.type == "email"):
        return email
    if "attendee_name_parts" in name or (fl.required and re.search(r"name_parts_\d+$", name)):
        if name.endswith("_0"):  # first part: title/given name depending on scheme
            return "Load"
        return f"Tester {n}"
    if re.search(r"-question_\d+", name) or fl.required:
        if fl.type == "number":
            return "1"
        if fl.type == "date":
            return time.strftime("%Y-%m-%d")
        if fl.type == "tel":
            return "+351210000000"
        return answers.get("*", "Load test")
    return None


def questions_form_data(html: str, email: str, answers: dict[str, str] | None = None,
                        n: int = 1) -> tuple[str, list[tuple[str, str]]]:
    """(action, data) for the checkout questions step: every field of the main form, with email,
    attendee names, and answers (`answers` maps question label text -> answer; "*" = any other
    question) filled in. Required checkboxes are checked; selects/radios keep their choice or take the
    first real option."""
    answers = answers or {}
    page = parse_page(html)
    form = main_post_form(html, must_have=("email",))
    data: list[tuple[str, str]] = []
    radios_done: set[str] = set()
    for fl in form.fields:
        label = page.labels.get(fl.id, "")
        if fl.tag == "button" or fl.type in ("submit", "button", "reset", "file", "image"):
            continue
        if fl.type == "checkbox":
            if fl.checked or fl.required:
                data.append((fl.name, fl.value or "on"))
            continue
        if fl.type == "radio":
            if fl.name in radios_done:
                continue
            group = [x for x in form.fields if x.name == fl.name and x.type == "radio"]
            chosen = next((x for x in group if x.checked), None)
            wanted = _answer_for(page.labels.get(fl.id, ""), answers)
            if wanted is not None:
                chosen = next((x for x in group if wanted.lower() in (page.labels.get(x.id, "").lower(),
                                                                     x.value.lower())), chosen)
            chosen = chosen or group[0]
            data.append((fl.name, chosen.value))
            radios_done.add(fl.name)
            continue
        if fl.tag == "select":
            sel = [v for v, _, s in fl.options if s and v]
            wanted = _answer_for(label, answers)
            if wanted is not None:  # a seed answer: pick the option with that text (or value)
                sel = [v for v, t, _ in fl.options if v and wanted.lower() in (t.lower(), v.lower())] or sel
            if not sel and (fl.required or re.search(r"-question_\d+", fl.name)):
                sel = [next((v for v, _, _ in fl.options if v), "")]
            for v in sel[:1] if fl.type == "select-one" else sel:
                data.append((fl.name, v))
            if not sel and fl.type == "select-one":
                data.append((fl.name, ""))
            continue
        value = fl.value
        if not value.strip() and fl.type != "hidden":
            value = _fill_value(fl, label, email, answers, n) or ""
        data.append((fl.name, value))
    return form.action, data


def payment_form_data(html: str, provider: str = "manual") -> tuple[str, list[tuple[str, str]]]:
    """(action, data) for the payment step choosing `provider`."""
    form = main_post_form(html, must_have=("payment",))
    choices = [f.value for f in form.fields if f.name == "payment"]
    if provider not in choices:
        raise ValueError(f"payment provider {provider!r} not offered (offered: {', '.join(choices) or 'none'})")
    data = [(f.name, f.value) for f in form.fields
            if f.name != "payment" and f.tag != "button" and f.type not in ("checkbox", "radio", "submit")]
    data += [(f.name, f.value) for f in form.fields if f.type in ("checkbox", "radio") and f.checked
             and f.name != "payment"]
    data.append(("payment", provider))
    return form.action, data


def confirm_form_data(html: str) -> tuple[str, list[tuple[str, str]]]:
    """(action, data) for the confirm step: all fields, required checkboxes (terms) checked, ajax=1."""
    form = main_post_form(html)
    data = []
    for f in form.fields:
        if f.tag == "button" or f.type in ("submit", "button"):
            continue
        if f.type in ("checkbox", "radio"):
            if f.checked or f.required:
                data.append((f.name, f.value or "on"))
            continue
        data.append((f.name, f.value))
    data.append(("ajax", "1"))
    return form.action, data


_ORDER_RE = re.compile(r"/order/([A-Z0-9]+)/([A-Za-z0-9]+)/")


def parse_order_url(url: str) -> tuple[str, str]:
    """(code, secret) from an order page URL, e.g. /demo/conf/order/ABC12/s3cr3t/?thanks=1."""
    m = _ORDER_RE.search(urlsplit(url).path + "/")
    if not m:
        raise ValueError(f"not an order URL: {url}")
    return m.group(1), m.group(2)


def order_page_ok(html: str) -> bool:
    return "Thank you" in html
