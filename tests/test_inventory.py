"""Inventory validation: one clear line per problem, nothing mocked (real files in tmp_path)."""
import pytest
import yaml

from ops.core.errors import InventoryError
from ops.core.inventory import load_cluster


@pytest.fixture
def files(tmp_path):
    (tmp_path / "id").write_text("not really a key, but a readable file\n")
    (tmp_path / "known_hosts").write_text("10.0.0.1 ssh-ed25519 AAAA\n")
    return tmp_path


def good(files):
    return {
        "registry": "10.0.0.1:5000",
        "ssh": {"key_file": "id", "known_hosts": "known_hosts"},
        "nodes": [
            {"name": "a", "address": "10.0.0.1", "labels": {"pxc.lb": "true"}},
            {"name": "b", "address": "10.0.0.2"},
            {"name": "c", "address": "10.0.0.3"},
            {"name": "w", "address": "10.0.0.4", "role": "worker", "port": 2222},
        ],
    }


def write(files, data, name="c1"):
    path = files / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def error_of(files, data) -> str:
    with pytest.raises(InventoryError) as exc:
        load_cluster(str(write(files, data)))
    return str(exc.value)


def test_valid_inventory_resolves_defaults_and_relative_paths(files):
    cl = load_cluster(str(write(files, good(files))))
    assert cl.name == "c1"
    assert cl.stack == "pretix"
    assert [n.name for n in cl.managers] == ["a", "b", "c"]
    assert [n.name for n in cl.workers] == ["w"]
    assert cl.node("w").port == 2222
    assert cl.node("a").key_file == str(files / "id")
    assert cl.known_hosts == str(files / "known_hosts")
    assert cl.build_node == "a"
    assert cl.public_url == "http://10.0.0.1"
    assert cl.node("a").labels == {"pxc.lb": "true"}
    assert cl.pulls_base is True


def test_cluster_by_name_from_clusters_dir(files):
    write(files, good(files), "prod")
    assert load_cluster("prod", files).name == "prod"


def test_unknown_cluster_names_the_file_and_known_ones(files):
    write(files, good(files), "prod")
    with pytest.raises(InventoryError) as exc:
        load_cluster("nope", files)
    assert str(exc.value) == f"unknown cluster 'nope': {files}/nope.yaml does not exist (known clusters: prod)"


def test_unknown_top_level_key(files):
    data = good(files) | {"registy": "x"}
    assert error_of(files, data) == (
        f"{files}/c1.yaml: unknown key 'registy' in top level (allowed: base_image, build_node, jump, mail, name, "
        "nodes, proxy, public_url, registry, ssh, stack)")


def test_missing_field(files):
    data = good(files)
    del data["registry"]
    assert error_of(files, data) == f"{files}/c1.yaml: missing required key 'registry'"


def test_node_missing_address(files):
    data = good(files)
    del data["nodes"][1]["address"]
    assert error_of(files, data) == f"{files}/c1.yaml: node 'b' is missing 'address'"


def test_duplicate_node_name_and_address(files):
    data = good(files)
    data["nodes"][1] = {"name": "a", "address": "10.0.0.1"}
    assert error_of(files, data).splitlines() == [
        f"{files}/c1.yaml: duplicate node name 'a'",
        f"{files}/c1.yaml: duplicate node address 10.0.0.1:22 (node 'a')",
    ]


def test_no_manager(files):
    data = good(files)
    for n in data["nodes"]:
        n["role"] = "worker"
    assert error_of(files, data) == f"{files}/c1.yaml: no manager node (set role: manager on 1, 3 or 5 nodes)"


def test_even_number_of_managers(files):
    data = good(files)
    data["nodes"][2]["role"] = "worker"
    assert error_of(files, data) == (
        f"{files}/c1.yaml: 2 managers is an even number: Raft needs an odd count (1, 3 or 5) to keep quorum")


def test_unreadable_key_file(files):
    data = good(files)
    data["nodes"][0]["key_file"] = "missing_key"
    assert error_of(files, data) == f"{files}/c1.yaml: node 'a' key_file 'missing_key' is not a readable file"


def test_missing_known_hosts_is_refused(files):
    data = good(files)
    del data["ssh"]["known_hosts"]
    assert error_of(files, data) == (
        f"{files}/c1.yaml: missing ssh.known_hosts (the cluster's own known_hosts file; unknown host keys are refused)")


def test_bad_role_and_unknown_node_key(files):
    data = good(files)
    data["nodes"][3]["role"] = "boss"
    data["nodes"][3]["adress"] = "x"
    assert error_of(files, data).splitlines() == [
        f"{files}/c1.yaml: unknown key 'adress' in node 'w' (allowed: address, key_file, labels, name, port, role, user)",
        f"{files}/c1.yaml: node 'w' has role 'boss'; use one of manager, worker",
    ]


def test_jump_needs_exactly_one_way(files):
    data = good(files) | {"jump": {"proxy_command": "x", "host": "bastion"}}
    assert error_of(files, data) == f"{files}/c1.yaml: jump needs exactly one of proxy_command or host"


def test_build_node_must_exist(files):
    data = good(files) | {"build_node": "zz"}
    assert error_of(files, data) == f"{files}/c1.yaml: build_node 'zz' is not one of the nodes"


def test_not_yaml(files):
    with pytest.raises(InventoryError) as exc:
        load_cluster(str(write(files, "nodes: [a\n  b: :\n")))
    assert str(exc.value).startswith(f"{files}/c1.yaml: line ")


def test_not_a_mapping(files):
    assert error_of(files, "- a\n- b\n") == f"{files}/c1.yaml: expected a mapping of settings at the top level"
