"""CPU seconds per service, measured on the nodes: the counters command, its parser, and the difference of two reads.

Each container's cumulative CPU time comes from its cgroup (v1 cpuacct.usage in ns, else v2 cpu.stat usage_usec),
found through /proc/<pid>/cgroup, so it works with either cgroup driver. Read before and after a run: the
difference per container, summed per service (label com.docker.swarm.service.name), is the run's CPU seconds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..builders.docker import sh
from ..core.remote import Remote

UNITS = {"cpuacct_ns": 1e-9, "usage_usec": 1e-6}   # counter kind -> seconds per unit
CLOCK = "now"                                       # the first line: the node's clock when it read the counters


def counters_command(stack: str) -> str:
    """On one node: `now <epoch>`, then `<container id> <service> <kind> <value>` per container of the stack."""
    label = "com.docker.swarm.service.name"
    fmt = "{{.Id}} {{.State.Pid}} {{index .Config.Labels " + f'"{label}"' + "}}"
    return (f"echo {CLOCK} $(date +%s.%N); "
            f"ids=$(docker ps -q --no-trunc --filter label=com.docker.stack.namespace={stack}); "
            f"[ -n \"$ids\" ] && docker inspect --format {sh(fmt)} $ids | while read -r id pid svc; do "
            "v1=$(awk -F: '$2 ~ /(^|,)cpuacct(,|$)/ {print $3}' /proc/$pid/cgroup 2>/dev/null); "
            "v2=$(awk -F: '$1 == \"0\" {print $3}' /proc/$pid/cgroup 2>/dev/null); "
            "if [ -n \"$v1\" ] && [ -r /sys/fs/cgroup/cpuacct$v1/cpuacct.usage ]; then "
            "echo \"$id $svc cpuacct_ns $(cat /sys/fs/cgroup/cpuacct$v1/cpuacct.usage)\"; "
            "elif [ -r /sys/fs/cgroup$v2/cpu.stat ]; then "
            "echo \"$id $svc usage_usec $(awk '$1 == \"usage_usec\" {print $2}' /sys/fs/cgroup$v2/cpu.stat)\"; "
            "else echo \"$id $svc unknown -\"; fi; done; true")


@dataclass(frozen=True)
class Sample:
    """Cumulative CPU seconds of the containers of a stack at one moment (one node's read, or several merged)."""
    at: float | None = None                              # epoch seconds (the latest node clock of the read)
    containers: dict = field(default_factory=dict)       # container id -> (service, CPU seconds)
    unreadable: tuple = ()                               # containers whose counter could not be read
    errors: tuple = ()                                   # nodes that did not answer


def sample_from(data: dict) -> Sample:
    """A Sample from its JSON form (cpu.json keeps a run's raw reads)."""
    return Sample(data.get("at"), {k: (v[0], float(v[1])) for k, v in data.get("containers", {}).items()},
                  tuple(data.get("unreadable", ())), tuple(data.get("errors", ())))


def parse_counters(text: str) -> Sample:
    """One node's output of counters_command."""
    at, containers, unreadable = None, {}, []
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == CLOCK:
            at = float(words[1])
        elif len(words) == 4 and words[2] in UNITS:
            containers[words[0]] = (words[1], int(words[3]) * UNITS[words[2]])
        elif len(words) == 4:
            unreadable.append(f"{words[1]} ({words[0][:12]})")
    return Sample(at, containers, tuple(unreadable))


def merge(samples: list[Sample], errors: tuple = ()) -> Sample:
    """The nodes' samples as one (container ids are unique across nodes)."""
    ats = [s.at for s in samples if s.at is not None]
    return Sample(max(ats) if ats else None, {k: v for s in samples for k, v in s.containers.items()},
                  tuple(u for s in samples for u in s.unreadable), tuple(errors))


def short_name(service: str, stack: str) -> str:
    return service[len(stack) + 1:] if service.startswith(stack + "_") else service


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds per service between two samples, and what the difference could not cover."""
    seconds: float                                   # wall time between the two reads
    by_service: dict = field(default_factory=dict)   # short service name -> CPU seconds
    notes: tuple = ()

    @property
    def total(self) -> float:
        return round(sum(self.by_service.values()), 3)

    def cores(self) -> dict:
        """Average cores busy per service over the interval."""
        return {s: round(v / self.seconds, 4) for s, v in self.by_service.items()} if self.seconds > 0 else {}


def difference(before: Sample, after: Sample, stack: str) -> CpuUse:
    """after - before per container, summed per service. A container that started in between counts from its
    start (all of its counter); one that ended in between is lost (named in the notes)."""
    by_service, notes = {}, []
    for cid, (service, now) in after.containers.items():
        name = short_name(service, stack)
        was = before.containers.get(cid, (service, 0.0))[1]
        if cid not in before.containers:
            notes.append(f"{name}: container {cid[:12]} started during the interval (counted from its start)")
        by_service[name] = by_service.get(name, 0.0) + max(0.0, now - was)
    for cid, (service, _) in before.containers.items():
        if cid not in after.containers:
            notes.append(f"{short_name(service, stack)}: container {cid[:12]} ended during the interval "
                         f"(its CPU since the first read is not counted)")
    notes += [f"counter not readable: {u}" for u in after.unreadable]
    notes += [f"node did not answer: {e}" for e in (*before.errors, *after.errors)]
    seconds = (after.at - before.at) if before.at is not None and after.at is not None else 0.0
    return CpuUse(round(seconds, 3), {k: round(v, 3) for k, v in sorted(by_service.items())}, tuple(notes))


def read_sample(remote: Remote, cl, stack: str) -> Sample:
    """The stack's containers' counters on every node (in parallel), merged."""
    results = remote.run_all(cl.nodes, counters_command(stack), timeout=60, echo=False)
    good = [parse_counters(r.stdout) for r in results.values() if r.ok]
    return merge(good, tuple(r.describe() for r in results.values() if not r.ok))
