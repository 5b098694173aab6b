"""Drills of the backup path: a mistaken deletion undone by a point-in-time restore, and a ticket PDF that downloads
through every web replica, also once the node whose worker rendered it is cut off (lab)."""
from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import urlparse

import requests

from ..builders import backup as B, stack as S
from ..cluster import backup, restore as R, rolling
from ..cluster.deploy import wait_converged
from ..cluster.swarm import swarm_facts
from ..core.errors import ApiError, OpsError
from ..core.output import MASKER, say
from ..core.remote import Remote
from ..core.retry import poll
from ..lab import faults as lab_faults
from ..shop import api as A
from ..shop.purchase import buy_ticket

PDF_PLUGIN = "pretix.plugins.ticketoutputpdf"


def delete_event(remote: Remote, cl, organizer: str, event: str) -> None:
    if not re.fullmatch(r"[a-z0-9._-]+", organizer + event):
        raise OpsError("organizer and event slugs must be plain slugs")
    lead = rolling.leader_of(remote, cl, "postgres")
    where = backup.nodes_running(remote, cl, [lead or "pg1"]).get(lead or "pg1")
    if not lead or not where:
        raise OpsError("no PostgreSQL leader: `inv status`")
    remote.check(cl.node(where[0]), S.in_service(cl.stack, lead, B.delete_event_sql(organizer, event), "postgres"),
                 echo=False)


def restore_drill(remote: Remote, cl, mgr, api: A.Api, shop_url: str, organizer: str, event: str) -> dict:
    """Buy, note the time, delete the event by mistake, restore to the noted time: the event and orders are back."""
    started = time.monotonic()
    if not backup.listing(remote, cl)["sets"]:
        say("drill: no backup set yet: taking one")
        backup.take(remote, cl, "incr")
    with requests.Session() as s:
        code = buy_ticket(s, shop_url, organizer, event, n=1).code
    say(f"drill: bought order {code}")
    time.sleep(2)
    noted = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    time.sleep(2)
    say(f"drill: noted {noted.isoformat()}; deleting event {organizer}/{event} by mistake")
    delete_event(remote, cl, organizer, event)
    if known(api, organizer, event, code):
        raise OpsError(f"order {code} is still there after the deletion: the drill's mistake did not happen")
    say(f"drill: event gone (order {code} unknown to the API); restoring to {noted.isoformat()}")
    res = R.restore(remote, cl, mgr, None, noted)
    wait_converged(remote, mgr, cl.stack, 900)
    back = poll(lambda: known(api, organizer, event, code), 120, first=2, cap=5)
    res.update(code=code, noted=noted.isoformat(), order_back=bool(back), seconds_total=time.monotonic() - started)
    return res


def known(api: A.Api, organizer: str, event: str, code: str) -> bool:
    """Whether the REST API knows the order (a deleted event answers 403 or 404)."""
    try:
        return A.order(api, organizer, event, code) is not None
    except ApiError:
        return False


# ------------------------------------------------------------------ shared media: ticket PDFs

def pdf_ready(api: A.Api, organizer: str, event: str) -> None:
    """The PDF ticket output on, downloads allowed for pending orders (idempotent)."""
    path = A.event_path(organizer, event)
    ev = api.get(path)
    if ev is None:
        raise OpsError(f"event {organizer}/{event} not found: run `inv quickstart` first")
    if PDF_PLUGIN not in ev.get("plugins", []):
        api.patch(path, {"plugins": sorted({*ev.get("plugins", []), PDF_PLUGIN})})
        say(f"  enabled {PDF_PLUGIN} for {organizer}/{event}")
    api.patch(path + "settings/", {"ticket_download": True, "ticket_download_pending": True})


