"""A LoadTestShape playing a stages table (JSON): stops after the last stage, or early on a ramp's stop condition."""
from __future__ import annotations

import json
import time
from pathlib import Path

from locust import LoadTestShape

from ..core.files import write_if_changed
from .options import from_parsed
from .stages import STAGES_FILE, load_table, since, stage_index, stop_reason, window


class StagesShape(LoadTestShape):
    """Plays the --stages table (constant -u/-r users without one), writes stages.json to the records dir."""
    use_common_options = True      # without a table, -u/-r/--run-time keep their meaning
    clock = staticmethod(time.time)

    def __init__(self):
        super().__init__()
        self.doc, self.current, self.base, self.log, self.run_time_s = None, None, None, None, None

    def _setup(self):
        opts = from_parsed(self.runner.environment.parsed_options)
        self.doc = load_table(opts.stages)
        if self.doc is None:
            p = self.runner.environment.parsed_options
            users, rate = int(getattr(p, "num_users", None) or 1), float(getattr(p, "spawn_rate", None) or 1)
            self.doc = {"name": "constant", "stop": None, "stages": [
                {"name": "constant", "duration_s": float("inf"), "users": users, "spawn_rate": rate}]}
        self.records_dir = Path(opts.records_dir)
        self.run_time_s = getattr(self.runner.environment.parsed_options, "run_time", None)
        self.log = {"run": opts.run_id, "table": self.doc["name"], "stages": [], "stopped": None}

    def tick(self):
        if self.doc is None:
            self._setup()
        stages, t = self.doc["stages"], self.get_run_time()
        # Locust arms --run-time only after a shape ends (2.47 main.py), so the shape keeps that bound itself
        if self.run_time_s and t >= self.run_time_s:
            self.finish("--run-time reached")
            return None
        i = stage_index(stages, t)
        if i is None:
            self.finish("the table ended")
            return None
        if i != self.current:
            self._enter(i)
        stop = self.doc.get("stop")
        reason = stop and stop_reason(since(window(self._entry()), self.base), stop)
        if reason:
            self.finish(reason)
            return None
        return stages[i]["users"], stages[i]["spawn_rate"]

    def _entry(self):
        name = (self.doc.get("stop") or {}).get("name", "browser purchase")
        return self.runner.stats.get(name, "PURCHASE")

    def _enter(self, i: int) -> None:
        now, s = self.clock(), self.doc["stages"][i]
        if self.log["stages"]:
            self.log["stages"][-1]["end"] = now
        self.log["stages"].append({"name": s["name"], "start": now, "end": None, "users": s["users"],
                                   "rate_per_min": s.get("rate_per_min")})
        self.current = i
        if self.doc.get("stop"):
            self.base = window(self._entry())  # the stop condition looks at this stage's purchases only
        self._write()

    def finish(self, reason: str | None = None) -> None:
        """Close the last stage and say why the table stopped (also called when Locust stops the test)."""
        if not self.log:
            return
        if self.log["stages"] and self.log["stages"][-1]["end"] is None:
            self.log["stages"][-1]["end"] = self.clock()
        self.log["stopped"] = self.log["stopped"] or reason or "the run ended (--run-time or stop)"
        self._write()

    def _write(self) -> None:
        self.records_dir.mkdir(parents=True, exist_ok=True)
        write_if_changed(self.records_dir / STAGES_FILE, json.dumps(self.log, indent=1) + "\n")
