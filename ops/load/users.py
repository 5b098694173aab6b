"""Locust users: Buyer (browser purchase), Looker (browses only), ApiBuyer (REST API order); install() wires options."""
from __future__ import annotations

import logging
import random
import time
import uuid

import gevent
import locust.runners
from locust import HttpUser, task
from locust.exception import StopUser
from locust.user.wait_time import constant_pacing

from ..core.errors import JourneyError
from ..core.retry import attempts
from ..shop.purchase import browse, buy_ticket
from .apiorder import buyer_email, catalog_paths, choose_item, order_payload, orders_path
from .options import LoadOptions, add_arguments, from_parsed, weights
from .records import Record, cause_of, writer

log = logging.getLogger(__name__)
API_TRIES = 4                                   # one POST plus three retries while pretix answers 409


class PurchaseFailed(Exception):
    """A whole purchase failed; its text ("<cause> at <step>") groups Locust's failure table."""


class LocustSession:
    """A Locust HttpSession as buy_ticket expects a session: a request that could not be sent (refused,
    timed out) raises its requests exception as requests.Session does, instead of Locust's status-0 answer,
    which buy_ticket's checks would pass as a success. Also remembers the last request's name (the step)."""

    def __init__(self, client):
        self.client, self.last = client, None

    @property
    def cookies(self):
        return self.client.cookies

    def request(self, method, url, name=None, catch_response=False, **kw):
        self.last = name
        r = self.client.request(method, url, name=name, catch_response=catch_response, **kw)
        if r.status_code == 0 and getattr(r, "error", None) is not None:
            if catch_response:
                with r:
                    r.failure(r.error)
            raise r.error
        return r


def report(environment, rec: Record, name: str, steps: dict | None = None) -> None:
    """The whole purchase (and each journey step) as Locust request events: whole-purchase percentiles."""
    fire = environment.events.request.fire
    failed = None if rec.ok else PurchaseFailed(f"{rec.cause} at {rec.step}")
    fire(request_type="PURCHASE", name=name, response_time=rec.seconds * 1000, response_length=0,
         exception=failed, context={}, start_time=rec.t0, url=None, response=None)
    for step, seconds in (steps or {}).items():
        fire(request_type="STEP", name=step, response_time=seconds * 1000, response_length=0, exception=None,
             context={}, start_time=rec.t0, url=None, response=None)


def failure(o: LoadOptions, kind: str, t0: float, email: str, exc: BaseException, step: str | None,
            retries: int = 0) -> Record:
    return Record(run=o.run_id, kind=kind, t0=t0, t1=time.time(), ok=False, code=None, email=email,
                  step=getattr(exc, "step", None) or step, error=str(exc)[:300] or type(exc).__name__,
                  cause=cause_of(exc), retries=retries)


class ShopUser(HttpUser):
    """Options, a browser cache, paced iterations (rate = users x 60 / pacing) and a random first phase."""
    abstract = True

    def on_start(self):
        self.opts = from_parsed(self.environment.parsed_options)
        self.cache: set[str] = set()
        self.records = writer(self.opts.records_dir)
        self._pace = constant_pacing(self.opts.pacing)
        # users spawned together would all buy in the same second: start each at a random phase
        gevent.sleep(random.uniform(0, self.opts.pacing))

    def wait_time(self):
        return self._pace(self)


class Buyer(ShopUser):
    """The browser purchase journey (buy_ticket), a fresh session per purchase, assets cached per user."""
    weight = 800

    @task
    def purchase(self):
        o = self.opts
        # a new visitor each time: a failed attempt's cart must not leak into the next order
        self.client.cookies.clear()
        session, email, t0, steps = LocustSession(self.client), buyer_email(o.run_id, "b"), time.time(), {}
        try:
            res = buy_ticket(session, self.host, o.organizer, o.event, email=email, asset_cache=self.cache,
                             timeout=o.timeout, deadline_s=o.deadline)
        except Exception as exc:  # every failure is measured; none may stop the user
            rec = failure(o, "browser", t0, email, exc, session.last)
        else:
            rec = Record(run=o.run_id, kind="browser", t0=t0, t1=time.time(), ok=True, code=res.code, email=email,
                         retries=res.retries)
            steps = res.steps
        self.records.append(rec)
        report(self.environment, rec, "browser purchase", steps)


