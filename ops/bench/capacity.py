"""Capacity model (pure): from CPU seconds per purchase per service, the cores and nodes a purchase rate needs.

cores(service) = idle cores(service) + rate/60 x CPU s per purchase(service), divided by the utilisation ceiling;
nodes = the cores over the cores of a node, plus the spare nodes HA needs (one node may die). pretix takes a lock
per event while it checks quotas, which caps one event near 500 orders/min, whatever the cores (about 1500/min
with unlimited quota): beyond that, more nodes do not sell faster.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

TARGETS = (800, 1500)          # the seed report's goal, and pretix's own figure without quota locking
LOCK_CAP_PER_MIN = 500         # pretix: about 500 orders/min per event with quota locking
UNLIMITED_CAP_PER_MIN = 1500   # pretix: about 1500 orders/min per event with unlimited quota
CORES_PER_NODE, CEILING, SPARE_NODES = 4, 0.7, 1


@dataclass(frozen=True)
class Need:
    rate_per_min: float
    cores_by_service: dict = field(default_factory=dict)
    cores: float = 0.0
    nodes: int = 0
    capped: str | None = None       # why one event cannot sell at this rate whatever the cores (None: it can)

    def line(self) -> str:
        top = sorted(self.cores_by_service.items(), key=lambda kv: -kv[1])[:4]
        line = (f"{self.rate_per_min:g} purchases/min: {self.cores:.1f} cores, {self.nodes} nodes "
                f"(largest: {', '.join(f'{s} {c:.1f}' for s, c in top)})")
        return line + (f"; {self.capped}" if self.capped else "")


def lock_cap(rate_per_min: float) -> str | None:
    """Where pretix's per-event lock stops a rate, in words (None below the quota-locking figure)."""
    if rate_per_min > UNLIMITED_CAP_PER_MIN:
        return (f"above pretix's ~{UNLIMITED_CAP_PER_MIN}/min per event even with unlimited quota: "
                f"split the sale over several events")
    if rate_per_min > LOCK_CAP_PER_MIN:
        return (f"above pretix's ~{LOCK_CAP_PER_MIN}/min per event with quota locking: reachable only with "
                f"unlimited quota (~{UNLIMITED_CAP_PER_MIN}/min) or over several events")
    return None


def project(rate_per_min: float, cpu_per_purchase: dict, idle_cores: dict | None = None,
            cores_per_node: float = CORES_PER_NODE, ceiling: float = CEILING, spare_nodes: int = SPARE_NODES) -> Need:
    """The cores per service and the nodes for rate_per_min purchases, each node busy at most `ceiling`."""
    if not 0 < ceiling <= 1 or cores_per_node <= 0 or rate_per_min < 0:
        raise ValueError("the ceiling must be in (0, 1], cores per node and the rate positive")
    idle = idle_cores or {}
    services = sorted(set(cpu_per_purchase) | set(idle))
    cores = {s: round((idle.get(s, 0.0) + rate_per_min / 60 * cpu_per_purchase.get(s, 0.0)) / ceiling, 3)
             for s in services}
    total = sum(cores.values())
    nodes = math.ceil(total / cores_per_node - 1e-9) + spare_nodes
    return Need(rate_per_min, cores, round(total, 2), nodes, lock_cap(rate_per_min))


def rate_on(cores: float, cpu_per_purchase: float, idle_cores: float = 0.0, ceiling: float = CEILING) -> float:
    """Purchases/min that `cores` carry at the ceiling (0 when the idle cost alone fills them)."""
    if cpu_per_purchase <= 0:
        return math.inf
    return max(0.0, (cores * ceiling - idle_cores) * 60 / cpu_per_purchase)


def model(cpu_per_purchase: dict, idle_cores: dict | None = None, cores_per_node: float = CORES_PER_NODE,
          ceiling: float = CEILING, targets=TARGETS) -> dict:
    """The projection for each target rate, as summary data."""
    needs = [project(t, cpu_per_purchase, idle_cores, cores_per_node, ceiling) for t in targets]
    per_node = rate_on(cores_per_node, sum(cpu_per_purchase.values()), 0.0, ceiling)
    return {"cores_per_node": cores_per_node, "ceiling": ceiling, "spare_nodes": SPARE_NODES,
            "lock_cap_per_min": LOCK_CAP_PER_MIN, "unlimited_cap_per_min": UNLIMITED_CAP_PER_MIN,
            "per_node_per_min": round(per_node, 1) if math.isfinite(per_node) else None,
            "targets": [{"rate_per_min": n.rate_per_min, "cores": n.cores, "nodes": n.nodes,
                         "cores_by_service": n.cores_by_service, "capped": n.capped, "line": n.line()}
                        for n in needs]}
