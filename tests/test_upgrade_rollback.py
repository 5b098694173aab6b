"""Upgrade and rollback decisions, pure: version tags and build arguments, migrations (parsed, new), whether the
rollout serves, the deploy history, the rollback target and its verdict."""
import json

import pytest

from ops.builders import pretix as P
from ops.cluster import history as H, images, upgrade as U
from ops.core.errors import OpsError
from ops.facts.pretix import new_migrations, parse_migrations
from ops.facts.rollout import not_rolled
from ops.facts.stack import ServiceRow, TaskRow

BASE = ["pretixbase.0001_initial", "pretixbase.0002_x", "sessions.0001_initial"]


def test_version_tags_suffix_pretix_and_what_is_built_from_it():
    tags = U.version_tags("2026.7.2")
    content = images.content_tags(["pretix", "nginx"])
    assert tags == {"pretix": content["pretix"] + "-pretix2026.7.2", "nginx": content["nginx"] + "-pretix2026.7.2"}


@pytest.mark.parametrize("bad", ["latest", "2026.8", "1.0; rm -rf /", "v2026.8.0", ""])
def test_version_must_be_a_release_number(bad):
    if bad == "2026.8":
        assert U.version_tags(bad)      # two parts are a release number too
        return
    with pytest.raises(OpsError, match="is not a release number"):
        U.version_tags(bad)


def test_a_version_tag_passes_the_build_argument_to_the_image_that_declares_it():
    assert images.version_args("pretix", "c0123-pretix2026.7.2") == ["--build-arg", "PRETIX_VERSION=2026.7.2"]
    assert images.version_args("nginx", "c0123-pretix2026.7.2") == []
    assert images.version_args("pretix", "c0123456789ab") == []


def test_migrations_parsed_from_psql_or_a_probe_line():
    assert parse_migrations("sessions.0001_initial\npretixbase.0002_x\npretixbase.0001_initial\n") == BASE
    assert parse_migrations("pretixbase.0001_initial pretixbase.0002_x sessions.0001_initial ") == BASE
    assert parse_migrations('psql: error: FATAL:  database "pretix" does not exist') is None
    assert parse_migrations("") is None
    assert new_migrations(BASE + ["pretixbase.0003_y"], BASE) == ["pretixbase.0003_y"]


def test_image_migrations_runs_offline_on_a_scratch_config():
    cmd = P.image_migrations("r:5000/pretix-cluster/pretix:t")
    assert cmd.startswith("docker run --rm --network none --entrypoint sh r:5000/pretix-cluster/pretix:t -c ")
    assert "backend=sqlite3" in cmd and "MigrationLoader(None, ignore_no_migrations=True)" in cmd


def test_guard_refuses_an_image_older_than_the_schema():
    U.guard_schema("r/pretix:new", BASE, BASE + ["pretixbase.0003_y"])
    with pytest.raises(OpsError, match=r"pretix:old is older than the database: it does not know 1 applied"):
        U.guard_schema("r/pretix-cluster/pretix:old", BASE + ["pretixbase.0003_y"], BASE)


def svc(name, desired):
    return ServiceRow(f"pretix_{name}", "replicated", desired, desired, "img")


def tk(name, image, state="Running 3 seconds ago", desired="Running"):
    return TaskRow(f"pretix_{name}.1", "n1", desired, state, "", image)


def test_not_rolled_until_migrate_completed_and_only_new_web_and_worker_run():
    services = [svc("migrate", 1), svc("web", 2), svc("worker", 1)]
    want = {"migrate": "r/p:new", "web": "r/p:new", "worker": "r/p:new"}
    tasks = [tk("migrate", "r/p:new", "Running 2 seconds ago"), tk("web", "r/p:old"), tk("web", "r/p:new"),
             tk("worker", "r/p:new@sha256:abc")]
    assert not_rolled(services, tasks, "pretix", want) == ["migrate: not completed on the new image",
                                                           "web: 1/2 on the new image, 1 old still running"]
    tasks = [tk("migrate", "r/p:new", "Complete 1 second ago", "Shutdown"),
             tk("web", "r/p:old", "Shutdown", "Shutdown"), tk("web", "r/p:new"), tk("web", "r/p:new"), tk("worker", "r/p:new")]
    assert not_rolled(services, tasks, "pretix", want) == []


def entry(i, kind, tags, before=None, after=None, **kw):
    return {"id": i, "kind": kind, "tags": tags, "time": f"T{i}", "started": f"S{i}", "migrations_before": before,
            "migrations_after": after, **kw}


A, B, C = {"pretix": "a"}, {"pretix": "b"}, {"pretix": "c"}


def test_rollback_goes_back_one_deploy_then_further_never_forth():
    hist = [entry("1", "deploy", A, [], BASE), entry("2", "upgrade", B, BASE, BASE)]
    plan = H.rollback_target(hist, B)
    assert (plan.current["id"], plan.target["id"]) == ("2", "1")
    hist.append(entry("3", "rollback", A, BASE, BASE))
    with pytest.raises(OpsError, match="no earlier deploy with other images"):
        H.rollback_target(hist, A)
    hist += [entry("4", "deploy", B, BASE, BASE), entry("5", "upgrade", C, BASE, BASE), entry("6", "rollback", B)]
    assert [e["id"] for e in H.effective(hist)] == ["1", "4"]
    assert H.rollback_target(hist, B).target["id"] == "1"


def test_rollback_target_needs_a_history_ending_with_what_runs():
    with pytest.raises(OpsError, match="does not end with the images deployed now"):
        H.rollback_target([entry("1", "deploy", A)], B)
    with pytest.raises(OpsError, match="does not end with the images deployed now"):
        H.rollback_target([], A)


def test_refusal_when_migrations_ran_names_the_restore():
    plan = H.Rollback(entry("2", "upgrade", B, BASE, BASE + ["pretixbase.0003_y"], backup="20261129-1"),
                      entry("1", "deploy", A, [], BASE))
    assert H.refusal(plan, BASE) is None
    assert H.refusal(plan, BASE + ["pretixbase.0003_y"]) == (
        "rollback refused: 1 migration(s) ran since the images of T1 (pretixbase.0003_y); their code cannot run on "
        "the migrated schema. Restore the backup taken before the upgrade instead: `inv restore --set 20261129-1`")
    no_backup = H.Rollback(entry("2", "deploy", B, BASE, BASE), entry("1", "deploy", A, [], None))
    assert H.refusal(no_backup, BASE) is None                      # the current deploy's "before" is the baseline
    assert "`inv restore --time S2`" in H.refusal(no_backup, BASE + ["x.0001_y"])
    unknown = H.Rollback(entry("2", "deploy", B), entry("1", "deploy", A))
    assert H.refusal(unknown, BASE).startswith("rollback refused: cannot tell which migrations ran since T1")


def test_record_appends_and_sets_the_current_images(tmp_path):
    H.record(tmp_path, "deploy", A, 0.0, None, BASE)
    H.record(tmp_path, "upgrade", B, 0.0, BASE, BASE, version="2026.8.0")
    (tmp_path / H.HISTORY).write_text((tmp_path / H.HISTORY).read_text() + '{"torn')
    assert [e["kind"] for e in H.load(tmp_path)] == ["deploy", "upgrade"]
    assert H.load(tmp_path)[1]["version"] == "2026.8.0"
    assert H.deployed(tmp_path) == B == json.loads((tmp_path / "deployed_tags.json").read_text())
