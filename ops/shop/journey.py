#!/usr/bin/env python3
"""Buy one pretix ticket the way a browser does (no REST API), for load tests and smoke checks.

The journey (see platform facts, "The web purchase journey"):
  1. GET /<org>/<event>/          cookie pretix_csrftoken; the add-to-cart form (data-asynctask) and the
                                  static assets are discovered from the HTML (hashed names never hard-coded)
  2. POST cart/add ajax=1 + X-Requested-With  -> JSON {async_id, ready, check_url}; poll check_url
  3. GET redirect; GET checkout/start -> checkout/questions/
  4. POST questions (every field of the main form + email + answers to the event's questions)
  5. POST payment=manual -> checkout/confirm/
  6. POST confirm + ajax=1 -> JSON; poll -> order page /<org>/<event>/order/<CODE>/<secret>/ "Thank you"

Parsing (HTML forms, JSON answers, URLs) lives in pure functions, unit-tested on captured HTML in
tests/fixtures/. The HTTP flow `buy_ticket(session, ...)` takes any requests-compatible session: a
`requests.Session`, or a Locust `HttpUser.client` (then every request gets a stable `name=` for the stats).

CLI:  python loadtest/journey.py --url http://127.0.0.1:8080 --organizer demo --event conf [--count N]
"""
from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Iterable
from urllib.parse import urljoin, urlsplit

CSRF_COOKIE = "pretix_csrftoken"
SESSION_COOKIE = "pretix_session"
AJAX_HEADERS = {"X-Requested-With": "XMLHttpRequest"}
USER_AGENT = "pretix-cluster-journey/1.0 (like a browser)"


class JourneyError(Exception):
    """A purchase failed; `.step` names where."""

    def __init__(self, step: str, message: str, retryable: bool = False):
        self.step, self.retryable = step, retryable
        super().__init__(f"{step}: {message}")


# ============================================================================== pure parsing helpers

