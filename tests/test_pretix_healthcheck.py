"""The health checks of the worker (ready within one interval, a costly ping once a minute, unhealthy after 3 minutes
without an answered ping) and of cron (images/pretix/pretix-healthcheck.py)."""
import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "images" / "pretix" / "pretix-healthcheck.py"
spec = importlib.util.spec_from_file_location("pretix_healthcheck", SCRIPT)
hc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hc)

T = 1_000_000.0


def test_no_ready_file_is_not_ready():
    assert hc.worker_step(T, None, None, None) == "not ready"


def test_a_fresh_worker_pings_once_then_reads_stamps():
    assert hc.worker_step(T, T - 2, None, None) == "ping"
    assert hc.worker_step(T + 5, T - 2, T, T) == "ok"
    assert hc.worker_step(T + 59, T - 2, T, T) == "ok"
    assert hc.worker_step(T + 60, T - 2, T, T) == "ping"


def test_failed_pings_stay_healthy_for_three_minutes_then_not():
    # the last answered ping at T; failed tries every minute since
    assert hc.worker_step(T + 130, T - 2, T, T + 120) == "ok"
    assert hc.worker_step(T + 179, T - 2, T, T + 150) == "ok"
    assert hc.worker_step(T + 181, T - 2, T, T + 150) == "stale"


def test_never_answered_counts_from_the_ready_signal():
    assert hc.worker_step(T + 100, T, None, T + 90) == "ok"
    assert hc.worker_step(T + 200, T, None, T + 190) == "stale"


def test_cron_is_healthy_until_two_rounds_and_two_minutes_pass_without_a_heartbeat():
    assert hc.cron_problem(T, None, 10) == "the cron loop has not written its heartbeat yet"
    assert hc.cron_problem(T + 139, T, 10) is None
    assert hc.cron_problem(T + 140, T, 10) == "no cron heartbeat for 140s"
