"""The baseline stack: its deploy environment (pure), its compose file, the standalone modes of the images; the
bench plan from the task's flags."""
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ops.bench import baseline as B
from ops.bench.measure import BenchPlan, table_for
from ops.core.errors import OpsError
from ops.load.scenario import Scenario
from ops.tasks.bench import FLAGS, bench, plan_from

ROOT = Path(__file__).resolve().parent.parent
TAGS = {"postgres": "p1", "redis": "r1", "pretix": "x1", "nginx": "n1", "mailsink": "m1", "etcd": "e1"}
NAMES = {"pg_pretix_password": "pxc_pg_pretix_password_1", "redis_password": "pxc_redis_password_2",
         "pretix_cfg": "pxc_pretix_cfg_3", "django_secret": "pxc_django_secret_4"}


def test_stack_env_whole():
    assert B.stack_env("10.77.0.11:5000/", TAGS, NAMES, "node-id-1") == {
        "REGISTRY": "10.77.0.11:5000", "BASELINE_NODE_ID": "node-id-1",
        "TAG_POSTGRES": "p1", "TAG_REDIS": "r1", "TAG_PRETIX": "x1", "TAG_NGINX": "n1", "TAG_MAILSINK": "m1",
        "SECRET_PG_PRETIX_PASSWORD": "pxc_pg_pretix_password_1", "SECRET_REDIS_PASSWORD": "pxc_redis_password_2",
        "SECRET_PRETIX_CFG": "pxc_pretix_cfg_3"}


def test_stack_env_names_what_is_missing():
    with pytest.raises(ValueError, match="pretix, redis_password"):
        B.stack_env("r", {**TAGS, "pretix": ""}, {**NAMES, "redis_password": None}, "n")


def test_deployed_tags_needs_a_deploy(tmp_path):
    with pytest.raises(OpsError, match="inv deploy"):
        B.deployed_tags(tmp_path)
    (tmp_path / "deployed_tags.json").write_text('{"pretix": "x1"}')
    assert B.deployed_tags(tmp_path) == {"pretix": "x1"}


def test_compose_file_is_one_node_and_uses_every_variable():
    doc = yaml.safe_load(B.STACK_FILE.read_text())
    assert set(doc["services"]) == {"db", "redis", "web", "nginx", "mail"}
    for name, svc in doc["services"].items():
        assert svc["deploy"]["placement"]["constraints"][0].startswith("node.id == ${BASELINE_NODE_ID"), name
        assert svc["image"].split("/pretix-cluster/")[1].split(":")[0] in B.IMAGES
    assert doc["services"]["web"]["command"] == ["standalone"]
    assert doc["services"]["db"]["environment"]["PG_MODE"] == "standalone"
    assert doc["services"]["redis"]["environment"]["REDIS_ROLE"] == "standalone"
    assert doc["services"]["db"]["networks"]["app"]["aliases"] == ["pg-proxy"]
    assert doc["services"]["redis"]["networks"]["app"]["aliases"] == ["redis-proxy"]
    assert set(doc["secrets"]) == set(B.SECRETS)


@pytest.mark.parametrize("script, mode", [("pretix/pretix-entrypoint.sh", "standalone)"),
                                          ("redis/redis-entrypoint.sh", '"${REDIS_ROLE:-}" = standalone'),
                                          ("postgres/pg-entrypoint.sh", '"${PG_MODE:-patroni}" = standalone')])
def test_images_have_the_standalone_modes(script, mode):
    assert mode in (ROOT / "images" / script).read_text()


def test_plan_from_flags_and_its_table():
    p = plan_from("peaks", "40", "1,2", 2000, 7, 0.25, 2, 15, 0, 5, 1)
    assert p == BenchPlan(mode="peaks", scenario=Scenario(2000, 7.0, 0.25, 2.0), pacing_s=15.0, looker_ratio=0.0,
                          stage_s=40, factors=(1.0, 2.0), idle_s=5.0, workers=1)
    doc = table_for(p)
    assert [(s["name"], s["duration_s"], s["buyers"], s["users"]) for s in doc["stages"]] == [
        ("1x peak", 40, 2, 2), ("2x peak", 40, 3, 3)]
    assert doc["stop"] is None and doc["pacing_s"] == 15.0


