"""Short drills on the 3-node lab stack: a killed database leader and a partitioned node, under purchase load.
The goals (seconds) are figures the drills report; the test asserts what must hold every time: no confirmed
order lost, the audit agrees, one PostgreSQL leader with its replicas afterwards."""
import json
import re

import pytest

from tests.labs import PROJECT, STACK_LAB, inv

pytestmark = pytest.mark.integration
RESULTS = PROJECT / "results" / "drills"


def drill(name, *flags):
    before = set(RESULTS.glob(f"*-{name}.json"))
    p = inv(f"drill.{name}", "--buyers", "3", "--fault-at", "15", "--after", "40", *flags, lab=STACK_LAB,
            check=False, timeout=900)
    new = sorted(set(RESULTS.glob(f"*-{name}.json")) - before)
    assert new, f"drill.{name} wrote no result file\n{p.stdout[-3000:]}\n{p.stderr[-2000:]}"
    return json.loads(new[-1].read_text()), p


def assert_nothing_lost_and_one_leader(result, p):
    s = result["summary"]
    assert s["lost"] == [], f"LOST confirmed orders: {s['lost']}\n{p.stdout[-3000:]}"
    assert s["audit_ok"], "\n".join(s["audit"])
    assert s["purchases"]["completed"] > 0
    status = inv("status", lab=STACK_LAB).stdout
    assert len(re.findall(r"postgres: leader pg\d", status)) == 1, status
    assert "DEGRADED" not in status and "converged: yes" in status, status


def test_db_leader_killed_under_load(seeded):
    result, p = drill("db")
    assert result["target"].startswith("pg")
    assert_nothing_lost_and_one_leader(result, p)


def test_node_partitioned_under_load(seeded):
    result, p = drill("partition", "--seconds", "20")
    assert result["returned"] - result["fault_at"] >= 20
    assert_nothing_lost_and_one_leader(result, p)
