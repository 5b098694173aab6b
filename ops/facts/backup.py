"""Facts of the backups: the backup service's JSON answers (pgBackRest's `info --output=json` inside), which set a
restore uses, and the comparison of a restored database with the manifest its backup set recorded."""
from __future__ import annotations

import datetime as dt
import json

from ..core.errors import OpsError


def parse_answer(stdout: str):
    """The backup service prints progress on stderr and one JSON document as the last line of stdout."""
    lines = [line for line in stdout.strip().splitlines() if line.strip()]
    if not lines:
        raise OpsError("the backup service gave no answer: see `inv logs backup`")
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        raise OpsError(f"the backup service answered something else than JSON: {lines[-1][:120]}") from None


def last_error(lines: list[str]) -> str | None:
    """pgBackRest's (or pxc-backup's) last `ERROR: ` line, without the prefix."""
    errors = [t for t in lines if t.startswith("ERROR: ")]
    return errors[-1][len("ERROR: "):] if errors else None


def backups(info: list) -> list[dict]:
    """pgBackRest `info --output=json` -> its backups, oldest first: label, type, start/stop (epoch s), sizes,
    the pxc set id it belongs to (annotation pxc-set)."""
    out = []
    for stanza in info or []:
        for b in stanza.get("backup", []):
            out.append({"label": b["label"], "type": b["type"], "start": b["timestamp"]["start"],
                        "stop": b["timestamp"]["stop"], "size": b.get("info", {}).get("size", 0),
                        "repo_size": b.get("info", {}).get("repository", {}).get("delta", 0),
                        "set": (b.get("annotation") or {}).get("pxc-set"),
                        "wal": (b.get("archive") or {}).get("start")})
    return sorted(out, key=lambda b: b["stop"])


def archive_range(info: list) -> tuple[str | None, str | None]:
    """The oldest and newest WAL segment the history keeps (what a point-in-time restore can replay)."""
    ranges = [a for stanza in info or [] for a in stanza.get("archive", [])]
    return (min((a["min"] for a in ranges if a.get("min")), default=None),
            max((a["max"] for a in ranges if a.get("max")), default=None))


def stanza_status(info: list) -> str:
    return "; ".join(f"{s.get('name')}: {s.get('status', {}).get('message', '?')}" for s in info or []) or "empty"


def parse_time(text: str) -> dt.datetime:
    """A restore target given by a person: ISO 8601 ('2026-11-30T10:15:00Z', '2026-11-30 10:15:00+01:00'); a time
    without zone is UTC. Returned in UTC."""
    try:
        t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise OpsError(f"--time {text!r} is not a time: use ISO 8601, e.g. 2026-11-30T10:15:00Z") from None
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)


def set_time(s: dict) -> dt.datetime:
    return parse_time(s["db"]["taken"])


def choose(sets: list[dict], set_id: str | None = None, at: dt.datetime | None = None,
           now: dt.datetime | None = None) -> dict:
    """The backup set a restore starts from: --set (a set id or its pgBackRest label), else the newest set taken
    before --time, else the newest set. Errors name the fix."""
    if not sets:
        raise OpsError("the repository holds no backup set: take one with `inv backup`")
    ordered = sorted(sets, key=set_time)
    if set_id:
        found = [s for s in ordered if set_id in (s["id"], s.get("label"))]
        if not found:
            raise OpsError(f"no backup set {set_id!r}: `inv backup.list` shows the sets")
        chosen = found[-1]
        if at and at < set_time(chosen):
            raise OpsError(f"--time {at.isoformat()} is before set {chosen['id']} was taken: choose an older set "
                           f"or a later time (`inv backup.list`)")
        return chosen
    if at:
        if now and at > now:
            raise OpsError(f"--time {at.isoformat()} is in the future")
        before = [s for s in ordered if set_time(s) <= at]
        if not before:
            raise OpsError(f"no backup set was taken before {at.isoformat()}: the oldest is "
                           f"{ordered[0]['id']} (`inv backup.list`)")
        return before[-1]
    return ordered[-1]


def restore_request(s: dict, at: dt.datetime | None) -> dict:
    """What the restoring member is told (images/postgres/pgbackup.py): the pgBackRest backup, its history and
    where to stop replaying WAL: the set's restore point, or the time of a point-in-time restore."""
    target = {"time": at.strftime("%Y-%m-%d %H:%M:%S.%f+00")} if at else {"name": s["db"]["restore_point"]}
    return {"set": s["label"], "repo_path": s["repo_path"], "set_id": s["id"], "target": target}


def compare(recorded: dict, now: dict, exact: bool) -> list[str]:
    """Differences between the database manifest a set recorded and the restored database's (empty: same).

    exact (restored to the set's restore point): orders, events and every key table's rows and checksum are the
    same. Otherwise (a later point in time): every recorded order and event is back, nothing has fewer rows."""
    problems = []
    r_codes, n_codes = set(recorded["orders"]["codes"]), set(now["orders"]["codes"])
    missing = sorted(r_codes - n_codes)
    if missing:
        problems.append(f"{len(missing)} recorded order(s) missing: {', '.join(missing[:10])}")
    gone = sorted(set(recorded["events"]) - set(now["events"]))
    if gone:
        problems.append(f"event(s) missing: {', '.join(gone)}")
    for table, rec in recorded["tables"].items():
        cur = now["tables"].get(table, {"rows": 0, "md5": ""})
        if exact and (cur["rows"], cur["md5"]) != (rec["rows"], rec["md5"]):
            problems.append(f"{table}: {cur['rows']} rows, checksum {cur['md5'][:8]} (recorded {rec['rows']} rows, "
                            f"{rec['md5'][:8]})")
        elif not exact and cur["rows"] < rec["rows"]:
            problems.append(f"{table}: {cur['rows']} rows, fewer than the {rec['rows']} recorded")
    if exact and now["orders"]["codes_sha256"] != recorded["orders"]["codes_sha256"]:
        problems.append(f"order codes differ: {len(n_codes)} now, {len(r_codes)} recorded")
    return problems


def human_size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def when(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def set_lines(listing: dict, secret_names: dict | None = None) -> list[str]:
    """`inv backup.list`: the sets, newest last, with their database backup, restore point, media and secrets."""
    by_label = {b["label"]: b for info in listing.get("histories", {}).values() for b in backups(info)}
    lines = [f"  {'set':17} {'backup':24} {'orders':>6} {'media':>6} {'db size':>9} {'repo':>9}  secrets"]
    for s in sorted(listing.get("sets", []), key=set_time):
        b = by_label.get(s["label"], {})
        refs = s.get("secrets") or {}
        same = ("-" if not refs or secret_names is None else
                "as now" if all(secret_names.get(k) == v for k, v in refs.items()) else
                "changed: " + ", ".join(sorted(k for k, v in refs.items() if secret_names.get(k) != v)))
        lines.append(f"  {s['id']:17} {s['label'] + ' ' + s['type']:24} {s['db']['orders']['count']:>6} "
                     f"{s['media']['count']:>6} {human_size(b.get('size', 0)):>9} {human_size(b.get('repo_size', 0)):>9}"
                     f"  {same}")
    for sysid, info in sorted(listing.get("histories", {}).items()):
        first, last = archive_range(info)
        mark = " (the running database)" if sysid == listing.get("current") else ""
        lines.append(f"  history {sysid}{mark}: {len(backups(info))} backup(s), WAL {first or '-'} .. "
                     f"{last or '-'}; {stanza_status(info)}")
    return lines
