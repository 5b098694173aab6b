"""One purchase through the shop as a browser makes it (no REST API): the HTTP flow of the journey.

`buy_ticket(session, ...)` takes any requests-compatible session: a `requests.Session`, or a Locust
`HttpUser.client` (then every request gets a stable `name=` for the stats). Every wait is bounded.
"""
from __future__ import annotations

import inspect
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from ..core.errors import JourneyError
from ..core.retry import attempts, delays
from .forms import (AsyncState, confirm_form_data, find_static_assets, order_page_ok, parse_async, parse_cart_form,
                    parse_order_url, payment_form_data, questions_form_data)
from .html import page_error

CSRF_COOKIE = "pretix_csrftoken"
AJAX_HEADERS = {"X-Requested-With": "XMLHttpRequest"}


@dataclass
class PurchaseResult:
    code: str
    secret: str
    order_url: str
    email: str
    seconds: float
    requests: int
    assets: int = 0
    retries: int = 0
    steps: dict = field(default_factory=dict)     # step name -> seconds (async steps include their polls)


class _Client:
    """Requests with stable names (Locust stats), content checks, a request count and bounded waits.

    With a Locust client every request is reported under its name, and a wrong answer (a check that
    fails) is marked as a failure there (`response.failure`), not only raised here.
    """

    def __init__(self, session, timeout: float):
        self.s, self.timeout, self.count, self.retries = session, timeout, 0, 0
        try:
            self.locust = "catch_response" in inspect.signature(session.request).parameters
        except (TypeError, ValueError):
            self.locust = False

    def req(self, method: str, url: str, name: str, check=None, **kw):
        """The response; check(r) returns None or (problem, retryable): then JourneyError(name, problem)."""
        kw.setdefault("timeout", self.timeout)
        self.count += 1
        verdict = None
        if self.locust:
            with self.s.request(method, url, name=name, catch_response=True, **kw) as r:
                verdict = check(r) if check else None
                r.failure(verdict[0]) if verdict else r.success()
        else:
            r = self.s.request(method, url, **kw)
            verdict = check(r) if check else None
        if verdict:
            raise JourneyError(name, verdict[0], retryable=verdict[1])
        return r

    def post_retrying_409(self, url: str, name: str, check, tries: int = 4, **kw):
        """POST, retried with backoff while pretix answers 409 (lock contention: its documented 'try again')."""
        for attempt in attempts(tries, first=0.5):
            try:
                return self.req("POST", url, name, check, **kw)
            except JourneyError as exc:
                if "HTTP 409" not in str(exc) or attempt == tries - 1:
                    raise
                self.retries += 1
        raise AssertionError("unreachable")  # pragma: no cover


def http_ok(want_path: str | None = None, content=None):
    """A check: 2xx/3xx answer (409/5xx are retryable failures) landing on want_path when given, whose
    content passes content(r) (None, or the problem) when given."""
    def check(r):
        if not r.status_code:  # Locust's answer to a request that could not be sent (refused, timed out)
            return f"no answer: {getattr(r, 'error', None) or 'connection failed'}", True
        path = urlsplit(r.url or "").path
        if r.status_code == 409 or r.status_code >= 500:
            return f"HTTP {r.status_code} at {path}", True
        if r.status_code >= 400:
            return f"HTTP {r.status_code} at {path}: {page_error(r.text)}", False
        if want_path and want_path not in path:
            err = page_error(r.text)
            return f"expected {want_path}, landed on {path}" + (f": {err}" if err else ""), False
        problem = content(r) if content else None
        return (problem, False) if problem else None
    return check


def _cart_form_problem(r) -> str | None:
    try:
        parse_cart_form(r.text, r.url)
    except ValueError as exc:
        return str(exc)
    return None


def _thank_you_problem(r) -> str | None:
    return None if order_page_ok(r.text) else "the order page does not say 'Thank you'"


