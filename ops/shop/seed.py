"""Seed file for the pretix quickstart: pure parsing and validation, no I/O besides reading the file.

A seed file (YAML) describes what `scripts/quickstart.py` creates in a fresh pretix: one organizer, one
API team, one event with its products, quotas and questions, and the manual payment method.
`load_seed(path)` returns a `Seed` (frozen dataclasses). Like the inventory, every problem of a file is
reported at once, one line each naming the key, e.g. ``seed.yaml: products[1].price: must not be negative
(got -5)``, in one `SeedError`.

Dates are either absolute local times in the event timezone (``2026-12-20 09:00``) or relative to the
moment of the run: ``now``, ``+7d``, ``+10d 09:00``, ``+2h``. Relative dates are resolved when an event
is created; a re-run never "corrects" an existing event to a newly computed relative date.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..core.errors import SeedError
from ..core.yamlfile import parse_yaml
from .seedcheck import CURRENCY_RE, IDENT_RE, LOCALE_RE, Check, DateSpec

# Friendly question type names -> pretix question type codes.
QUESTION_TYPES = {
    "text": "S",
    "multiline": "T",
    "number": "N",
    "boolean": "B",
    "choice": "C",
    "multiple": "M",
}

@dataclass(frozen=True)
class OrganizerSeed:
    name: str
    slug: str


@dataclass(frozen=True)
class TeamSeed:
    name: str = "Quickstart automation"
    token_name: str = "quickstart"


@dataclass(frozen=True)
class EventSeed:
    name: str
    slug: str
    date_from: DateSpec
    currency: str = "EUR"
    locale: str = "en"
    timezone: str = "UTC"
    date_to: DateSpec | None = None
    presale_start: DateSpec | None = None
    presale_end: DateSpec | None = None
    location: str | None = None
    tax_rate: Decimal | None = None  # None: "I don't want to specify taxes now"


@dataclass(frozen=True)
class ProductSeed:
    name: str
    price: Decimal
    category: str | None = None
    admission: bool = True
    active: bool = True
    description: str | None = None


@dataclass(frozen=True)
class QuotaSeed:
    name: str
    size: int | None  # None = unlimited
    products: tuple[str, ...]


@dataclass(frozen=True)
class QuestionSeed:
    question: str
    type: str = "text"  # key of QUESTION_TYPES
    required: bool = False
    products: tuple[str, ...] = ()  # empty = all products
    options: tuple[str, ...] = ()  # for choice/multiple
    identifier: str | None = None

    @property
    def type_code(self) -> str:
        return QUESTION_TYPES[self.type]


@dataclass(frozen=True)
class ManualPaymentSeed:
    enabled: bool = True
    public_name: str = "Bank transfer"
    checkout_description: str = "You will receive the payment details by email after your order."
    email_instructions: str = "Please transfer {amount_with_currency} with the reference {order}."
    pending_description: str = "Please transfer {amount_with_currency} with the reference {order}."


@dataclass(frozen=True)
class Seed:
    organizer: OrganizerSeed
    event: EventSeed
    products: tuple[ProductSeed, ...]
    quotas: tuple[QuotaSeed, ...]
    team: TeamSeed = TeamSeed()
    questions: tuple[QuestionSeed, ...] = ()
    manual_payment: ManualPaymentSeed = ManualPaymentSeed()
    live: bool = True
    source: str = "<seed>"

    @property
    def categories(self) -> tuple[str, ...]:
        """Product category names in first-use order."""
        out: list[str] = []
        for p in self.products:
            if p.category and p.category not in out:
                out.append(p.category)
        return tuple(out)

    def with_overrides(self, *, organizer: str | None = None, event: str | None = None,
                       tickets: int | None = None) -> "Seed":
        """A copy with CLI overrides applied: organizer/event slug, size of the FIRST quota."""
        s = self
        v = Check(s.source)
        if organizer is not None:
            s = dataclasses.replace(s, organizer=dataclasses.replace(s.organizer, slug=v.slug(organizer, "--organizer")))
        if event is not None:
            s = dataclasses.replace(s, event=dataclasses.replace(s.event, slug=v.slug(event, "--event")))
        v.done()
        if tickets is not None:
            if isinstance(tickets, bool) or not isinstance(tickets, int) or tickets < 0:
                raise SeedError(f"{s.source}: --tickets: must be a non-negative integer (got {tickets!r})")
            q0 = dataclasses.replace(s.quotas[0], size=tickets)
            s = dataclasses.replace(s, quotas=(q0,) + s.quotas[1:])
        return s


# ---------------------------------------------------------------------------------------------- parsing

def load_seed(path: str | Path) -> Seed:
    """Read and validate a seed file. Raises SeedError (one line per problem, naming the key)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise SeedError(f"{p}: cannot read seed file ({e.strerror or e})") from None
    return parse_seed(text, source=str(p.name))


