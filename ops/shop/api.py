"""The one REST client for pretix: token auth, 409 (lock contention) retried with backoff, pagination,
and errors that say which request failed and how to fix it."""
from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import requests

from ..core.errors import ApiError
from ..core.retry import attempts

TRIES_409 = 8


class Api:
    """pretix REST API v1 at base_url with an API token (GET/list/PATCH/POST; 404 -> None on get)."""

    def __init__(self, base_url: str, token: str, timeout: float = 20, session: requests.Session | None = None):
        self.base = base_url.rstrip("/") + "/api/v1/"
        self.s = session or requests.Session()
        self.s.headers.update({"Authorization": f"Token {token}", "Accept": "application/json"})
        self.timeout = timeout

    def request(self, method: str, path: str, **kw) -> requests.Response:
        url = path if path.startswith("http") else urljoin(self.base, path.lstrip("/"))
        r = None
        for _ in attempts(TRIES_409):
            try:
                r = self.s.request(method, url, timeout=self.timeout, **kw)
            except requests.RequestException as exc:
                raise ApiError(f"API {method} {path}: {type(exc).__name__} (is the shop reachable at "
                               f"{self.base}?)") from None
            if r.status_code != 409:
                return r
        raise ApiError(f"API {method} {path} kept answering 409 (lock contention) after {TRIES_409} tries")

    def get(self, path: str) -> dict | None:
        r = self.request("GET", path)
        if r.status_code == 404:
            return None
        return _checked(r, "GET", path)

    def list(self, path: str, max_pages: int = 1000) -> list[dict]:
        """Every result of a paginated list (follows `next`)."""
        out, url = [], path
        for _ in range(max_pages):
            data = _checked(self.request("GET", url), "GET", path)
            out += data["results"]
            url = data.get("next")
            if not url:
                return out
        raise ApiError(f"API GET {path}: more than {max_pages} pages")

    def patch(self, path: str, payload: dict) -> dict:
        return _checked(self.request("PATCH", path, json=payload), "PATCH", path)

    def post(self, path: str, payload: dict, idempotency_key: str | None = None) -> dict:
        headers = {"X-Idempotency-Key": idempotency_key} if idempotency_key else {}
        return _checked(self.request("POST", path, json=payload, headers=headers), "POST", path)

    def delete(self, path: str) -> None:
        r = self.request("DELETE", path)
        if r.status_code not in (204, 404):
            _checked(r, "DELETE", path)

    def token_works(self, organizer: str) -> bool:
        try:
            return self.request("GET", f"organizers/{organizer}/events/").status_code == 200
        except ApiError:
            return False


def _checked(r: requests.Response, method: str, path: str) -> Any:
    if r.status_code in (401, 403):
        raise ApiError(f"API {method} {path} -> HTTP {r.status_code}: the token is not accepted for this "
                       f"organizer (run `inv quickstart` to make a new one)")
    if r.status_code >= 400:
        raise ApiError(f"API {method} {path} -> HTTP {r.status_code}: {r.text[:300]}")
    return r.json() if r.content else {}


def i18n(value: Any, locale: str = "en") -> str:
    """Plain text of a pretix i18n field (dict of locale -> text, or str)."""
    if isinstance(value, dict):
        return value.get(locale) or next(iter(value.values()), "") or ""
    return value or ""


def event_path(organizer: str, event: str) -> str:
    return f"organizers/{organizer}/events/{event}/"


def order(api: Api, organizer: str, event: str, code: str) -> dict | None:
    """The order as the REST API sees it (None if unknown)."""
    return api.get(event_path(organizer, event) + f"orders/{code}/")
