"""`inv quickstart` (seed the shop through the real admin UI) and `inv buy` (browser-like purchases)."""
from __future__ import annotations

import time

import requests
from invoke import Collection

from ..core.errors import JourneyError, OpsError
from ..core.files import read_text
from ..core.output import MASKER, say
from ..shop import api as A
from ..shop.purchase import buy_ticket
from ..shop.quickstart import run_quickstart
from ..shop.seed import load_seed
from .context import HELP, PROJECT, expected_errors, load, state_dir, task

DEFAULT_SEED = PROJECT / "scripts" / "seed.yaml"
ORDER_STATUS = {"n": "pending", "p": "paid", "e": "expired", "c": "canceled"}  # pretix API status codes


def shop_state(c, cluster_name: str):
    """Where the admin password and API token live (0700 dir, 0600 files), per cluster."""
    return state_dir(c, cluster_name) / "shop"


def shop_api(c, cl) -> A.Api:
    """The REST client with the token the quickstart saved (clear error when there is none)."""
    token = read_text(shop_state(c, cl.name) / "api_token")
    if not token:
        raise OpsError(f"no API token for {cl.name}: run `inv quickstart --cluster {cl.name}` first")
    MASKER.add(token)
    return A.Api(cl.public_url, token)


@task(help={
    "seed": HELP["seed"],
    "screenshots": "keep a PNG per step in this folder",
    "tickets": "override the size of the first quota (default from the seed file: 10000)",
    "organizer": "override the organizer slug", "event": "override the event slug",
    "cluster": HELP["cluster"],
})
@expected_errors
def quickstart(c, seed=None, screenshots=None, tickets=None, organizer=None, event=None, cluster=None):
    """Seed the shop through the real admin UI (headless Chromium): admin password, organizer, token, event."""
    cl = load(c, cluster)
    started = time.monotonic()
    result = run_quickstart(cl.public_url, shop_state(c, cl.name), seed or DEFAULT_SEED, screenshots=screenshots,
                            tickets=int(tickets) if tickets else None, organizer=organizer, event=event,
                            log=lambda line: say(f"  {line}"))
    say(result.summary())
    say(f"quickstart: {f'changed: {len(result.changes)} items' if result.changes else 'no changes'} "
        f"({time.monotonic() - started:.0f}s). Admin password and API token: {shop_state(c, cl.name)} (0600)")


@task(help={"count": "number of tickets to buy, one order each (default 1, at most 50)",
            "seed": HELP["seed"], "cluster": HELP["cluster"]})
@expected_errors
def buy(c, count=1, seed=None, cluster=None):
    """Buy tickets through the shop as a browser does, then find each order through the REST API."""
    count = int(count)
    if not 1 <= count <= 50:
        raise OpsError("--count must be between 1 and 50 (use `inv bench` for load)")
    cl = load(c, cluster)
    s = load_seed(seed or DEFAULT_SEED)
    api = shop_api(c, cl)
    org, ev = s.organizer.slug, s.event.slug
    for i in range(count):
        try:
            with requests.Session() as session:
                r = buy_ticket(session, cl.public_url, org, ev, n=i + 1)
        except (JourneyError, requests.RequestException) as exc:
            raise OpsError(f"purchase {i + 1} failed: {exc}") from None
        order = A.order(api, org, ev, r.code)
        if not order:
            raise OpsError(f"order {r.code} was bought but the API does not know it")
        say(f"  order {r.code}: {ORDER_STATUS.get(order['status'], order['status'])} ({r.seconds:.1f}s)")
    say(f"buy: {count} order(s) placed and found in the API")


ns = Collection(quickstart, buy)
