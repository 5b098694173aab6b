"""Measuring one side: an idle window, then the stages table played by Locust (distributed, bounded), with the
stack's CPU counters read on the nodes before and after, and every order verified against the REST API."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..core.output import say
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
    cpu["run_start"] = read()
    result = run_load(run, show)
    cpu["run_end"] = read()
    for line in result.lines():
        show(f"  {line}")
    (out_dir / "cpu.json").write_text(samples_json(cpu))
    records = read_dir(run.records_dir, run.options.run_id)
    inputs = fetch_inputs(side.api, o.organizer, o.event, result.started, quota_before)
    (out_dir / "audit-input.json").write_text(json.dumps(inputs, indent=1) + "\n")
    stages_file = run.records_dir / STAGES_FILE
    log = json.loads(stages_file.read_text()) if stages_file.exists() else {"stages": [], "stopped": None}
    stats = Path(f"{run.csv_prefix}_stats.csv")
    summary = side_summary(side.name, side.stack, doc, log, records, stats.read_text() if stats.exists() else "",
                           result, difference(cpu["idle_start"], cpu["idle_end"], side.stack),
                           difference(cpu["run_start"], cpu["run_end"], side.stack),
                           audit_inputs(records, inputs, run.options.run_id))
    (out_dir / "side.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
