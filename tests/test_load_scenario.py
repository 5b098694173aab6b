"""The sale scenario's rates and the stages tables (whole tables compared), all bounded in time."""
import pytest

from ops.load import scenario as S


def test_default_scenario_rates():
    scn = S.Scenario()
    assert scn.average_per_min == pytest.approx(10_000 / (7 * 24 * 60))      # 0.99/min
    assert scn.peak_per_min == pytest.approx(2500 / 120)                     # 20.8/min
    assert S.Scenario().lines() == [
        "scenario: 10000 tickets in 7 days, 25% of them in the last 2 h",
        "average 0.99 purchases/min, peak 20.8 purchases/min (21x the average)"]


@pytest.mark.parametrize("kw", [dict(tickets=0), dict(days=0), dict(peak_share=0), dict(peak_share=1.5),
                                dict(peak_hours=0), dict(days=1, peak_hours=25)])
def test_scenario_rejects_nonsense(kw):
    with pytest.raises(ValueError):
        S.Scenario(**kw)


@pytest.mark.parametrize("rate, pacing, want", [
    (0.1, 15, 1), (4, 15, 1), (4.01, 15, 2), (20.8, 15, 6), (60, 15, 15), (208.3, 15, 53), (100, 60, 100),
])
def test_users_for(rate, pacing, want):
    assert S.users_for(rate, pacing) == want


def test_peak_stages_whole_table():
    assert S.peak_stages() == [
        {"name": "0.5x peak", "duration_s": 120, "rate_per_min": 10.42, "buyers": 3, "users": 4,
         "offered_per_min": 12.0, "spawn_rate": 1.0},
        {"name": "1x peak", "duration_s": 120, "rate_per_min": 20.83, "buyers": 6, "users": 8,
         "offered_per_min": 24.0, "spawn_rate": 1.0},
        {"name": "2x peak", "duration_s": 120, "rate_per_min": 41.67, "buyers": 11, "users": 14,
         "offered_per_min": 44.0, "spawn_rate": 1.4},
        {"name": "10x peak", "duration_s": 120, "rate_per_min": 208.33, "buyers": 53, "users": 67,
         "offered_per_min": 212.0, "spawn_rate": 6.7},
    ]
    assert S.total_seconds(S.peak_stages()) == 480


@pytest.mark.parametrize("looker_ratio, want_users", [(0.0, 6), (0.2, 8), (0.5, 12)])
def test_lookers_are_added_on_top_of_the_buyers(looker_ratio, want_users):
    st = S.stage("x", 60, 20.8, pacing_s=15, looker_ratio=looker_ratio)
    assert (st["buyers"], st["users"]) == (6, want_users)


def test_ramp_grows_and_is_bounded():
    stages = S.ramp_stages(10, pacing_s=15, looker_ratio=0, factor=2, stage_s=60, max_stages=5)
    assert [(s["name"], s["rate_per_min"], s["buyers"]) for s in stages] == [
        ("ramp 1", 10, 3), ("ramp 2", 20, 5), ("ramp 3", 40, 10), ("ramp 4", 80, 20), ("ramp 5", 160, 40)]
    assert len(S.ramp_stages(10, stage_s=60, max_stages=50, max_total_s=300)) == 5     # time bounds the count


def test_ramp_table_has_the_stop_conditions():
    doc = S.ramp_table()
    assert doc["name"] == "ramp" and doc["stop"] == {"name": "browser purchase", "p95_ms": 5000,
                                                     "fail_ratio": 0.01, "min_samples": 10}
    assert len(doc["stages"]) == 10 and S.total_seconds(doc["stages"]) == 600
    assert doc["stages"][0]["rate_per_min"] == pytest.approx(S.Scenario().peak_per_min / 2, abs=0.01)
    assert S.peaks_table()["stop"] is None


@pytest.mark.parametrize("call", [
    lambda: S.bounded([]),
    lambda: S.bounded([S.stage("a", 3000, 10), S.stage("b", 3000, 10)]),
    lambda: S.stage("a", 0, 10),
    lambda: S.stage("a", 10, 0),
    lambda: S.ramp_stages(10, factor=1.0),
    lambda: S.peak_stages(stage_s=1000),          # 4 x 1000 s > the hour's bound
])
def test_tables_are_bounded_and_valid(call):
    with pytest.raises(ValueError):
        call()


def test_stage_lines():
    lines = S.stage_lines(S.peak_stages())
    assert lines[0].split() == ["stage", "s", "rate/min", "offered", "buyers", "users", "spawn/s"]
    assert lines[-1] == "total 480 s"
    assert lines[2].split() == ["1x", "peak", "120", "20.8", "24.0", "6", "8", "1.0"]