def json_answer(r):
    """A check for async POSTs and polls: HTTP ok and a JSON object."""
    bad = http_ok()(r)
    if bad:
        return bad
    try:
        parse_async(r.json())
    except ValueError:
        return (f"expected JSON, got HTTP {r.status_code} {r.headers.get('Content-Type', '')}: "
                f"{page_error(r.text) or r.text[:200]!r}", False)
    return None


def _wait_async(c: _Client, base: str, state: AsyncState, step: str, referer: str, deadline: float) -> AsyncState:
    """Poll the task's check_url (growing sleeps, bounded by deadline) until it is ready."""
    sleeps = delays(0.1, 1.5, 1.0)
    while not state.ready:
        if time.monotonic() > deadline:
            raise JourneyError(step, "async task did not finish in time", retryable=True)
        if not state.check_url:
            raise JourneyError(step, "async answer without check_url")
        time.sleep(next(sleeps))
        url = urljoin(base, state.check_url)
        url += "" if "ajax=1" in url else ("&" if "?" in url else "?") + "ajax=1"
        try:
            r = c.req("GET", url, f"{step} poll", json_answer, headers={**AJAX_HEADERS, "Referer": referer})
        except JourneyError as exc:
            if exc.retryable:
                continue  # transient (409/5xx): poll again, bounded by the deadline
            raise
        polled = parse_async(r.json())
        # a poll answer may omit check_url while the task is still running: keep polling the same URL
        polled.check_url = polled.check_url or state.check_url
        state = polled
    if state.success is False:
        busy = "busy" in state.message.lower() or "try again" in state.message.lower()
        raise JourneyError(step, state.message or "the task failed", retryable=busy)
    return state


@dataclass
class _Journey:
    c: _Client
    session: object
    base: str
    ev_url: str
    deadline: float
    steps: dict = field(default_factory=dict)

    def timed(self, step: str, fn, *args):
        t = time.monotonic()
        try:
            return fn(*args)
        except ValueError as exc:  # a parser found the page is not what this step expects
            raise JourneyError(step, str(exc)) from None
        finally:
            self.steps[step] = round(time.monotonic() - t, 3)

    def event_page(self, item, quantity, fetch_assets, asset_cache):
        r = self.c.req("GET", self.ev_url, "event page", http_ok(content=_cart_form_problem))
        cart = parse_cart_form(r.text, r.url)
        n_assets = self.assets(r, fetch_assets, asset_cache)
        if not cart.items:
            raise JourneyError("event page", "no product on sale")
        name = item or next(iter(cart.items))
        if name not in cart.items:
            raise JourneyError("event page", f"no product input {name!r} (have {', '.join(cart.items)})")
        if cart.items[name] < quantity:
            raise JourneyError("event page", f"only {cart.items[name]} of {name} can be bought (sold out?)")
        return cart, name, n_assets

    def assets(self, r, fetch: bool, cache: set | None) -> int:
        """Fetch the page's static assets once per simulated browser (its cache)."""
        n = 0
        for a in find_static_assets(r.text, r.url) if fetch else []:
            if cache is not None and a in cache:
                continue
            ra = self.c.req("GET", a, "static asset", http_ok())
            n += 1
            if cache is not None and ra.status_code == 200:
                cache.add(a)
        return n

    def add_to_cart(self, cart, name: str, quantity: int) -> None:
        data = dict(cart.fields)
        data["csrfmiddlewaretoken"] = data.get("csrfmiddlewaretoken") or _cookie(self.session, CSRF_COOKIE) or ""
        data.update({name: str(quantity), "ajax": "1"})
        r = self.c.post_retrying_409(cart.action, "cart/add", json_answer, data=data,
                                     headers={**AJAX_HEADERS, "Referer": self.ev_url})
        st = _wait_async(self.c, self.base, parse_async(r.json()), "cart/add", self.ev_url, self.deadline)
        if st.redirect:
            self.c.req("GET", urljoin(self.base, st.redirect), "after cart/add", http_ok())

    def checkout(self, email: str, answers: dict, provider: str, n: int):
        """checkout/start -> questions -> payment; returns the confirm page's response."""
        r = self.c.req("GET", urljoin(self.ev_url, "checkout/start"), "checkout/start", http_ok())
        if "/checkout/questions/" in urlsplit(r.url).path:
            action, data = questions_form_data(r.text, email, answers, n)
            r = self.c.req("POST", urljoin(r.url, action or r.url), "checkout/questions", http_ok(), data=data,
                           headers={"Referer": r.url})
            if "/checkout/questions/" in urlsplit(r.url).path:
                raise JourneyError("checkout/questions", "questions form rejected: " + (page_error(r.text) or "?"))
        path = urlsplit(r.url).path
        if "/checkout/payment/" in path:
            action, data = payment_form_data(r.text, provider)
            r = self.c.req("POST", urljoin(r.url, action or r.url), "checkout/payment", http_ok("/checkout/confirm/"),
                           data=data, headers={"Referer": r.url})
        elif "/checkout/confirm/" not in path:
            raise JourneyError("checkout", f"unexpected page {path}: {page_error(r.text)}")
        return r

    def confirm(self, r):
        """POST confirm (async) and open the order page; returns (code, secret, order page URL)."""
        confirm_url = r.url
        action, data = confirm_form_data(r.text)
        r = self.c.post_retrying_409(urljoin(confirm_url, action or confirm_url), "checkout/confirm", json_answer,
                                     data=data, headers={**AJAX_HEADERS, "Referer": confirm_url})
        st = _wait_async(self.c, self.base, parse_async(r.json()), "checkout/confirm", confirm_url, self.deadline)
        if not st.redirect:
            raise JourneyError("checkout/confirm", "no redirect to the order page")
        r = self.c.req("GET", urljoin(self.base, st.redirect), "order page", http_ok("/order/", _thank_you_problem))
        code, secret = parse_order_url(r.url)
        return code, secret, r.url


