"""Commands run inside one container of a service, wherever Swarm placed it (the first node that has one)."""
from __future__ import annotations

from ..builders import stack as S
from ..core.remote import NodeResult, Remote


def in_one(remote: Remote, cl, service: str, inner: str, user: str = "", stdin: str | None = None,
           timeout: int = 120) -> NodeResult | None:
    """Run inner in one container of the service (the first node that has one); None when no node answers with
    one. A node that cannot be reached is skipped."""
    last = None
    for node in cl.nodes:
        r = remote.run(node, S.in_service(cl.stack, service, inner, user, stdin is not None), stdin=stdin,
                       echo=False, timeout=timeout)
        if r.exit_code == S.NOT_HERE or r.error:
            last = r if r.error else last
            continue
        return r
    return last
