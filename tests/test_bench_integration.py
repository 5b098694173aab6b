"""`inv bench` against the deployed lab stack: one short stage, few users; its orders verified, its files there."""
import json
import re
from pathlib import Path

import pytest

from tests.labs import PROJECT, STACK_LAB, inv

pytestmark = pytest.mark.integration
FILES = ("summary.json", "report.md", "timeline.png", "cpu.png", "ha/locust_stats.csv", "ha/report.html")


def sinv(*args, **kw):
    return inv(*args, lab=STACK_LAB, **kw)


def test_short_bench_verifies_its_orders_and_writes_the_report(seeded):
    # 1x the peak of a 2,000-ticket sale (4.2/min): 2 buyers at 15 s pacing, no lookers, 40 s
    p = sinv("bench", "--factors", "1", "--duration", "40", "--idle", "5", "--tickets", "2000",
             "--looker-ratio", "0", "--workers", "1", timeout=180)
    out = Path(re.search(r"report: (\S+)/report\.md", p.stdout).group(1))
    assert out.parent == PROJECT / "results" / "bench"
    for name in FILES:
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    orders = summary["ha"]["orders"]
    assert summary["verified"] and orders["verified"] and orders["confirmed"] > 0
    assert orders["confirmed"] == orders["new_orders_in_api"]
    assert "orders verified" in p.stdout
    assert summary["ha"]["cpu"]["run"]["by_service"]["web"] > 0
    assert summary["ha"]["generator"]["cpu_s"] > 0
    assert "## Goals" in (out / "report.md").read_text()
