"""Builders of the commands behind the audit log and the maintenance flag: files under one folder per cluster and
stack on each manager (lb node), one audit file per host so that nodes sharing a file system (the lab) still keep
one copy each."""
from __future__ import annotations

import base64

from .docker import sh

ROOT = "/var/lib/pretix-cluster"      # scope = "<cluster>-<stack>" (deploy.lock_scope)
AUDIT_KEEP = 5000                     # lines read back per host (the newest)


def scope_dir(scope: str) -> str:
    return f"{ROOT}/{scope}"


def audit_file(scope: str) -> str:
    """This host's audit file (the shell expands $(hostname) on the node)."""
    return f'"{scope_dir(scope)}/audit-$(hostname).jsonl"'


def audit_append(scope: str, lines: list[str]) -> str:
    """Append JSON lines to this host's audit file. They travel base64-encoded (no quoting issue; they hold no
    secret: the caller masks them)."""
    payload = base64.b64encode(("\n".join(lines) + "\n").encode()).decode()
    return f"mkdir -p {scope_dir(scope)} && echo {payload} | base64 -d >> {audit_file(scope)}"


def audit_read(scope: str, keep: int = AUDIT_KEEP) -> str:
    """This host's audit lines, the newest `keep` (nothing when there is no log yet)."""
    return f"tail -n {int(keep)} {audit_file(scope)} 2>/dev/null; true"


def maintenance_dir(scope: str) -> str:
    """Bind-mounted read-only into every nginx task (stack/pretix.yml, MAINTENANCE_DIR)."""
    return f"{scope_dir(scope)}/maintenance"


def maintenance_prepare(scope: str) -> str:
    """The folder must exist on every node before nginx tasks with the bind mount can start there."""
    return sh("mkdir", "-p", maintenance_dir(scope))


def maintenance_on(scope: str, note: str) -> str:
    """Set the flag (atomically: nginx never sees half a file); its content says who set it and why."""
    d = maintenance_dir(scope)
    return f"mkdir -p {d} && printf '%s\\n' {sh(note)} > {d}/.on.tmp && mv -f {d}/.on.tmp {d}/on"


def maintenance_off(scope: str) -> str:
    return sh("rm", "-f", f"{maintenance_dir(scope)}/on")


def maintenance_state(scope: str) -> str:
    """'on <note>' while the flag is set, 'off' otherwise."""
    f = f"{maintenance_dir(scope)}/on"
    return f"if [ -f {f} ]; then echo \"on $(head -n1 {f})\"; else echo off; fi"
