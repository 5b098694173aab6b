"""`inv drill.*`: a fault injected while buyers buy, every confirmed order audited, the goals checked."""
from __future__ import annotations

import time

from invoke import Collection
from invoke.exceptions import Exit

from ..cluster.deploy import first_manager
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from ..drills import faults as F
from ..drills.run import DrillPlan, run_drill, summary_lines, write
from ..load.options import LoadOptions
from ..shop.seed import load_seed
from .context import HELP, PROJECT, expected_errors, load, task
from .lab import lab_of
from .shop import DEFAULT_SEED, shop_api, shop_state

RESULTS = PROJECT / "results" / "drills"
FLAGS = {
    "runs": "run the drill this many times in a row (default 1; the goal is 3 of 3)",
    "buyers": "concurrent buyers, each buying back to back (default 6)",
    "fault_at": "seconds of load before the fault (default 30)",
    "after": "seconds of load after the fault or the node's return (default 75)",
    "seed": HELP["seed"],
    "cluster": HELP["cluster"],
}
NODE_FLAGS = {**FLAGS, "node": "the node to hit (default: the database leader's node)",
              "seconds": "seconds until the node comes back (default 45)"}


def drill_faults(c, names, runs=1, buyers=6, fault_at=30, after=75, seed=None, cluster=None, node=None,
                 seconds=None) -> None:
    """Run the named faults, `runs` times each; exit 1 when any run lost an order or missed a goal."""
    cl = load(c, cluster)
    lab = lab_of(c, cl)
    s = load_seed(seed or DEFAULT_SEED)
    plan = DrillPlan(buyers=int(buyers), fault_at_s=float(fault_at), after_s=float(after),
                     hold_s=float(seconds) if seconds else None)
    api = shop_api(c, cl)
    host = lab.public_url if lab else cl.public_url   # in the lab the load runs inside its bridge namespace
    failed = []
    with Remote(cl, echo=False) as remote:
        target = F.Target(remote, cl, first_manager(remote), lab, node)
        for name in names:
            for i in range(int(runs)):
                options = LoadOptions(organizer=s.organizer.slug, event=s.event.slug, looker_ratio=0.0, pacing=1.0,
                                      token_file=str(shop_state(c, cl.name) / "api_token"))
                say(f"=== drill {name}: run {i + 1} of {runs} ===")
                stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
                res = run_drill(target, F.FAULTS[name], plan, api, options, host, lab.net_ns if lab else None,
                                RESULTS / "load" / f"{stamp}-{name}")
                for line in summary_lines(res, write(res, RESULTS)):
                    say(line)
                if not res.passed:
                    failed.append(f"{name} run {i + 1}: {'; '.join(res.missed)}")
    if failed:
        raise Exit("error: drill goals missed:\n  " + "\n  ".join(failed), 1)
    say(f"drills passed: {', '.join(names)} x {runs}")


def fault_task(name: str, doc: str, node_fault: bool = False):
    """An `inv drill.<name>` task (invoke reads its flags from the signature, so two signatures)."""
    if node_fault:
        def body(c, runs=1, buyers=6, fault_at=30, after=75, seed=None, cluster=None, node=None, seconds=None):
            drill_faults(c, [name], runs, buyers, fault_at, after, seed, cluster, node, seconds)
    else:
        def body(c, runs=1, buyers=6, fault_at=30, after=75, seed=None, cluster=None):
            drill_faults(c, [name], runs, buyers, fault_at, after, seed, cluster)
    body.__name__, body.__doc__ = name, doc
    return task(name=name, help=NODE_FLAGS if node_fault else FLAGS)(expected_errors(body))


DRILLS = [
    fault_task("db", "Drill: the PostgreSQL leader's container killed under purchase load (goal: recovery 10 s)."),
    fault_task("redis", "Drill: the Redis master's container killed under purchase load (goal: recovery 5 s)."),
    fault_task("web", "Drill: a web task's container killed under purchase load (goal: only in-flight purchases "
                      "fail)."),
    fault_task("worker", "Drill: a worker task's container killed under purchase load (goal: only in-flight "
                         "purchases fail)."),
    fault_task("partition", "Drill (lab): a node cut off the network for 45 s under purchase load (goal: sales "
                            "again within 30 s).", node_fault=True),
    fault_task("node", "Drill (lab): a node's dockerd killed, restarted 45 s later, under purchase load (goal: "
                       "30 s).", node_fault=True),
]


@task(help={**FLAGS, "kind": f"which proxy: {', '.join(F.PROXIES)} or all (default all)"})
@expected_errors
def proxy(c, kind="all", runs=1, buyers=6, fault_at=30, after=75, seed=None, cluster=None):
    """Drill: a proxy task's container killed (pg-proxy, redis-proxy, nginx), under purchase load."""
    kinds = F.PROXIES if kind == "all" else (kind,)
    if any(k not in F.PROXIES for k in kinds):
        raise OpsError(f"unknown proxy kind {kind!r}: use one of {', '.join(F.PROXIES)} or all")
    drill_faults(c, list(kinds), runs, buyers, fault_at, after, seed, cluster)


@task(name="all", help={**FLAGS, "runs": "runs of every drill (default 3: the goal is 3 of 3 in a row)"})
@expected_errors
def all_(c, runs=3, buyers=6, fault_at=30, after=75, seed=None, cluster=None):
    """Every drill (db, redis, web, worker, each proxy, partition, node), `runs` times each, on one deployment."""
    drill_faults(c, list(F.ALL), runs, buyers, fault_at, after, seed, cluster)


ns = Collection("drill", proxy, all_, *DRILLS)
