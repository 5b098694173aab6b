"""Seed pretix through its admin UI: per step read the shop, plan (ops.shop.plan), apply by API PATCH or the UI.

Steps: login (replace the initial admin password), organizer, token (API team), event, categories, products,
quotas, questions, payment (plugin + manual provider), live, verify (every plan again: nothing may be left).
Idempotent: a run with nothing to do says "no changes". Secrets stay in the state dir (0700, files 0600).
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import requests

from ..core.errors import QuickstartError
from ..core.output import MASKER
from . import ui_account, ui_event
from .api import Api, event_path
from .browser import Browser, describe, is_stale
from .plan import (CREATE, PATCH, UI, Change, Planner, ShopState, observed, plan_all, plan_categories, plan_event,
                   plan_live, plan_manual_payment, plan_organizer, plan_payment_plugin, plan_products,
                   plan_questions, plan_quotas)
from .seed import Seed, load_seed
from .ui_account import StateFiles

DEFAULT_SEED = Path(__file__).resolve().parents[2] / "scripts" / "seed.yaml"
# How each planned UI change is made (PATCH changes go to the API as they are).
UI_APPLY: dict[tuple[str, str], Callable[[Browser, Seed, dict], None]] = {
    (CREATE, "organizer"): ui_account.create_organizer, (UI, "organizer"): ui_account.rename_organizer,
    (CREATE, "event"): ui_event.create_event, (CREATE, "category"): ui_event.create_category,
    (CREATE, "product"): ui_event.create_product, (CREATE, "quota"): ui_event.create_quota,
    (CREATE, "question"): ui_event.create_question, (UI, "plugin"): ui_event.enable_plugin,
    (UI, "manual_payment"): ui_event.set_manual_payment, (UI, "testmode"): ui_event.leave_testmode,
    (UI, "live"): ui_event.set_live,
}


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
        return {**dataclasses.asdict(self), "changed": self.changed}

    def summary(self) -> str:
        lines = [f"pretix quickstart: {self.url} organizer={self.organizer} event={self.event} "
                 f"({self.seconds:.1f} s)"]
        lines += [f"  changed: {c}" for c in self.changes] or ["  no changes"]
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


def read_state(api: Api, seed: Seed) -> ShopState:
    """The shop as the REST API sees it (everything but the payment provider form)."""
    org = seed.organizer.slug
    events = api.list(f"organizers/{org}/events/")  # (GET of a missing event answers 403, not 404)
    ev = next((e for e in events if e["slug"].lower() == seed.event.slug.lower()), None)
    organizer = api.get(f"organizers/{org}/")
    if ev is None:
        return ShopState(organizer=organizer)
    base = event_path(org, seed.event.slug)
    return ShopState(organizer=organizer, event=ev, settings=api.get(base + "settings/") or {},
                     categories=api.list(base + "categories/"), items=api.list(base + "items/"),
                     quotas=api.list(base + "quotas/"), questions=api.list(base + "questions/"))


class Quickstart:
    """One run: a browser, the API once there is a token, and the list of changes made."""

    def __init__(self, url: str, files: StateFiles, seed: Seed, screenshots: Path | None, timeout: float,
                 log: Callable[[str], None]):
        self.url, self.files, self.seed, self.screenshots = url.rstrip("/"), files, seed, screenshots
        self.timeout, self.log = timeout, log
        self.b: Browser | None = None
        self.api: Api | None = None
        self.token = ""
        self.changes: list[str] = []
        self.step = "start"
        self.step_seconds: dict[str, float] = {}
        self.verified: dict[str, Any] = {}

    def change(self, what: str) -> None:
        self.changes.append(what)
        self.log(f"  + {what}")

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        return [("login", self.step_login), ("organizer", self.step_organizer), ("token", self.step_token),
                ("event", lambda: self.converge(plan_event)), ("categories", lambda: self.converge(plan_categories)),
                ("products", lambda: self.converge(plan_products)), ("quotas", lambda: self.converge(plan_quotas)),
                ("questions", lambda: self.converge(plan_questions)), ("payment", self.step_payment),
                ("live", lambda: self.converge(plan_live)), ("verify", self.step_verify)]

    def run(self) -> QuickstartResult:
        started = time.monotonic()
        self.b = Browser(self.url, self.timeout, self.screenshots)
        try:
            for name, fn in self.steps():
                self.run_step(name, fn)
        finally:
            self.b.close()
        s = self.seed
        return QuickstartResult(
            url=self.url, organizer=s.organizer.slug, event=s.event.slug,
            shop_url=f"{self.url}/{s.organizer.slug}/{s.event.slug}/", changes=self.changes,
            token_masked=mask_token(self.token), state_dir=str(self.files.path), verified=self.verified,
            seconds=round(time.monotonic() - started, 1), step_seconds=self.step_seconds)

    def run_step(self, name: str, fn: Callable[[], None]) -> None:
        """Run one step; any failure becomes a QuickstartError naming the step, with the page as evidence."""
        self.step, started = name, time.monotonic()
        self.log(f"[{name}]")
        for attempt in (1, 2):
            try:
                fn()
                break
            except QuickstartError:
                raise
            except Exception as e:
                # a page that navigated under a read (busy machine): the steps decide from what is there, so
                # running one again is safe
                if attempt == 1 and is_stale(e):
                    self.log(f"  the page changed under the step ({describe(e)[:80]}): once more")
                    continue
                evidence = self.b.dump(self.screenshots or self.files.path, name)
                where = ", ".join(evidence) or "none"
                raise QuickstartError(name, f"{describe(e)[:400]} (evidence: {where})", evidence) from e
        self.step_seconds[name] = round(time.monotonic() - started, 2)
        self.b.screenshot(name)

    # -- steps without a token: the UI is all there is
    def step_login(self) -> None:
        replaced = ui_account.log_in(self.b, self.files)
        if replaced:
            self.change(replaced)

    def step_organizer(self) -> None:
        name = ui_account.organizer_name(self.b, self.seed)
        for c in plan_organizer(self.seed, ShopState(organizer=None if name is None else {"name": name})):
            self.apply(c)

    def step_token(self) -> None:
        org, t = self.seed.organizer.slug, self.seed.team
        token = self.files.read("api_token")
        if token and Api(self.url, token).token_works(org):
            self.token, self.api = token, Api(self.url, token)
            return
        token, team_created = ui_account.make_token(self.b, self.seed, self.files)
        if team_created:
            self.change(f"created team {t.name!r} (all organizer + all event permissions)")
        self.token, self.api = token, Api(self.url, token)
        if not self.api.token_works(org):
            raise PermissionError(f"the new API token is not accepted by the API for organizer {org}")
        self.change(f"created API token {t.token_name!r} {mask_token(token)} (saved to {self.files.path}/api_token)")

    # -- steps with a token: read, plan, apply
    def read(self, manual: bool = False) -> ShopState:
        state = read_state(self.api, self.seed)
        if manual:  # the REST API has no view of payment provider settings: read the form
            state = dataclasses.replace(state, manual=ui_event.read_manual_payment(self.b, self.seed))
        return state

    def converge(self, *plans: Planner, manual: bool = False) -> None:
        """Apply what the plans say; objects the UI created then get by PATCH what their form does not set."""
        changes = [c for plan in plans for c in plan(self.seed, self.read(manual))]
        for c in changes:
            self.apply(c)
        if any(c.kind == CREATE for c in changes):
            for c in [c for plan in plans for c in plan(self.seed, self.read(manual))]:
                if c.kind == PATCH:  # never a second create: what is still missing is verify's finding
                    self.apply(c)

    def apply(self, c: Change) -> None:
        if c.kind == PATCH:
            self.api.patch(c.target, c.payload)
        else:
            UI_APPLY[(c.kind, c.target)](self.b, self.seed, c.payload)
        self.change(c.reason)

    def step_payment(self) -> None:
        self.converge(plan_payment_plugin)  # the provider's settings page exists once the plugin is on
        self.converge(plan_manual_payment, manual=True)

    def step_verify(self) -> None:
        """Every plan on the fresh state: what is left is what the run failed to do."""
        state = self.read(manual=True)
        self.verified = observed(self.seed, state)
        left = plan_all(self.seed, state)
        if left:
            raise AssertionError("verification failed, the shop still differs from the seed file: "
                                 + "; ".join(f"not done: {c.reason}" for c in left))


def run_quickstart(url: str, state_dir: str | Path, seed: str | Path | Seed | None = None, *,
                   screenshots: str | Path | None = None, tickets: int | None = None,
                   organizer: str | None = None, event: str | None = None, timeout: float = 30,
                   log: Callable[[str], None] | None = None) -> QuickstartResult:
    """Seed (or re-check) the pretix at `url` from a seed file; see the module docstring.

    Returns a QuickstartResult (`.changes` empty when nothing differed; `.as_dict()` for JSON). Raises
    SeedError for a bad seed file and QuickstartError (naming the failed step; screenshot + HTML saved into
    `screenshots` or `state_dir`) for anything else.
    """
    out = log or (lambda line: None)
    s = seed if isinstance(seed, Seed) else load_seed(seed or DEFAULT_SEED)
    s = s.with_overrides(organizer=organizer, event=event, tickets=tickets)
    _check_reachable(url)
    shots = Path(screenshots).expanduser().resolve() if screenshots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    qs = Quickstart(url, StateFiles(state_dir), s, shots, timeout, lambda line: out(MASKER(line)))
    try:
        return qs.run()
    except QuickstartError:
        raise
    except Exception as e:  # the browser could not start, etc.
        raise QuickstartError(qs.step, describe(e)[:400]) from e


def _check_reachable(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise QuickstartError("start", f"--url must be like http://127.0.0.1:8080 (got {url!r})")
    try:
        r = requests.get(url.rstrip("/") + "/healthcheck/", timeout=10)
    except requests.RequestException as e:
        raise QuickstartError("start", f"pretix not reachable at {url}: {type(e).__name__} (is the shop "
                                       f"deployed and the URL right?)") from None
    if r.status_code != 200:
        raise QuickstartError("start", f"{url}/healthcheck/ answered HTTP {r.status_code} (is pretix up?)")
