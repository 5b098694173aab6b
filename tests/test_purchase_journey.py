"""The purchase journey's parsers on pages captured from pretix 2026.8.0 (tests/fixtures/pretix_*.html|json,
trimmed to head assets + forms), plus the HTTP flow against a session that replays those captures (no network)."""
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ops.core.errors import JourneyError
from ops.shop import forms, html as H, purchase

REPO = Path(__file__).resolve().parent.parent

FIX = REPO / "tests" / "fixtures"
BASE = "http://127.0.0.1:8345"
EV = f"{BASE}/demo/conf/"
QUESTION = "How did you hear about us?"


def page(name):
    return (FIX / f"pretix_{name}").read_text()


def js(name):
    return json.loads(page(name))


# ---------------------------------------------------------------- event page


def test_cart_form_from_event_page():
    cart = forms.parse_cart_form(page("event_page.html"), EV)
    assert cart.action == f"{BASE}/demo/conf/cart/add?next=/demo/conf/&next_error=/demo/conf/"
    assert cart.async_task
    assert set(cart.items) == {"item_1", "item_2"}
    assert all(v >= 1 for v in cart.items.values())
    assert cart.fields["csrfmiddlewaretoken"]
    assert cart.fields["subevent"] == ""
    assert not any(k.startswith("item_") for k in cart.fields)


def test_no_cart_form():
    with pytest.raises(ValueError, match="no add-to-cart form"):
        forms.parse_cart_form("<html><form method=post action='/x'><input name=q></form></html>", EV)


def test_static_assets_are_discovered_not_hardcoded():
    assets = forms.find_static_assets(page("event_page.html"), EV)
    assert len(assets) == len(set(assets))
    assert all(a.startswith(BASE + "/") for a in assets)
    css = [a for a in assets if a.endswith(".css")]
    jsf = [a for a in assets if a.endswith(".js")]
    assert any("/static/CACHE/css/presale." in a for a in css)
    assert any("/static/CACHE/js/presale." in a for a in jsf)
    assert any("theme.css" in a for a in assets)
    assert sum(1 for a in assets if "favicon" in a or "icon" in a) == 1  # one favicon, like a browser


def test_static_assets_skip_other_origins():
    html = ('<html><head><link rel="stylesheet" href="https://cdn.example.invalid/x.css">'
            '<script src="/static/a.123.js"></script><script src="/static/a.123.js"></script>'
            '<img src="data:image/png;base64,AAAA"></head></html>')
    assert forms.find_static_assets(html, EV) == [f"{BASE}/static/a.123.js"]


# ---------------------------------------------------------------- async answers


def test_async_answers():
    started = forms.parse_async(js("cart_add_started.json"))
    assert not started.ready and started.check_url.startswith("/demo/conf/cart/add?async_id=")
    done = forms.parse_async(js("cart_add_done.json"))
    assert done.ready and done.success and done.redirect == "/demo/conf/?require_cookie=true"
    c = forms.parse_async(js("confirm_started.json"))
    assert not c.ready and "checkout/confirm" in c.check_url
    d = forms.parse_async(js("confirm_done.json"))
    assert d.ready and d.success and "/order/" in d.redirect
    assert forms.parse_order_url(d.redirect)[0] == "NZZQC"
    with pytest.raises(ValueError):
        forms.parse_async(["not", "a", "dict"])


# ---------------------------------------------------------------- checkout forms


def test_questions_form_fills_email_names_and_seed_question():
    action, data = forms.questions_form_data(page("checkout_questions.html"), "buyer@example.invalid",
                                               {QUESTION: "A friend"}, n=7)
    d = dict(data)
    assert action == ""  # posts to itself
    assert d["email"] == "buyer@example.invalid"
    assert d["csrfmiddlewaretoken"]
    q = [k for k in d if "-question_" in k]
    assert q and d[q[0]] == "A friend"
    names = sorted(k for k in d if "attendee_name_parts" in k)
    assert names and all(d[k] for k in names) and d[names[-1]] == "Tester 7"
    assert d["is_business"] == "individual"
    assert [k for k, _ in data].count("is_business") == 1  # one value per radio group
    # optional invoice fields are sent, but empty (no invented addresses)
    for k in ("company", "street", "zipcode", "city", "transmission_it_sdi_pec"):
        assert k in d and d[k] == ""


