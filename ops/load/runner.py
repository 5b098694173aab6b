"""Runs Locust headless and distributed (optionally in a network namespace): pure argv builders, a bounded runner."""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..core.errors import OpsError
from ..core.output import say
from .options import LoadOptions, argv as option_argv, new_run_id
from .records import Record, read_dir
from .scenario import total_seconds

REPO = Path(__file__).resolve().parents[2]
LOCUSTFILE = REPO / "loadtest" / "locustfile.py"
GRACE_S = 30            # past run time + stop timeout + worker wait: the run is stuck, end it
KILL_AFTER_S = 5        # SIGTERM, then SIGKILL
TABLE_MARGIN_S = 15     # --run-time past a table's end: the table, not the clock, ends a table run
GAVE_UP = "Gave up waiting for workers to connect"
PROBE = ("import sys, urllib.request\n"
         "try:\n urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2]))\n"
         "except Exception as e:\n sys.exit(f'{type(e).__name__}: {e}')")


@dataclass(frozen=True)
class LoadRun:
    host: str                       # the shop's base URL, as the generator reaches it
    out_dir: Path                   # CSV, HTML report, logs; records in options.records_dir
    run_time_s: int                 # hard bound of the load (Locust --run-time)
    options: LoadOptions = LoadOptions()
    workers: int = 1
    users: int = 1                  # without a stages table: constant users and spawn rate
    spawn_rate: float = 1.0
    netns: str | None = None        # run inside /run/netns/<netns> (a lab's namespace)
    master_port: int = 5557
    python: str = sys.executable
    locustfile: Path = LOCUSTFILE
    stop_timeout_s: int = 30        # in-flight purchases may finish after the run time
    connect_wait_s: int = 30        # workers must connect within this

    @property
    def csv_prefix(self) -> Path:
        return self.out_dir / "locust"

    @property
    def html(self) -> Path:
        return self.out_dir / "report.html"

    @property
    def records_dir(self) -> Path:
        return Path(self.options.records_dir)

    @property
    def bound_s(self) -> int:
        """The longest the whole run may take before its processes are killed."""
        return self.run_time_s + self.stop_timeout_s + self.connect_wait_s + GRACE_S


def plan(host: str, out_dir: Path, run_time_s: int, workers: int = 2, cpus: int | None = None,
         options: LoadOptions = LoadOptions(), **kw) -> LoadRun:
    """A run: workers capped at the CPU count, a run id and the records under out_dir unless given, a free port."""
    cpus = cpus or os.cpu_count() or 1
    out_dir = Path(out_dir)
    options = replace(options, run_id=options.run_id or new_run_id(),
                      records_dir=options.records_dir if options.records_dir != LoadOptions.records_dir
                      else str(out_dir / "records"))
    kw.setdefault("master_port", free_port())
    return LoadRun(host=host.rstrip("/"), out_dir=out_dir, run_time_s=int(run_time_s),
                   workers=max(1, min(workers, cpus)), options=options, **kw)