def test_ramp_plan_is_bounded_and_stops():
    doc = table_for(plan_from("ramp", None, "1", 10000, 7, 0.25, 2, 15, 0.2, 30, 2))
    assert [s["duration_s"] for s in doc["stages"]] == [60] * 10
    assert doc["stop"]["p95_ms"] == 5000 and doc["stop"]["fail_ratio"] == 0.01


@pytest.mark.parametrize("args, message", [
    (("walk", None, "1"), "mode 'walk'"),
    (("peaks", None, "1", 0), "tickets and days must be positive"),
    (("peaks", "-5", "1"), "duration"),
])
def test_bad_flags_are_one_clear_error(args, message):
    defaults = ("peaks", None, "1", 10000, 7, 0.25, 2, 15, 0.2, 30, 1)
    with pytest.raises(OpsError, match=message):
        plan_from(*args, *defaults[len(args):])


def test_every_flag_has_help():
    assert set(bench.help) == set(FLAGS)
    params = bench.body.__wrapped__.__code__.co_varnames[1:bench.body.__wrapped__.__code__.co_argcount]
    assert set(params) == set(FLAGS)


@dataclass(frozen=True)
class FakeCluster:
    name: str = "lab"
    stack: str = "pretix"


def test_restore_runs_both_steps_and_names_the_first_failure(monkeypatch):
    done = []
    monkeypatch.setattr(B.D, "remove_stack", lambda *a, **k: done.append("rm"))
    monkeypatch.setattr(B, "wait_gone", lambda *a, **k: done.append("gone"))

    def redeploy():
        done.append("deploy")
        raise OpsError("images missing in registry")

    with pytest.raises(OpsError) as err:
        B.restore(None, None, FakeCluster(), redeploy, RuntimeError("the API answered 502"), show=lambda _: None)
    assert done == ["rm", "gone", "deploy"]
    assert str(err.value) == ("the bench failed first (the API answered 502); then could not deploy the HA stack "
                              "pretix again (`inv deploy`): images missing in registry -- the HA stack may be down: "
                              "`inv build`, `inv deploy`")


def test_restore_after_success_is_silent_and_a_failed_removal_still_redeploys(monkeypatch):
    done = []
    monkeypatch.setattr(B, "wait_gone", lambda *a, **k: None)
    monkeypatch.setattr(B.D, "remove_stack", lambda *a, **k: done.append("rm"))
    B.restore(None, None, FakeCluster(), lambda: done.append("deploy"), None, show=lambda _: None)
    assert done == ["rm", "deploy"]

    def broken(*a, **k):
        raise OpsError("no manager answers")
    monkeypatch.setattr(B.D, "remove_stack", broken)
    with pytest.raises(OpsError, match="^could not remove stack baseline and its volumes: no manager answers -- "):
        B.restore(None, None, FakeCluster(), lambda: done.append("deploy"), None, show=lambda _: None)
    assert done == ["rm", "deploy", "deploy"]


def test_the_audit_asks_again_while_the_api_fails(monkeypatch, tmp_path):
    from ops.bench import measure as M
    from ops.core.errors import ApiError
    from ops.core.retry import poll
    from ops.load.options import LoadOptions

    answers = [ApiError("API GET orders/: ReadTimeout\nmore"), ApiError("API GET orders/ -> HTTP 502: x"), {"orders": []}]

    def fetch(*_a):
        a = answers.pop(0)
        if isinstance(a, Exception):
            raise a
        return a

    monkeypatch.setattr(M, "fetch_inputs", fetch)
    monkeypatch.setattr(M, "poll", lambda check, timeout, **kw: poll(check, timeout, sleep=lambda _: None, **kw))
    assert M.audit_input(None, LoadOptions(), 0.0, {}, tmp_path) == {"orders": []}
    answers[:] = [ApiError("API GET orders/: ConnectionError")] * 100
    monkeypatch.setattr(M, "poll", lambda check, timeout, **kw: check())
    with pytest.raises(OpsError, match=r"cannot verify the orders: the REST API still fails after 180 s \(API GET "
                                       r"orders/: ConnectionError\); the purchase records are kept in "):
        M.audit_input(None, LoadOptions(), 0.0, {}, tmp_path)