def test_questions_form_unknown_question_gets_default_answer():
    _, data = forms.questions_form_data(page("checkout_questions.html"), "b@example.invalid", {"*": "n/a"})
    d = dict(data)
    assert d[[k for k in d if "-question_" in k][0]] == "n/a"


def test_payment_form():
    action, data = forms.payment_form_data(page("checkout_payment.html"), "manual")
    d = dict(data)
    assert d["payment"] == "manual" and d["csrfmiddlewaretoken"]
    assert [k for k, _ in data].count("payment") == 1
    with pytest.raises(ValueError, match="not offered"):
        forms.payment_form_data(page("checkout_payment.html"), "stripe")


def test_confirm_form_is_not_the_cart_extend_form():
    action, data = forms.confirm_form_data(page("checkout_confirm.html"))
    d = dict(data)
    assert "/cart/" not in action
    assert d["ajax"] == "1" and d["csrfmiddlewaretoken"]


def test_main_post_form_missing():
    with pytest.raises(ValueError, match="no POST form"):
        forms.main_post_form("<form method=get><input name=q></form>")


def test_required_checkbox_is_checked_and_textarea_newline_stripped():
    html = ('<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="t">'
            '<input type="email" name="email"><input type="checkbox" name="agree" value="yes" required>'
            '<input type="checkbox" name="newsletter"><textarea name="street">\nMain St</textarea>'
            '<select name="country" required><option value="">--</option><option value="PT">Portugal</option>'
            '</select><button type="submit" name="go" value="1">Go</button></form>')
    _, data = forms.questions_form_data(html, "e@example.invalid")
    d = dict(data)
    assert d["agree"] == "yes" and "newsletter" not in d and "go" not in d
    assert d["street"] == "Main St" and d["country"] == "PT"


# ---------------------------------------------------------------- order page


def test_order_page():
    assert forms.order_page_ok(page("order_page.html"))
    assert not forms.order_page_ok(page("checkout_confirm.html"))
    assert forms.parse_order_url(f"{BASE}/demo/conf/order/AB12C/s3cr3tx/?thanks=yes") == ("AB12C", "s3cr3tx")
    with pytest.raises(ValueError):
        forms.parse_order_url(f"{BASE}/demo/conf/checkout/confirm/")


def test_page_error():
    assert H.page_error('<div class="alert alert-danger">Sold <b>out</b></div>') == "Sold out"
    assert H.page_error("<p>fine</p>") == ""


# ---------------------------------------------------------------- the HTTP flow against recorded pages


class FakeResponse:
    """A recorded answer; also Locust's catch_response context (success/failure are recorded)."""

    def __init__(self, url, text, status=200, ctype="text/html"):
        self.url, self.text, self.status_code = url, text, status
        self.headers = {"Content-Type": ctype}
        self.verdict = None

    def json(self):
        return json.loads(self.text)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def success(self):
        self.verdict = "ok"

    def failure(self, why):
        self.verdict = why


class FakeSession:
    """Replays the captured journey; records requests and verdicts. Takes name= and catch_response= like
    Locust's HttpSession."""

    def __init__(self, confirm_status=200):
        self.calls, self.responses = [], []
        self.cookies = {"pretix_csrftoken": "cookie-token"}
        self.confirm_status = confirm_status

    def request(self, method, url, name=None, catch_response=False, **kw):
        self.calls.append((method, url, name, kw))
        self.responses.append(self._answer(method, url))
        return self.responses[-1]

    def _answer(self, method, url):
        path = urlsplit(url).path
        if path.startswith("/static/") or path.endswith("theme.css"):
            return FakeResponse(url, "x", ctype="text/css")
        if method == "GET" and path == "/demo/conf/":
            return FakeResponse(url, page("event_page.html"))
        if path == "/demo/conf/cart/add":
            return FakeResponse(url, page("cart_add_done.json" if "async_id" in url else "cart_add_started.json"),
                                ctype="application/json")
        if path == "/demo/conf/checkout/start":
            return FakeResponse(EV + "checkout/questions/", page("checkout_questions.html"))
        if method == "POST" and path == "/demo/conf/checkout/questions/":
            return FakeResponse(EV + "checkout/payment/", page("checkout_payment.html"))
        if method == "POST" and path == "/demo/conf/checkout/payment/":
            return FakeResponse(EV + "checkout/confirm/", page("checkout_confirm.html"))
        if path == "/demo/conf/checkout/confirm/":
            if method == "POST" and self.confirm_status != 200:
                return FakeResponse(url, "locked", status=self.confirm_status)
            return FakeResponse(url, page("confirm_done.json" if "async_id" in url else "confirm_started.json"),
                                ctype="application/json")
        if "/order/NZZQC/" in path:
            return FakeResponse(EV + "order/NZZQC/lynu4svbrbxyj4lq/?thanks=yes", page("order_page.html"))
        return FakeResponse(url, "not found", status=404)