def parse_seed(text: str, source: str = "<seed>") -> Seed:
    """Validate seed YAML given as a string (see load_seed)."""
    data = parse_yaml(text, source, SeedError)
    v = Check(source)
    seed = _seed(v, data)
    v.done()
    return seed


def _seed(v: Check, data: Any) -> Seed | None:
    top = v.mapping(data, "")
    if top is None:
        return None
    v.keys(top, "", required={"organizer", "event", "products", "quotas"},
           optional={"team", "questions", "payment", "live"})
    products = _products(v, top.get("products"))
    names = {p.name for p in products}
    manual = _payment(v, top.get("payment"))
    live = v.bool_(top.get("live", True), "live")
    if live and not manual.enabled and any(p.price and p.price > 0 for p in products):
        v.problem("payment.manual.enabled", "paid products need a payment method to go live")
    return Seed(organizer=_organizer(v, top.get("organizer")), team=_team(v, top.get("team")),
                event=_event(v, top.get("event")), products=tuple(products),
                quotas=tuple(_quotas(v, top.get("quotas"), products, names)),
                questions=tuple(_questions(v, top.get("questions"), names)), manual_payment=manual,
                live=bool(live), source=v.src)


def _organizer(v: Check, raw: Any) -> OrganizerSeed | None:
    org = v.mapping(raw, "organizer") if raw is not None else None
    if org is None:
        return None
    v.keys(org, "organizer", required={"name", "slug"})
    return OrganizerSeed(name=v.str_(org.get("name"), "organizer.name", required=False),
                         slug=v.slug(org.get("slug"), "organizer.slug", required=False))


def _team(v: Check, raw: Any) -> TeamSeed:
    t = v.mapping(raw, "team") if raw is not None else None
    if not t:
        return TeamSeed()
    v.keys(t, "team", optional={"name", "token_name"})
    d = TeamSeed()
    return TeamSeed(name=v.str_(t.get("name", d.name), "team.name"),
                    token_name=v.str_(t.get("token_name", d.token_name), "team.token_name"))


def _event(v: Check, raw: Any) -> EventSeed | None:
    ev = v.mapping(raw, "event") if raw is not None else None
    if ev is None:
        return None
    v.keys(ev, "event", required={"name", "slug", "date_from"},
           optional={"date_to", "presale_start", "presale_end", "currency", "locale", "timezone", "location",
                     "tax_rate"})
    tz = v.timezone(ev.get("timezone", "UTC"), "event.timezone")
    dates = {k: v.date(ev.get(k), f"event.{k}") for k in ("date_from", "date_to", "presale_start", "presale_end")}
    for a, b in (("date_from", "date_to"), ("presale_start", "presale_end")):
        da, db = dates[a], dates[b]
        if tz and da and db and not da.is_relative and not db.is_relative and da.resolve(tz) > db.resolve(tz):
            v.problem(f"event.{b}", f"must not be before event.{a}")
    tax_rate = v.decimal(ev.get("tax_rate"), "event.tax_rate") if ev.get("tax_rate") is not None else None
    if tax_rate is not None and tax_rate > 100:
        v.problem("event.tax_rate", f"must be a percentage between 0 and 100 (got {tax_rate})")
    return EventSeed(name=v.str_(ev.get("name"), "event.name", required=False),
                     slug=v.slug(ev.get("slug"), "event.slug", required=False), **dates,
                     currency=v.match(ev.get("currency", "EUR"), "event.currency", CURRENCY_RE,
                                      "must be a 3-letter ISO code like EUR"),
                     locale=v.match(ev.get("locale", "en"), "event.locale", LOCALE_RE,
                                    "must be a language code like en or pt-pt"),
                     timezone=tz, location=v.opt_str(ev.get("location"), "event.location"), tax_rate=tax_rate)


