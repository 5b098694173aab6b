"""The capacity model: cores per service and nodes for a rate, pretix's per-event lock, worked examples."""
import math

import pytest

from ops.bench.capacity import lock_cap, model, project, rate_on

CPU = {"web": 0.3, "worker": 0.15, "pg1": 0.05}          # CPU s per purchase
IDLE = {"pg1": 0.1, "etcd1": 0.05}                        # idle cores


def test_project_worked_example():
    need = project(800, CPU, IDLE, cores_per_node=4, ceiling=0.7)
    # web: 800/60 x 0.3 = 4.0 cores / 0.7; pg1: (0.1 + 800/60 x 0.05) / 0.7; etcd1: 0.05 / 0.7
    assert need.cores_by_service["web"] == pytest.approx(4.0 / 0.7, abs=1e-3)
    assert need.cores_by_service["pg1"] == pytest.approx((0.1 + 800 / 60 * 0.05) / 0.7, abs=1e-3)
    assert need.cores_by_service["etcd1"] == pytest.approx(0.05 / 0.7, abs=1e-3)
    assert need.cores == pytest.approx((0.15 + 800 / 60 * 0.5) / 0.7, abs=0.01)
    assert need.nodes == math.ceil(need.cores / 4) + 1
    assert "500/min" in need.capped


def test_lock_cap_thresholds():
    assert lock_cap(500) is None
    assert "quota locking" in lock_cap(800)
    assert "several events" in lock_cap(1600)
    assert "unlimited quota" in lock_cap(1500)


def test_rate_on_inverts_project():
    cores = project(300, {"all": 0.6}, {"all": 0.5}, ceiling=0.7).cores
    assert rate_on(cores, 0.6, 0.5, ceiling=0.7) == pytest.approx(300, rel=1e-3)
    assert rate_on(1, 0.6, 2.0) == 0.0
    assert rate_on(1, 0.0) == math.inf


def test_bad_inputs():
    with pytest.raises(ValueError):
        project(100, CPU, ceiling=0)
    with pytest.raises(ValueError):
        project(100, CPU, cores_per_node=0)


def test_model_summary_shape():
    m = model(CPU, IDLE, cores_per_node=8, ceiling=0.7)
    assert [t["rate_per_min"] for t in m["targets"]] == [800, 1500]
    assert m["per_node_per_min"] == pytest.approx(8 * 0.7 * 60 / 0.5, rel=1e-3)
    assert m["targets"][1]["nodes"] > m["targets"][0]["nodes"]
    assert m["targets"][0]["line"].startswith("800 purchases/min: ")