def plan_table(host: str, out_dir: Path, doc: dict, workers: int = 2, cpus: int | None = None,
               options: LoadOptions = LoadOptions(), **kw) -> LoadRun:
    """A run playing a stages table (scenario.peaks_table/ramp_table): written to out_dir/table.json, with the
    table's pacing and looker ratio, and a run time just past the table's end (the shape ends it first)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "table.json").write_text(json.dumps(doc, indent=1) + "\n")
    options = replace(options, stages=str(out_dir / "table.json"),
                      pacing=float(doc.get("pacing_s", options.pacing)),
                      looker_ratio=min(doc.get("looker_ratio", options.looker_ratio), 1 - options.api_ratio))
    return plan(host, out_dir, total_seconds(doc["stages"]) + TABLE_MARGIN_S, workers, cpus, options, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def netns_prefix(netns: str | None) -> list[str]:
    return ["nsenter", f"--net=/run/netns/{netns}"] if netns else []


def locust_argv(run: LoadRun) -> list[str]:
    return [*netns_prefix(run.netns), run.python, "-m", "locust", "-f", str(run.locustfile)]


def master_argv(run: LoadRun) -> list[str]:
    return [*locust_argv(run), "--headless", "--master", "--master-bind-host", "127.0.0.1",
            "--master-bind-port", str(run.master_port), "--expect-workers", str(run.workers),
            "--expect-workers-max-wait", str(run.connect_wait_s), "--host", run.host,
            "--users", str(run.users), "--spawn-rate", f"{run.spawn_rate:g}", "--run-time", f"{run.run_time_s}s",
            "--stop-timeout", str(run.stop_timeout_s), "--csv", str(run.csv_prefix), "--csv-full-history",
            "--html", str(run.html), "--only-summary", *option_argv(run.options)]


def worker_argv(run: LoadRun) -> list[str]:
    return [*locust_argv(run), "--worker", "--master-host", "127.0.0.1", "--master-port", str(run.master_port),
            *option_argv(run.options)]


def probe_argv(run: LoadRun, timeout_s: float = 5) -> list[str]:
    """Does the shop answer from where the generator runs (same namespace)?"""
    return [*netns_prefix(run.netns), run.python, "-c", PROBE, run.host + "/healthcheck/", f"{timeout_s:g}"]


@dataclass
class LoadResult:
    run: LoadRun
    exit_codes: dict = field(default_factory=dict)   # master / worker-N -> exit code (None: never ended)
    cpu_s: dict = field(default_factory=dict)        # the same -> CPU seconds (user + system)
    wall_s: float = 0.0
    started: float = 0.0                             # epoch: the processes were started (audit from here)
    killed: list = field(default_factory=list)

    @property
    def generator_cpu_s(self) -> float:
        return round(sum(self.cpu_s.values()), 2)

    @property
    def records(self) -> list[Record]:
        return read_dir(self.run.records_dir, self.run.options.run_id)

    def stats_row(self, request_type: str = "PURCHASE", name: str = "browser purchase") -> dict | None:
        path = Path(f"{self.run.csv_prefix}_stats.csv")
        return stats_row(path.read_text(), request_type, name) if path.exists() else None

    def lines(self) -> list[str]:
        codes = ", ".join(f"{k} {v}" for k, v in self.exit_codes.items())
        return [f"load run {self.run.options.run_id}: {self.wall_s:.0f} s wall, "
                f"generator CPU {self.generator_cpu_s} s; "
                f"exit codes: {codes}" + (f"; killed: {', '.join(self.killed)}" if self.killed else ""),
                f"report {self.run.html}; CSV {self.run.csv_prefix}_*.csv; records {self.run.records_dir}"]


def stats_row(csv_text: str, request_type: str, name: str) -> dict | None:
    """One row of Locust's <prefix>_stats.csv (Type, Name, Request Count, ..., 50%, 95%, ...) as a dict."""
    for row in csv.DictReader(io.StringIO(csv_text)):
        if row.get("Type") == request_type and row.get("Name") == name:
            return row
    return None


def preflight(run: LoadRun) -> None:
    """Clear errors before starting anything: locust missing, no namespace, the shop not answering."""
    if run.netns and not Path(f"/run/netns/{run.netns}").exists():
        raise OpsError(f"no network namespace {run.netns} (/run/netns/{run.netns}): start the lab (inv lab.up)")
    found = subprocess.run([run.python, "-c", "import importlib.util as u, sys; sys.exit(not u.find_spec('locust'))"],
                           capture_output=True, timeout=60)
    if found.returncode:
        raise OpsError(f"locust is not installed for {run.python}: run scripts/install-deps.sh (installs .venv)")
    if not run.locustfile.exists():
        raise OpsError(f"no locustfile at {run.locustfile}: run from a complete checkout")
    probe = subprocess.run(probe_argv(run), capture_output=True, text=True, timeout=60)
    if probe.returncode:
        where = f" from network namespace {run.netns}" if run.netns else ""
        raise OpsError(f"the shop does not answer at {run.host}/healthcheck/{where} ({probe.stderr.strip()[-200:]}): "
                       f"is the stack deployed and healthy (inv status / inv deploy)?")