def _products(v: Check, raw: Any) -> list[ProductSeed]:
    out = []
    for key, pr in v.entries(raw, "products", min_len=1):
        v.keys(pr, key, required={"name", "price"}, optional={"category", "admission", "active", "description"})
        out.append(ProductSeed(
            name=v.str_(pr.get("name"), f"{key}.name", required=False),
            price=v.decimal(pr.get("price"), f"{key}.price"),
            category=v.opt_str(pr.get("category"), f"{key}.category"),
            admission=v.bool_(pr.get("admission", True), f"{key}.admission"),
            active=v.bool_(pr.get("active", True), f"{key}.active"),
            description=v.opt_str(pr.get("description"), f"{key}.description")))
    v.unique([p.name for p in out], "products", "name")
    return out


def _quotas(v: Check, raw: Any, products: list[ProductSeed], names: set[str]) -> list[QuotaSeed]:
    out = []
    for key, q in v.entries(raw, "quotas", min_len=1):
        v.keys(q, key, required={"name", "size"}, optional={"products"})
        prods = v.names(q["products"], f"{key}.products", names) if "products" in q else \
            tuple(p.name for p in products)
        if "products" in q and isinstance(q["products"], list) and not q["products"]:
            v.problem(f"{key}.products", "must name at least one product")
        out.append(QuotaSeed(name=v.str_(q.get("name"), f"{key}.name", required=False),
                             size=v.quota_size(q.get("size"), f"{key}.size"), products=prods))
    v.unique([q.name for q in out], "quotas", "name")
    return out


def _questions(v: Check, raw: Any, names: set[str]) -> list[QuestionSeed]:
    out = []
    for key, qu in v.entries(raw or [], "questions"):
        v.keys(qu, key, required={"question"}, optional={"type", "required", "products", "options", "identifier"})
        qtype = v.str_(qu.get("type", "text"), f"{key}.type")
        if qtype is not None and qtype not in QUESTION_TYPES:
            v.problem(f"{key}.type", f"must be one of {', '.join(QUESTION_TYPES)} (got {qtype!r})")
        options: tuple = ()
        if qtype in ("choice", "multiple"):
            if "options" not in qu:
                v.problem(f"{key}.options", f"missing (required for type {qtype})")
            else:
                options = tuple(v.str_(o, k) for k, o in v.items(qu["options"], f"{key}.options", min_len=1))
        elif "options" in qu:
            v.problem(f"{key}.options", "only allowed for type choice or multiple")
        out.append(QuestionSeed(
            question=v.str_(qu.get("question"), f"{key}.question", required=False), type=qtype,
            required=v.bool_(qu.get("required", False), f"{key}.required"),
            products=v.names(qu["products"], f"{key}.products", names) if "products" in qu else (),
            options=options, identifier=v.match(qu.get("identifier"), f"{key}.identifier", IDENT_RE,
                                                "only letters, digits, '.', '-' and '_'", optional=True)))
    v.unique([q.question for q in out], "questions", "question")
    return out


def _payment(v: Check, raw: Any) -> ManualPaymentSeed:
    pay = v.mapping(raw, "payment") if raw is not None else None
    if not pay:
        return ManualPaymentSeed()
    v.keys(pay, "payment", optional={"manual"})
    m = v.mapping(pay["manual"], "payment.manual") if pay.get("manual") is not None else None
    if not m:
        return ManualPaymentSeed()
    v.keys(m, "payment.manual", optional={f.name for f in dataclasses.fields(ManualPaymentSeed)})
    known = {f.name for f in dataclasses.fields(ManualPaymentSeed)}
    kw = {k: (v.bool_(val, f"payment.manual.{k}") if k == "enabled" else v.str_(val, f"payment.manual.{k}"))
          for k, val in m.items() if k in known}
    return ManualPaymentSeed(**kw)


