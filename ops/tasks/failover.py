"""`inv failover.db`, `inv failover.redis`: planned switchovers of the data tier's leader, waiting until the new
leader serves through the proxies and the cluster is whole again."""
from __future__ import annotations

from invoke import Collection

from ..cluster import switchover
from ..cluster.deploy import first_manager
from ..core.output import say
from ..core.remote import Remote
from .audited import audited
from .context import HELP, expected_errors, load, task


@task(help={"to": "the member (pg1..pg3) or inventory node to hand the leadership to (default: the synchronous "
                  "standby; in synchronous mode no other is allowed)",
            "cluster": HELP["cluster"]})
@audited("failover.db")
@expected_errors
def db(c, to=None, cluster=None):
    """Planned PostgreSQL switchover (Patroni), PgBouncer holding transactions meanwhile: no failed request."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        say(switchover.db(remote, first_manager(remote), cl, to))


@task(help={"cluster": HELP["cluster"]})
@audited("failover.redis")
@expected_errors
def redis(c, cluster=None):
    """Planned Redis master failover (Sentinels), writes held meanwhile, until redis-proxy reaches the new master."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        say(switchover.redis(remote, cl))


ns = Collection("failover", db, redis)
