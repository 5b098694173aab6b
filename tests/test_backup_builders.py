"""Builders of the backup and restore commands, compared as whole strings."""
from ops.builders import backup as B


def test_backup_cli_runs_in_this_nodes_backup_container():
    assert B.backup_cli("pretix", "show", "20261130T101500Z") == (
        "c=$(docker ps -q --filter label=com.docker.swarm.service.name=pretix_backup | head -n1); "
        "[ -n \"$c\" ] || exit 3; docker exec $c sh -c 'pxc-backup show 20261130T101500Z'")


def test_services_here_replicas_and_scale():
    assert B.services_here("pretix", ["pg1", "pg2"]) == (
        "for s in pg1 pg2; do [ -n \"$(docker ps -q --filter label=com.docker.swarm.service.name=pretix_$s)\" ] "
        "&& echo $s; done; true")
    assert B.replicas("pretix", ("web", "cron")) == (
        "for s in pretix_web pretix_cron; do docker service inspect --format "
        "'{{.Spec.Name}} {{.Spec.Mode.Replicated.Replicas}}' $s; done")
    assert B.scale("pretix", {"web": 2, "cron": 0}) == "docker service scale --detach pretix_cron=0 pretix_web=2"


def test_etcd_forget_deletes_only_this_patroni_cluster():
    assert B.etcd_forget("pretix") == ("etcdctl --endpoints http://etcd1:2379,http://etcd2:2379,http://etcd3:2379 "
                                       "del --prefix /service/pretix/")


def test_member_reset_empties_the_data_dir_and_takes_the_request_on_stdin():
    image = "10.0.0.1:5000/pretix-cluster/postgres:abc@sha256:01"
    base = ("docker run --rm --network none --user root --entrypoint /bin/sh --mount "
            "type=volume,source=pretix_pg2_data,target=/var/lib/postgresql/data ")
    wipe = ("rm -rf /var/lib/postgresql/data/pgdata /var/lib/postgresql/data/pgbackrest "
            "/var/lib/postgresql/data/pxc-restore.json")
    assert B.member_reset("pretix_pg2_data", image) == f"{base}{image} -c '{wipe}'"
    with_request = B.member_reset("pretix_pg2_data", image, request=True)
    assert with_request == (
        "input=$(cat); printf '%s\\n' \"$input\" | " + base + "-i " + image + " -c '" + wipe +
        " && cat > /var/lib/postgresql/data/pxc-restore.json && chown postgres:postgres /var/lib/postgresql/data/*'")


def test_request_done_and_fetch_in_web():
    assert B.request_done("pretix", "pg1").endswith("docker exec $c sh -c 'rm -f /var/lib/postgresql/data/pxc-restore.json'")
    cmd = B.fetch_in_web("pretix", "/api/v1/x/", "127.0.0.1:8080")
    assert cmd.startswith("input=$(cat); c=$(docker ps -q --filter label=com.docker.swarm.service.name=pretix_web")
    assert "docker exec -i $c sh -c" in cmd and "/api/v1/x/" in cmd and "Token" in cmd and "127.0.0.1:8000" in cmd


def test_delete_event_sql_is_one_psql_call_whose_statement_names_the_event():
    import shlex
    argv = shlex.split(B.delete_event_sql("demo", "conf"))
    assert argv[:10] == ["psql", "-h", "/var/run/postgresql", "-U", "postgres", "-d", "pretix", "-XtA", "-v",
                         "ON_ERROR_STOP=1"]
    assert argv[10] == "-c" and argv[11].startswith("SET session_replication_role = replica; DELETE FROM")
    assert argv[11].count("o.slug = 'demo' AND e.slug = 'conf'") == 2
