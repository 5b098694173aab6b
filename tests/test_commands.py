"""Command builders: whole-string comparisons, no mocks."""
from ops.builders import docker as C
from ops.builders import stack as S


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
    assert C.image_push("reg:5000/x:1") == "docker push reg:5000/x:1"
    assert C.image_tag("debian:bookworm-slim", "reg:5000/x:1") == "docker tag debian:bookworm-slim reg:5000/x:1"


def test_sh_quotes_shell_metacharacters():
    assert C.sh("echo", "a;b", "$HOME") == "echo 'a;b' '$HOME'"


def test_deploy_lock_is_an_atomic_mkdir_with_its_owner():
    assert S.lock_acquire("lab-pretix", "ops@host 2026-11-29T10:00:00Z") == (
        "mkdir /var/tmp/pxc-lab-pretix.deploy-lock && echo 'ops@host 2026-11-29T10:00:00Z' "
        "> /var/tmp/pxc-lab-pretix.deploy-lock/owner")
    assert S.lock_owner("lab-pretix") == "cat /var/tmp/pxc-lab-pretix.deploy-lock/owner"
    assert S.lock_release("lab-pretix") == "rm -rf /var/tmp/pxc-lab-pretix.deploy-lock"


def test_service_spec_digests_hash_each_spec():
    assert S.service_spec_digests("pretix") == (
        "for s in $(docker service ls -q --filter label=com.docker.stack.namespace=pretix); do "
        "echo \"$(docker service inspect --format '{{.Spec.Name}}' $s) "
        "$(docker service inspect --format '{{json .Spec}}' $s | sha256sum | cut -c1-16)\"; done")


def test_probe_runs_inside_each_local_container_of_the_services():
    assert S.probe_services("pretix", ["pg1", "pg2"], "psql -c 'select 1'", "postgres") == (
        "for s in pg1 pg2; do c=$(docker ps -q --filter label=com.docker.swarm.service.name=pretix_$s | head -n1); "
        "[ -n \"$c\" ] && echo \"$s|$(docker exec -u postgres $c sh -c 'psql -c '\"'\"'select 1'\"'\"'' 2>&1 "
        "| tr '\\n' ' ')\"; done; true")
    assert S.stack_containers("pretix") == "docker ps -q --filter label=com.docker.stack.namespace=pretix"


def test_swarm_heartbeat():
    assert C.swarm_heartbeat(20) == "docker swarm update --dispatcher-heartbeat 20s"


def test_kill_container_prints_when_it_died():
    assert S.kill_container("pretix", "web") == (
        "c=$(docker ps -q --filter label=com.docker.swarm.service.name=pretix_web | head -n1); "
        "[ -n \"$c\" ] || exit 3; docker kill --signal KILL $c >/dev/null || exit 1; docker wait $c >/dev/null; "
        "docker inspect --format '{{.State.FinishedAt}}' $c || true")
