"""Stages tables as data (ops/load/stages.py), and the Locust shape playing them against a real Locust runner."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ops.load.stages import load_table, percentile, since, stage_at, stage_index, stop_reason

REPO = Path(__file__).resolve().parent.parent
STAGES = [{"name": "a", "duration_s": 10, "users": 2, "spawn_rate": 2},
          {"name": "b", "duration_s": 10, "users": 5, "spawn_rate": 5}]
STOP = {"name": "browser purchase", "p95_ms": 5000, "fail_ratio": 0.01, "min_samples": 10}


def test_load_table_forms(tmp_path):
    assert load_table("") is None and load_table("  ") is None
    assert load_table(json.dumps(STAGES)) == {"name": "stages", "stages": STAGES, "stop": None}
    doc = {"name": "ramp", "stages": STAGES, "stop": STOP}
    (tmp_path / "t.json").write_text(json.dumps(doc))
    assert load_table(str(tmp_path / "t.json")) == doc


@pytest.mark.parametrize("text", ["[]", '[{"name": "a"}]', '{"stages": [3]}', '{"name": "x"}'])
def test_load_table_rejects_incomplete_stages(text):
    with pytest.raises(ValueError, match="stage 1 needs"):
        load_table(text)


def test_load_table_rejects_an_unbounded_table():
    with pytest.raises(ValueError, match="more than the bound of 3600 s"):
        load_table(json.dumps([{**STAGES[0], "duration_s": 4000}]))


@pytest.mark.parametrize("t, want", [(0, 0), (9.99, 0), (10, 1), (19.9, 1), (20, None), (1e9, None)])
def test_stage_index(t, want):
    assert stage_index(STAGES, t) == want


@pytest.mark.parametrize("times, n, q, want", [
    ({}, 0, 0.95, 0),
    ({100: 10}, 10, 0.95, 100),
    ({100: 96, 9000: 4}, 100, 0.95, 100),
    ({100: 95, 9000: 5}, 100, 0.95, 9000),
    ({100: 1, 200: 1, 300: 1, 400: 1}, 4, 0.5, 300),
])
def test_percentile_matches_locusts_rule(times, n, q, want):
    assert percentile(times, n, q) == want


def snap(times, failures=0):
    return {"times": times, "requests": sum(times.values()), "failures": failures}


def test_since_is_the_stage_alone():
    before, now = snap({100: 10}), snap({100: 12, 8000: 3}, failures=1)
    assert since(now, before) == {"times": {100: 2, 8000: 3}, "requests": 5, "failures": 1}


@pytest.mark.parametrize("stage, want", [
    (snap({1000: 8, 9000: 1}), None),                               # under min_samples: no verdict yet
    (snap({1000: 20}), None),
    (snap({1000: 18, 6000: 2}), "p95 of browser purchase 6.0 s > 5 s (20 purchases)"),
    (snap({1000: 20}, failures=1), "5.0% of 20 purchases failed > 1%"),
    (snap({1000: 200}, failures=2), None),                          # exactly 1 %: not past it
])
def test_stop_reason(stage, want):
    assert stop_reason(stage, STOP) == want
    assert stop_reason(stage, None) is None


def test_stage_at():
    log = {"stages": [{"name": "a", "start": 100, "end": 110}, {"name": "b", "start": 110, "end": None}]}
    assert [stage_at(log, t) for t in (99, 100, 109.9, 110, 5000)] == [None, "a", "a", "b", "b"]


# The shape runs in a child Python: importing Locust monkey-patches the whole process (gevent), which the rest
# of the test session must not inherit.
SCRIPT = r"""
import json, sys, time
from locust.argument_parser import get_empty_argument_parser, setup_parser_arguments
from locust.env import Environment
from ops.load.options import add_arguments
from ops.load.shape import StagesShape
from ops.load.users import Buyer

parser = get_empty_argument_parser()
setup_parser_arguments(parser)
add_arguments(parser)
shape = StagesShape()
env = Environment(user_classes=[Buyer], shape_class=shape, parsed_options=parser.parse_args(sys.argv[2:]))
stats = env.create_local_runner().stats
shape.clock = lambda: 1000.0 + now[0]
now, out = [0.0], []
for step in json.loads(sys.argv[1]):           # [seconds into the run, [response ms, ...], failures]
    now[0] = step[0]
    for ms in step[1]:
        stats.log_request("PURCHASE", "browser purchase", ms, 0)
    for _ in range(step[2]):                   # a failed request is logged as both, as Locust does
        stats.log_request("PURCHASE", "browser purchase", 900, 0)
        stats.log_error("PURCHASE", "browser purchase", "http 500 at cart/add")
    shape.start_time = time.perf_counter() - step[0]
    out.append(shape.tick())
print(json.dumps(out))
"""


def play(tmp_path, steps, *args):
    """The shape's answers at each step, and the stages.json it wrote."""
    r = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(steps), "--records-dir", str(tmp_path), *args],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.splitlines()[-1]), json.loads((tmp_path / "stages.json").read_text())


def test_shape_plays_the_table_then_stops(tmp_path):
    table = json.dumps({"name": "t", "stages": STAGES, "stop": None})
    answers, log = play(tmp_path, [[0, [], 0], [9, [], 0], [10, [], 0], [20, [], 0]], "--stages", table,
                        "--run-id", "R1")
    assert answers == [[2, 2], [2, 2], [5, 5], None]
    assert log == {"run": "R1", "table": "t", "stopped": "the table ended", "stages": [
        {"name": "a", "start": 1000.0, "end": 1010.0, "users": 2, "rate_per_min": None},
        {"name": "b", "start": 1010.0, "end": 1020.0, "users": 5, "rate_per_min": None}]}


def test_ramp_stops_when_the_stage_gets_slow(tmp_path):
    table = json.dumps({"name": "ramp", "stages": STAGES, "stop": STOP})
    fast, slow = [900] * 12, [900] * 8 + [7000] * 4
    answers, log = play(tmp_path, [[0, [], 0], [9, fast, 0], [10, [], 0], [15, slow, 0]], "--stages", table)
    assert answers == [[2, 2], [2, 2], [5, 5], None]        # stage a's fast purchases do not count for b
    assert log["stopped"] == "p95 of browser purchase 7.0 s > 5 s (12 purchases)"
    assert [s["end"] for s in log["stages"]] == [1010.0, 1015.0]


def test_ramp_stops_on_failures(tmp_path):
    table = json.dumps({"name": "ramp", "stages": STAGES, "stop": STOP})
    answers, log = play(tmp_path, [[0, [], 0], [5, [900] * 20, 1]], "--stages", table)
    assert answers == [[2, 2], None]
    assert log["stopped"] == "4.8% of 21 purchases failed > 1%"


def test_without_a_table_it_is_constant_users_bounded_by_run_time(tmp_path):
    answers, log = play(tmp_path, [[0, [], 0], [29, [], 0], [30, [], 0]], "-u", "4", "-r", "2", "-t", "30s")
    assert answers == [[4, 2.0], [4, 2.0], None]
    assert log["table"] == "constant" and log["stopped"] == "--run-time reached"
