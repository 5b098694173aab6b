"""The load runner's command lines (whole argv lists), the run plan, options as arguments, Locust's stats CSV."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ops.load.options import LoadOptions, argv, check, weights
from ops.core.errors import OpsError
from ops.load import scenario
from ops.load.runner import (LOCUSTFILE, LoadRun, master_argv, plan, plan_table, preflight, probe_argv, stats_row,
                             worker_argv)

FIX = Path(__file__).resolve().parent / "fixtures" / "load"
PY, LF = "/venv/bin/python", Path("/repo/loadtest/locustfile.py")
OPTS = LoadOptions(token_file="/state/api_token", pacing=6.0, records_dir="/out/records", run_id="R1")
RUN = LoadRun(host="http://127.0.0.1:8080", out_dir=Path("/out"), run_time_s=60, options=OPTS, workers=2,
              users=5, spawn_rate=5, master_port=5599, python=PY, locustfile=LF)
CUSTOM = ["--token-file", "/state/api_token", "--pacing", "6", "--records-dir", "/out/records", "--run-id", "R1"]


def test_master_argv():
    assert master_argv(RUN) == [
        PY, "-m", "locust", "-f", "/repo/loadtest/locustfile.py", "--headless", "--master",
        "--master-bind-host", "127.0.0.1", "--master-bind-port", "5599", "--expect-workers", "2",
        "--expect-workers-max-wait", "30", "--host", "http://127.0.0.1:8080", "--users", "5", "--spawn-rate", "5",
        "--run-time", "60s", "--stop-timeout", "30", "--csv", "/out/locust", "--csv-full-history",
        "--html", "/out/report.html", "--only-summary", *CUSTOM]


def test_worker_argv():
    assert worker_argv(RUN) == [PY, "-m", "locust", "-f", "/repo/loadtest/locustfile.py", "--worker",
                                "--master-host", "127.0.0.1", "--master-port", "5599", *CUSTOM]


def test_inside_a_network_namespace():
    run = LoadRun(**{**RUN.__dict__, "netns": "pxlab-net"})
    prefix = ["nsenter", "--net=/run/netns/pxlab-net"]
    assert master_argv(run) == prefix + master_argv(RUN)
    assert worker_argv(run) == prefix + worker_argv(RUN)
    assert probe_argv(run)[:3] == prefix + [PY]


def test_probe_argv():
    argv_ = probe_argv(RUN, timeout_s=3)
    assert argv_[:2] == [PY, "-c"] and argv_[3:] == ["http://127.0.0.1:8080/healthcheck/", "3"]


def test_probe_says_why_a_closed_port_does_not_answer():
    run = LoadRun(**{**RUN.__dict__, "host": "http://127.0.0.1:9", "python": sys.executable})
    r = subprocess.run(probe_argv(run, 2), capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "URLError" in r.stderr


def test_bound_covers_run_stop_and_connect():
    assert RUN.bound_s == 60 + 30 + 30 + 30


@pytest.mark.parametrize("workers, cpus, want", [(2, 2, 2), (4, 2, 2), (0, 2, 1), (3, 8, 3)])
def test_plan_caps_workers_at_the_cpus(workers, cpus, want):
    assert plan("http://h/", Path("/o"), 30, workers=workers, cpus=cpus, master_port=1).workers == want


def test_plan_fills_in_run_id_records_and_host():
    run = plan("http://127.0.0.1:8080/", Path("/o"), 30, cpus=2, master_port=1)
    assert run.host == "http://127.0.0.1:8080"
    assert run.options.records_dir == "/o/records" and run.records_dir == Path("/o/records")
    assert len(run.options.run_id) == 16 and run.locustfile == LOCUSTFILE and LOCUSTFILE.exists()
    kept = plan("http://h", Path("/o"), 30, cpus=2, master_port=1, options=OPTS).options
    assert (kept.records_dir, kept.run_id) == ("/out/records", "R1")


def test_plan_table_takes_the_tables_pacing_lookers_and_length(tmp_path):
    doc = scenario.peaks_table(pacing_s=10, looker_ratio=0.25)
    run = plan_table("http://h", tmp_path, doc, cpus=2, master_port=1, options=OPTS)
    assert json.loads((tmp_path / "table.json").read_text()) == doc
    assert run.run_time_s == 480 + 15
    o = run.options
    assert (o.pacing, o.looker_ratio, o.stages) == (10, 0.25, str(tmp_path / "table.json"))
    assert master_argv(run)[-4:] == ["--run-id", "R1", "--stages", str(tmp_path / "table.json")]


def test_options_as_arguments_only_what_differs():
    assert argv(LoadOptions()) == []
    assert argv(LoadOptions(looker_ratio=0.25, stages="/t.json", deadline=90)) == [
        "--looker-ratio", "0.25", "--stages", "/t.json", "--purchase-deadline", "90"]


@pytest.mark.parametrize("looker, api, want", [
    (0.2, 0.0, {"Buyer": 800, "Looker": 200, "ApiBuyer": 0}),
    (0.0, 0.0, {"Buyer": 1000, "Looker": 0, "ApiBuyer": 0}),
    (0.2, 0.3, {"Buyer": 500, "Looker": 200, "ApiBuyer": 300}),
    (1 / 3, 0.0, {"Buyer": 667, "Looker": 333, "ApiBuyer": 0}),
])
def test_weights(looker, api, want):
    assert weights(LoadOptions(looker_ratio=looker, api_ratio=api)) == want


@pytest.mark.parametrize("kw", [dict(looker_ratio=1.2), dict(looker_ratio=0.6, api_ratio=0.5), dict(pacing=0),
                                dict(timeout=-1)])
def test_options_reject_nonsense(kw):
    with pytest.raises(ValueError):
        check(LoadOptions(**kw))


def test_stats_row_from_a_real_run():
    row = stats_row((FIX / "smoke" / "locust_stats.csv").read_text(), "PURCHASE", "browser purchase")
    assert row["Request Count"] == "40" and row["Failure Count"] == "0"
    assert 500 < int(row["50%"]) <= int(row["95%"]) < 10_000
    assert stats_row("Type,Name\n", "PURCHASE", "browser purchase") is None


def test_locust_finds_the_users_in_the_locustfile():
    r = subprocess.run([sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--list"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert [ln.strip() for ln in r.stdout.splitlines()[-3:]] == ["ApiBuyer", "Buyer", "Looker"]


@pytest.mark.parametrize("change, message", [
    (dict(netns="pxc-no-such-namespace"), "no network namespace pxc-no-such-namespace"),
    (dict(host="http://127.0.0.1:9"), "the shop does not answer at http://127.0.0.1:9/healthcheck/"),
    (dict(python=sys.executable, locustfile=Path("/nonexistent/locustfile.py")), "no locustfile"),
])
def test_preflight_names_the_fix(change, message):
    run = LoadRun(**{**RUN.__dict__, "python": sys.executable, "locustfile": LOCUSTFILE, **change})
    with pytest.raises(OpsError, match=message):
        preflight(run)


def test_preflight_says_how_to_install_locust():
    bare = "/usr/bin/python3"
    if not Path(bare).exists() or subprocess.run([bare, "-c", "import locust"], capture_output=True).returncode == 0:
        pytest.skip("needs a python without locust")
    with pytest.raises(OpsError, match="locust is not installed for /usr/bin/python3: run scripts/install-deps.sh"):
        preflight(LoadRun(**{**RUN.__dict__, "python": bare}))


def test_what_drills_and_bench_import_does_not_load_locust():
    """Locust monkey-patches the whole process (gevent) on import: only the locustfile's process may have it."""
    code = ("import sys, ops.load.runner, ops.load.audit, ops.load.timeline, ops.load.scenario, ops.load.stages; "
            "print(sorted(m for m in ('locust', 'gevent') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "[]", r.stderr
