"""The fault's instant is when its destructive step starts, not when the drill began to look for the target."""
import time

from ops.drills.faults import FAULTS, PROXIES, ALL, Target, strike


def test_strike_notes_the_instant_before_the_action_runs():
    t = Target(remote=None, cl=None, mgr=None)
    seen = []
    before = time.time()
    assert strike(t, lambda: seen.append(time.time()) or "out") == "out"
    assert before <= t.struck_at <= seen[0] <= t.landed_at


def test_every_drill_has_a_fault_and_the_node_faults_heal():
    assert set(ALL) == set(FAULTS) and set(PROXIES) <= set(FAULTS)
    assert {n for n, f in FAULTS.items() if f.heal} == {"partition", "node"}
    assert all(FAULTS[n].lab_only for n in ("partition", "node"))
