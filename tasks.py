"""Invoke entry point: composes the task namespaces of ops/ (run `inv --list`)."""
from invoke import Collection

from ops import build, cluster, deploy, lab, shop

ns = Collection()
ns.add_collection(lab.ns)
ns.add_collection(cluster.ns)
ns.add_collection(build.ns)
for t in [*deploy.root_tasks(), *shop.ns_tasks]:
    ns.add_task(t)
