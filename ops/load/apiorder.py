"""The REST API order an API buyer posts (as the seed report's load test did): catalog choice and payload, pure."""
from __future__ import annotations

import uuid

from ..shop.api import event_path
from .options import email_safe

API_PREFIX = "/api/v1/"
LOAD_ANSWER = "Load test"


def catalog_paths(organizer: str, event: str) -> tuple[str, str]:
    base = API_PREFIX + event_path(organizer, event)
    return base + "items/?active=true", base + "questions/"


def orders_path(organizer: str, event: str) -> str:
    return API_PREFIX + event_path(organizer, event) + "orders/"


def choose_item(items: list[dict]) -> dict:
    """The first active admission product (by position), like the browser buyer's first product."""
    usable = [i for i in items if i.get("active", True) and not i.get("has_variations")]
    if not usable:
        raise ValueError("the event has no active product without variations to order through the API")
    return sorted(usable, key=lambda i: (not i.get("admission", True), i.get("position", 0), i["id"]))[0]


def answer_for(question: dict) -> dict | None:
    """An answer to a required question, of its type; None for optional ones (a buyer skips those)."""
    if not question.get("required"):
        return None
    kind, qid = question.get("type"), question["id"]
    if kind in ("C", "M"):
        options = question.get("options") or []
        return {"question": qid, "answer": "", "options": [options[0]["id"]]} if options else None
    value = {"N": "1", "B": "True", "D": "2026-01-01", "H": "12:00", "W": "2026-01-01T12:00:00Z",
             "EMAIL": "load@example.invalid", "TEL": "+351000000000", "CC": "PT"}.get(kind, LOAD_ANSWER)
    return {"question": qid, "answer": value, "options": []}


def order_payload(email: str, item: dict, questions: list[dict], locale: str = "en") -> dict:
    """One ticket, manual payment, answers to the required questions of that product, and an invoice
    address (the seed report added such optional data to make each order heavier)."""
    answers = [a for q in questions if item["id"] in q.get("items", [item["id"]]) for a in [answer_for(q)] if a]
    return {
        "email": email,
        "locale": locale,
        "sales_channel": "web",
        "payment_provider": "manual",
        "send_email": False,
        "invoice_address": {"name": "Load Test", "street": "Rua 1", "zipcode": "3810-193", "city": "Aveiro",
                            "country": "PT"},
        "positions": [{"item": item["id"], "answers": answers}],
    }


def buyer_email(run_id: str, kind: str) -> str:
    """A unique address per purchase attempt, carrying the run id (the audit tells this run's orders apart)."""
    return f"load-{email_safe(run_id)}-{kind}-{uuid.uuid4().hex[:12]}@example.invalid"


def run_of_email(email: str) -> str | None:
    """The run id inside a load buyer's address (None for anyone else's)."""
    local = (email or "").split("@", 1)[0]
    if not local.startswith("load-") or local.count("-") < 3:
        return None
    return local[len("load-"):].rsplit("-", 2)[0]