def render(api: A.Api, organizer: str, event: str, code: str, timeout: float = 240) -> tuple[str, int]:
    """Ask for the order's PDF until a worker has rendered it; (sha256 prefix, bytes) of the file."""
    import hashlib

    url = A.event_path(organizer, event) + f"orders/{code}/download/pdf/"

    def ready():
        r = api.s.get(api.base + url, timeout=60)
        return r if r.status_code == 200 and r.content[:4] == b"%PDF" else None
    r = poll(ready, timeout, first=2, cap=5)
    if r is None:
        raise OpsError(f"the ticket PDF of order {code} was not rendered within {timeout:.0f}s: `inv logs worker`")
    return hashlib.sha256(r.content).hexdigest()[:16], len(r.content)


def renderer_node(remote: Remote, cl, mgr) -> str | None:
    """The node whose worker rendered the latest ticket (from the worker logs' task prefix name.N.id@host)."""
    r = remote.run(mgr, S.service_logs(f"{cl.stack}_worker", tail=400), echo=False, timeout=60)
    hosts = re.findall(r"@(\S+?)\s*\|.*tickets\.generate\[[^\]]+\] succeeded", r.stdout + r.stderr)
    by_host = {f.hostname: name for name, f in swarm_facts(remote).items()}
    return by_host.get(hosts[-1]) if hosts else None


def through_replicas(remote: Remote, cl, nodes, path: str, token: str) -> dict[str, str]:
    """GET path from each web replica itself (not through nginx): {node: 'status bytes sha256 magic'}."""
    host = urlparse(cl.public_url).netloc
    out = {}
    for node in nodes:
        r = remote.run(cl.node(node), B.fetch_in_web(cl.stack, path, host), stdin=token + "\n", echo=False,
                       timeout=120)
        if r.exit_code != S.NOT_HERE:
            out[node] = MASKER(r.stdout.strip() or r.describe())
    return out


def media_drill(remote: Remote, cl, mgr, api: A.Api, token: str, organizer: str, event: str, code: str | None,
                spec=None, cut_s: float = 0) -> dict:
    """The PDF through every web replica; with spec and cut_s, again while the renderer's node is cut off."""
    pdf_ready(api, organizer, event)
    if not code:
        orders = api.list(A.event_path(organizer, event) + "orders/?ordering=-datetime&status=n", max_pages=1)
        if not orders:
            raise OpsError(f"no pending order in {organizer}/{event}: buy one first (`inv buy`)")
        code = orders[0]["code"]
    sha, size = render(api, organizer, event, code)
    say(f"  order {code}: PDF rendered, {size} bytes, sha256 {sha}")
    path = "/api/v1/" + A.event_path(organizer, event) + f"orders/{code}/download/pdf/"
    res = {"code": code, "sha": sha, "bytes": size, "renderer": renderer_node(remote, cl, mgr),
           "before": through_replicas(remote, cl, [n.name for n in cl.nodes], path, token)}
    if spec is not None and cut_s and res["renderer"]:
        node = res["renderer"]
        say(f"  cutting {node} (its worker rendered the PDF) off the network for {cut_s:.0f}s")
        lab_faults.cut(spec, node)
        try:
            time.sleep(min(15.0, cut_s))
            rest = [n.name for n in cl.nodes if n.name != node]
            res["after"] = poll(lambda: all_ok(through_replicas(remote, cl, rest, path, token), sha),
                                max(30.0, cut_s - 15), first=3, cap=10) or through_replicas(remote, cl, rest, path,
                                                                                             token)
            res["entry_after"] = _entry(api, path)
        finally:
            lab_faults.reconnect(spec, node)
            say(f"  {node} reconnected")
    return res


def all_ok(answers: dict, sha: str) -> dict | None:
    return answers if answers and all(a.split()[:1] == ["200"] and sha in a for a in answers.values()) else None


def _entry(api: A.Api, path: str) -> str:
    try:
        r = api.s.get(api.base.rsplit("/api/v1/", 1)[0] + path, timeout=60)
        return f"{r.status_code} {len(r.content)}"
    except requests.RequestException as exc:
        return type(exc).__name__
