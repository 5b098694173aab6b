#!/usr/bin/env python3
"""Seed a freshly deployed pretix through its real admin UI (Selenium + headless Chromium).

Steps (each waits explicitly on page state, no fixed sleeps):
  1. login      log in as admin@localhost; replace the initial password 'admin' by a generated one,
                kept in <state-dir>/admin_password (0600, never printed). Re-runs use the saved one.
  2. organizer  create the organizer (admin mode) -- organizers cannot be created through the REST API.
     token      create an API team with all permissions and a token, kept in <state-dir>/api_token.
  3. event      create the event (wizard), product categories, products, quotas and questions.
  4. payment    enable plugin pretix.plugins.manualpayment and the manual payment provider.
     live       leave test mode and go live.
  5. verify     check through the REST API (with the token) that everything is as the seed file says.

Idempotent: what exists is found through the REST API (or the UI where the API has no view of it) and
only what differs from the seed file is changed; a run with nothing to do says "no changes".
Existing objects are updated through the REST API (PATCH), new ones are created through the UI.

Usage:  python scripts/quickstart.py --url http://127.0.0.1:8080 --state-dir ~/.pretix-cluster/lab
From Python (e.g. an Invoke task):  run_quickstart(url=..., state_dir=...) -> QuickstartResult
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urljoin, urlsplit

import requests

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ops.errors import OpsError  # noqa: E402
from ops.seedfile import Seed, SeedError, load_seed  # noqa: E402

DEFAULT_SEED = REPO / "scripts" / "seed.yaml"
INITIAL_ADMIN_EMAIL = "admin@localhost"
INITIAL_ADMIN_PASSWORD = "admin"
MANUAL_PLUGIN = "pretix.plugins.manualpayment"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--window-size=1280,1600"]


class QuickstartError(OpsError):
    """A quickstart step failed; the message names the step."""

    def __init__(self, step: str, message: str, artifacts: list[str] | None = None):
        self.step, self.detail, self.artifacts = step, message, artifacts or []
        super().__init__(f"quickstart step '{step}' failed: {message}")


@dataclass
class QuickstartResult:
    url: str
    organizer: str
    event: str
    shop_url: str
    changes: list[str] = field(default_factory=list)
    token_masked: str = ""
    state_dir: str = ""
    verified: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    step_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["changed"] = self.changed
        return d

    def summary(self) -> str:
        lines = [f"pretix quickstart: {self.url} organizer={self.organizer} event={self.event} "
                 f"({self.seconds:.1f} s)"]
        if self.changes:
            lines += [f"  changed: {c}" for c in self.changes]
        else:
            lines.append("  no changes")
        v = self.verified
        if v:
            lines.append(f"  verified via API: live={v.get('live')} testmode={v.get('testmode')} "
                         f"products={v.get('products')} quotas={v.get('quotas')} "
                         f"manual payment={'on' if v.get('manual_payment') else 'off'}")
        lines.append(f"  shop: {self.shop_url}")
        lines.append(f"  API token: {self.token_masked} in {self.state_dir}/api_token")
        return "\n".join(lines)


def mask_token(token: str) -> str:
    return f"{token[:4]}…({len(token)} chars)" if token else "(none)"


# ------------------------------------------------------------------------------------------- state dir

class StateDir:
    """Secrets on disk: directory 0700, files 0600, written atomically."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser().resolve()

    def ensure(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)

    def read(self, name: str) -> str | None:
        p = self.path / name
        try:
            return p.read_text().strip() or None
        except FileNotFoundError:
            return None

    def write(self, name: str, value: str) -> None:
        self.ensure()
        tmp = self.path / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path / name)

    def remove(self, name: str) -> None:
        (self.path / name).unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------- REST API

class Api:
    """Minimal pretix REST client (token auth); 409 (lock contention) is retried."""

    def __init__(self, base_url: str, token: str, timeout: float = 20):
        self.base = base_url.rstrip("/") + "/api/v1/"
        self.s = requests.Session()
        self.s.headers.update({"Authorization": f"Token {token}", "Accept": "application/json"})
        self.timeout = timeout

    def request(self, method: str, path: str, **kw) -> requests.Response:
        url = path if path.startswith("http") else urljoin(self.base, path.lstrip("/"))
        for attempt in range(8):
            r = self.s.request(method, url, timeout=self.timeout, **kw)
            if r.status_code != 409:
                return r
            time.sleep(min(0.25 * 2 ** attempt, 3))
        return r

    def get(self, path: str) -> dict | None:
        r = self.request("GET", path)
        if r.status_code == 404:
            return None
        self._raise(r, "GET", path)
        return r.json()

    def list(self, path: str) -> list[dict]:
        out, url, pages = [], path, 0
        while url and pages < 100:
            r = self.request("GET", url)
            self._raise(r, "GET", path)
            data = r.json()
            out += data["results"]
            url, pages = data.get("next"), pages + 1
        return out

    def patch(self, path: str, payload: dict) -> dict:
        r = self.request("PATCH", path, json=payload)
        self._raise(r, "PATCH", path)
        return r.json()

    def token_works(self, organizer: str) -> bool:
        try:
            r = self.request("GET", f"organizers/{organizer}/events/")
        except requests.RequestException:
            return False
        return r.status_code == 200

    @staticmethod
    def _raise(r: requests.Response, method: str, path: str) -> None:
        if r.status_code >= 400:
            raise RuntimeError(f"API {method} {path} -> HTTP {r.status_code}: {r.text[:300]}")


