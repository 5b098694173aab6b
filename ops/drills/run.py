"""One drill run: buyers buy, the fault hits at a fixed second (and heals), then audit, timeline, goals, file."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..cluster.mail import undelivered
from ..core.errors import ApiError, OpsError
from ..core.output import say
from ..core.retry import poll
from ..load.audit import fetch_audit, snapshot_quota
from ..load.options import LoadOptions
from ..load.runner import LoadProcess, plan
from ..load.timeline import purchase_stats, timeline
from ..shop.api import Api
from .faults import Fault, Target, whole
from .goals import GOALS, missed


@dataclass(frozen=True)
class DrillPlan:
    buyers: int = 6               # concurrent buyers, each buying back to back
    fault_at_s: float = 30.0      # the fault hits this long after the load started
    after_s: float = 75.0         # load keeps running this long after the fault (or its heal)
    hold_s: float | None = None   # partition/engine: seconds until the node comes back (default: the fault's)
    healthy_wait_s: float = 240.0
    workers: int = 2


@dataclass
class DrillResult:
    fault: str
    target: str
    started: float
    fault_at: float
    returned: float | None
    summary: dict = field(default_factory=dict)
    missed: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.missed


def sleep_until(t: float) -> None:
    time.sleep(max(0.0, t - time.time()))


def run_drill(t: Target, fault: Fault, p: DrillPlan, api: Api, options: LoadOptions, host: str, netns: str | None,
              out_dir: Path) -> DrillResult:
    problems = whole(t.remote, t.cl, t.mgr)
    if problems:
        raise OpsError("the cluster is not whole before the drill: " + "; ".join(problems)
                       + " (wait, or see `inv status` and RUNBOOK.md)")
    hold = (p.hold_s if p.hold_s is not None else fault.hold_s) if fault.heal else 0
    quota_before = snapshot_quota(api, options.organizer, options.event)
    run = plan(host, out_dir, int(p.fault_at_s + hold + p.after_s), workers=p.workers, options=options,
               users=p.buyers, spawn_rate=p.buyers, netns=netns)
    with LoadProcess(run) as load:
        sleep_until(load.result.started + p.fault_at_s)
        aimed = time.time()
        t.struck_at = t.landed_at = None
        target = fault.inject(t)
        fault_at = t.struck_at or aimed        # the fault's instant: when it struck, not when we began to look
        landed = t.landed_at or fault_at
        say(f"drill {fault.name}: {fault.what}: {target} at +{fault_at - load.result.started:.1f} s "
            f"(found in {fault_at - aimed:.1f} s, done in {landed - fault_at:.1f} s)")
        returned = None
        if fault.heal:
            sleep_until(fault_at + hold)
            fault.heal(t, target)
            returned = time.time()
            say(f"drill {fault.name}: {target} is back after {returned - fault_at:.0f} s")
        result = load.wait()
    return evaluate(t, fault, p, api, options, result, target, fault_at, returned, quota_before, landed)


def evaluate(t: Target, fault: Fault, p: DrillPlan, api: Api, options: LoadOptions, result, target: str,
             fault_at: float, returned: float | None, quota_before: dict, landed: float | None = None) -> DrillResult:
    options = result.run.options   # with the run id the runner gave it
    records = result.records
    t0 = time.monotonic()
    left = poll(lambda: not whole(t.remote, t.cl, t.mgr), p.healthy_wait_s, first=2, cap=5)
    healthy_s = round(time.monotonic() - t0, 1) if left else None
    audit = audit_when_answering(api, options, records, result.started, quota_before)
    tl = timeline(records, fault_at, fault_end=returned, returned=returned)
    mail = mail_audit(t, records)
    misses = missed(GOALS[fault.name], tl, records, audit.ok, len(audit.lost), bool(left), returned,
                    len(mail.get("missing", ())), landed)
    summary = {"timeline": {k: v for k, v in asdict(tl).items()}, "recovery_s": tl.recovery_s,
               "fault_landed_s": round(landed - fault_at, 2) if landed else None,
               "audit": audit.lines(), "lost": list(audit.lost), "audit_ok": audit.ok,
               "purchases": purchase_stats(records), "healthy_after_load_s": healthy_s,
               "still_broken": [] if left else whole(t.remote, t.cl, t.mgr),
               "generator_cpu_s": result.generator_cpu_s, "load": result.lines(), "plan": asdict(p),
               "goal": asdict(GOALS[fault.name]), "timeline_lines": tl.lines(), "mail": mail}
    return DrillResult(fault.name, target, result.started, fault_at, returned, summary, misses)


def mail_audit(t: Target, records, wait_s: float = 120) -> dict:
    """Every confirmed order's mail (pretix sends it from a worker, after the order) in the lab's sink: what a
    killed worker or a moved Redis master may not lose. A real relay cannot be read: then nothing is checked."""
    if not t.cl.mail.is_sink:
        return {}
    buyers = {r.email for r in records if r.ok}
    missing = undelivered(t.remote, t.cl, buyers, wait_s) if buyers else set()
    return {"confirmed": len(buyers), "mailed": len(buyers) - len(missing), "missing": sorted(missing)}


def mail_line(mail: dict) -> str | None:
    if not mail:
        return None
    if not mail["missing"]:
        return f"mail: all {mail['confirmed']} confirmed orders' mails reached the lab's sink"
    return (f"mail: {len(mail['missing'])} of {mail['confirmed']} confirmed orders' mails NOT in the lab's sink "
            f"(e.g. {mail['missing'][0]}; `inv logs worker`)")


def audit_when_answering(api: Api, options: LoadOptions, records, since: float, quota_before: dict, wait_s=180):
    """The audit, once the REST API answers again (a cluster that is still recovering answers 5xx)."""
    last = []

    def attempt():
        try:
            return fetch_audit(api, options.organizer, options.event, records, since, quota_before, options.run_id)
        except ApiError as exc:
            last[:] = [str(exc).splitlines()[0]]
            return None

    audit = poll(attempt, wait_s, first=2, cap=10)
    if audit is None:
        raise OpsError(f"cannot audit the drill's orders: the REST API still fails after {wait_s} s ({last[0]}); "
                       f"the records are kept in {options.records_dir}")
    return audit


def write(res: DrillResult, results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(res.started))
    path = results_dir / f"{stamp}-{res.fault}.json"
    path.write_text(json.dumps({**asdict(res), "passed": res.passed}, indent=2, default=str) + "\n")
    return path


def summary_lines(res: DrillResult, path: Path) -> list[str]:
    s = res.summary
    head = f"drill {res.fault}: {'PASSED' if res.passed else 'FAILED'} (target {res.target}); result {path}"
    lines = [head, *("  " + x for x in s["timeline_lines"]), *("  " + x for x in s["audit"])]
    lines += ["  " + x for x in [mail_line(s.get("mail") or {})] if x]
    healthy = s["healthy_after_load_s"]
    lines.append("  cluster whole again " + (f"{healthy:.0f} s after the load ended" if healthy is not None
                                             else "NOT within the wait: " + "; ".join(s["still_broken"])))
    lines += [f"  MISSED: {m}" for m in res.missed]
    return lines
