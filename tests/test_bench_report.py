"""Stage maths, summary, report and plots on a recorded real run (tests/fixtures/bench/run: the HA lab stack,
1x and 2x the peak for 40 s each, 2 Locust workers) and on hand-made records."""
import json
from pathlib import Path

import pytest

from ops.bench import plots, report
from ops.bench.cpu import difference, sample_from
from ops.bench.stats import buckets, csv_percentiles, describe, highest_sustainable, stage_figures, windows
from ops.bench.summary import completeness, goals, ratio, run_summary, side_summary
from ops.load.audit import audit_inputs
from ops.load.options import LoadOptions
from ops.load.records import Record, read_dir
from ops.load.runner import LoadResult, LoadRun

RUN = Path(__file__).resolve().parent / "fixtures" / "bench" / "run"
RUN_ID = "20261129T101650Z"
T = 1_000_000.0


def rec(t0, t1, ok=True, retries=0, cause=None, kind="browser"):
    return Record(run="r", kind=kind, t0=T + t0, t1=T + t1, ok=ok, code="C" if ok else None, email=f"e{t0}",
                  cause=cause, step=None if ok else "cart/add", retries=retries)


@pytest.fixture(scope="module")
def recorded():
    records = read_dir(RUN / "records", RUN_ID)
    log = json.loads((RUN / "records" / "stages.json").read_text())
    cpu = {k: sample_from(v) for k, v in json.loads((RUN / "cpu.json").read_text()).items()}
    run = LoadRun(host="http://127.0.0.1:8080", out_dir=RUN, run_time_s=95, options=LoadOptions(run_id=RUN_ID),
                  workers=2, netns="pxlab-net")
    result = LoadResult(run, exit_codes={"master": 0, "worker-1": 0, "worker-2": 0},
                        cpu_s={"master": 1.2, "worker-1": 1.9, "worker-2": 1.98}, wall_s=96.0)
    audit = audit_inputs(records, json.loads((RUN / "audit-input.json").read_text()), RUN_ID)
    doc = json.loads((RUN / "table.json").read_text())
    side = side_summary("ha", "pretix", doc, log, records, (RUN / "locust_stats.csv").read_text(), result,
                        difference(cpu["idle_start"], cpu["idle_end"], "pretix"),
                        difference(cpu["run_start"], cpu["run_end"], "pretix"), audit)
    return {"records": records, "log": log, "side": side}


def test_stages_from_the_records(recorded):
    stages = recorded["side"]["stages"]
    assert [(s["name"], s["users"], s["attempts"], s["failed"]) for s in stages] == [
        ("1x peak", 8, 18, 0), ("2x peak", 14, 29, 0)]
    one, two = stages
    assert (one["per_min"], one["p95_s"], one["sustainable"]) == (26.84, 3.77, True)
    assert two["p95_s"] > 5 and not two["sustainable"]
    assert recorded["side"]["highest_sustainable"] == {"stage": "1x peak", "per_min": 26.84, "p95_s": 3.77}
    assert recorded["side"]["complete"] and recorded["side"]["incomplete"] is None


def test_records_count_purchases_the_final_csv_misses(recorded):
    side = recorded["side"]
    assert side["whole"]["completed"] == 47
    assert side["steps"]["PURCHASE browser purchase"]["count"] == 36      # Locust stopped counting earlier
    assert side["steps"]["STEP cart/add"]["p95_ms"] > side["steps"]["STEP cart/add"]["p50_ms"]


def test_orders_verified_and_cpu_per_purchase(recorded):
    side = recorded["side"]
    assert side["orders"]["verified"] and side["orders"]["confirmed"] == side["orders"]["new_orders_in_api"] == 47
    cpu = side["cpu"]
    assert cpu["run"]["by_service"]["web"] > cpu["run"]["by_service"]["nginx"] > 0
    assert cpu["net_per_purchase_total"] == pytest.approx(0.7539, abs=1e-3)
    assert cpu["per_purchase_total"] > cpu["net_per_purchase_total"]
    assert side["generator"]["cpu_s"] == 5.08 and side["generator"]["cpu_s_per_purchase"] == pytest.approx(0.1081)


def test_report_and_plots_of_a_run_with_a_baseline(recorded, tmp_path):
    ha = recorded["side"]
    base = json.loads(json.dumps(ha))
    base["side"], base["stack"] = "baseline", "baseline"
    base["highest_sustainable"]["per_min"] = 30.0
    meta = {"started": "20261129T101638Z", "cluster": "lab", "mode": "peaks", "scenario_lines": ["s1", "s2"],
            "pacing_s": 15.0, "looker_ratio": 0.2, "notes": ["a note"]}
    summary = run_summary(meta, ha, base, cores_per_node=4, ceiling=0.7)
    assert summary["ratio"]["value"] == pytest.approx(26.84 / 30.0, abs=1e-3)
    assert summary["ratio"]["by_stage"] == {"1x peak": 1.0, "2x peak": 1.0}
    assert [g["ok"] for g in summary["goals"]] == [False, False, True]
    text = report.render(summary)
    for needle in ("## Goals", "| CPU seconds per browser purchase", "**MISSED**", "800 purchases/min:",
                   "## HA / baseline", f"**{summary['ratio']['value']:.2f}** (highest", "## baseline (stack `baseline`", "| 1x peak | 8 | 20.8 | 26.8 |",
                   "| STEP cart/add |", "Orders: verified: 47 confirmed", "- a note", "![CPU per service](cpu.png)"):
        assert needle in text, needle
    sides = {"ha": (recorded["records"], windows(recorded["log"], recorded["records"]))}
    for path in (plots.timeline_plot(sides, tmp_path / "t.png", "test"),
                 plots.cpu_plot({"ha": ha["cpu"], "baseline": base["cpu"]}, tmp_path / "c.png")):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_busy_machine_is_a_loud_warning(recorded):
    ha = {**recorded["side"], "machine": {"cores": 2, "load_before": 18.1, "load_after": 21.7}}
    meta = {"started": "s", "cluster": "lab", "mode": "peaks", "scenario_lines": [], "pacing_s": 15.0,
            "looker_ratio": 0.2}
    text = report.render(run_summary(meta, ha, None, 4, 0.7))
    assert "**Warning: this machine was busy with other work** (load average on 2 cores: ha 18.1 before" in text
    assert "This machine: 2 cores, load average 18.1 before the load, 21.7 after." in text
    quiet = {**ha, "machine": {"cores": 2, "load_before": 1.5, "load_after": 2.5}}
    assert "Warning" not in report.render(run_summary(meta, quiet, None, 4, 0.7))