def i18n(value: Any, locale: str = "en") -> str:
    """Plain text of a pretix i18n field (dict of locale -> text, or str)."""
    if isinstance(value, dict):
        return value.get(locale) or next(iter(value.values()), "") or ""
    return value or ""


# ------------------------------------------------------------------------------------------- browser

class Browser:
    """Thin Selenium wrapper: explicit waits, form helpers, per-step screenshots."""

    def __init__(self, base_url: str, timeout: float = 30, screenshots: Path | None = None,
                 log: Callable[[str], None] = print):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.screenshots = screenshots
        self.log = log
        self.shot_no = 0
        self.profile = tempfile.mkdtemp(prefix="pretix-quickstart-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            opts.add_argument(flag)
        opts.add_argument(f"--user-data-dir={self.profile}")
        try:
            self.d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        except Exception:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.d.set_page_load_timeout(timeout * 2)

    def close(self) -> None:
        try:
            self.d.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # -- navigation and waiting
    def wait(self, cond: Callable, what: str, timeout: float | None = None):
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.d, timeout or self.timeout, poll_frequency=0.2).until(cond)
        except TimeoutException:
            raise TimeoutError(f"timed out after {timeout or self.timeout:.0f} s waiting for {what} "
                               f"(at {self.path()})") from None

    def ready(self) -> None:
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete", "page load")

    def go(self, path: str) -> None:
        self.d.get(self.base + path)
        self.ready()

    def path(self) -> str:
        u = urlsplit(self.d.current_url)
        return u.path + (f"?{u.query}" if u.query else "")

    def title(self) -> str:
        return self.d.title or ""

    def is_not_found(self) -> bool:
        t = self.title().lower()
        return "not found" in t or "permission denied" in t

    # -- elements
    def el(self, css: str, timeout: float | None = None):
        from selenium.webdriver.common.by import By

        return self.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, css) or [None])[0], f"element {css}", timeout)

    def all(self, css: str) -> list:
        from selenium.webdriver.common.by import By

        return self.d.find_elements(By.CSS_SELECTOR, css)

    def field(self, name: str):
        return self.el(f'[name="{name}"]')

    def fill(self, name: str, value: str) -> None:
        """Type into a text input/textarea (cleared first)."""
        from selenium.common.exceptions import ElementNotInteractableException, InvalidElementStateException

        e = self.field(name)
        self.scroll(e)
        try:
            e.clear()
            if value:
                e.send_keys(value)
        except (ElementNotInteractableException, InvalidElementStateException):
            pass  # e.g. in a collapsed "advanced" section: set it like a paste would
        if (e.get_attribute("value") or "") != value:  # (also for widgets that reformat typed input)
            self.set_value(name, value)

    def set_value(self, name: str, value: str) -> None:
        """Set an input's value as a user's paste would (for date/time picker widgets), firing events."""
        e = self.field(name)
        self.d.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", e, value)

    def fill_i18n(self, base: str, value: str) -> None:
        """Fill every language input of an i18n field (name_0, name_1, ...)."""
        inputs = self.all(f'[name^="{base}_"]')
        names = [i.get_attribute("name") for i in inputs if re.fullmatch(rf"{re.escape(base)}_\d+",
                                                                       i.get_attribute("name") or "")]
        if not names:
            raise LookupError(f"no input for field {base!r} on {self.path()}")
        for n in names:
            self.fill(n, value)

    def select(self, name: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        e = self.field(name)
        self.scroll(e)
        try:
            Select(e).select_by_value(value)
        except Exception:
            raise LookupError(f"no option {value!r} in select {name!r} on {self.path()}") from None

    def check(self, name: str, on: bool = True, value: str | None = None) -> bool:
        """Set a checkbox/radio; returns True if it was changed."""
        css = f'input[name="{name}"]' + (f'[value="{value}"]' if value is not None else "")
        e = self.el(css)
        if e.is_selected() == on:
            return False
        # Toggling one box can collapse/expand sections (layout shifts under an animation), so a
        # click may land elsewhere: re-check the state, retry, and finally click it from JS.
        for attempt in range(4):
            if attempt < 3:
                self.click(e)
            else:
                self.d.execute_script("arguments[0].click();", e)
            try:
                self.wait(lambda d: e.is_selected() == on, f"checkbox {name} to be {'on' if on else 'off'}", 2)
                return True
            except TimeoutError:
                if attempt == 3:
                    raise
        return True

    def scroll(self, e) -> None:
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'});", e)

    def click(self, e) -> None:
        from selenium.common.exceptions import ElementClickInterceptedException, ElementNotInteractableException

        self.scroll(e)
        try:
            e.click()
        except (ElementClickInterceptedException, ElementNotInteractableException):
            self.d.execute_script("arguments[0].click();", e)

    def form_of(self, name: str):
        from selenium.webdriver.common.by import By

        return self.field(name).find_element(By.XPATH, "./ancestor::form")

    def submit(self, form=None, button=None, expect_path: str | None = None) -> None:
        """Click the form's save button, wait for the next page; raise on form errors."""
        from selenium.webdriver.common.by import By
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support import expected_conditions as EC
        from selenium.webdriver.support.ui import WebDriverWait

        if button is None:
            cands = (form.find_elements(By.CSS_SELECTOR, "button.btn-save")
                     or form.find_elements(By.CSS_SELECTOR, "button.btn-primary[type=submit]")
                     or form.find_elements(By.CSS_SELECTOR, "button[type=submit]:not([name])")
                     or form.find_elements(By.CSS_SELECTOR, "button[type=submit], input[type=submit]"))
            if not cands:
                raise LookupError(f"no submit button in form on {self.path()}")
            button = cands[-1]
        html = self.d.find_element(By.TAG_NAME, "html")
        self.click(button)
        try:
            # a click can land on nothing when the layout shifts under it (collapsing sections):
            # if the page did not start to change, submit the form with the button as a browser would
            WebDriverWait(self.d, 5).until(EC.staleness_of(html))
        except TimeoutException:
            self.d.execute_script("arguments[0].form.requestSubmit(arguments[0]);", button)
            self.wait(EC.staleness_of(html), "the form to be submitted")
        self.ready()
        errors = self.form_errors()
        if errors:
            raise ValueError("the form was rejected: " + "; ".join(errors))
        if expect_path and not re.search(expect_path, self.path()):
            raise ValueError(f"expected to land on {expect_path}, got {self.path()}")

    def form_errors(self) -> list[str]:
        out = []
        for e in self.all(".alert-danger, .has-error .help-block, .has-error .error-block, .errorlist"):
            t = " ".join((e.text or "").split())
            if t and t not in out:
                out.append(t[:200])
        return out

    def messages(self) -> list[str]:
        return [" ".join(e.text.split()) for e in self.all(".alert-success") if e.text]

    def screenshot(self, step: str) -> str | None:
        if not self.screenshots:
            return None
        self.shot_no += 1
        p = self.screenshots / f"{self.shot_no:02d}-{step}.png"
        try:
            self.d.save_screenshot(str(p))
            os.chmod(p, 0o600)
        except Exception:
            return None
        return str(p)

    def dump(self, where: Path, step: str) -> list[str]:
        where.mkdir(parents=True, exist_ok=True)
        out = []
        png, html = where / f"failure-{step}.png", where / f"failure-{step}.html"
        try:
            self.d.save_screenshot(str(png))
            os.chmod(png, 0o600)
            out.append(str(png))
        except Exception:
            pass
        try:
            html.write_text(self.d.page_source)
            os.chmod(html, 0o600)
            out.append(str(html))
        except Exception:
            pass
        return out


# ------------------------------------------------------------------------------------------- quickstart

class Quickstart:
    def __init__(self, url: str, state: StateDir, seed: Seed, screenshots: Path | None, timeout: float,
                 log: Callable[[str], None]):
        self.url = url.rstrip("/")
        self.state = state
        self.seed = seed
        self.screenshots = screenshots
        self.timeout = timeout
        self.log = log
        self.b: Browser | None = None
        self.api: Api | None = None
        self.token: str | None = None
        self.changes: list[str] = []
        self.step = "start"
        self.step_seconds: dict[str, float] = {}
        o, e = seed.organizer.slug, seed.event.slug
        self.ctl_org = f"/control/organizer/{o}"
        self.ctl_ev = f"/control/event/{o}/{e}"
        self.api_ev = f"organizers/{o}/events/{e}/"
        self.logged_in_password: str | None = None
        self.verified: dict[str, Any] = {}

    def change(self, what: str) -> None:
        self.changes.append(what)
        self.log(f"  + {what}")

    # -- driver of all steps
    def run(self) -> QuickstartResult:
        t0 = time.monotonic()
        steps = [("login", self.step_login), ("organizer", self.step_organizer), ("token", self.step_token),
                 ("event", self.step_event), ("categories", self.step_categories),
                 ("products", self.step_products), ("quotas", self.step_quotas),
                 ("questions", self.step_questions), ("payment", self.step_payment), ("live", self.step_live),
                 ("verify", self.step_verify)]
        self.b = Browser(self.url, self.timeout, self.screenshots, self.log)
        try:
            for name, fn in steps:
                self.step = name
                ts = time.monotonic()
                self.log(f"[{name}]")
                try:
                    fn()
                except QuickstartError:
                    raise
                except Exception as e:  # any failure: keep evidence, name the step
                    where = self.screenshots or self.state.path
                    arts = self.b.dump(where, name)
                    msg = " ".join(str(e).split()) or type(e).__name__
                    raise QuickstartError(name, f"{msg[:400]} (evidence: {', '.join(arts) or 'none'})", arts) \
                        from e
                self.step_seconds[name] = round(time.monotonic() - ts, 2)
                self.b.screenshot(name)
        finally:
            self.b.close()
        return QuickstartResult(
            url=self.url, organizer=self.seed.organizer.slug, event=self.seed.event.slug,
            shop_url=f"{self.url}/{self.seed.organizer.slug}/{self.seed.event.slug}/",
            changes=self.changes, token_masked=mask_token(self.token or ""), state_dir=str(self.state.path),
            verified=self.verified, seconds=round(time.monotonic() - t0, 1), step_seconds=self.step_seconds)

    # -- 1. login + password replacement
    def _try_login(self, password: str) -> bool:
        b = self.b
        b.go("/control/login")
        if not b.path().startswith("/control/login"):
            return True  # already logged in
        b.fill("email", INITIAL_ADMIN_EMAIL)
        b.fill("password", password)
        try:
            b.submit(b.form_of("password"))
        except ValueError:
            return False
        return not b.path().startswith("/control/login")

    def step_login(self) -> None:
        b = self.b
        b.go("/control/login")
        b.el('input[name="email"]')
        saved = self.state.read("admin_password")
        pending = self.state.read("admin_password.new")
        candidates = [p for p in (saved, pending) if p] + [INITIAL_ADMIN_PASSWORD]
        used = None
        for pw in candidates:
            if self._try_login(pw):
                used = pw
                break
        if used is None:
            raise PermissionError(f"cannot log in as {INITIAL_ADMIN_EMAIL}: neither the saved password in "
                                  f"{self.state.path}/admin_password nor the initial one works (restore the "
                                  f"state dir, or set a password on the server with `python -m pretix "
                                  f"changepassword {INITIAL_ADMIN_EMAIL}` and write it to admin_password)")
        if used == pending and used != saved:
            self.state.write("admin_password", used)
            self.state.remove("admin_password.new")
        if used == INITIAL_ADMIN_PASSWORD:
            new = secrets.token_urlsafe(24)
            self.state.write("admin_password.new", new)  # kept before submitting: never lose it
            b.go("/control/settings/password/change")
            b.fill("old_pw", used)
            b.fill("new_pw", new)
            b.fill("new_pw_repeat", new)
            b.submit(b.form_of("new_pw"))
            if not b.messages():
                raise ValueError("password change was not confirmed by pretix")
            self.state.write("admin_password", new)
            self.state.remove("admin_password.new")
            used = new
            self.change(f"replaced the initial admin password (saved to {self.state.path}/admin_password)")
            # pretix may end the session after a password change: make sure we are still in
            b.go("/control/")
            if b.path().startswith("/control/login"):
                if not self._try_login(new):
                    raise PermissionError("cannot log in with the new admin password")
        self.logged_in_password = used
        self._admin_mode()

    def _admin_mode(self) -> None:
        """Enter pretix 'admin mode' (staff session): needed to create organizers."""
        b = self.b
        b.go("/control/")
        btn = b.all("#button-sudo")
        if not btn:
            return  # already in admin mode (or not staff)
        b.submit(button=btn[0], form=None)
        if "/reauth" in b.path():
            b.fill("password", self.logged_in_password or "")
            b.submit(b.form_of("password"))
        b.wait(lambda d: not b.all("#button-sudo"), "admin mode to be active", 10)

    # -- 2. organizer + team/token
    def step_organizer(self) -> None:
        b, o = self.b, self.seed.organizer
        b.go(f"{self.ctl_org}/edit")
        if b.is_not_found() or not b.all('[name^="name_"], [name="name"]'):
            b.go("/control/organizers/add")
            if b.all('[name="name"]'):
                b.fill("name", o.name)
            else:
                b.fill_i18n("name", o.name)
            b.fill("slug", o.slug)
            b.submit(b.form_of("slug"), expect_path=rf"^/control/organizer/{re.escape(o.slug)}/")
            self.change(f"created organizer {o.slug} ({o.name})")
            return
        current = self._i18n_value("name")
        if current != o.name:
            b.fill_i18n("name", o.name)
            b.submit(b.form_of(self._first_i18n("name")))
            self.change(f"renamed organizer {o.slug}: {current!r} -> {o.name!r}")

    def _first_i18n(self, base: str) -> str:
        for e in self.b.all(f'[name^="{base}_"]'):
            n = e.get_attribute("name")
            if re.fullmatch(rf"{re.escape(base)}_\d+", n or ""):
                return n
        return base

    def _i18n_value(self, base: str) -> str:
        n = self._first_i18n(base)
        return (self.b.field(n).get_attribute("value") or "").strip()

    def step_token(self) -> None:
        b, t, org = self.b, self.seed.team, self.seed.organizer.slug
        token = self.state.read("api_token")
        if token and Api(self.url, token).token_works(org):
            self.token, self.api = token, Api(self.url, token)
            return
        # find or create the team
        b.go(f"{self.ctl_org}/teams")
        team_link = None
        for a in b.all('a[href*="/team/"]'):
            href = a.get_attribute("href") or ""
            if a.text.strip() == t.name and re.search(r"/team/\d+/$", href):
                team_link = href
                break
        if team_link is None:
            b.go(f"{self.ctl_org}/team/add")
            b.fill("name", t.name)
            for box in ("all_organizer_permissions", "all_events", "all_event_permissions"):
                b.check(box, True)
            b.submit(b.form_of("name"), expect_path=r"/team/\d+/$")
            self.change(f"created team {t.name!r} (all organizer + all event permissions)")
        else:
            b.d.get(team_link)
            b.ready()
        # add a token on the team page
        name_field = self._token_name_field()
        b.fill(name_field, t.token_name)
        b.submit(b.form_of(name_field))
        token = self._token_from_page()
        self.state.write("api_token", token)
        b.go(f"{self.ctl_org}/teams")  # leave the page showing the token before any screenshot
        self.token, self.api = token, Api(self.url, token)
        if not self.api.token_works(org):
            raise PermissionError("the new API token is not accepted by the API")
        self.change(f"created API token {t.token_name!r} {mask_token(token)} (saved to {self.state.path}/api_token)")

    def _token_name_field(self) -> str:
        for e in self.b.all("form input[type=text]"):
            n = e.get_attribute("name") or ""
            if "token" in n and "name" in n:
                return n
        for e in self.b.all("form input[type=text]"):
            n = e.get_attribute("name") or ""
            if n.endswith("name") and "user" not in n and "email" not in n:
                return n
        raise LookupError("no token name input on the team page")

    def _token_from_page(self) -> str:
        for text in self.b.messages() + [e.text for e in self.b.all(".alert-success code, .alert code, code")]:
            m = re.search(r"\b([a-z0-9]{64})\b", text)
            if m:
                return m.group(1)
        raise LookupError("the new API token is not shown on the page")

    # -- 3. event & co
    def step_event(self) -> None:
        ev, api = self.seed.event, self.api
        cur = self._event()
        if cur is None:
            self._create_event()
            self.change(f"created event {ev.slug} ({ev.name})")
            return
        patch: dict[str, Any] = {}
        if i18n(cur.get("name"), ev.locale) != ev.name:
            patch["name"] = {ev.locale: ev.name}
        if cur.get("currency") != ev.currency:
            patch["currency"] = ev.currency
        if (ev.location or "") != i18n(cur.get("location"), ev.locale):
            patch["location"] = {ev.locale: ev.location} if ev.location else None
        if cur.get("timezone") and cur.get("timezone") != ev.timezone:
            patch["timezone"] = ev.timezone
        for key in ("date_from", "date_to", "presale_start", "presale_end"):
            spec = getattr(ev, key)
            if spec is None or spec.is_relative:
                continue  # relative dates only apply at creation
            want = spec.resolve(ev.timezone)
            have = dt.datetime.fromisoformat(cur[key]) if cur.get(key) else None
            if have is None or have != want:
                patch[key] = want.isoformat()
        if patch:
            api.patch(self.api_ev, patch)
            self.change(f"updated event {ev.slug}: {', '.join(sorted(patch))}")
        st = api.get(self.api_ev + "settings/") or {}
        spatch = {}
        if st.get("locale") != ev.locale:
            spatch["locale"] = ev.locale
        if ev.locale not in (st.get("locales") or []):
            spatch["locales"] = sorted(set(st.get("locales") or []) | {ev.locale})
        if spatch:
            api.patch(self.api_ev + "settings/", spatch)
            self.change(f"updated event {ev.slug} settings: {', '.join(sorted(spatch))}")

    def _event(self) -> dict | None:
        # (GET of a missing event answers 403, not 404: look it up in the organizer's event list)
        for e in self.api.list(f"organizers/{self.seed.organizer.slug}/events/"):
            if e["slug"].lower() == self.seed.event.slug.lower():
                return e
        return None

    def _create_event(self) -> None:
        b, ev, org = self.b, self.seed.event, self.seed.organizer.slug
        b.go(f"/control/events/add?organizer={org}")
        # step "foundation": organizer, series or not, languages
        b.el('[name="foundation-organizer"]')
        if not b.all('[name="foundation-organizer"] option:checked') or \
                b.d.execute_script("var s=document.querySelector('[name=\"foundation-organizer\"]');"
                                   "return s.options[s.selectedIndex] ? s.options[s.selectedIndex].text : ''"
                                   ).strip() == "":
            raise LookupError(f"organizer {org} is not preselected in the event wizard")
        offered = [e.get_attribute("value") for e in b.all('input[name="foundation-locales"]')]
        if ev.locale not in offered:
            raise LookupError(f"event.locale {ev.locale!r} is not offered by this pretix "
                              f"(offered: {', '.join(offered)})")
        for e in b.all('input[name="foundation-locales"]'):
            want = e.get_attribute("value") == ev.locale
            if e.is_selected() != want:
                b.click(e)
        if b.all('input[name="foundation-has_subevents"][value=""]'):
            b.check("foundation-has_subevents", True, value="")  # a single event, not a series
        b.submit(b.form_of("foundation-organizer"))
        # step "basics"
        b.el('[name="basics-slug"]')
        b.fill_i18n("basics-name", ev.name)
        b.fill("basics-slug", ev.slug)
        for key in ("date_from", "date_to", "presale_start", "presale_end"):
            spec = getattr(ev, key)
            if spec is None or not b.all(f'[name="basics-{key}_0"]'):
                continue
            when = spec.resolve(ev.timezone)
            b.set_value(f"basics-{key}_0", when.strftime("%Y-%m-%d"))
            b.set_value(f"basics-{key}_1", when.strftime("%H:%M"))
        if ev.location:
            b.fill_i18n("basics-location", ev.location)
        b.select("basics-currency", ev.currency)
        if ev.tax_rate is None:
            b.check("basics-no_taxes", True)
        else:
            b.check("basics-no_taxes", False)
            b.fill("basics-tax_rate", str(ev.tax_rate))
        b.select("basics-locale", ev.locale)
        b.select("basics-timezone", ev.timezone)
        b.submit(b.form_of("basics-slug"))
        # optional step "copy" (only when the organizer already has events): do not copy
        if b.all('[name="copy-copy_from_event"]'):
            radios = b.all('input[name="copy-copy_from_event"][value=""]')
            if radios:
                b.click(radios[0])
            b.submit(b.form_of("copy-copy_from_event"))
        b.wait(lambda d: b.path().startswith(self.ctl_ev + "/"), "the new event's page")

    def step_categories(self) -> None:
        want = self.seed.categories
        if not want:
            return
        have = {i18n(c["name"], self.seed.event.locale): c for c in self.api.list(self.api_ev + "categories/")}
        for name in want:
            if name in have:
                continue
            b = self.b
            b.go(f"{self.ctl_ev}/categories/add")
            b.fill_i18n("name", name)
            b.submit(b.form_of(self._first_i18n("name")))
            self.change(f"created product category {name!r}")

    def _categories(self) -> dict[str, int]:
        return {i18n(c["name"], self.seed.event.locale): c["id"]
                for c in self.api.list(self.api_ev + "categories/")}

    def _items(self) -> dict[str, dict]:
        return {i18n(i["name"], self.seed.event.locale): i for i in self.api.list(self.api_ev + "items/")}

    def step_products(self) -> None:
        cats = self._categories()
        items = self._items()
        for p in self.seed.products:
            cat_id = cats.get(p.category) if p.category else None
            cur = items.get(p.name)
            if cur is None:
                self._create_product(p, cat_id)
                self.change(f"created product {p.name!r} at {p.price} {self.seed.event.currency}")
                continue
            patch: dict[str, Any] = {}
            if Decimal(cur["default_price"]) != p.price:
                patch["default_price"] = str(p.price)
            if cur.get("category") != cat_id:
                patch["category"] = cat_id
            if bool(cur.get("admission")) != p.admission:
                patch["admission"] = p.admission
            if bool(cur.get("active")) != p.active:
                patch["active"] = p.active
            if p.description is not None and i18n(cur.get("description"), self.seed.event.locale) != p.description:
                patch["description"] = {self.seed.event.locale: p.description}
            if patch:
                self.api.patch(self.api_ev + f"items/{cur['id']}/", patch)
                self.change(f"updated product {p.name!r}: {', '.join(sorted(patch))}")

    def _create_product(self, p, cat_id: int | None) -> None:
        b = self.b
        b.go(f"{self.ctl_ev}/items/add")
        b.fill_i18n("name", p.name)
        b.fill("default_price", f"{p.price:.2f}")
        if cat_id is not None:
            sel = b.field("category")
            b.d.execute_script(
                "var s=arguments[0], id=String(arguments[1]), t=arguments[2];"
                "if(!Array.from(s.options).some(o=>o.value===id)){s.appendChild(new Option(t,id,true,true));}"
                "s.value=id; s.dispatchEvent(new Event('change',{bubbles:true}));"
                "if(window.jQuery){jQuery(s).trigger('change');}", sel, cat_id, p.category)
        if b.all('input[name="admission"][type=radio]'):  # radios: value "on" = admission ticket
            b.check("admission", True, value="on" if p.admission else "")
        elif b.all('input[name="admission"]'):
            b.check("admission", p.admission)
        # no quota from the product form: quotas are managed in their own step
        if b.all('input[name="quota_option"][value="none"]'):
            b.check("quota_option", True, value="none")
        b.submit(b.form_of(self._first_i18n("name")))
        if not p.active or p.description:
            item = self._items().get(p.name)
            if item:
                patch: dict[str, Any] = {"active": p.active}
                if p.description:
                    patch["description"] = {self.seed.event.locale: p.description}
                self.api.patch(self.api_ev + f"items/{item['id']}/", patch)

    def step_quotas(self) -> None:
        items = self._items()
        have = {q["name"]: q for q in self.api.list(self.api_ev + "quotas/")}
        for q in self.seed.quotas:
            ids = sorted(items[n]["id"] for n in q.products)
            cur = have.get(q.name)
            if cur is None:
                self._create_quota(q, ids)
                self.change(f"created quota {q.name!r} ({'unlimited' if q.size is None else q.size})")
                continue
            patch: dict[str, Any] = {}
            if cur.get("size") != q.size:
                patch["size"] = q.size
            if sorted(cur.get("items") or []) != ids:
                patch["items"] = ids
            if patch:
                self.api.patch(self.api_ev + f"quotas/{cur['id']}/", patch)
                self.change(f"updated quota {q.name!r}: {', '.join(sorted(patch))}")

    def _create_quota(self, q, item_ids: list[int]) -> None:
        b = self.b
        b.go(f"{self.ctl_ev}/quotas/add")
        b.fill("name", q.name)
        b.fill("size", "" if q.size is None else str(q.size))
        for iid in item_ids:
            if b.all(f'input[name="itemvars"][value="{iid}"]'):
                b.check("itemvars", True, value=str(iid))
            else:
                raise LookupError(f"no checkbox for product id {iid} on the quota form")
        b.submit(b.form_of("size"))

    def step_questions(self) -> None:
        if not self.seed.questions:
            return
        items = self._items()
        loc = self.seed.event.locale
        have = {i18n(q["question"], loc): q for q in self.api.list(self.api_ev + "questions/")}
        all_ids = sorted(i["id"] for i in items.values())
        for q in self.seed.questions:
            ids = sorted(items[n]["id"] for n in q.products) if q.products else all_ids
            cur = have.get(q.question)
            if cur is None:
                self._create_question(q, ids)
                self.change(f"created question {q.question!r} ({q.type}, "
                            f"{'required' if q.required else 'optional'})")
                continue
            patch: dict[str, Any] = {}
            if cur.get("type") != q.type_code:
                patch["type"] = q.type_code
            if bool(cur.get("required")) != q.required:
                patch["required"] = q.required
            if sorted(cur.get("items") or []) != ids:
                patch["items"] = ids
            if q.identifier and cur.get("identifier") != q.identifier:
                patch["identifier"] = q.identifier
            if q.options:
                have_opts = [i18n(o.get("answer"), loc) for o in cur.get("options") or []]
                if have_opts != list(q.options):
                    patch["options"] = [{"answer": {loc: o}} for o in q.options]
            if patch:
                self.api.patch(self.api_ev + f"questions/{cur['id']}/", patch)
                self.change(f"updated question {q.question!r}: {', '.join(sorted(patch))}")

    def _create_question(self, q, item_ids: list[int]) -> None:
        b = self.b
        b.go(f"{self.ctl_ev}/questions/add")
        b.fill_i18n("question", q.question)
        b.select("type", q.type_code)
        b.check("required", q.required)
        if q.identifier and b.all('[name="identifier"]'):
            b.fill("identifier", q.identifier)
        for iid in item_ids:
            b.check("items", True, value=str(iid))
        if q.options:
            self._fill_question_options(q.options)
        b.submit(b.form_of(self._first_i18n("question")))

    def _fill_question_options(self, options: tuple[str, ...]) -> None:
        b = self.b
        for idx, text in enumerate(options):
            inputs = [e for e in b.all('input[name^="form-"][name$="-answer_0"]')]
            if len(inputs) <= idx:
                add = b.all('[data-formset-add]')
                if not add:
                    raise LookupError("no 'add answer option' button on the question form")
                b.click(add[0])
                b.wait(lambda d: len(b.all('input[name^="form-"][name$="-answer_0"]')) > idx,
                       "a new answer option row", 5)
                inputs = b.all('input[name^="form-"][name$="-answer_0"]')
            b.fill(inputs[idx].get_attribute("name"), text)

    # -- 4. payment + live
    def step_payment(self) -> None:
        b, m = self.b, self.seed.manual_payment
        ev = self.api.get(self.api_ev)
        if m.enabled and MANUAL_PLUGIN not in (ev.get("plugins") or []):
            b.go(f"{self.ctl_ev}/settings/plugins")
            btn = b.all(f'button[name="plugin:{MANUAL_PLUGIN}"][value="enable"]')
            if not btn:
                raise LookupError(f"no 'enable' button for plugin {MANUAL_PLUGIN}")
            b.submit(button=btn[0])
            self.change(f"enabled plugin {MANUAL_PLUGIN}")
        b.go(f"{self.ctl_ev}/settings/payment/manual")
        b.el('input[name="payment_manual__enabled"]')
        changed = []
        if b.check("payment_manual__enabled", m.enabled):
            changed.append("enabled" if m.enabled else "disabled")
        for key in ("public_name", "checkout_description", "email_instructions", "pending_description"):
            want = getattr(m, key)
            base = f"payment_manual_{key}"
            if self._i18n_value(base) != want:
                b.fill_i18n(base, want)
                changed.append(key)
        if changed:
            b.submit(b.form_of("payment_manual__enabled"))
            self.change(f"manual payment provider: {', '.join(changed)}")

    def _live_form(self, name: str, value: str):
        """The form on the live page that posts <name>=<value> (hidden input or button)."""
        from selenium.webdriver.common.by import By

        for e in self.b.all(f'form input[name="{name}"][value="{value}"], form button[name="{name}"][value="{value}"]'):
            return e.find_element(By.XPATH, "./ancestor::form")
        return None

    def step_live(self) -> None:
        b = self.b
        ev = self.api.get(self.api_ev)
        want_live = self.seed.live
        if ev.get("testmode") and want_live:
            b.go(f"{self.ctl_ev}/live/")
            form = self._live_form("testmode", "false")
            if form is None:
                raise LookupError("no 'disable test mode' form on the live page")
            b.submit(form)  # keeps test orders ("delete" stays unchecked)
            self.change("left test mode")
        if bool(ev.get("live")) != want_live:
            b.go(f"{self.ctl_ev}/live/")
            form = self._live_form("live", "true" if want_live else "false")
            if form is None:
                issues = [" ".join(e.text.split()) for e in b.all(".alert-danger, .panel-body li")]
                raise LookupError("cannot " + ("go live" if want_live else "go offline") +
                                  (": " + "; ".join(i for i in issues if i)[:300] if issues else ""))
            b.submit(form)
            self.change("shop is live" if want_live else "shop taken offline")

    # -- 5. verification through the REST API
    def step_verify(self) -> None:
        api, s, loc = self.api, self.seed, self.seed.event.locale
        ev = api.get(self.api_ev)
        problems = []
        if ev is None:
            raise LookupError("event not found through the API")
        if bool(ev["live"]) != s.live:
            problems.append(f"live={ev['live']}")
        if s.live and ev.get("testmode"):
            problems.append("still in test mode")
        if s.manual_payment.enabled and MANUAL_PLUGIN not in ev.get("plugins", []):
            problems.append(f"plugin {MANUAL_PLUGIN} not enabled")
        items = self._items()
        for p in s.products:
            it = items.get(p.name)
            if it is None:
                problems.append(f"product {p.name!r} missing")
            elif Decimal(it["default_price"]) != p.price:
                problems.append(f"product {p.name!r} price {it['default_price']} != {p.price}")
        quotas = {q["name"]: q for q in api.list(self.api_ev + "quotas/")}
        for q in s.quotas:
            cur = quotas.get(q.name)
            if cur is None:
                problems.append(f"quota {q.name!r} missing")
                continue
            if cur["size"] != q.size:
                problems.append(f"quota {q.name!r} size {cur['size']} != {q.size}")
            want_ids = sorted(items[n]["id"] for n in q.products if n in items)
            if sorted(cur["items"]) != want_ids:
                problems.append(f"quota {q.name!r} products differ")
        qs = {i18n(q["question"], loc) for q in api.list(self.api_ev + "questions/")}
        problems += [f"question {q.question!r} missing" for q in s.questions if q.question not in qs]
        # The REST API has no view of payment provider settings: read the provider form back.
        self.b.go(f"{self.ctl_ev}/settings/payment/manual")
        manual_on = self.b.el('input[name="payment_manual__enabled"]').is_selected()
        if manual_on != s.manual_payment.enabled:
            problems.append(f"manual payment provider enabled={manual_on}")
        self.verified = {
            "live": ev["live"], "testmode": ev.get("testmode"),
            "products": {n: str(i["default_price"]) for n, i in items.items()},
            "quotas": {n: q["size"] for n, q in quotas.items()},
            "manual_payment": manual_on and MANUAL_PLUGIN in ev.get("plugins", []),
        }
        if problems:
            raise AssertionError("verification failed: " + "; ".join(problems))


def run_quickstart(url: str, state_dir: str | Path, seed: str | Path | Seed | None = None, *,
                   screenshots: str | Path | None = None, tickets: int | None = None,
                   organizer: str | None = None, event: str | None = None, timeout: float = 30,
                   log: Callable[[str], None] | None = None) -> QuickstartResult:
    """Seed (or re-check) the pretix at `url` from a seed file; see the module docstring.

    Returns a QuickstartResult (`.changes` lists what was changed, empty when nothing differed;
    `.as_dict()` for JSON). Raises SeedError for a bad seed file and QuickstartError (message names the
    failed step; screenshot + HTML saved into `screenshots` or `state_dir`) for anything else.
    """
    log = log or (lambda s: None)
    s = seed if isinstance(seed, Seed) else load_seed(seed or DEFAULT_SEED)
    s = s.with_overrides(organizer=organizer, event=event, tickets=tickets)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise QuickstartError("start", f"--url must be like http://127.0.0.1:8080 (got {url!r})")
    state = StateDir(state_dir)
    state.ensure()
    shots = Path(screenshots).expanduser().resolve() if screenshots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    try:
        r = requests.get(url.rstrip("/") + "/healthcheck/", timeout=10)
        if r.status_code != 200:
            raise QuickstartError("start", f"{url}/healthcheck/ answered HTTP {r.status_code}")
    except requests.RequestException as e:
        raise QuickstartError("start", f"pretix not reachable at {url}: {type(e).__name__}") from None
    try:
        qs = Quickstart(url, state, s, shots, timeout, log)
    except Exception as e:  # pragma: no cover
        raise QuickstartError("start", str(e)) from e
    try:
        return qs.run()
    except QuickstartError:
        raise
    except Exception as e:  # browser could not start etc.
        raise QuickstartError(qs.step, " ".join(str(e).split())[:400] or type(e).__name__) from e


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="quickstart.py",
        description="Seed a pretix through its admin UI (headless Chromium): admin password, organizer, "
                    "API token, event, products, quotas, question, manual payment, live. Idempotent.")
    ap.add_argument("--url", required=True, help="public URL of pretix, e.g. http://127.0.0.1:8080")
    ap.add_argument("--state-dir", required=True,
                    help="directory for secrets (admin_password, api_token; dir 0700, files 0600)")
    ap.add_argument("--seed", default=str(DEFAULT_SEED), help="seed file (default: %(default)s)")
    ap.add_argument("--screenshots", metavar="DIR", help="save a PNG after each step into DIR")
    ap.add_argument("--tickets", type=int, help="override the size of the first quota in the seed file")
    ap.add_argument("--organizer", metavar="SLUG", help="override organizer.slug")
    ap.add_argument("--event", metavar="SLUG", help="override event.slug")
    ap.add_argument("--timeout", type=float, default=30, help="seconds to wait for each page state (default 30)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON instead of a summary")
    ap.add_argument("-q", "--quiet", action="store_true", help="no step-by-step progress")
    a = ap.parse_args(argv)
    log = (lambda s: None) if a.quiet or a.json else (lambda s: print(s, flush=True))
    try:
        res = run_quickstart(a.url, a.state_dir, a.seed, screenshots=a.screenshots, tickets=a.tickets,
                             organizer=a.organizer, event=a.event, timeout=a.timeout, log=log)
    except (SeedError, QuickstartError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    if a.json:
        import json
        print(json.dumps(res.as_dict(), indent=2, default=str))
    else:
        print(res.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
