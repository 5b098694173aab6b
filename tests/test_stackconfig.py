"""The stack's pure configuration: pretix.cfg, secret names, deploy environment, placement; whole-string asserts."""
import hashlib
import re
from pathlib import Path

import pytest

from ops.cluster import stackconfig
from ops.cluster.images import image_names
from ops.cluster.stackconfig import (NODE_LABELS, SECRET_KEYS, generate_secrets, placement, render_pretix_cfg,
                                     secret_name, stack_env, tag_var)

STACK_FILE = Path(__file__).resolve().parent.parent / "stack" / "pretix.yml"
FIXED = {
    "pg_superuser_password": "su-pw",
    "pg_replication_password": "repl-pw",
    "pg_rewind_password": "rewind-pw",
    "pg_rest_password": "rest-pw",
    "pg_pretix_password": "pretix-pw",
    "redis_password": "redis-pw",
    "django_secret": "dj-secret",
}


def test_generate_secrets_keys_and_randomness():
    a = generate_secrets()
    b = generate_secrets()
    assert sorted(a) == sorted(k for k in SECRET_KEYS if k != "pretix_cfg")
    for key, value in a.items():
        assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", value), key
        assert value != b[key]
    assert len(set(a.values())) == len(a)


def test_render_pretix_cfg_whole():
    cfg = render_pretix_cfg(FIXED, "https://tickets.example.org/", mail_from="shop@example.org")
    assert cfg == (
        "[pretix]\n"
        "instance_name=pretix-cluster\n"
        "url=https://tickets.example.org\n"
        "currency=EUR\n"
        "datadir=/data\n"
        "trust_x_forwarded_for=on\n"
        "trust_x_forwarded_proto=on\n"
        "\n"
        "[locale]\n"
        "default=en\n"
        "timezone=UTC\n"
        "\n"
        "[database]\n"
        "backend=postgresql\n"
        "name=pretix\n"
        "user=pretix\n"
        "password=pretix-pw\n"
        "host=pg-proxy\n"
        "port=5432\n"
        "disable_server_side_cursors=on\n"
        "\n"
        "[mail]\n"
        "from=shop@example.org\n"
        "host=mail\n"
        "port=25\n"
        "tls=off\n"
        "ssl=off\n"
        "\n"
        "[redis]\n"
        "location=redis://redis-proxy:6379/0\n"
        "password=redis-pw\n"
        "sessions=true\n"
        "\n"
        "[celery]\n"
        "backend=redis://:redis-pw@redis-proxy:6379/1\n"
        "broker=redis://:redis-pw@redis-proxy:6379/2\n"
        "\n"
        "[django]\n"
        "secret=dj-secret\n"
        "debug=off\n"
    )


def test_render_pretix_cfg_default_mail_from_and_plain_url():
    cfg = render_pretix_cfg(FIXED, "http://127.0.0.1:8080")
    assert "url=http://127.0.0.1:8080\n" in cfg
    assert f"[mail]\nfrom={stackconfig.DEFAULT_MAIL_FROM}\nhost=mail\n" in cfg


def test_render_pretix_cfg_is_parseable_by_configparser():
    import configparser

    cp = configparser.RawConfigParser()
    cp.read_string(render_pretix_cfg(generate_secrets(), "http://localhost"))
    assert cp.get("database", "host") == "pg-proxy"
    assert cp.get("redis", "location") != cp.get("celery", "broker") != cp.get("celery", "backend")


@pytest.mark.parametrize("bad", [{}, {**FIXED, "django_secret": ""}, {**FIXED, "pg_pretix_password": "a\nb"}])
def test_render_pretix_cfg_rejects_bad_secrets(bad):
    with pytest.raises(ValueError):
        render_pretix_cfg(bad, "http://localhost")


def test_render_pretix_cfg_rejects_bad_url():
    with pytest.raises(ValueError):
        render_pretix_cfg(FIXED, "tickets.example.org")


def test_secret_name():
    digest = hashlib.sha256(b"hello").hexdigest()[:10]
    assert digest == "2cf24dba5f"
    assert secret_name("django_secret", "hello") == "pxc_django_secret_2cf24dba5f"
    assert secret_name("pretix_cfg", "x") != secret_name("pretix_cfg", "y")
    assert secret_name("pretix_cfg", "x") == secret_name("pretix_cfg", "x")
    with pytest.raises(ValueError):
        secret_name("nope", "x")


