"""Value checks of seed files: every problem collected (one line each, naming the key), and DateSpec."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..core.errors import SeedError

UNLIMITED = "unlimited"
SLUG_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9.-]*$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
LOCALE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
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


IDENT_RE = re.compile(r"^[a-zA-Z0-9.\-_]+$")


def type_name(v: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", bool: "boolean", int: "integer",
            float: "number", type(None): "empty value"}.get(type(v), type(v).__name__)


class Check:
    """Collects every problem of a seed file (one line each, naming the key); a checker returns None for a
    bad value and keeps going, so one run reports everything. done() raises them together."""

    def __init__(self, src: str):
        self.src, self.problems = src, []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.src}: {key or '(top level)'}: {message}")

    def done(self) -> None:
        if self.problems:
            raise SeedError("\n".join(self.problems))

    def mapping(self, val: Any, key: str) -> dict | None:
        if isinstance(val, dict):
            return val
        self.problem(key, f"must be a mapping (got {type_name(val)})")
        return None

    def items(self, val: Any, key: str, min_len: int = 0) -> list[tuple[str, Any]]:
        """[(key[i], entry)] of a list (empty and a problem when it is not a list or too short)."""
        if not isinstance(val, list):
            self.problem(key, f"must be a list (got {type_name(val)})")
            return []
        if len(val) < min_len:
            self.problem(key, f"must have at least {min_len} entr{'y' if min_len == 1 else 'ies'}")
        return [(f"{key}[{i}]", x) for i, x in enumerate(val)]

    def entries(self, val: Any, key: str, min_len: int = 0) -> list[tuple[str, dict]]:
        """Like items, but only the entries that are mappings (the others are problems)."""
        if val is None:
            return []
        return [(k, m) for k, x in self.items(val, key, min_len) if (m := self.mapping(x, k)) is not None]

    def keys(self, d: dict, key: str, required=frozenset(), optional=frozenset()) -> None:
        prefix = f"{key}." if key else ""
        allowed = ", ".join(sorted(set(required) | set(optional)))
        for k in d:
            if not isinstance(k, str) or (k not in required and k not in optional):
                self.problem(f"{prefix}{k}", f"unknown key (allowed here: {allowed})")
        for k in sorted(required):
            if d.get(k) is None:
                self.problem(f"{prefix}{k}", "missing (required)")

    def str_(self, val: Any, key: str, required: bool = True) -> str | None:
        """A non-empty string; required=False: a missing value was already reported by keys()."""
        if val is None and not required:
            return None
        if isinstance(val, bool) or not isinstance(val, (str, int, float)):
            self.problem(key, f"must be a string (got {type_name(val)})")
            return None
        s = str(val).strip()
        if not s:
            self.problem(key, "must not be empty")
        return s or None

    def opt_str(self, val: Any, key: str) -> str | None:
        return None if val is None else self.str_(val, key)

    def match(self, val: Any, key: str, pattern: re.Pattern, rule: str, optional: bool = False) -> str | None:
        s = None if (val is None and optional) else self.str_(val, key)
        if s is not None and not pattern.match(s):
            self.problem(key, f"{rule} (got {s!r})")
        return s

    def bool_(self, val: Any, key: str) -> bool | None:
        if isinstance(val, bool):
            return val
        self.problem(key, f"must be true or false (got {val!r})")
        return None

    def slug(self, val: Any, key: str, required: bool = True) -> str | None:
        s = self.str_(val, key, required)
        if s is not None and (not SLUG_RE.match(s) or len(s) > 50):
            self.problem(key, f"must be letters, digits, '.' and '-' (max 50), starting with a letter or digit "
                              f"(got {s!r})")
        return s

    def timezone(self, val: Any, key: str) -> str | None:
        tz = self.str_(val, key)
        if tz is None:
            return None
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(key, f"unknown timezone {tz!r} (use e.g. Europe/Lisbon)")
            return None
        return tz

    def decimal(self, val: Any, key: str) -> Decimal | None:
        if val is None:
            return None  # reported as missing by keys()
        d = _as_decimal(val)
        if isinstance(d, str):
            self.problem(key, d)
            return None
        return d

    def quota_size(self, val: Any, key: str) -> int | None:
        if isinstance(val, str) and val.strip().lower() == UNLIMITED:
            return None
        if isinstance(val, int) and not isinstance(val, bool) and val < 0:
            self.problem(key, f"must not be negative (got {val})")
        elif val is not None and (isinstance(val, bool) or not isinstance(val, int)):
            self.problem(key, f"must be a non-negative integer or 'unlimited' (got {val!r})")
        return val if isinstance(val, int) and not isinstance(val, bool) else None

    def date(self, val: Any, key: str) -> DateSpec | None:
        if val is None:
            return None
        d = _as_date(val)
        if isinstance(d, str):
            self.problem(key, d)
            return None
        return d

    def names(self, val: Any, key: str, known: set[str]) -> tuple[str, ...]:
        out = []
        for k, n in self.items(val, key):
            s = self.str_(n, k)
            if s is not None and s not in known:
                self.problem(k, f"no product named {s!r} in products")
            out.append(s)
        return tuple(out)

    def unique(self, values: list, key: str, what: str) -> None:
        seen = set()
        for i, val in enumerate(values):
            if val is not None and val in seen:
                self.problem(f"{key}[{i}].{what}", f"duplicate {val!r}")
            seen.add(val)


def _as_decimal(v: Any) -> Decimal | str:
    """The amount, or the problem with it."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        return f"must be a number (got {type_name(v)})"
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        return f"must be a number (got {v!r})"
    if not d.is_finite():
        return f"must be a finite number (got {v!r})"
    if d < 0:
        return f"must not be negative (got {v})"
    if d != d.quantize(Decimal("0.01")):
        return f"at most 2 decimal places (got {v})"
    return d.quantize(Decimal("0.01"))


def _as_date(v: Any) -> DateSpec | str:
    """The date spec, or the problem with it."""
    if isinstance(v, dt.datetime):  # YAML timestamps (unquoted 2026-12-20 09:00:00)
        v = v.strftime("%Y-%m-%d %H:%M")
    elif isinstance(v, dt.date):
        v = v.strftime("%Y-%m-%d")
    shape = "must be a date like '2026-12-20 09:00', 'now' or '+7d 18:00'"
    if not isinstance(v, str):
        return f"{shape} (got {type_name(v)})"
    s = " ".join(v.split())
    m, rel = _ABS_DATE_RE.match(s), _REL_DATE_RE.match(s)
    hhmm = m.group(2) if m else (rel.group(3) if rel else None)
    try:
        if m:
            dt.datetime.fromisoformat(m.group(1))
        if hhmm:
            dt.time(*(int(x) for x in hhmm.split(":")))
    except ValueError:
        return f"not a valid date/time (got {v!r})"
    return DateSpec(s) if (m or rel or s == "now") else f"{shape} (got {v!r})"