class LoadProcess:
    """A started load run (master + workers): a drill injects its fault meanwhile, then calls wait()."""

    def __init__(self, run: LoadRun, show=say):
        preflight(run)
        run.out_dir.mkdir(parents=True, exist_ok=True)
        run.records_dir.mkdir(parents=True, exist_ok=True)
        show(f"load: {run.workers} workers, {run.run_time_s} s, {run.host}"
             + (f" in netns {run.netns}" if run.netns else "") + f"; out {run.out_dir}")
        env = {**os.environ, "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        argvs = {"master": master_argv(run), **{f"worker-{i + 1}": worker_argv(run) for i in range(run.workers)}}
        self.run, self.result, self.procs = run, LoadResult(run), {}
        self.result.started, self.t0 = time.time(), time.monotonic()
        try:
            for name, argv in argvs.items():
                with open(run.out_dir / f"{name}.log", "w") as log:
                    self.procs[name] = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        except OSError as exc:
            self.stop()
            raise OpsError(f"cannot start Locust ({exc}): is {argvs['master'][0]} installed?") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()   # a drill that failed midway must not leave the generator running

    def stop(self) -> None:
        """End the run now (SIGTERM, then SIGKILL), e.g. when the caller fails before wait()."""
        _end(self.procs, self.result)

    def wait(self) -> LoadResult:
        """Wait for the run to end (bounded by run.bound_s from its start, then killed); its result."""
        run = self.run
        try:
            _wait(self.procs, self.result, self.t0 + run.bound_s)
        finally:
            _end(self.procs, self.result)
        self.result.wall_s = round(time.monotonic() - self.t0, 1)
        if GAVE_UP in (run.out_dir / "master.log").read_text(errors="replace"):
            raise OpsError(f"the {run.workers} Locust workers did not all connect to the master on 127.0.0.1:"
                           f"{run.master_port} within {run.connect_wait_s} s: see {run.out_dir}/worker-*.log "
                           f"(port taken? fewer workers?)")
        return self.result


def run_load(run: LoadRun, show=say) -> LoadResult:
    """Start master + workers and wait for them (bounded), measuring their CPU."""
    return LoadProcess(run, show).wait()


def _reap(name: str, p: subprocess.Popen, result: LoadResult, block: bool = False) -> bool:
    """Collect an ended process's exit code and exact CPU time (wait4's rusage); False while it runs."""
    pid, status, usage = os.wait4(p.pid, 0 if block else os.WNOHANG)
    if pid == 0:
        return False
    p.returncode = result.exit_codes[name] = os.waitstatus_to_exitcode(status)
    result.cpu_s[name] = round(usage.ru_utime + usage.ru_stime, 2)
    return True


def _wait(procs: dict, result: LoadResult, deadline: float) -> None:
    master_gone = None
    while time.monotonic() < deadline:
        for name, p in procs.items():
            if name not in result.exit_codes:
                _reap(name, p, result)
        if len(result.exit_codes) == len(procs):
            return
        if "master" in result.exit_codes:
            master_gone = master_gone or time.monotonic()
            if time.monotonic() - master_gone > GRACE_S:   # workers outliving their master will not stop
                return
        time.sleep(0.5)


def _end(procs: dict, result: LoadResult) -> None:
    """SIGTERM what still runs, SIGKILL it after KILL_AFTER_S, and reap everything."""
    live = {n: p for n, p in procs.items() if n not in result.exit_codes and not _reap(n, p, result)}
    for name, p in live.items():
        result.killed.append(name)
        p.send_signal(signal.SIGTERM)
    end = time.monotonic() + KILL_AFTER_S
    while live and time.monotonic() < end:
        live = {n: p for n, p in live.items() if not _reap(n, p, result)}
        time.sleep(0.2)
    for name, p in live.items():
        p.kill()
        _reap(name, p, result, block=True)
