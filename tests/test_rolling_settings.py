"""Rolling a data-tier member's changed settings: digests, the decision, the one-member stack file, the label fact."""
import yaml

from ops.builders import stack as S
from ops.cluster import rolling as R
from ops.facts import stack as FS

PG1 = {"image": "r:5000/pretix-cluster/postgres:c1", "hostname": "pg1",
       "healthcheck": {"test": ["CMD", "/usr/local/bin/pg-healthcheck"], "interval": "2s", "timeout": "5s"},
       "deploy": {"replicas": 1, "labels": {"pxc.spec": "old"}}, "networks": {"db": None},
       "environment": {"PG_NAME": "pg1", "X": "a$b"}}
FLAT = {"version": "3.8", "services": {"pg1": PG1, "web": {"image": "w"}},
        "networks": {"db": {"driver": "overlay"}}, "volumes": {"pg1_data": {}},
        "secrets": {"pg_rest_password": {"external": True, "name": "pxc_pg_rest_1"}}, "x-pg-env": {"A": 1}}


def with_(**changes):
    return {**PG1, **changes}


def test_the_digest_ignores_the_image_and_labels_but_not_a_setting():
    d = R.settings_digest(PG1)
    assert len(d) == 16
    assert R.settings_digest(with_(image="r:5000/pretix-cluster/postgres:c2")) == d
    assert R.settings_digest(with_(deploy={"replicas": 1, "labels": {"pxc.spec": "new"}})) == d
    assert R.settings_digest(with_(healthcheck={**PG1["healthcheck"], "timeout": "3s"})) != d
    assert PG1["deploy"]["labels"] == {"pxc.spec": "old"}   # the input is left alone


def test_member_digests_cover_only_the_members_in_the_file():
    assert list(R.member_digests(FLAT)) == ["pg1"]


def test_members_to_roll_need_all_of_them_deployed_and_in_the_file():
    members = ["pg1", "pg2", "pg3"]
    digests = {"pg1": "a", "pg2": "b", "pg3": "c"}
    old = {m: "r:5000/pretix-cluster/postgres:c1@sha256:9f" for m in members}   # Swarm pins the digest
    new = {m: "r:5000/pretix-cluster/postgres:c2" for m in members}
    same = {m: "r:5000/pretix-cluster/postgres:c1" for m in members}
    assert R.to_roll({"pg1": "a", "pg2": "x", "pg3": ""}, digests, old, same, members) == {
        "pg2": "its settings changed", "pg3": "its settings are not recorded yet"}
    assert R.to_roll(digests, digests, old, same, members) == {}
    assert R.to_roll(digests, digests, old, new, members) == {m: "its image changed" for m in members}
    assert R.to_roll({"pg1": "a", "pg2": "x", "pg3": "c"}, digests, old, new, members) == {
        "pg1": "its image changed", "pg2": "its image changed and its settings changed", "pg3": "its image changed"}
    assert R.to_roll({"pg1": "x", "pg2": "x"}, digests, old, new, members) == {}        # pg3 missing: a first deploy
    assert R.to_roll({m: "x" for m in members}, {"pg1": "a"}, old, new, members) == {}   # the file lacks pg2, pg3
    assert R.to_roll(digests, digests, {"pg1": old["pg1"]}, new, members) == {}         # no image read for pg2, pg3


def test_the_one_member_stack_file_holds_that_member_its_label_and_the_shared_definitions():
    doc = yaml.safe_load(R.member_stack(FLAT, "pg1", "d1"))
    assert list(doc) == ["version", "services", "networks", "volumes", "secrets"]
    assert list(doc["services"]) == ["pg1"]
    pg1 = doc["services"]["pg1"]
    assert pg1["deploy"]["labels"] == {"pxc.spec": "d1"}
    assert pg1["environment"]["X"] == "a$$b"        # Docker interpolates the file again: `$` stays a `$`
    assert doc["secrets"] == FLAT["secrets"]
    assert FLAT["services"]["pg1"]["deploy"]["labels"] == {"pxc.spec": "old"}


def test_the_labels_file_merged_over_the_stack_file():
    assert R.labels_file({"pg2": "b", "pg1": "a"}) == (
        "version: '3.8'\n"
        "services:\n"
        "  pg1:\n    deploy:\n      labels:\n        pxc.spec: a\n"
        "  pg2:\n    deploy:\n      labels:\n        pxc.spec: b\n")


def test_the_label_fact_on_captured_output():
    out = "pretix_pg1 3f2a9c0d1e2b4a5c\npretix_pg2 <no value>\n\n"
    assert FS.parse_service_labels(out, "pretix") == {"pg1": "3f2a9c0d1e2b4a5c", "pg2": ""}


def test_builders_of_the_settings_roll():
    assert S.service_labels("pretix", ["pg1", "pg2"], "pxc.spec") == (
        "docker service inspect --format '{{.Spec.Name}} {{index .Spec.Labels \"pxc.spec\"}}' pretix_pg1 pretix_pg2"
        " 2>/dev/null")
    assert S.stack_deploy_some("pretix") == (
        "docker stack deploy --detach=false --quiet --resolve-image always --compose-file - pretix")
    assert S.stack_config("/tmp/s.yml", {"B": "2", "A": "1"}) == (
        "env A=1 B=2 docker stack config --compose-file /tmp/s.yml")
    assert S.stack_deploy("pretix", "/tmp/s.yml", {"A": "1"}, "/tmp/l.yml") == (
        "env A=1 docker stack deploy --prune --resolve-image always --compose-file /tmp/s.yml "
        "--compose-file /tmp/l.yml pretix")
