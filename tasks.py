"""Invoke entry point: composes the task modules of ops/tasks (run `inv --list`, `inv TASK --help`)."""
from invoke import Collection

from ops.tasks import bench, build, cluster, drill, lab, shop, stack

ns = Collection()
for module in (lab, cluster, build, drill, bench):   # namespaced: inv lab.up, inv drill.db; inv bench (default)
    ns.add_collection(module.ns)
for module in (stack, shop):                  # root tasks: inv deploy, inv status, inv quickstart, inv buy
    for name, t in module.ns.tasks.items():
        ns.add_task(t, name=name)
