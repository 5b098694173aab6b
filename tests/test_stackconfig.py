"""Tests for ops/stackconfig.py (pure functions; whole-string asserts on rendered output)."""

import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402

from ops import stackconfig  # noqa: E402
from ops.stackconfig import (  # noqa: E402
    IMAGE_ORDER,
    NODE_LABELS,
    SECRET_KEYS,
    generate_secrets,
    render_pretix_cfg,
    secret_name,
    stack_env,
    tag_var,
)

FIXED = {
    "pg_superuser_password": "su-pw",
    "pg_pretix_password": "pretix-pw",
    "pg_repmgr_password": "repmgr-pw",
    "django_secret": "dj-secret",
}


def test_constants():
    assert SECRET_KEYS == (
        "pg_superuser_password",
        "pg_pretix_password",
        "pg_repmgr_password",
        "django_secret",
        "pretix_cfg",
    )
    assert NODE_LABELS == (
        "pxc.pg1", "pxc.pg2", "pxc.pg3", "pxc.redis1", "pxc.redis2", "pxc.redis3", "pxc.lb",
    )
    assert IMAGE_ORDER == ("pretix", "postgres", "pgpool", "redis", "redis-proxy", "nginx", "mailsink")
    assert IMAGE_ORDER.index("pretix") < IMAGE_ORDER.index("nginx")


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
        "host=pgpool\n"
        "port=5432\n"
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
        "sessions=true\n"
        "\n"
        "[celery]\n"
        "backend=redis://redis-proxy:6379/1\n"
        "broker=redis://redis-proxy:6379/2\n"
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
    assert cp.get("database", "host") == "pgpool"
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
    assert stack_env("registry.lab:5000/", "v1", names) == {
        "REGISTRY": "registry.lab:5000",
        "TAG_PRETIX": "v1",
        "TAG_POSTGRES": "v1",
        "TAG_PGPOOL": "v1",
        "TAG_REDIS": "v1",
        "TAG_REDIS_PROXY": "v1",
        "TAG_NGINX": "v1",
        "TAG_MAILSINK": "v1",
        "WEB_REPLICAS": "2",
        "WORKER_REPLICAS": "1",
        "HTTP_PORT": "80",
        "SECRET_PG_SUPERUSER_PASSWORD": "pxc_pg_superuser_password_0123456789",
        "SECRET_PG_PRETIX_PASSWORD": "pxc_pg_pretix_password_0123456789",
        "SECRET_PG_REPMGR_PASSWORD": "pxc_pg_repmgr_password_0123456789",
        "SECRET_DJANGO_SECRET": "pxc_django_secret_0123456789",
        "SECRET_PRETIX_CFG": "pxc_pretix_cfg_0123456789",
    }


def test_stack_env_overrides():
    names = {k: k for k in SECRET_KEYS}
    env = stack_env("localhost:5000", "dev", names, web_replicas=3, worker_replicas=2, http_port=8080)
    assert (env["WEB_REPLICAS"], env["WORKER_REPLICAS"], env["HTTP_PORT"]) == ("3", "2", "8080")


def test_stack_env_rejects_missing_secret_names():
    names = {k: k for k in SECRET_KEYS if k != "pretix_cfg"}
    with pytest.raises(ValueError):
        stack_env("r", "t", names)
    with pytest.raises(ValueError):
        stack_env("r", "t", {k: k for k in SECRET_KEYS}, web_replicas=0)


def test_stack_file_uses_every_secret_and_label():
    """The stack file and this module agree on secret env names and node labels."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "stack", "pretix.yml")
    with open(path) as f:
        text = f.read()
    for key in SECRET_KEYS:
        assert f"name: ${{SECRET_{key.upper()}:?" in text
    for label in NODE_LABELS:
        assert f"node.labels.{label} == true" in text
    for var in ("${REGISTRY:-", "${WEB_REPLICAS:-2}", "${WORKER_REPLICAS:-1}", "${HTTP_PORT:-80}"):
        assert var in text
    for image in IMAGE_ORDER:
        assert f"pretix-cluster/{image}:${{{tag_var(image)}:-latest}}" in text
    assert "${TAG:-" not in text


def test_stack_env_takes_a_tag_per_image():
    names = {k: k for k in SECRET_KEYS}
    tags = {n: f"c{i}" for i, n in enumerate(IMAGE_ORDER)}
    env = stack_env("r", tags, names)
    assert (env["TAG_PRETIX"], env["TAG_REDIS_PROXY"], env["TAG_MAILSINK"]) == ("c0", "c4", "c6")
    with pytest.raises(ValueError):
        stack_env("r", {"pretix": "x"}, names)
