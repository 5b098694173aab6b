"""Command builders: whole-string comparisons, no mocks."""
from ops import commands as C


def test_swarm_init():
    assert C.swarm_init("10.0.0.1") == "docker swarm init --advertise-addr 10.0.0.1 --listen-addr 10.0.0.1:2377"


def test_swarm_join():
    assert C.swarm_join("SWMTKN-1-abc", "10.0.0.1", "10.0.0.2") == (
        "docker swarm join --token SWMTKN-1-abc --advertise-addr 10.0.0.2 --listen-addr 10.0.0.2:2377 10.0.0.1:2377")


def test_join_token_and_leave():
    assert C.swarm_join_token("manager") == "docker swarm join-token --quiet manager"
    assert C.swarm_leave() == "docker swarm leave --force"


def test_docker_info_quotes_the_template():
    assert C.docker_info() == "docker info --format '{{json .}}'"
    assert C.node_ls() == "docker node ls --format '{{json .}}'"


def test_node_labels_sorted_and_quoted():
    assert C.node_label_add("abc", {"pxc.pg2": "true", "pxc.lb": "true"}) == (
        "docker node update --label-add pxc.lb=true --label-add pxc.pg2=true abc")


def test_image_commands():
    assert C.image_import("reg:5000/pretix-cluster/base:bookworm", "/tmp/base.tar") == (
        "docker import /tmp/base.tar reg:5000/pretix-cluster/base:bookworm")
    assert C.image_push("reg:5000/x:1") == "docker push reg:5000/x:1"
    assert C.image_tag("debian:bookworm-slim", "reg:5000/x:1") == "docker tag debian:bookworm-slim reg:5000/x:1"
    assert C.image_exists("a b") == "docker image inspect --format '{{.Id}}' 'a b'"


def test_sh_quotes_shell_metacharacters():
    assert C.sh("echo", "a;b", "$HOME") == "echo 'a;b' '$HOME'"
