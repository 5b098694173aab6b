"""The dispatcher heartbeat decision: change it only when it differs, and say from what to what."""
from ops.cluster.swarm import HEARTBEAT_S, heartbeat_change


def test_docker_default_is_raised():
    assert heartbeat_change(5.0) == f"dispatcher heartbeat 5 s -> {HEARTBEAT_S} s"


def test_unknown_period_is_set():
    assert heartbeat_change(None) == f"dispatcher heartbeat -> {HEARTBEAT_S} s"


def test_wanted_period_is_left_alone():
    assert heartbeat_change(float(HEARTBEAT_S)) is None
    assert heartbeat_change(2.5, wanted=30) == "dispatcher heartbeat 2.5 s -> 30 s"