def test_buy_ticket_flow_on_recorded_pages(monkeypatch):
    monkeypatch.setattr(purchase.time, "sleep", lambda s: None)
    s = FakeSession()
    cache = set()
    res = purchase.buy_ticket(s, BASE, "demo", "conf", email="e@example.invalid", answers={QUESTION: "Web"},
                             asset_cache=cache)
    assert res.code == "NZZQC" and res.secret == "lynu4svbrbxyj4lq"
    assert res.requests == len(s.calls) and res.assets == len(cache) > 0
    names = [c[2] for c in s.calls]
    assert names[0] == "event page" and "cart/add" in names and "checkout/confirm" in names
    cart = next(c for c in s.calls if c[2] == "cart/add")
    assert cart[3]["data"]["item_1"] == "1" and cart[3]["data"]["ajax"] == "1"
    assert cart[3]["headers"]["X-Requested-With"] == "XMLHttpRequest"
    q = dict(next(c for c in s.calls if c[2] == "checkout/questions")[3]["data"])
    assert q["email"] == "e@example.invalid" and "Web" in q.values()
    pay = dict(next(c for c in s.calls if c[2] == "checkout/payment")[3]["data"])
    assert pay["payment"] == "manual"
    conf = next(c for c in s.calls if c[2] == "checkout/confirm")
    assert dict(conf[3]["data"])["ajax"] == "1"
    polls = [c[1] for c in s.calls if c[2] and c[2].endswith("poll")]
    assert polls and all(p.count("ajax=1") == 1 for p in polls)
    # second purchase with the same browser cache: no asset re-fetch
    s2 = FakeSession()
    res2 = purchase.buy_ticket(s2, BASE, "demo", "conf", asset_cache=cache)
    assert res2.assets == 0
    assert {r.verdict for r in s.responses} == {"ok"}  # every request checked and reported as a success
    assert set(res.steps) == {"event page", "cart/add", "checkout", "checkout/confirm"} and res.retries == 0


def test_buy_ticket_409_is_retryable(monkeypatch):
    monkeypatch.setattr(purchase.time, "sleep", lambda s: None)
    s = FakeSession(confirm_status=409)
    with pytest.raises(JourneyError) as e:
        purchase.buy_ticket(s, BASE, "demo", "conf", fetch_assets=False)
    assert e.value.retryable and e.value.step == "checkout/confirm"
    confirms = [r for c, r in zip(s.calls, s.responses) if c[2] == "checkout/confirm"]
    assert len(confirms) == 4 and {r.verdict for r in confirms} == {"HTTP 409 at /demo/conf/checkout/confirm/"}


def test_a_wrong_page_fails_the_step_and_is_reported(monkeypatch):
    monkeypatch.setattr(purchase.time, "sleep", lambda s: None)
    s = FakeSession()
    s._answer = lambda method, url: FakeResponse(url, "<html>maintenance</html>")
    with pytest.raises(JourneyError) as e:
        purchase.buy_ticket(s, BASE, "demo", "conf")
    assert e.value.step == "event page" and "no add-to-cart form" in str(e.value)
    assert s.responses[0].verdict.startswith("no add-to-cart form")  # marked failed in the load test stats


def test_plain_requests_session_gets_no_locust_kwargs():
    import requests

    assert not purchase._Client(requests.Session(), 5).locust
    assert purchase._Client(FakeSession(), 5).locust


def test_choice_question_select_takes_the_seed_answer_or_a_real_option():
    html = page("checkout_questions_choice.html")
    _, data = forms.questions_form_data(html, "b@example.invalid", {QUESTION: "Web"})
    d = dict(data)
    sel = [k for k in d if k.endswith("-question_2")][0]
    assert d[sel] != "" and d[sel] == H.parse_page(html).forms[-1].get(sel).options[2][0]  # "Web"
    _, data = forms.questions_form_data(html, "b@example.invalid")
    assert dict(data)[sel] not in ("", None)  # required: first real option, never the "---" placeholder
    assert dict(data)["country"] == ""  # optional invoice select stays as the page had it
