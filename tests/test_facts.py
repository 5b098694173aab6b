"""Fact parsers, fed with output captured from real daemons (tests/fixtures)."""
from pathlib import Path

from ops.facts.docker import parse_docker_info, parse_docker_time, parse_node_ls

FIX = Path(__file__).parent / "fixtures"


def test_docker_info_of_a_manager():
    f = parse_docker_info((FIX / "docker_info_manager.json").read_text())
    assert (f.state, f.active, f.is_manager, f.managers, f.nodes) == ("active", True, True, 3, 3)
    assert f.node_address == "10.77.0.11"
    assert f.hostname == "pxlab-n1"
    assert f.cluster_id == "8btlpqcd11qftqwqgqciv8he9"
    assert f.server_version == "20.10.24+dfsg1"
    assert f.heartbeat_s == 5.0


def test_docker_info_outside_a_swarm():
    f = parse_docker_info((FIX / "docker_info_inactive.json").read_text())
    assert (f.state, f.active, f.is_manager, f.cluster_id, f.managers) == ("inactive", False, False, "", 0)
    assert f.heartbeat_s is None


def test_node_ls():
    rows = parse_node_ls((FIX / "node_ls.jsonl").read_text())
    assert [(r.hostname, r.status, r.manager_status, r.is_self) for r in rows] == [
        ("pxlab-n1", "Ready", "Reachable", True),
        ("pxlab-n2", "Ready", "Reachable", False),
        ("pxlab-n3", "Ready", "Leader", False),
    ]


def test_node_ls_empty_output():
    assert parse_node_ls("\n") == []


def test_docker_time_of_a_killed_container():
    # State.FinishedAt as `docker inspect` printed it on the lab (nanoseconds, UTC)
    assert parse_docker_time("2026-12-07T11:01:30.612345678Z\n") == 1796641290 + 0.612345678
    assert parse_docker_time("2026-12-07T12:01:30+01:00") == 1796641290
    assert parse_docker_time("0001-01-01T00:00:00Z") is None          # not finished yet
    assert parse_docker_time("") is None