@dataclass
class Field:
    tag: str                      # input | select | textarea | button
    type: str                     # text, hidden, email, checkbox, radio, select-one, select-multiple, submit...
    name: str
    value: str = ""
    checked: bool = False
    required: bool = False
    id: str = ""
    options: list[tuple[str, str, bool]] = field(default_factory=list)  # (value, text, selected) for selects
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Form:
    attrs: dict[str, str]
    fields: list[Field] = field(default_factory=list)

    @property
    def action(self) -> str:
        return self.attrs.get("action", "")

    @property
    def method(self) -> str:
        return (self.attrs.get("method") or "get").lower()

    def names(self) -> set[str]:
        return {f.name for f in self.fields}

    def get(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


class _PageParser(HTMLParser):
    """Collects forms (with their fields), <label for> texts and asset URLs from a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.labels: dict[str, str] = {}
        self.assets: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._option: list | None = None
        self._textarea: Field | None = None
        self._label_for: str | None = None
        self._label_text: list[str] = []
        self._icon = False

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(attrs=a)
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and a.get("name"):
            t = (a.get("type") or "text").lower()
            self._form.fields.append(Field("input", t, a["name"], a.get("value", "on" if t in ("checkbox", "radio")
                                                                              else ""),
                                           checked="checked" in a, required="required" in a, id=a.get("id", ""),
                                           attrs=a))
        elif tag == "select" and self._form is not None and a.get("name"):
            self._select = Field("select", "select-multiple" if "multiple" in a else "select-one", a["name"],
                                 required="required" in a, id=a.get("id", ""), attrs=a)
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), [], "selected" in a]
        elif tag == "textarea" and self._form is not None and a.get("name"):
            self._textarea = Field("textarea", "textarea", a["name"], required="required" in a,
                                   id=a.get("id", ""), attrs=a)
            self._form.fields.append(self._textarea)
        elif tag == "button" and self._form is not None and a.get("name"):
            self._form.fields.append(Field("button", (a.get("type") or "submit").lower(), a["name"],
                                           a.get("value", ""), id=a.get("id", ""), attrs=a))
        elif tag == "label":
            self._label_for, self._label_text = a.get("for"), []
        elif tag == "link" and "stylesheet" in (a.get("rel") or "").lower().split() and a.get("href"):
            self.assets.append(a["href"])
        elif tag == "link" and "icon" in (a.get("rel") or "").lower().split() and a.get("href") \
                and not self._icon:  # a browser fetches one favicon
            self._icon = True
            self.assets.append(a["href"])
        elif tag in ("script", "img") and a.get("src"):
            self.assets.append(a["src"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("option", "textarea", "select", "label", "form"):
            self.handle_endtag(tag)

    def handle_data(self, data):
        if self._option is not None:
            self._option[1].append(data)
        elif self._textarea is not None:
            self._textarea.value += data
        if self._label_for is not None:
            self._label_text.append(data)

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._select is not None:
            val, text, sel = self._option
            text = " ".join("".join(text).split())
            self._select.options.append((text if val is None else val, text, sel))
            self._option = None
        elif tag == "select":
            if self._option is not None:
                self.handle_endtag("option")
            self._select = None
        elif tag == "textarea":
            if self._textarea is not None and self._textarea.value.startswith("\n"):
                self._textarea.value = self._textarea.value[1:]  # as browsers do
            self._textarea = None
        elif tag == "form":
            self._form = None
        elif tag == "label" and self._label_for is not None:
            self.labels[self._label_for] = " ".join("".join(self._label_text).split())
            self._label_for = None


def parse_page(html: str) -> _PageParser:
    p = _PageParser()
    p.feed(html)
    p.close()
    return p


def parse_forms(html: str) -> list[Form]:
    return parse_page(html).forms


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


def page_error(html: str) -> str:
    """The first error alert text of a pretix page (for messages), or ''."""
    m = re.search(r'class="[^"]*alert-danger[^"]*"[^>]*>(.*?)</div>', html, re.S)
    if not m:
        return ""
    return " ".join(re.sub(r"<[^>]+>", " ", m.group(1)).split())[:300]


# ============================================================================== HTTP flow

@dataclass
class PurchaseResult:
    code: str
    secret: str
    order_url: str
    seconds: float
    requests: int
    assets: int = 0


class _Client:
    """Adds stable request names (Locust stats), counts requests, bounds every wait."""

    def __init__(self, session, timeout: float):
        self.s = session
        self.timeout = timeout
        self.count = 0
        try:
            self.named = "name" in inspect.signature(session.request).parameters
        except (TypeError, ValueError):
            self.named = False

    def req(self, method: str, url: str, name: str, **kw):
        kw.setdefault("timeout", self.timeout)
        if self.named:
            kw["name"] = name
        self.count += 1
        return self.s.request(method, url, **kw)


def _json(r, step: str) -> dict:
    try:
        return r.json()
    except ValueError:
        raise JourneyError(step, f"expected JSON, got HTTP {r.status_code} {r.headers.get('Content-Type', '')}: "
                                 f"{page_error(r.text) or r.text[:200]!r}") from None


def _check(r, step: str, want_path: str | None = None):
    if r.status_code == 409 or r.status_code >= 500:
        raise JourneyError(step, f"HTTP {r.status_code} at {urlsplit(r.url).path}", retryable=True)
    if r.status_code >= 400:
        raise JourneyError(step, f"HTTP {r.status_code} at {urlsplit(r.url).path}: {page_error(r.text)}")
    if want_path and want_path not in urlsplit(r.url).path:
        err = page_error(r.text)
        raise JourneyError(step, f"expected {want_path}, landed on {urlsplit(r.url).path}"
                                 + (f": {err}" if err else ""))
    return r


def _wait_async(c: _Client, base: str, state: AsyncState, step: str, referer: str, deadline: float) -> AsyncState:
    delay = 0.1
    polls = 0
    while not state.ready:
        if time.monotonic() > deadline or polls > 300:
            raise JourneyError(step, "async task did not finish in time", retryable=True)
        if not state.check_url:
            raise JourneyError(step, "async answer without check_url")
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
        polls += 1
        url = urljoin(base, state.check_url)
        if "ajax=1" not in url:
            url += ("&" if "?" in url else "?") + "ajax=1"
        r = c.req("GET", url, f"{step} poll",
                  headers={**AJAX_HEADERS, "Referer": referer})
        if r.status_code == 409 or r.status_code >= 500:
            continue  # transient: poll again (bounded by deadline)
        polled = parse_async(_json(r, step))
        # a poll answer may omit check_url while the task is still running: keep polling the same URL
        polled.check_url = polled.check_url or state.check_url
        state = polled
    if state.success is False:
        raise JourneyError(step, state.message or "the task failed",
                           retryable="busy" in state.message.lower() or "try again" in state.message.lower())
    return state


def buy_ticket(session, base_url: str, organizer: str, event: str, *, email: str | None = None,
               answers: dict[str, str] | None = None, item: str | None = None, quantity: int = 1,
               provider: str = "manual", fetch_assets: bool = True, asset_cache: set[str] | None = None,
               timeout: float = 30, deadline_s: float = 120, n: int = 1) -> PurchaseResult:
    """Buy `quantity` of one product (first available, or input name `item` like 'item_3') as a browser
    would. `session` is requests-compatible (requests.Session or a Locust HttpUser.client). Returns the
    order code. Raises JourneyError (`.retryable` for 409/5xx/busy). Every wait is bounded by deadline_s.
    `asset_cache` (a set kept per simulated browser) avoids re-fetching assets like a browser cache."""
    t0 = time.monotonic()
    deadline = t0 + deadline_s
    c = _Client(session, timeout)
    base = base_url.rstrip("/") + "/"
    ev_url = urljoin(base, f"{organizer}/{event}/")
    email = email or f"buyer-{uuid.uuid4().hex[:10]}@example.invalid"
    answers = dict(answers or {})
    answers.setdefault("*", "Load test")

    # 1. event page + assets
    r = _check(c.req("GET", ev_url, "event page"), "event page")
    html = r.text
    cart = parse_cart_form(html, r.url)
    n_assets = 0
    if fetch_assets:
        for a in find_static_assets(html, r.url):
            if asset_cache is not None and a in asset_cache:
                continue
            ra = c.req("GET", a, "static asset")
            n_assets += 1
            if asset_cache is not None and ra.status_code == 200:
                asset_cache.add(a)
    csrf = _cookie(session, CSRF_COOKIE) or cart.fields.get("csrfmiddlewaretoken", "")
    if not cart.items:
        raise JourneyError("event page", "no product on sale")
    name = item or next(iter(cart.items))
    if name not in cart.items:
        raise JourneyError("event page", f"no product input {name!r} (have {', '.join(cart.items)})")
    if cart.items[name] < quantity:
        raise JourneyError("event page", f"only {cart.items[name]} of {name} can be bought (sold out?)")

    # 2. cart/add (async)
    data = dict(cart.fields)
    data["csrfmiddlewaretoken"] = data.get("csrfmiddlewaretoken") or csrf
    data[name] = str(quantity)
    data["ajax"] = "1"
    r = c.req("POST", cart.action, "cart/add", data=data, headers={**AJAX_HEADERS, "Referer": ev_url})
    _check(r, "cart/add")
    st = _wait_async(c, base, parse_async(_json(r, "cart/add")), "cart/add", ev_url, deadline)
    if st.redirect:
        _check(c.req("GET", urljoin(base, st.redirect), "after cart/add"), "after cart/add")

    # 3. checkout start -> questions
    r = _check(c.req("GET", urljoin(ev_url, "checkout/start"), "checkout/start"), "checkout/start")
    path = urlsplit(r.url).path
    if "/checkout/questions/" in path:
        # 4. questions
        action, data = questions_form_data(r.text, email, answers, n)
        r = c.req("POST", urljoin(r.url, action or r.url), "checkout/questions", data=data,
                  headers={"Referer": r.url})
        _check(r, "checkout/questions")
        if "/checkout/questions/" in urlsplit(r.url).path:
            raise JourneyError("checkout/questions", "questions form rejected: " + (page_error(r.text) or "?"))
        path = urlsplit(r.url).path
    if "/checkout/payment/" in path:
        # 5. payment
        action, data = payment_form_data(r.text, provider)
        r = c.req("POST", urljoin(r.url, action or r.url), "checkout/payment", data=data, headers={"Referer": r.url})
        _check(r, "checkout/payment", "/checkout/confirm/")
    elif "/checkout/confirm/" not in path:
        raise JourneyError("checkout", f"unexpected page {path}: {page_error(r.text)}")

    # 6. confirm (async) -> order page
    confirm_url = r.url
    action, data = confirm_form_data(r.text)
    r = c.req("POST", urljoin(confirm_url, action or confirm_url), "checkout/confirm", data=data,
              headers={**AJAX_HEADERS, "Referer": confirm_url})
    _check(r, "checkout/confirm")
    st = _wait_async(c, base, parse_async(_json(r, "checkout/confirm")), "checkout/confirm", confirm_url, deadline)
    if not st.redirect:
        raise JourneyError("checkout/confirm", "no redirect to the order page")
    r = _check(c.req("GET", urljoin(base, st.redirect), "order page"), "order page", "/order/")
    code, order_secret = parse_order_url(r.url)
    if not order_page_ok(r.text):
        raise JourneyError("order page", f"order {code}: page does not say 'Thank you'")
    return PurchaseResult(code=code, secret=order_secret, order_url=r.url, seconds=round(time.monotonic() - t0, 3),
                          requests=c.count, assets=n_assets)


def _cookie(session, name: str) -> str | None:
    jar = getattr(session, "cookies", None)
    if jar is None:
        return None
    try:
        return jar.get(name)
    except Exception:  # several cookies with that name (different paths)
        for ck in jar:
            if ck.name == name:
                return ck.value
    return None


def api_order(base_url: str, token: str, organizer: str, event: str, code: str, timeout: float = 20,
              tries: int = 8) -> dict | None:
    """The order as the REST API sees it (None if 404). 409 = lock contention: retried with backoff."""
    import requests

    url = f"{base_url.rstrip('/')}/api/v1/organizers/{organizer}/events/{event}/orders/{code}/"
    for i in range(tries):
        r = requests.get(url, headers={"Authorization": f"Token {token}"}, timeout=timeout)
        if r.status_code == 409:
            time.sleep(min(0.25 * 2 ** i, 3))
            continue
        if r.status_code == 404:
            return None
        r.raise_for_status()
        return r.json()
    raise RuntimeError(f"API kept answering 409 for order {code}")


def main(argv: list[str] | None = None) -> int:
    import requests

    ap = argparse.ArgumentParser(prog="journey.py", description="Buy tickets through pretix's web shop like a "
                                 "browser (manual payment) and print the order codes.")
    ap.add_argument("--url", required=True, help="pretix base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--organizer", required=True)
    ap.add_argument("--event", required=True)
    ap.add_argument("--count", type=int, default=1, help="number of purchases (default 1, max 10000)")
    ap.add_argument("--item", help="product input name, e.g. item_3 (default: the first product)")
    ap.add_argument("--answer", action="append", default=[], metavar="QUESTION=ANSWER",
                    help="answer for a question, matched on its label (repeatable)")
    ap.add_argument("--no-assets", action="store_true", help="do not fetch static assets")
    ap.add_argument("--retries", type=int, default=3, help="retries per purchase on 409/5xx/busy (default 3)")
    ap.add_argument("--timeout", type=float, default=30, help="per-request timeout in seconds")
    ap.add_argument("--max-seconds", type=float, default=600, help="stop starting purchases after this long")
    ap.add_argument("--state-dir", help="quickstart state dir: check each order through the API with its api_token")
    ap.add_argument("--json", action="store_true", help="one JSON line per purchase")
    a = ap.parse_args(argv)
    if not 1 <= a.count <= 10000:
        ap.error("--count must be between 1 and 10000")
    answers = {}
    for qa in a.answer:
        q, _, ans = qa.partition("=")
        answers[q] = ans
    token = None
    if a.state_dir:
        from pathlib import Path
        token = (Path(a.state_dir) / "api_token").read_text().strip()

    ok = failed = 0
    t_start = time.monotonic()
    times = []
    for i in range(1, a.count + 1):
        if time.monotonic() - t_start > a.max_seconds:
            print(f"stopping after {a.max_seconds:.0f} s", file=sys.stderr)
            break
        for attempt in range(a.retries + 1):
            with requests.Session() as s:  # a new browser per purchase
                s.headers["User-Agent"] = USER_AGENT
                try:
                    res = buy_ticket(s, a.url, a.organizer, a.event, answers=answers, item=a.item,
                                     fetch_assets=not a.no_assets, asset_cache=set(), timeout=a.timeout, n=i)
                except (JourneyError, requests.RequestException) as e:
                    retry = getattr(e, "retryable", True) and attempt < a.retries
                    print(f"purchase {i}: {e}{' (retrying)' if retry else ''}", file=sys.stderr)
                    if retry:
                        time.sleep(min(0.5 * 2 ** attempt, 5))
                        continue
                    failed += 1
                    break
            extra = ""
            if token:
                o = api_order(a.url, token, a.organizer, a.event, res.code)
                if o is None:
                    print(f"purchase {i}: order {res.code} NOT found through the API", file=sys.stderr)
                    failed += 1
                    break
                extra = f" api_status={o['status']} total={o['total']}"
            ok += 1
            times.append(res.seconds)
            if a.json:
                print(json.dumps({"n": i, "code": res.code, "seconds": res.seconds, "requests": res.requests,
                                  "assets": res.assets}), flush=True)
            else:
                print(f"{res.code}  {res.seconds:.2f} s  {res.requests} requests{extra}", flush=True)
            break
    if times:
        ts = sorted(times)
        print(f"{ok} purchased, {failed} failed; median {ts[len(ts) // 2]:.2f} s, max {ts[-1]:.2f} s, "
              f"total {time.monotonic() - t_start:.1f} s", file=sys.stderr)
    else:
        print(f"{ok} purchased, {failed} failed", file=sys.stderr)
    return 0 if failed == 0 and ok == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