def buy_ticket(session, base_url: str, organizer: str, event: str, *, email: str | None = None,
               answers: dict[str, str] | None = None, item: str | None = None, quantity: int = 1,
               provider: str = "manual", fetch_assets: bool = True, asset_cache: set[str] | None = None,
               timeout: float = 30, deadline_s: float = 120, n: int = 1) -> PurchaseResult:
    """Buy `quantity` of one product (first available, or input name `item` like 'item_3') as a browser
    would, with manual payment. Raises JourneyError (`.step`, `.retryable`). Every wait is bounded by
    deadline_s; `asset_cache` (a set kept per simulated browser) avoids re-fetching assets."""
    t0 = time.monotonic()
    base = base_url.rstrip("/") + "/"
    j = _Journey(_Client(session, timeout), session, base, urljoin(base, f"{organizer}/{event}/"), t0 + deadline_s)
    email = email or f"buyer-{uuid.uuid4().hex[:10]}@example.invalid"
    answers = {"*": "Load test", **(answers or {})}
    cart, name, n_assets = j.timed("event page", j.event_page, item, quantity, fetch_assets, asset_cache)
    j.timed("cart/add", j.add_to_cart, cart, name, quantity)
    confirm_page = j.timed("checkout", j.checkout, email, answers, provider, n)
    code, secret, url = j.timed("checkout/confirm", j.confirm, confirm_page)
    return PurchaseResult(code=code, secret=secret, order_url=url, email=email, requests=j.c.count,
                          seconds=round(time.monotonic() - t0, 3), assets=n_assets, retries=j.c.retries,
                          steps=dict(j.steps))


def browse(session, base_url: str, organizer: str, event: str, asset_cache: set[str] | None = None,
           timeout: float = 30) -> int:
    """A looker: the event page and its assets, nothing bought. Returns the number of requests."""
    base = base_url.rstrip("/") + "/"
    j = _Journey(_Client(session, timeout), session, base, urljoin(base, f"{organizer}/{event}/"), 0)
    r = j.c.req("GET", j.ev_url, "event page", http_ok(content=_cart_form_problem))
    j.assets(r, True, asset_cache)
    return j.c.count


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
