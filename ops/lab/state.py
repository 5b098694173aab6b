"""Facts about the lab on this machine: its namespaces, mounts, cgroups and processes, and what is left of it."""
from __future__ import annotations

from pathlib import Path

from . import spec as L
from .procs import alive_pid, cmdline, sh


def alive(spec: L.LabSpec, what: str) -> int | None:
    """The pid of a lab process if its pidfile names a live process of this lab (guards against pid reuse)."""
    return alive_pid(spec.pidfile(what), str(spec.dir))


def namespaces() -> set[str]:
    p = sh(["ip", "netns", "list"], check=False)
    return {line.split()[0] for line in p.stdout.splitlines() if line.strip()}


def lab_namespaces(spec: L.LabSpec) -> list[str]:
    ours = [spec.net_ns] + [spec.node_ns(n) for n in spec.node_names()]
    prefix = f"{spec.name}-"
    return sorted({ns for ns in namespaces() if ns.startswith(prefix)} | (set(ours) & namespaces()))


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below path, deepest first (so they can be unmounted in order)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mnt = line.split()[4].replace("\\040", " ")
        if mnt == str(path) or mnt.startswith(str(path) + "/"):
            found.append(mnt)
    return sorted(set(found), key=lambda m: m.count("/"), reverse=True)


def cgroup_dirs(spec: L.LabSpec, node: str = "") -> list[Path]:
    """The lab's (or one node's) cgroup directories in every v1 hierarchy and in v2, deepest first."""
    sub = spec.node_cgroup(node) if node else spec.cgroup_parent
    tops = [p for p in Path("/sys/fs/cgroup").glob("*/" + sub) if p.is_dir()]
    if (Path("/sys/fs/cgroup") / sub).is_dir():
        tops.append(Path("/sys/fs/cgroup") / sub)
    dirs = []
    for top in tops:
        dirs += [p for p in top.rglob("*") if p.is_dir()] + [top]
    return sorted(set(dirs), key=lambda p: len(p.parts), reverse=True)


def cgroup_pids(spec: L.LabSpec, node: str = "") -> set[int]:
    pids = set()
    for d in cgroup_dirs(spec, node):
        for name in ("cgroup.procs", "tasks"):
            f = d / name
            if f.exists():
                try:
                    pids |= {int(x) for x in f.read_text().split()}
                except OSError:
                    pass
    return pids


def ns_pids(ns: str) -> set[int]:
    p = sh(["ip", "netns", "pids", ns], check=False)
    return {int(x) for x in p.stdout.split() if x.isdigit()}


def known_nodes(spec: L.LabSpec) -> list[str]:
    """Nodes present on disk, so down also cleans a lab made with another --nodes."""
    found = {p.name for p in spec.dir.glob("n*") if p.is_dir() and p.name[1:].isdigit()} if spec.dir.exists() else set()
    return sorted(found | set(spec.node_names()), key=lambda n: int(n[1:]))


def leftovers(spec: L.LabSpec) -> list[str]:
    """What of the lab still exists on this machine (empty after a clean lab.down)."""
    left = [f"namespace {ns}" for ns in lab_namespaces(spec)]
    left += [f"mount {m}" for m in mounts_under(spec.dir)] if spec.dir.exists() else []
    left += [f"cgroup {d}" for d in cgroup_dirs(spec)]
    for pid in cgroup_pids(spec):
        left.append(f"process {pid} ({cmdline(pid)[:60]})")
    for p in Path("/proc").iterdir():
        if p.name.isdigit() and str(spec.dir) in cmdline(int(p.name)):
            left.append(f"process {p.name} ({cmdline(int(p.name))[:80]})")
    return left


def registry_answers(spec: L.LabSpec) -> bool:
    """Ask the registry's v2 API from inside node 1's namespace (never from the root namespace)."""
    p = sh(L.in_ns(spec.node_ns("n1"), ["curl", "-fsS", "--max-time", "3", f"http://{spec.registry}/v2/"]),
           check=False) if spec.node_ns("n1") in namespaces() else None
    return bool(p and p.returncode == 0)
