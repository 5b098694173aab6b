"""Deploy history in the operator's state dir: each deploy, upgrade and rollback with its images and Django's
migrations before and after (deployed_tags.json stays the current images); rollback's target and verdict, pure."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import OpsError
from ..facts.pretix import new_migrations

HISTORY = "deploy_history.jsonl"
DEPLOYED = "deployed_tags.json"


def load(state: Path) -> list[dict]:
    """Every recorded deploy, oldest first (a torn last line is skipped)."""
    path = state / HISTORY
    out = []
    for line in (path.read_text().splitlines() if path.exists() else []):
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def deployed(state: Path) -> dict:
    path = state / DEPLOYED
    return json.loads(path.read_text()) if path.exists() else {}


def record(state: Path, kind: str, tags: dict, started: float, before: list | None, after: list | None,
           **extra) -> dict:
    """Append one deploy and make its images the current ones."""
    entry = {"id": uuid.uuid4().hex[:12], "kind": kind, "tags": dict(tags),
             "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
             "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "migrations_before": before, "migrations_after": after, **extra}
    with open(state / HISTORY, "a") as f:
        f.write(json.dumps(entry) + "\n")
    (state / DEPLOYED).write_text(json.dumps(dict(tags), indent=2) + "\n")
    return entry


def effective(history: list[dict]) -> list[dict]:
    """The deploys still in effect: a rollback takes back the deploys above the one it returned to."""
    stack: list[dict] = []
    for e in history:
        if e.get("kind") == "rollback":
            while stack and stack[-1]["tags"] != e["tags"]:
                stack.pop()
            if not stack:
                stack.append(e)
        else:
            stack.append(e)
    return stack


@dataclass(frozen=True)
class Rollback:
    current: dict
    target: dict


def rollback_target(history: list[dict], current_tags: dict) -> Rollback:
    """The deploy to return to: the newest deploy in effect below the current one with other images."""
    stack = effective(history)
    if not stack or stack[-1]["tags"] != current_tags:
        raise OpsError("the deploy history does not end with the images deployed now: nothing is known to roll "
                       "back to (deploy the wanted tags with `inv deploy --tag T`)")
    earlier = [e for e in stack[:-1] if e["tags"] != current_tags]
    if not earlier:
        raise OpsError("no earlier deploy with other images in the history: nothing to roll back to")
    return Rollback(stack[-1], earlier[-1])


def refusal(plan: Rollback, applied_now: list[str] | None) -> str | None:
    """Why the rollback must not run (None: it may). Old code cannot run on a schema migrated past it: compare
    the migrations applied now with those applied when the target ran."""
    baseline = plan.target.get("migrations_after")
    if baseline is None:
        baseline = plan.current.get("migrations_before")
    restore = (f"`inv restore --set {plan.current['backup']}`" if plan.current.get("backup")
               else f"`inv restore --time {plan.current['started']}`")
    if applied_now is None or baseline is None:
        return (f"rollback refused: cannot tell which migrations ran since {plan.target['time']} (the database or "
                f"the history does not say); restore the state from before instead: {restore}")
    ran = new_migrations(applied_now, baseline)
    if not ran:
        return None
    shown = ", ".join(ran[:5]) + (f" and {len(ran) - 5} more" if len(ran) > 5 else "")
    return (f"rollback refused: {len(ran)} migration(s) ran since the images of {plan.target['time']} ({shown}); "
            f"their code cannot run on the migrated schema. Restore the backup taken before the "
            f"{plan.current.get('kind', 'deploy')} instead: {restore}")
