"""`lab.down`: stop every lab process and remove its namespaces, mounts and cgroups (data kept unless purge)."""
from __future__ import annotations

import shutil

from . import spec as L
from .procs import kill, kill_all, sh
from .state import alive, cgroup_dirs, cgroup_pids, known_nodes, lab_namespaces, mounts_under, ns_pids

PROCESS_NAMES = ("entry", "entry-lb", "entry-node", "registry", "egress", "tinyproxy", "dns")


def tear_down(spec: L.LabSpec, purge: bool = False) -> list[str]:
    done = []
    nodes = known_nodes(spec)
    # dockerd first, gracefully: it stops its containers
    dockerds = {n: alive(spec, f"{n}-dockerd") for n in nodes}
    kill_all([p for p in dockerds.values() if p], grace=15)
    done += [f"stopped {n} dockerd" for n, p in dockerds.items() if p]
    for what in [*PROCESS_NAMES, *(f"{n}-{p}" for n in nodes for p in ("egress", "sshd"))]:
        pid = alive(spec, what)
        if pid:
            kill(pid, grace=3)
            done.append(f"stopped {what}")
    # whatever is left: container processes in our cgroups, anything in our namespaces
    leftovers = cgroup_pids(spec)
    for ns in lab_namespaces(spec):
        leftovers |= ns_pids(ns)
    for pid in leftovers:
        kill(pid, grace=0)
    if leftovers:
        done.append(f"killed {len(leftovers)} leftover processes")
    if spec.dir.exists():
        for m in mounts_under(spec.dir):
            sh(["umount", "-l", m], check=False)
    for ns in lab_namespaces(spec):
        sh(L.netns_del(ns), check=False)
        done.append(f"deleted namespace {ns}")
    for d in cgroup_dirs(spec):
        try:
            d.rmdir()
        except OSError:
            pass
    shutil.rmtree(spec.run_dir, ignore_errors=True)
    if purge and spec.dir.exists():
        shutil.rmtree(spec.dir, ignore_errors=True)
        done.append(f"purged {spec.dir} (images, registry, keys)")
    return done


