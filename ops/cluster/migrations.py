"""Django's migrations as facts: those applied (django_migrations, read on the PostgreSQL leader) and those a
pretix image ships (read offline from the image), so an upgrade knows whether its code changes the schema."""
from __future__ import annotations

from ..builders import pretix as P
from ..core.errors import OpsError
from ..core.remote import Remote
from ..facts.pretix import parse_migrations
from . import rolling, status


def applied(remote: Remote, cl) -> list[str] | None:
    """The applied migrations ('app.name', sorted); None when there is no leader or no pretix database yet."""
    lead = rolling.leader_of(remote, cl, "postgres")
    if not lead:
        return None
    answer = status.probe(remote, cl, [lead], P.APPLIED_MIGRATIONS, "postgres").get(lead, "")
    return parse_migrations(answer)


def shipped(remote: Remote, cl, ref: str) -> list[str]:
    """The migrations the image ships, run once offline on the build node (where the image was built)."""
    r = remote.run(cl.node(cl.build_node), P.image_migrations(ref), timeout=600, echo=False)
    found = parse_migrations(r.stdout) if r.ok else None
    if found is None:
        raise OpsError(f"cannot list the migrations of {ref}: {r.describe() if not r.ok else r.stdout[-300:]}")
    return found
