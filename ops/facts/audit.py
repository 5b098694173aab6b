"""Facts of the audit log: JSON lines from every manager, merged newest first without duplicates, and shown."""
from __future__ import annotations

import json

#: The tasks that put images on the cluster: their entries carry the deployed tags.
DEPLOYS = ("deploy", "upgrade", "rollback")


def parse_log(text: str) -> list[dict]:
    """One dict per JSON line; a line that is not an entry (half written by a killed append) is skipped."""
    out = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("id") and entry.get("task"):
            out.append(entry)
    return out


def merge(*texts: str) -> list[dict]:
    """The entries of every host's log, each once (by id), newest first."""
    seen: dict[str, dict] = {}
    for text in texts:
        for entry in parse_log(text):
            seen.setdefault(entry["id"], entry)
    return sorted(seen.values(), key=lambda e: (e.get("ts", 0), e["id"]), reverse=True)


def last_deploy(entries: list[dict]) -> dict | None:
    """The newest entry that put images on the cluster successfully."""
    return next((e for e in entries if e["task"] in DEPLOYS and e.get("result") == "ok"), None)


def args_text(args: dict) -> str:
    """Task arguments as flags (--name value; --name alone for a true switch)."""
    words = []
    for key, value in args.items():
        flag = "--" + key.replace("_", "-")
        words.append(flag if value is True else f"{flag} {value}")
    return " ".join(words)


def tags_text(tags: dict) -> str:
    return ", ".join(f"{name}:{tag}" for name, tag in sorted(tags.items())) or "none recorded"


def line(entry: dict) -> str:
    """One line per entry: when, who, the task with its arguments, the result, how long."""
    what = " ".join(filter(None, [entry["task"], args_text(entry.get("args") or {})]))
    took = entry.get("seconds")
    return (f"{entry.get('time', '?')}  {entry.get('who', '?'):24} {what:40} {entry.get('result', '?')}"
            + (f" ({took:.0f} s)" if isinstance(took, (int, float)) else ""))


def history_lines(entries: list[dict]) -> list[str]:
    """Every entry, with the images of the ones that deployed and what they noted (version, window, ...)."""
    out = []
    for e in entries:
        out.append(line(e))
        notes = {k: v for k, v in (e.get("notes") or {}).items() if v not in (None, "", [], {})}
        if notes:
            out.append("    " + ", ".join(f"{k}: {v}" for k, v in sorted(notes.items())))
        if e["task"] in DEPLOYS and e.get("tags"):
            out.append(f"    images: {tags_text(e['tags'])}")
    return out


def last_deploy_line(entries: list[dict]) -> str:
    """`inv status`: the last successful deploy (when, who, what), and a newer failed attempt if there is one."""
    last = last_deploy(entries)
    newest = next((e for e in entries if e["task"] in DEPLOYS), None)
    text = (f"last deploy: {last['task']} {last.get('time', '?')} by {last.get('who', '?')}: "
            f"{tags_text(last.get('tags') or {})}" if last else "last deploy: none in the audit log")
    if newest is not None and newest is not last:
        text += (f"; newer failed {newest['task']} {newest.get('time', '?')} by {newest.get('who', '?')}: "
                 f"{newest['result']}")
    return text


def lock_line(owners: dict[str, str], lock_path: str) -> str:
    """`inv status`: the deploy lock, from each manager's answer {node: owner line} (only holders answer)."""
    held = {node: owner for node, owner in owners.items() if owner}
    if not held:
        return "deploy lock: free"
    where = "; ".join(f"on {node} by {owner}" for node, owner in sorted(held.items()))
    return f"deploy lock: HELD {where} ({lock_path}; a deploy runs, or `inv unlock` if it was interrupted)"
