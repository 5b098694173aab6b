"""The audit log: one JSON line per mutating task (who, when, what, images, result), appended on every manager that
answers and read back merged from all of them; lines no manager took wait in the state dir for the next append."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from ..builders import audit as B, stack as S
from ..core.output import MASKER
from ..core.remote import Remote
from ..facts import audit as F
from .deploy import lock_scope, operator

UNSENT = "audit-unsent.jsonl"     # in the cluster's state dir
SECRET_WORDS = ("password", "secret", "token", "key")


def clean_args(args: dict) -> dict:
    """Arguments worth recording (given, not None/False), secrets never: by name, and any known secret value."""
    out = {}
    for key, value in args.items():
        if value is None or value is False or value == "":
            continue
        if any(w in key.lower() for w in SECRET_WORDS):
            out[key] = "******"
        else:
            out[key] = value if isinstance(value, (bool, int, float)) else MASKER(str(value))
    return out


def entry(task: str, args: dict, tags: dict, result: str, started: float, notes: dict | None = None,
          now: float | None = None) -> dict:
    now = time.time() if now is None else now
    return {"id": uuid.uuid4().hex[:16], "ts": round(now, 3),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), "who": operator(),
            "task": task, "args": clean_args(args), "tags": dict(tags or {}), "result": MASKER(result),
            "seconds": round(now - started, 1), "notes": {k: v for k, v in (notes or {}).items() if k != "tags"}}


def append(remote: Remote, cl, state: Path, new: dict) -> tuple[list[str], list[str]]:
    """Append the entry (and any left unsent before) on every manager; (managers that took it, errors)."""
    pending = state / UNSENT
    lines = (pending.read_text().splitlines() if pending.exists() else []) + [MASKER(json.dumps(new))]
    results = remote.run_all(cl.managers, B.audit_append(lock_scope(cl), lines), timeout=20, echo=False)
    took = [name for name, r in results.items() if r.ok]
    errors = [r.describe() for r in results.values() if not r.ok]
    if took:
        pending.unlink(missing_ok=True)
    else:
        pending.write_text("\n".join(lines) + "\n")
    return took, errors


def read(remote: Remote, cl) -> tuple[list[dict], list[str]]:
    """Every manager's log merged (newest first, each entry once); and the managers that did not answer."""
    results = remote.run_all(cl.managers, B.audit_read(lock_scope(cl)), timeout=30, echo=False)
    entries = F.merge(*(r.stdout for r in results.values() if r.ok))
    return entries, [name for name, r in results.items() if not r.ok]


def lock_owners(remote: Remote, cl) -> dict[str, str]:
    """{manager: owner line} of the deploy lock (empty owner: not held there)."""
    results = remote.run_all(cl.managers, S.lock_owner(lock_scope(cl)), timeout=20, echo=False)
    return {name: (r.stdout.strip() or "unknown") if r.ok else "" for name, r in results.items()}


def status_lines(remote: Remote, cl) -> list[str]:
    """`inv status`: the last deploy (from the audit log) and the deploy lock."""
    entries, _ = read(remote, cl)
    return [F.last_deploy_line(entries), F.lock_line(lock_owners(remote, cl), S.lock_dir(lock_scope(cl)))]
