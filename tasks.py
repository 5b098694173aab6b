"""Invoke entry point: composes the task modules of ops/tasks (run `inv --list`, `inv TASK --help`)."""
from invoke import Collection

from ops.tasks import backup, bench, build, cluster, drill, failover, lab, mail, release, shop, stack

ns = Collection()
for module in (lab, cluster, build, drill, bench, failover, mail):   # namespaced: inv lab.up, inv failover.db
    ns.add_collection(module.ns)
for module in (stack, shop, release):         # root tasks: inv deploy, inv status, inv upgrade, inv buy
    for name, t in module.ns.tasks.items():
        ns.add_task(t, name=name)
ns.add_collection(backup.ns)                  # inv backup (default), backup.list, backup.check, backup.drill, ...
ns.add_task(backup.restore, name="restore")   # inv restore [--set ID] [--time T]
