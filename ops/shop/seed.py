"""Seed file for the pretix quickstart: pure parsing and validation, no I/O besides reading the file.

A seed file (YAML) describes what `scripts/quickstart.py` creates in a fresh pretix: one organizer, one
API team, one event with its products, quotas and questions, and the manual payment method.
`load_seed(path)` returns a `Seed` (frozen dataclasses); any problem raises `SeedError` with ONE line
that names the offending key, e.g. ``seed.yaml: products[1].price: must not be negative (got -5)``.

Dates are either absolute local times in the event timezone (``2026-12-20 09:00``) or relative to the
moment of the run: ``now``, ``+7d``, ``+10d 09:00``, ``+2h``. Relative dates are resolved when an event
is created; a re-run never "corrects" an existing event to a newly computed relative date.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from ops.errors import OpsError


class SeedError(OpsError):
    """The seed file is missing or invalid; the message names the key."""


UNLIMITED = "unlimited"

# Friendly question type names -> pretix question type codes.
QUESTION_TYPES = {
    "text": "S",
    "multiline": "T",
    "number": "N",
    "boolean": "B",
    "choice": "C",
    "multiple": "M",
}

_SLUG_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9.-]*$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_LOCALE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
_ABS_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}))?$")
_REL_DATE_RE = re.compile(r"^\+(\d+)([dhm])(?:\s+(\d{1,2}:\d{2}))?$")


@dataclass(frozen=True)
class DateSpec:
    """A date as written in the seed file: absolute (local, event timezone) or relative to 'now'."""

    raw: str

    @property
    def is_relative(self) -> bool:
        return not _ABS_DATE_RE.match(self.raw)

    def resolve(self, tz: str, now: dt.datetime | None = None) -> dt.datetime:
        """The aware datetime this spec means in timezone `tz` (relative specs count from `now`)."""
        zone = ZoneInfo(tz)
        now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(zone)
        m = _ABS_DATE_RE.match(self.raw)
        if m:
            hhmm = m.group(2) or "00:00"
            return dt.datetime.fromisoformat(f"{m.group(1)}T{int(hhmm.split(':')[0]):02d}:{hhmm.split(':')[1]}").replace(tzinfo=zone)
        if self.raw == "now":
            return now.replace(second=0, microsecond=0)
        m = _REL_DATE_RE.match(self.raw)
        assert m, self.raw  # validated in _date()
        n, unit, hhmm = int(m.group(1)), m.group(2), m.group(3)
        delta = {"d": dt.timedelta(days=n), "h": dt.timedelta(hours=n), "m": dt.timedelta(minutes=n)}[unit]
        # Add in local wall time, then re-attach the zone (DST-safe enough for seeding).
        out = (now.replace(tzinfo=None) + delta).replace(second=0, microsecond=0)
        if hhmm:
            h, mi = (int(x) for x in hhmm.split(":"))
            out = out.replace(hour=h, minute=mi)
        return out.replace(tzinfo=zone)


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
        if organizer is not None:
            _slug(organizer, "--organizer", s.source)
            s = dataclasses.replace(s, organizer=dataclasses.replace(s.organizer, slug=organizer))
        if event is not None:
            _slug(event, "--event", s.source)
            s = dataclasses.replace(s, event=dataclasses.replace(s.event, slug=event))
        if tickets is not None:
            if isinstance(tickets, bool) or not isinstance(tickets, int) or tickets < 0:
                raise SeedError(f"{s.source}: --tickets: must be a non-negative integer (got {tickets!r})")
            q0 = dataclasses.replace(s.quotas[0], size=tickets)
            s = dataclasses.replace(s, quotas=(q0,) + s.quotas[1:])
        return s


# ---------------------------------------------------------------------------------------------- parsing

def load_seed(path: str | Path) -> Seed:
    """Read and validate a seed file. Raises SeedError (one line, naming the key) on any problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise SeedError(f"{p}: cannot read seed file ({e.strerror or e})") from None
    return parse_seed(text, source=str(p.name))