def test_stack_env_whole():
    names = {k: f"pxc_{k}_0123456789" for k in SECRET_KEYS}
    tags = {n: "v1" for n in ("pretix", "postgres", "redis", "nginx")}
    assert stack_env("registry.lab:5000/", tags, names) == {
        "REGISTRY": "registry.lab:5000",
        "TAG_PRETIX": "v1",
        "TAG_POSTGRES": "v1",
        "TAG_REDIS": "v1",
        "TAG_NGINX": "v1",
        "WEB_REPLICAS": "2",
        "WEB_MAX_PER_NODE": "1",
        "WORKER_REPLICAS": "2",
        "WORKER_MAX_PER_NODE": "1",
        "HTTP_PORT": "80",
        "SECRET_PG_SUPERUSER_PASSWORD": "pxc_pg_superuser_password_0123456789",
        "SECRET_PG_PRETIX_PASSWORD": "pxc_pg_pretix_password_0123456789",
        "SECRET_PG_REPLICATION_PASSWORD": "pxc_pg_replication_password_0123456789",
        "SECRET_PG_REWIND_PASSWORD": "pxc_pg_rewind_password_0123456789",
        "SECRET_PG_REST_PASSWORD": "pxc_pg_rest_password_0123456789",
        "SECRET_REDIS_PASSWORD": "pxc_redis_password_0123456789",
        "SECRET_DJANGO_SECRET": "pxc_django_secret_0123456789",
        "SECRET_PRETIX_CFG": "pxc_pretix_cfg_0123456789",
        "SECRET_S3_BACKUP_SECRET": "pxc_s3_backup_secret_0123456789",
        "SECRET_S3_MEDIA_SECRET": "pxc_s3_media_secret_0123456789",
        "SECRET_BACKUP_TLS_CA": "pxc_backup_tls_ca_0123456789",
        "SECRET_BACKUP_TLS": "pxc_backup_tls_0123456789",
    }


def test_stack_env_overrides():
    names = {k: k for k in SECRET_KEYS}
    env = stack_env("localhost:5000", {"pretix": "dev"}, names, web_replicas=3, worker_replicas=2, http_port=8080)
    assert (env["WEB_REPLICAS"], env["WORKER_REPLICAS"], env["HTTP_PORT"]) == ("3", "2", "8080")


def test_stack_env_rejects_missing_secret_names():
    names = {k: k for k in SECRET_KEYS if k != "pretix_cfg"}
    with pytest.raises(ValueError):
        stack_env("r", {"pretix": "t"}, names)
    with pytest.raises(ValueError):
        stack_env("r", {"pretix": "t"}, {k: k for k in SECRET_KEYS}, web_replicas=0)


def test_stack_file_uses_every_secret_label_and_image():
    """The stack file, the images folder and this module agree: adding an image is one folder + one entry."""
    text = STACK_FILE.read_text()
    for key in SECRET_KEYS:
        assert f"name: ${{SECRET_{key.upper()}:?" in text
    for label in NODE_LABELS:
        assert f"node.labels.{label} == true" in text
    for var in ("${REGISTRY:-", "${WEB_REPLICAS:-2}", "${WORKER_REPLICAS:-2}", "${HTTP_PORT:-80}"):
        assert var in text
    used = set(re.findall(r"pretix-cluster/([a-z0-9-]+):\$\{TAG_([A-Z0-9_]+):-latest\}", text))
    assert used == {(n, tag_var(n)[4:]) for n in image_names()}


def test_stack_env_takes_a_tag_per_image():
    names = {k: k for k in SECRET_KEYS}
    env = stack_env("r", {"pretix": "c0", "redis-proxy": "c4"}, names)
    assert (env["TAG_PRETIX"], env["TAG_REDIS_PROXY"]) == ("c0", "c4")
    with pytest.raises(ValueError):
        stack_env("r", {"pretix": ""}, names)


def test_placement_spreads_members_over_three_nodes_and_lb_on_labelled_node():
    add = placement(["n1", "n2", "n3"], {"n1": {}, "n2": {}, "n3": {}}, ["n1"])
    assert add == {
        "n1": {"pxc.pg1": "true", "pxc.redis1": "true", "pxc.lb": "true"},
        "n2": {"pxc.pg2": "true", "pxc.redis2": "true"},
        "n3": {"pxc.pg3": "true", "pxc.redis3": "true"},
    }


def test_placement_on_one_node_puts_everything_there():
    assert placement(["solo"], {"solo": {}}, []) == {"solo": {label: "true" for label in NODE_LABELS}}


def test_placement_keeps_existing_labels_where_they_are():
    current = {"n1": {"pxc.pg2": "true"}, "n2": {}, "n3": {"pxc.lb": "true", "other": "x"}}
    assert placement(["n1", "n2", "n3"], current, ["n1"]) == {
        "n1": {"pxc.pg1": "true", "pxc.redis1": "true"},
        "n2": {"pxc.redis2": "true"},
        "n3": {"pxc.pg3": "true", "pxc.redis3": "true"},
    }
    assert placement(["n1"], {"n1": {label: "true" for label in NODE_LABELS}}, []) == {}


@pytest.mark.parametrize("replicas, nodes, expected", [(2, 3, 1), (3, 3, 2), (4, 3, 2), (5, 3, 3), (2, 1, 2), (1, 5, 1)])
def test_max_per_node_keeps_every_replica_placeable_without_one_node(replicas, nodes, expected):
    assert stackconfig.max_per_node(replicas, nodes) == expected