class Looker(ShopUser):
    """Only looks: the event page and its assets (cached per user); leaves no purchase record."""
    weight = 200

    @task
    def look(self):
        try:
            browse(LocustSession(self.client), self.host, self.opts.organizer, self.opts.event,
                   asset_cache=self.cache, timeout=self.opts.timeout)
        except Exception:  # noqa: BLE001 -- the failed request is already counted in Locust's stats
            pass


_CATALOG: dict[tuple, tuple[dict, list]] = {}


class ApiBuyer(ShopUser):
    """One REST API order per iteration (token auth), 409 retried with backoff under one idempotency key."""
    weight = 1    # Locust drops classes of weight 0 before install() sets the mix: 0 only from there

    def on_start(self):
        super().on_start()
        try:
            with open(self.opts.token_file) as f:
                self.token = f.read().strip()
        except OSError:
            log.error("API buyer: no API token file %r (--token-file)", self.opts.token_file)
            raise StopUser() from None
        self.headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}

    def catalog(self) -> tuple[dict, list]:
        """The product and questions to order, fetched once per process."""
        key = (self.host, self.opts.organizer, self.opts.event)
        if key not in _CATALOG:
            session = LocustSession(self.client)
            items, questions = (session.request("GET", path, name="api catalog", headers=self.headers,
                                                timeout=self.opts.timeout)
                                for path in catalog_paths(self.opts.organizer, self.opts.event))
            items.raise_for_status()
            questions.raise_for_status()
            _CATALOG[key] = (choose_item(items.json()["results"]), questions.json()["results"])
        return _CATALOG[key]

    @task
    def order(self):
        o, email, t0, retries = self.opts, buyer_email(self.opts.run_id, "a"), time.time(), 0
        step = "api catalog"
        try:
            item, questions = self.catalog()
            step, payload, key = "api order", order_payload(email, item, questions), uuid.uuid4().hex
            for attempt in attempts(API_TRIES, first=0.5):
                code, err, retryable = self.post(o, payload, key)
                if code or not retryable or attempt == API_TRIES - 1:
                    break
                retries += 1
            if not code:
                raise err
            rec = Record(run=o.run_id, kind="api", t0=t0, t1=time.time(), ok=True, code=code, email=email,
                         retries=retries)
        except Exception as exc:  # every failure is measured; none may stop the user
            rec = failure(o, "api", t0, email, exc, step, retries)
        self.records.append(rec)
        report(self.environment, rec, "api purchase")

    def post(self, o: LoadOptions, payload: dict, key: str):
        """(order code, None, False) or (None, the error, whether to retry); a request not sent raises."""
        path = orders_path(o.organizer, o.event)
        with LocustSession(self.client).request("POST", path, name="api order", catch_response=True, json=payload,
                                                headers={**self.headers, "X-Idempotency-Key": key},
                                                timeout=o.timeout) as r:
            if r.status_code == 201:
                r.success()
                return r.json()["code"], None, False
            r.failure(f"HTTP {r.status_code}")
        return (None, JourneyError("api order", f"HTTP {r.status_code} at {path}: {r.text[:200]}"),
                r.status_code == 409)


HEARTBEAT_LIVENESS = 30   # heartbeats a worker may miss: a busy 2-core machine starves workers for seconds


def install(events) -> None:
    """Register the custom arguments and set the user mix from them (call once, from the locustfile)."""
    # Locust's master drops a worker after 3 missed 1-second heartbeats and ends the whole run; under a drill
    # or a peak the generator shares the CPU with the cluster, so be patient (the run stays bounded in time).
    locust.runners.HEARTBEAT_LIVENESS = HEARTBEAT_LIVENESS
    events.init_command_line_parser.add_listener(add_arguments)

    def set_mix(environment, **_kw):
        mix = weights(from_parsed(environment.parsed_options))
        for cls in environment.user_classes:
            if cls.__name__ in mix:
                cls.weight = mix[cls.__name__]

    def finish_shape(environment, **_kw):
        finish = getattr(environment.shape_class, "finish", None)
        if finish:
            finish()

    events.init.add_listener(set_mix)
    events.test_stop.add_listener(finish_shape)