def parse_seed(text: str, source: str = "<seed>") -> Seed:
    """Validate seed YAML given as a string (see load_seed)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SeedError(f"{source}: not valid YAML{where}: {getattr(e, 'problem', None) or e}") from None
    return _seed_from_dict(data, source)


def _seed_from_dict(data: Any, src: str) -> Seed:
    top = _mapping(data, "(top level)", src)
    _keys(top, "", src, required={"organizer", "event", "products", "quotas"},
          optional={"team", "questions", "payment", "live"})

    org = _mapping(top["organizer"], "organizer", src)
    _keys(org, "organizer", src, required={"name", "slug"})
    organizer = OrganizerSeed(name=_str(org["name"], "organizer.name", src),
                              slug=_slug(org["slug"], "organizer.slug", src))

    team = TeamSeed()
    if top.get("team") is not None:
        t = _mapping(top["team"], "team", src)
        _keys(t, "team", src, optional={"name", "token_name"})
        team = TeamSeed(name=_str(t.get("name", team.name), "team.name", src),
                        token_name=_str(t.get("token_name", team.token_name), "team.token_name", src))

    ev = _mapping(top["event"], "event", src)
    _keys(ev, "event", src, required={"name", "slug", "date_from"},
          optional={"date_to", "presale_start", "presale_end", "currency", "locale", "timezone", "location",
                    "tax_rate"})
    currency = _str(ev.get("currency", "EUR"), "event.currency", src)
    if not _CURRENCY_RE.match(currency):
        raise SeedError(f"{src}: event.currency: must be a 3-letter ISO code like EUR (got {currency!r})")
    locale = _str(ev.get("locale", "en"), "event.locale", src)
    if not _LOCALE_RE.match(locale):
        raise SeedError(f"{src}: event.locale: must be a language code like en or pt-pt (got {locale!r})")
    tz = _str(ev.get("timezone", "UTC"), "event.timezone", src)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SeedError(f"{src}: event.timezone: unknown timezone {tz!r} (use e.g. Europe/Lisbon)") from None
    tax_rate = None
    if ev.get("tax_rate") is not None:
        tax_rate = _decimal(ev["tax_rate"], "event.tax_rate", src)
        if tax_rate > 100:
            raise SeedError(f"{src}: event.tax_rate: must be a percentage between 0 and 100 (got {tax_rate})")
    event = EventSeed(
        name=_str(ev["name"], "event.name", src),
        slug=_slug(ev["slug"], "event.slug", src),
        date_from=_date(ev["date_from"], "event.date_from", src),
        date_to=_opt_date(ev.get("date_to"), "event.date_to", src),
        presale_start=_opt_date(ev.get("presale_start"), "event.presale_start", src),
        presale_end=_opt_date(ev.get("presale_end"), "event.presale_end", src),
        currency=currency, locale=locale, timezone=tz,
        location=_opt_str(ev.get("location"), "event.location", src),
        tax_rate=tax_rate,
    )
    for a, b in (("date_from", "date_to"), ("presale_start", "presale_end")):
        da, db = getattr(event, a), getattr(event, b)
        if da and db and not da.is_relative and not db.is_relative and da.resolve(tz) > db.resolve(tz):
            raise SeedError(f"{src}: event.{b}: must not be before event.{a}")

    products = []
    for i, raw in enumerate(_list(top["products"], "products", src, min_len=1)):
        key = f"products[{i}]"
        pr = _mapping(raw, key, src)
        _keys(pr, key, src, required={"name", "price"},
              optional={"category", "admission", "active", "description"})
        products.append(ProductSeed(
            name=_str(pr["name"], f"{key}.name", src),
            price=_decimal(pr["price"], f"{key}.price", src),
            category=_opt_str(pr.get("category"), f"{key}.category", src),
            admission=_bool(pr.get("admission", True), f"{key}.admission", src),
            active=_bool(pr.get("active", True), f"{key}.active", src),
            description=_opt_str(pr.get("description"), f"{key}.description", src),
        ))
    _unique([p.name for p in products], "products", "name", src)
    names = {p.name for p in products}

    quotas = []
    for i, raw in enumerate(_list(top["quotas"], "quotas", src, min_len=1)):
        key = f"quotas[{i}]"
        q = _mapping(raw, key, src)
        _keys(q, key, src, required={"name", "size"}, optional={"products"})
        qprods = _name_list(q.get("products"), f"{key}.products", src, names) if "products" in q else tuple(
            p.name for p in products)
        if not qprods:
            raise SeedError(f"{src}: {key}.products: must name at least one product")
        quotas.append(QuotaSeed(name=_str(q["name"], f"{key}.name", src),
                                size=_quota_size(q["size"], f"{key}.size", src), products=qprods))
    _unique([q.name for q in quotas], "quotas", "name", src)

    questions = []
    for i, raw in enumerate(_list(top.get("questions") or [], "questions", src)):
        key = f"questions[{i}]"
        qu = _mapping(raw, key, src)
        _keys(qu, key, src, required={"question"}, optional={"type", "required", "products", "options",
                                                             "identifier"})
        qtype = _str(qu.get("type", "text"), f"{key}.type", src)
        if qtype not in QUESTION_TYPES:
            raise SeedError(f"{src}: {key}.type: must be one of {', '.join(QUESTION_TYPES)} (got {qtype!r})")
        options: tuple[str, ...] = ()
        if qtype in ("choice", "multiple"):
            if "options" not in qu:
                raise SeedError(f"{src}: {key}.options: missing (required for type {qtype})")
            options = tuple(_str(o, f"{key}.options[{j}]", src)
                            for j, o in enumerate(_list(qu["options"], f"{key}.options", src, min_len=1)))
        elif "options" in qu:
            raise SeedError(f"{src}: {key}.options: only allowed for type choice or multiple")
        ident = _opt_str(qu.get("identifier"), f"{key}.identifier", src)
        if ident is not None and not re.match(r"^[a-zA-Z0-9.\-_]+$", ident):
            raise SeedError(f"{src}: {key}.identifier: only letters, digits, '.', '-' and '_' (got {ident!r})")
        questions.append(QuestionSeed(
            question=_str(qu["question"], f"{key}.question", src), type=qtype,
            required=_bool(qu.get("required", False), f"{key}.required", src),
            products=_name_list(qu["products"], f"{key}.products", src, names) if "products" in qu else (),
            options=options, identifier=ident,
        ))
    _unique([q.question for q in questions], "questions", "question", src)

    manual = ManualPaymentSeed()
    if top.get("payment") is not None:
        pay = _mapping(top["payment"], "payment", src)
        _keys(pay, "payment", src, optional={"manual"})
        if pay.get("manual") is not None:
            m = _mapping(pay["manual"], "payment.manual", src)
            fields_ = [f.name for f in dataclasses.fields(ManualPaymentSeed)]
            _keys(m, "payment.manual", src, optional=set(fields_))
            kw: dict[str, Any] = {}
            for k, v in m.items():
                kw[k] = _bool(v, f"payment.manual.{k}", src) if k == "enabled" else _str(v, f"payment.manual.{k}", src)
            manual = ManualPaymentSeed(**kw)

    live = _bool(top.get("live", True), "live", src)
    if live and not manual.enabled and any(p.price > 0 for p in products):
        raise SeedError(f"{src}: payment.manual.enabled: paid products need a payment method to go live")

    return Seed(organizer=organizer, team=team, event=event, products=tuple(products), quotas=tuple(quotas),
                questions=tuple(questions), manual_payment=manual, live=live, source=src)


# ---------------------------------------------------------------------------------------------- helpers

def _where(key: str) -> str:
    return key or "(top level)"


def _type_name(v: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", bool: "boolean", int: "integer",
            float: "number", type(None): "empty value"}.get(type(v), type(v).__name__)


def _mapping(v: Any, key: str, src: str) -> dict:
    if not isinstance(v, dict):
        raise SeedError(f"{src}: {_where(key)}: must be a mapping (got {_type_name(v)})")
    return v


def _list(v: Any, key: str, src: str, min_len: int = 0) -> list:
    if not isinstance(v, list):
        raise SeedError(f"{src}: {key}: must be a list (got {_type_name(v)})")
    if len(v) < min_len:
        raise SeedError(f"{src}: {key}: must have at least {min_len} entr{'y' if min_len == 1 else 'ies'}")
    return v


def _keys(d: dict, key: str, src: str, required: set[str] = frozenset(), optional: set[str] = frozenset()):
    prefix = f"{key}." if key else ""
    for k in d:
        if not isinstance(k, str) or (k not in required and k not in optional):
            allowed = ", ".join(sorted(set(required) | set(optional)))
            raise SeedError(f"{src}: {prefix}{k}: unknown key (allowed here: {allowed})")
    for k in sorted(required):
        if k not in d or d[k] is None:
            raise SeedError(f"{src}: {prefix}{k}: missing (required)")


def _str(v: Any, key: str, src: str) -> str:
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise SeedError(f"{src}: {key}: must be a string (got {_type_name(v)})")
    s = str(v).strip()
    if not s:
        raise SeedError(f"{src}: {key}: must not be empty")
    return s


def _opt_str(v: Any, key: str, src: str) -> str | None:
    return None if v is None else _str(v, key, src)


def _bool(v: Any, key: str, src: str) -> bool:
    if not isinstance(v, bool):
        raise SeedError(f"{src}: {key}: must be true or false (got {v!r})")
    return v


def _slug(v: Any, key: str, src: str) -> str:
    s = _str(v, key, src)
    if not _SLUG_RE.match(s) or len(s) > 50:
        raise SeedError(f"{src}: {key}: must be letters, digits, '.' and '-' (max 50), starting with a letter "
                        f"or digit (got {s!r})")
    return s


def _decimal(v: Any, key: str, src: str) -> Decimal:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise SeedError(f"{src}: {key}: must be a number (got {_type_name(v)})")
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        raise SeedError(f"{src}: {key}: must be a number (got {v!r})") from None
    if not d.is_finite():
        raise SeedError(f"{src}: {key}: must be a finite number (got {v!r})")
    if d < 0:
        raise SeedError(f"{src}: {key}: must not be negative (got {v})")
    if d != d.quantize(Decimal("0.01")):
        raise SeedError(f"{src}: {key}: at most 2 decimal places (got {v})")
    return d.quantize(Decimal("0.01"))


def _quota_size(v: Any, key: str, src: str) -> int | None:
    if isinstance(v, str) and v.strip().lower() == UNLIMITED:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise SeedError(f"{src}: {key}: must be a non-negative integer or 'unlimited' (got {v!r})")
    if v < 0:
        raise SeedError(f"{src}: {key}: must not be negative (got {v})")
    return v


def _date(v: Any, key: str, src: str) -> DateSpec:
    if isinstance(v, dt.datetime):  # YAML timestamps (unquoted 2026-12-20 09:00:00)
        v = v.strftime("%Y-%m-%d %H:%M")
    elif isinstance(v, dt.date):
        v = v.strftime("%Y-%m-%d")
    if not isinstance(v, str):
        raise SeedError(f"{src}: {key}: must be a date like '2026-12-20 09:00', 'now' or '+7d 18:00' "
                        f"(got {_type_name(v)})")
    s = " ".join(v.split())
    m = _ABS_DATE_RE.match(s)
    if m:
        try:
            dt.datetime.fromisoformat(m.group(1))
            if m.group(2):
                h, mi = (int(x) for x in m.group(2).split(":"))
                dt.time(h, mi)
        except ValueError:
            raise SeedError(f"{src}: {key}: not a valid date/time (got {v!r})") from None
        return DateSpec(s)
    m = _REL_DATE_RE.match(s)
    if s == "now" or m:
        if m and m.group(3):
            try:
                dt.time(*(int(x) for x in m.group(3).split(":")))
            except ValueError:
                raise SeedError(f"{src}: {key}: not a valid time of day (got {v!r})") from None
        return DateSpec(s)
    raise SeedError(f"{src}: {key}: must be a date like '2026-12-20 09:00', 'now' or '+7d 18:00' (got {v!r})")


def _opt_date(v: Any, key: str, src: str) -> DateSpec | None:
    return None if v is None else _date(v, key, src)


def _name_list(v: Any, key: str, src: str, known: set[str]) -> tuple[str, ...]:
    out = []
    for j, n in enumerate(_list(v, key, src)):
        s = _str(n, f"{key}[{j}]", src)
        if s not in known:
            raise SeedError(f"{src}: {key}[{j}]: no product named {s!r} in products")
        out.append(s)
    return tuple(out)


def _unique(values: list[str], key: str, what: str, src: str) -> None:
    seen = set()
    for i, v in enumerate(values):
        if v in seen:
            raise SeedError(f"{src}: {key}[{i}].{what}: duplicate {v!r}")
        seen.add(v)
