"""Backups as operations: `inv backup` (a set now), `backup.list`, `backup.check`, all through the backup service
(images/backup: pgBackRest's repository side, media snapshots, set manifests), wherever Swarm runs it."""
from __future__ import annotations

import re
import time

from ..builders import backup as B
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from ..facts import backup as F

SET_LINE = re.compile(r"pxc-backup: set (\d{8}T\d{6}Z): ")


def nodes_running(remote: Remote, cl, services) -> dict[str, list[str]]:
    """{service: [inventory nodes with a running container of it]} (asked of every node at once)."""
    found: dict[str, list[str]] = {s: [] for s in services}
    for node, r in remote.run_all(cl.nodes, B.services_here(cl.stack, services), timeout=30, echo=False).items():
        for s in r.stdout.split() if r.ok else []:
            found.setdefault(s, []).append(node)
    return found


def backup_node(remote: Remote, cl):
    nodes = nodes_running(remote, cl, [B.BACKUP_SERVICE])[B.BACKUP_SERVICE]
    if not nodes:
        raise OpsError("the backup service is not running: `inv status`, then `inv deploy` (it is part of the stack)")
    return cl.node(nodes[0])


def cli(remote: Remote, cl, *args: str, timeout: int = 300, node=None):
    """Run pxc-backup in the backup container; its JSON answer. Failures carry its one-line error."""
    node = node or backup_node(remote, cl)
    r = remote.run(node, B.backup_cli(cl.stack, *args), timeout=timeout, echo=False)
    if not r.ok:
        raise OpsError(F.last_error((r.stderr + r.stdout).splitlines()) or f"pxc-backup {args[0]} failed: {r.describe()}")
    return F.parse_answer(r.stdout)


def take(remote: Remote, cl, kind: str) -> dict:
    """One backup set now, its progress streamed; returns the set's manifest."""
    if kind not in ("full", "incr", "diff"):
        raise OpsError(f"--type {kind!r}: use full, incr or diff")
    node = backup_node(remote, cl)
    out: list[str] = []

    def line(text: str) -> None:
        out.append(text)
        if " command begin " not in text:      # pgBackRest's echo of every option: noise here
            say(f"  {text}")

    r = remote.stream(node, B.backup_progress(cl.stack, "run", kind), line, timeout=3600)
    if not r.ok:
        raise OpsError(F.last_error(out) or f"the backup failed ({r.error or f'exit {r.exit_code}'}): "
                                            "`inv logs backup`, `inv backup.check`")
    ids = [m.group(1) for m in map(SET_LINE.match, out) if m]
    if not ids:
        raise OpsError("the backup ran but named no set: `inv backup.list`, `inv logs backup`")
    return cli(remote, cl, "show", ids[-1], node=node)


def summary_lines(s: dict) -> list[str]:
    secs, db = s["seconds"], s["db"]
    return [f"backup set {s['id']}: pgBackRest {s['type']} backup {s['label']} of database {s['system_id']}",
            f"  restore point {db['restore_point']} at {db['taken']}: {db['orders']['count']} orders "
            f"(codes sha256 {db['orders']['codes_sha256'][:12]}), {len(db['tables'])} key tables checksummed",
            f"  media: {s['media']['count']} objects, {F.human_size(s['media']['bytes'])} "
            f"({s['media']['copied']} new copied)",
            f"  secrets referenced: {len(s.get('secrets', {}))} (names only)",
            f"  took {secs['total']:.0f}s (database {secs['db']:.0f}s, media {secs['media']:.0f}s)"]


def listing(remote: Remote, cl) -> dict:
    return cli(remote, cl, "list", timeout=180)


def check(remote: Remote, cl) -> tuple[bool, list[str]]:
    """pgBackRest's own check (archiving works, WAL reaches the repository) and verify (every file of every
    backup and the archive is readable and matches its checksum)."""
    started = time.monotonic()
    res = cli(remote, cl, "check", timeout=1800)
    lines = [f"database {res['system_id']}:"]
    for cmd in ("check", "verify"):
        ok = res[cmd]["ok"]
        lines.append(f"  pgbackrest {cmd}: {'ok' if ok else 'FAILED (exit %s)' % res[cmd]['exit']}")
        lines += [f"    {t}" for t in res[cmd]["tail"][-(3 if ok else 8):] if " command begin " not in t]
    lines.append(f"  ({time.monotonic() - started:.0f}s)")
    return all(res[c]["ok"] for c in ("check", "verify")), lines
