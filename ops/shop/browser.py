"""A thin Selenium driver for the pretix admin UI: explicit waits, form helpers, evidence, stale nodes re-found."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import (ElementClickInterceptedException, ElementNotInteractableException,
                                        InvalidElementStateException, StaleElementReferenceException,
                                        TimeoutException, WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from ..core.files import write_private
from ..core.retry import attempts

T = TypeVar("T")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--window-size=1280,1600"]
STALE_TRIES = 5
# Chromium 156 reports a node its page re-rendered as an inspector error, not as a stale element.
_STALE_TEXT = re.compile(r"does not belong to the document|no node with given id|stale element", re.I)
_SUBMIT_BUTTONS = ("button.btn-save", "button.btn-primary[type=submit]", "button[type=submit]:not([name])",
                   "button[type=submit], input[type=submit]")


def named(name: str) -> str:
    """CSS for the form field called name."""
    return f'[name="{name}"]'


def is_stale(exc: BaseException) -> bool:
    """True when the element went away under us (the page re-rendered it): find it again and retry."""
    if isinstance(exc, StaleElementReferenceException):
        return True
    return isinstance(exc, WebDriverException) and bool(_STALE_TEXT.search(str(exc)))


def describe(exc: BaseException) -> str:
    """One line for an error: Selenium's message without the driver's stack trace."""
    text = exc.msg if isinstance(exc, WebDriverException) and exc.msg else str(exc)
    return " ".join(text.split()) or type(exc).__name__


class Browser:
    """Headless Chromium on one pretix: every action finds its element by CSS, so a retry can find it again."""

    def __init__(self, base_url: str, timeout: float = 30, screenshots: Path | None = None):
        self.base, self.timeout, self.screenshots, self.shot_no = base_url.rstrip("/"), timeout, screenshots, 0
        self.profile = tempfile.mkdtemp(prefix="pretix-quickstart-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS + [f"--user-data-dir={self.profile}"]:
            opts.add_argument(flag)
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

    # -- retrying and waiting
    def retry(self, action: Callable[[], T], what: str) -> T:
        """Run action (it finds its elements itself) again when the page re-rendered them under it."""
        for i in attempts(STALE_TRIES, first=0.2):
            try:
                return action()
            except WebDriverException as exc:
                if not is_stale(exc):
                    raise
                if i == STALE_TRIES - 1:
                    raise RuntimeError(f"{what}: the page kept re-rendering the element ({STALE_TRIES} tries, "
                                       f"at {self.path()})") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def wait(self, cond: Callable[[Any], T], what: str, timeout: float | None = None) -> T:
        def tolerant(d):
            try:
                return cond(d)
            except WebDriverException as exc:
                if is_stale(exc):
                    return False  # re-rendered while we looked: look again at the next poll
                raise

        try:
            return WebDriverWait(self.d, timeout or self.timeout, poll_frequency=0.2).until(tolerant)
        except TimeoutException:
            raise TimeoutError(f"timed out after {timeout or self.timeout:.0f} s waiting for {what} "
                               f"(at {self.path()})") from None

    def ready(self) -> None:
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete", "page load")

    # -- navigation
    def go(self, path: str) -> None:
        self.open(self.base + path)

    def open(self, url: str) -> None:
        self.d.get(url)
        self.ready()

    def path(self) -> str:
        u = urlsplit(self.d.current_url)
        return u.path + (f"?{u.query}" if u.query else "")

    def is_not_found(self) -> bool:
        t = (self.d.title or "").lower()
        return "not found" in t or "permission denied" in t

    def js(self, script: str, *args):
        return self.d.execute_script(script, *args)

    # -- reading
    def el(self, css: str, timeout: float | None = None):
        return self.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, css) or [None])[0], f"element {css}", timeout)

    def all(self, css: str) -> list:
        return self.d.find_elements(By.CSS_SELECTOR, css)

    def attrs(self, css: str, attr: str) -> list[str]:
        """The attribute of every element matching css (read in one go, re-read if the page re-rendered)."""
        return self.retry(lambda: [e.get_attribute(attr) or "" for e in self.all(css)], f"read {css}")

    def texts(self, css: str) -> list[str]:
        """The visible text of every element matching css, white space folded, empty ones left out."""
        found = self.retry(lambda: [" ".join((e.text or "").split()) for e in self.all(css)], f"read {css}")
        return [t for t in found if t]

    def links(self, css: str) -> list[tuple[str, str]]:
        """(text, href) of every link matching css."""
        return self.retry(lambda: [((e.text or "").strip(), e.get_attribute("href") or "") for e in self.all(css)],
                          f"read {css}")

    def value(self, name: str) -> str:
        return self._raw_value(name).strip()

    def is_checked(self, css: str) -> bool:
        return self.retry(lambda: self.el(css).is_selected(), f"read {css}")

    def i18n_names(self, base: str) -> list[str]:
        """The inputs of an i18n field, one per language (base_0, base_1, ...)."""
        return [n for n in self.attrs(f'[name^="{base}_"]', "name") if re.fullmatch(rf"{re.escape(base)}_\d+", n)]

    def first_i18n(self, base: str) -> str:
        return (self.i18n_names(base) or [base])[0]

    def i18n_value(self, base: str) -> str:
        return self.value(self.first_i18n(base))

    # -- writing
    def fill(self, name: str, value: str) -> None:
        """Type into a text input or textarea (cleared first)."""
        self.retry(lambda: self._type(self.el(named(name)), value), f"fill {name}")
        # read back from a fresh lookup: typing may itself make the page re-render the field
        if self._raw_value(name) != value:  # a widget reformatted the input, or it sits in a collapsed section
            self.set_value(name, value)

    def _type(self, e, value: str) -> None:
        self._scroll(e)
        try:
            e.clear()
            if value:
                e.send_keys(value)
        except (ElementNotInteractableException, InvalidElementStateException):
            pass  # e.g. in a collapsed "advanced" section: fill() then sets it like a paste would

    def _raw_value(self, name: str) -> str:
        return self.retry(lambda: self.el(named(name)).get_attribute("value") or "", f"read {name}")

    def set_value(self, name: str, value: str) -> None:
        """Set an input's value as a user's paste would (for date/time picker widgets), firing events."""
        self.retry(lambda: self._set(self.el(named(name)), value), f"set {name}")

    def _set(self, e, value: str) -> None:
        self.js("arguments[0].value = arguments[1];"
                "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
                "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", e, value)

    def fill_i18n(self, base: str, value: str) -> None:
        """Fill every language input of an i18n field."""
        names = self.i18n_names(base)
        if not names:
            raise LookupError(f"no input for field {base!r} on {self.path()}")
        for n in names:
            self.fill(n, value)

    def save_i18n(self, path: str, base: str, value: str) -> None:
        """Open the form at path, set the i18n field base in every language, save."""
        self.go(path)
        self.fill_i18n(base, value)
        self.submit(named(self.first_i18n(base)))

    def select(self, name: str, value: str) -> None:
        def pick():
            e = self.el(named(name))
            self._scroll(e)
            Select(e).select_by_value(value)

        try:
            self.retry(pick, f"select {name}")
        except WebDriverException:
            raise LookupError(f"no option {value!r} in select {name!r} on {self.path()}") from None

    def check(self, name: str, on: bool = True, value: str | None = None) -> bool:
        """Set a checkbox or radio button; True if it was changed."""
        css = f'input[name="{name}"]' + (f'[value="{value}"]' if value is not None else "")
        if self.is_checked(css) == on:
            return False
        # Toggling one box can collapse/expand sections (layout shifts under an animation), so a click may
        # land elsewhere: look at the state again, click again, and the last time click from JS.
        for i in range(4):
            self.retry(lambda: self._click(self.el(css), from_js=i == 3), f"click {css}")
            try:
                self.wait(lambda d: self.is_checked(css) == on, f"checkbox {name} to be {'on' if on else 'off'}", 2)
                return True
            except TimeoutError:
                if i == 3:
                    raise
        return True  # pragma: no cover

    def click(self, css: str) -> None:
        self.retry(lambda: self._click(self.el(css)), f"click {css}")

    def _scroll(self, e) -> None:
        self.js("arguments[0].scrollIntoView({block: 'center'});", e)

    def _click(self, e, from_js: bool = False) -> None:
        self._scroll(e)
        if not from_js:
            try:
                return e.click()
            except (ElementClickInterceptedException, ElementNotInteractableException):
                pass  # covered by a sticky header or an animation: a script click reaches it
        self.js("arguments[0].click();", e)

    # -- forms
    def submit(self, inside: str | None = None, button: str | None = None, expect_path: str | None = None) -> None:
        """Press the save button of the form around css `inside` (or the button at css `button`), wait for
        the next page; raise ValueError when pretix rejects the form."""
        html = self.d.find_element(By.TAG_NAME, "html")
        self.retry(lambda: self._click(self._button(inside, button)), "submit")
        try:
            WebDriverWait(self.d, 5).until(EC.staleness_of(html))
        except TimeoutException:
            # a click can land on nothing when the layout shifts under it (collapsing sections):
            # if the page did not start to change, submit the form with the button as a browser would
            self.retry(lambda: self.js("arguments[0].form.requestSubmit(arguments[0]);",
                                       self._button(inside, button)), "submit")
            self.wait(EC.staleness_of(html), "the form to be submitted")
        self.ready()
        errors = self.form_errors()
        if errors:
            raise ValueError("the form was rejected: " + "; ".join(errors))
        if expect_path and not re.search(expect_path, self.path()):
            raise ValueError(f"expected to land on {expect_path}, got {self.path()}")

    def _button(self, inside: str | None, button: str | None):
        if button:
            return self.el(button)
        form = self.el(inside).find_element(By.XPATH, "./ancestor::form")
        for css in _SUBMIT_BUTTONS:
            found = form.find_elements(By.CSS_SELECTOR, css)
            if found:
                return found[-1]
        raise LookupError(f"no submit button in the form around {inside} on {self.path()}")

    def form_errors(self) -> list[str]:
        found = self.texts(".alert-danger, .has-error .help-block, .has-error .error-block, .errorlist")
        return [t[:200] for i, t in enumerate(found) if t not in found[:i]]

    def messages(self) -> list[str]:
        return self.texts(".alert-success")

    # -- evidence
    def screenshot(self, step: str) -> str | None:
        """A PNG per step into the screenshots folder, when there is one."""
        if not self.screenshots:
            return None
        self.shot_no += 1
        return self._png(self.screenshots / f"{self.shot_no:02d}-{step}.png")

    def dump(self, where: Path, step: str) -> list[str]:
        """Screenshot and HTML of the page a step failed on (0600: the page may show a token)."""
        where.mkdir(parents=True, exist_ok=True)
        out = [self._png(where / f"failure-{step}.png")]
        try:
            write_private(where / f"failure-{step}.html", self.d.page_source)
            out.append(str(where / f"failure-{step}.html"))
        except (OSError, WebDriverException):
            pass  # evidence is best effort: the step's own error is what the user needs
        return [p for p in out if p]

    def _png(self, path: Path) -> str | None:
        try:
            self.d.save_screenshot(str(path))
            os.chmod(path, 0o600)
        except (OSError, WebDriverException):
            return None
        return str(path)
