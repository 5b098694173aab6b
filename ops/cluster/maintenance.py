"""The maintenance flag: a file on every node (bind-mounted into nginx) that turns the shop's dynamic requests into
503 + Retry-After + a short page. Set on every node or on none; cleared everywhere."""
from __future__ import annotations

import time

from ..builders import audit as B
from ..core.errors import OpsError
from ..core.remote import Remote
from .deploy import lock_scope, operator


def states(remote: Remote, cl) -> dict[str, str]:
    """{node: 'on <note>' | 'off' | 'unreachable: ...'}."""
    results = remote.run_all(cl.nodes, B.maintenance_state(lock_scope(cl)), timeout=20, echo=False)
    return {name: r.stdout.strip() if r.ok else f"unreachable: {r.describe()}" for name, r in results.items()}


def status_line(remote: Remote, cl) -> str:
    found = states(remote, cl)
    on = {n: s[3:] for n, s in found.items() if s.startswith("on")}
    if not on:
        return "maintenance: off"
    return (f"maintenance: ON on {', '.join(sorted(on))} (dynamic requests get 503; set by {next(iter(on.values()))}); "
            f"`inv maintenance --off` ends it")


def turn_on(remote: Remote, cl, why: str) -> float:
    """Set the flag on every node (epoch when set); if any node fails, clear it again everywhere and refuse."""
    note = f"{operator()} {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {why}"
    results = remote.run_all(cl.nodes, B.maintenance_on(lock_scope(cl), note), timeout=20, echo=False)
    failed = [r.describe() for r in results.values() if not r.ok]
    if failed:
        turn_off(remote, cl)
        raise OpsError("maintenance not set (an nginx on that node would keep serving): " + "; ".join(failed))
    return time.time()


def turn_off(remote: Remote, cl) -> list[str]:
    """Clear the flag everywhere; the nodes that could not be reached (their flag may still be set)."""
    results = remote.run_all(cl.nodes, B.maintenance_off(lock_scope(cl)), timeout=20, echo=False)
    return [name for name, r in results.items() if not r.ok]
