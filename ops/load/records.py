"""Purchase records: one JSON line per purchase attempt, one file per generator process; written, read, merged."""
from __future__ import annotations

import json
import os
import re
import socket
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from ..core.errors import JourneyError


@dataclass(frozen=True)
class Record:
    run: str
    kind: str                 # browser | api
    t0: float                 # epoch seconds: the purchase started
    t1: float                 # epoch seconds: it completed or failed
    ok: bool
    code: str | None
    email: str
    step: str | None = None   # the request where it failed
    error: str | None = None
    cause: str | None = None  # short class: "http 500", "timeout", "connection", "async task failed", ...
    retries: int = 0

    @property
    def seconds(self) -> float:
        return self.t1 - self.t0


def to_line(rec: Record) -> str:
    return json.dumps(asdict(rec), separators=(",", ":"), sort_keys=False)


def parse_records(text: str, source: str = "<records>") -> list[Record]:
    """Records from JSONL text. A half-written LAST line (the process was killed mid-write) is skipped;
    a bad line elsewhere is corruption and raises ValueError naming it."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(Record(**json.loads(line)))
        except (ValueError, TypeError) as exc:
            if i == len(lines) and not text.endswith("\n"):
                break
            raise ValueError(f"{source}:{i}: not a purchase record ({exc})") from None
    return out


def merge(*groups: list[Record], run: str | None = None) -> list[Record]:
    """All records of several files in start order, only those of `run` when given."""
    out = [r for g in groups for r in g if run is None or r.run == run]
    return sorted(out, key=lambda r: (r.t0, r.t1))


def record_files(records_dir: Path) -> list[Path]:
    return sorted(Path(records_dir).glob("purchases-*.jsonl"))


def read_dir(records_dir: Path, run: str | None = None) -> list[Record]:
    """Every record under records_dir (all processes' files), merged in start order."""
    return merge(*(parse_records(p.read_text(), str(p)) for p in record_files(records_dir)), run=run)


class RecordWriter:
    """Appends records to <dir>/purchases-<hostname>-<pid>.jsonl, flushed per line so a killed run keeps them."""

    def __init__(self, records_dir: Path):
        self.dir = Path(records_dir)
        self._f = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.dir / f"purchases-{socket.gethostname()}-{os.getpid()}.jsonl"

    def append(self, rec: Record) -> None:
        with self._lock:
            if self._f is None:
                self.dir.mkdir(parents=True, exist_ok=True)
                self._f = open(self.path, "a", buffering=1)
            self._f.write(to_line(rec) + "\n")
            self._f.flush()


_WRITERS: dict[str, RecordWriter] = {}


def writer(records_dir: str | Path) -> RecordWriter:
    """The process's one writer for that directory (all users of a process share its file)."""
    key = str(records_dir)
    if key not in _WRITERS:
        _WRITERS[key] = RecordWriter(Path(records_dir))
    return _WRITERS[key]


_HTTP = re.compile(r"^HTTP (\d{3}) at ")      # http_ok's wording in ops/shop/purchase.py
ASYNC_STEPS = ("cart/add", "checkout/confirm")    # the steps whose task result buy_ticket raises as is
_NOT_TASK = ("HTTP ", "expected", "async answer", "no redirect")


def cause_of(exc: BaseException) -> str:
    """A short class of a purchase failure, to count failures by cause."""
    if isinstance(exc, requests.Timeout):
        return "timeout"
    if isinstance(exc, requests.ConnectionError):
        return "connection"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"http {exc.response.status_code}"
    if isinstance(exc, requests.RequestException):
        return "http error"
    if not isinstance(exc, JourneyError):
        return "error " + type(exc).__name__
    message = str(exc)[len(exc.step) + 2:]
    if m := _HTTP.match(message):
        return f"http {m.group(1)}"
    if "did not finish in time" in message:
        return "async timeout"
    if "sold out" in message:
        return "sold out"
    if exc.step in ASYNC_STEPS and not message.startswith(_NOT_TASK):
        return "async task failed"   # pretix's own words for a failed task (busy, quota, ...)
    return "wrong page"