def test_describe_failures_retries_and_rate():
    rs = [rec(0, 2), rec(1, 4, retries=2), rec(2, 9, ok=False, cause="timeout"), rec(50, 52), rec(70, 71)]
    f = describe(rs, T, T + 60)
    assert (f["attempts"], f["completed"], f["failed"], f["retries"]) == (4, 3, 1, 2)
    assert f["failure_rate"] == 0.25 and f["causes"] == {"timeout": 1}
    assert f["per_min"] == 3.0 and f["p50_s"] == 2.0 and f["p99_s"] == 3.0


def test_open_last_stage_ends_at_the_last_record_and_api_records_are_left_out():
    log = {"stages": [{"name": "a", "start": T, "end": T + 30, "users": 2},
                      {"name": "b", "start": T + 30, "end": None, "users": 4}]}
    rs = [rec(i, i + 1) for i in range(0, 50, 2)] + [rec(5, 6, kind="api")]
    stages = stage_figures(rs, log)
    assert [(s["name"], s["end"] - T, s["attempts"]) for s in stages] == [("a", 30, 15), ("b", 49, 10)]
    assert all(s["sustainable"] for s in stages)
    assert highest_sustainable(stages)["name"] == "a"
    assert highest_sustainable([{**s, "sustainable": False} for s in stages]) is None


def test_too_few_purchases_say_nothing_and_slow_ones_are_not_sustained():
    log = {"stages": [{"name": "a", "start": T, "end": T + 60}]}
    assert stage_figures([rec(0, 1)], log)[0]["sustainable"] is None
    assert stage_figures([rec(i, i + 6) for i in range(10)], log)[0]["sustainable"] is False
    assert stage_figures([rec(i, i + 1, ok=i != 0) for i in range(10)], log)[0]["sustainable"] is False


def test_buckets_per_ten_seconds():
    rows = buckets([rec(0, 2), rec(1, 4), rec(3, 12, ok=False), rec(11, 14)], T)
    assert [(b["t"], b["per_min"], b["failed"]) for b in rows] == [(5.0, 12.0, 0), (15.0, 6.0, 1)]


def test_ratio_falls_back_to_whole_runs_and_goals_say_not_measured():
    ha = {"highest_sustainable": None, "whole": {"per_min": 9.0}, "stages": [],
          "cpu": {"net_per_purchase_total": 0.5}}
    base = {"highest_sustainable": {"per_min": 20.0}, "whole": {"per_min": 10.0}, "stages": []}
    assert ratio(ha, base)["value"] == 0.9 and ratio(ha, base)["basis"] == "whole run"
    assert ratio(ha, None) is None
    assert [g["ok"] for g in goals(ha, None)] == [True, None, None]


def test_csv_percentiles_keep_purchases_and_steps_only():
    text = ("Type,Name,Request Count,Failure Count,50%,95%,99%\nGET,event page,5,0,10,20,30\n"
            "STEP,checkout,4,1,100,200,N/A\n")
    assert csv_percentiles(text) == {"STEP checkout": {"count": 4, "failures": 1, "p50_ms": 100.0,
                                                       "p95_ms": 200.0, "p99_ms": None}}


def test_a_run_whose_workers_went_missing_is_incomplete():
    """A real run on an overloaded machine: both Locust workers missed their heartbeats in the 2x stage and the
    master stopped the test (tests/fixtures/bench/early-stop)."""
    early = RUN.parent / "early-stop"
    doc, log = (json.loads((early / name).read_text()) for name in ("table.json", "stages.json"))
    c = completeness(doc, log, (early / "master.log").read_text())
    assert not c["complete"] and c["played"] == ["0.5x peak", "1x peak", "2x peak"]
    assert c["incomplete"].startswith("the load stopped early (the run ended (--run-time or stop)) after 3 of 4 "
                                      "stages: ")
    assert c["incomplete"].endswith("The last worker went missing, stopping test.")
    assert len(c["generator_log"]) == 4


@pytest.mark.parametrize("stop, stopped, complete", [
    (None, "the table ended", True),
    (None, "--run-time reached", False),
    ({"p95_ms": 5000}, "p95 of browser purchase 6.1 s > 5 s (12 purchases)", True),
    ({"p95_ms": 5000}, "the run ended (--run-time or stop)", False),
    (None, None, False),
])
def test_completeness_of_tables_and_ramps(stop, stopped, complete):
    doc = {"stages": [{"name": "a"}], "stop": stop}
    assert completeness(doc, {"stages": [{"name": "a"}], "stopped": stopped})["complete"] is complete
