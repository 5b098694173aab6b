"""Measuring one side: an idle window, then the stages table played by Locust (distributed, bounded), with the
stack's CPU counters read on the nodes before and after, and every order verified against the REST API."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..core.errors import ApiError, OpsError
from ..core.output import say
from ..core.retry import poll
from ..core.remote import Remote
from ..load.audit import audit_inputs, fetch_inputs, snapshot_quota
from ..load.options import LoadOptions
from ..load.records import read_dir
from ..load.runner import plan_table, run_load
from ..load.scenario import (LOOKER_RATIO, PACING_S, PEAK_FACTORS, RAMP_STAGE_S, STAGE_S, Scenario, peak_stages,
                             ramp_table, stage_lines, table)
from ..load.stages import STAGES_FILE
from ..shop.api import Api
from .cpu import Sample, difference, read_sample
from .summary import side_summary

MODES = ("peaks", "ramp")
AUDIT_WAIT_S = 180.0


@dataclass(frozen=True)
class BenchPlan:
    mode: str = "peaks"
    scenario: Scenario = Scenario()
    pacing_s: float = PACING_S
    looker_ratio: float = LOOKER_RATIO
    stage_s: int | None = None            # seconds per stage (default: the scenario's for the mode)
    factors: tuple = PEAK_FACTORS         # peaks mode: the stages, as factors of the peak rate
    idle_s: float = 30.0                  # idle window before the load (each side's idle CPU)
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r}: use one of {', '.join(MODES)}")
        if self.idle_s < 0 or (self.stage_s is not None and self.stage_s <= 0):
            raise ValueError("the idle window must be >= 0 and a stage's duration positive")


def table_for(p: BenchPlan) -> dict:
    """The bounded stages table of the plan: the peaks (factors x the peak rate) or a ramp."""
    if p.mode == "peaks":
        stages = peak_stages(p.scenario, p.pacing_s, p.looker_ratio, p.stage_s or STAGE_S, p.factors)
        return table("peaks", stages, None, p.pacing_s, p.looker_ratio)
    return ramp_table(p.scenario, p.pacing_s, p.looker_ratio, stage_s=p.stage_s or RAMP_STAGE_S)


@dataclass(frozen=True)
class Side:
    """Where one side's load goes and how it is observed."""
    name: str                   # "ha" or "baseline"
    remote: Remote
    cl: object                  # the cluster (inventory)
    stack: str                  # the Swarm stack whose containers' CPU is counted
    api: Api                    # the side's REST API (its own token)
    options: LoadOptions        # organizer, event, token file
    host: str                   # the shop as the generator reaches it
    netns: str | None           # the lab's namespace the generator runs in (None: this machine)


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def audit_input(api: Api, o: LoadOptions, since: float, quota_before: dict, records_dir: Path,
                wait_s: float = AUDIT_WAIT_S) -> dict:
    """What the audit reads from the REST API, asked again while the API fails (a shop still busy with the load's
    last requests answers 5xx or times out), at most wait_s."""
    errors = []

    def fetch():
        try:
            return fetch_inputs(api, o.organizer, o.event, since, quota_before)
        except ApiError as exc:
            errors.append(str(exc).splitlines()[0])

    inputs = poll(fetch, wait_s, first=2, cap=10)
    if inputs is None:
        raise OpsError(f"cannot verify the orders: the REST API still fails after {wait_s:.0f} s ({errors[-1]}); "
                       f"the purchase records are kept in {records_dir}")
    return inputs


def samples_json(samples: dict[str, Sample]) -> str:
    """The raw counter reads (idle start/end, run start/end), kept next to the results."""
    return json.dumps({k: asdict(v) for k, v in samples.items()}, indent=1) + "\n"


def measure(side: Side, p: BenchPlan, out_dir: Path, show=say) -> dict:
    """Idle window, load (the plan's table), CPU difference, audit: the side's summary. Written next to Locust's
    CSV and HTML in out_dir: side.json, the counter reads (cpu.json) and what the audit read (audit-input.json)."""
    doc = table_for(p)
    for line in stage_lines(doc["stages"]):
        show(f"  {line}")

    def read() -> Sample:
        return read_sample(side.remote, side.cl, side.stack)

    show(f"bench {side.name}: idle window of {p.idle_s:g} s (CPU of the stack without load)")
    cpu = {"idle_start": read()}
    time.sleep(p.idle_s)
    cpu["idle_end"] = read()
    o = side.options
    quota_before = snapshot_quota(side.api, o.organizer, o.event)
    run = plan_table(side.host, out_dir, doc, workers=p.workers, options=o, netns=side.netns)
    cpu["run_start"], load_before = read(), os.getloadavg()[0]
    result = run_load(run, show)
    cpu["run_end"], load_after = read(), os.getloadavg()[0]
    for line in result.lines():
        show(f"  {line}")
    (out_dir / "cpu.json").write_text(samples_json(cpu))
    records = read_dir(run.records_dir, run.options.run_id)
    inputs = audit_input(side.api, o, result.started, quota_before, run.records_dir)
    (out_dir / "audit-input.json").write_text(json.dumps(inputs, indent=1) + "\n")
    stages_file = run.records_dir / STAGES_FILE
    log = json.loads(stages_file.read_text()) if stages_file.exists() else {"stages": [], "stopped": None}
    summary = side_summary(side.name, side.stack, doc, log, records, _text(Path(f"{run.csv_prefix}_stats.csv")),
                           result, difference(cpu["idle_start"], cpu["idle_end"], side.stack),
                           difference(cpu["run_start"], cpu["run_end"], side.stack),
                           audit_inputs(records, inputs, run.options.run_id), _text(out_dir / "master.log"))
    summary["machine"] = {"cores": os.cpu_count(), "load_before": round(load_before, 2),
                          "load_after": round(load_after, 2)}
    (out_dir / "side.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
