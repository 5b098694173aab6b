"""The stack's configuration as pure data: secrets, pretix.cfg, placement labels, the deploy environment."""

from __future__ import annotations

import hashlib
import secrets as _secrets

from . import tls

from ..core.inventory import Mail

#: Keys of the Docker secrets the stack uses (``/run/secrets/<key>`` inside the containers).
SECRET_KEYS = (
    "pg_superuser_password",      # postgres: Patroni's superuser, never given to a proxy
    "pg_replication_password",    # replicator: REPLICATION only, not a superuser
    "pg_rewind_password",         # rewinder: the few functions pg_rewind needs
    "pg_rest_password",           # Patroni's REST API (switchover and other unsafe endpoints)
    "pg_pretix_password",         # pretix: owner of the pretix database
    "redis_password",             # Redis and Sentinel require it
    "django_secret",
    "pretix_cfg",
    # backups and shared media (object store, pgBackRest); TLS values are base64url PEM (ops/cluster/tls.py)
    "s3_backup_secret",           # S3 identity pxc-backup: the object store's admin (pgBackRest, media snapshots)
    "s3_media_secret",            # S3 identity pxc-media: pretix's media bucket only, never the backups
    "backup_tls_ca",              # CA of the backup path's TLS (S3 over HTTPS, pgBackRest TLS servers)
    "backup_tls",                 # key + certificate of s3, pg1..3 and the pgBackRest client (never given to pretix)
)

#: Placement: each PostgreSQL and Redis member gets a label of its own, spread over the nodes.
SPREAD_GROUPS = (("pxc.pg1", "pxc.pg2", "pxc.pg3"), ("pxc.redis1", "pxc.redis2", "pxc.redis3"))
LB_LABEL = "pxc.lb"
#: Node labels the stack's placement constraints use (``node.labels.<label> == true``).
NODE_LABELS = tuple(label for group in SPREAD_GROUPS for label in group) + (LB_LABEL,)

DEFAULT_MAIL_FROM = "tickets@pretix.lab"

# Redis database numbers behind redis-proxy
REDIS_DB_CACHE = 0
REDIS_DB_CELERY_BACKEND = 1
REDIS_DB_CELERY_BROKER = 2


def generate_secrets() -> dict[str, str]:
    """Random values for every secret key except ``pretix_cfg`` (rendered from these)."""
    special = ("django_secret", "pretix_cfg", "backup_tls_ca", "backup_tls")
    values = {key: _secrets.token_urlsafe(24) for key in SECRET_KEYS if key not in special}
    ca, bundle = tls.backup_tls()
    return {**values, "django_secret": _secrets.token_urlsafe(50), "backup_tls_ca": tls.encode(ca),
            "backup_tls": tls.encode(bundle)}


def render_mail(mail: Mail, password: str | None = None, mail_from: str = DEFAULT_MAIL_FROM) -> str:
    """pretix.cfg's [mail] section: the inventory's relay (default: the stack's sink `mail`), its password (from
    the operator's state dir) only inside this file, which is itself a Docker secret."""
    if mail.user and not password:
        raise ValueError(f"mail.user {mail.user!r} needs the relay's password")
    for what, value in (("mail password", password), ("mail user", mail.user), ("mail host", mail.host)):
        if value is not None and (value != value.strip() or "\n" in value or "\r" in value or not value):
            raise ValueError(f"the {what} must be one line without surrounding spaces")
    auth = f"user={mail.user}\npassword={password}\n" if mail.user else ""
    return (
        "[mail]\n"
        f"from={mail.sender or mail_from}\n"
        f"host={mail.host}\n"
        f"port={int(mail.port)}\n"
        f"{auth}"
        f"tls={'on' if mail.tls else 'off'}\n"
        f"ssl={'on' if mail.ssl else 'off'}\n"
    )


def render_pretix_cfg(secrets: dict, public_url: str, mail_from: str = DEFAULT_MAIL_FROM, mail: Mail = Mail(),
                      mail_password: str | None = None) -> str:
    """pretix.cfg for the stack: DB via pg-proxy, Redis/Celery via redis-proxy (password), SMTP via the relay."""
    for key in ("pg_pretix_password", "redis_password", "django_secret"):
        value = secrets.get(key)
        if not value:
            raise ValueError(f"missing secret {key!r}")
        if "\n" in value or "\r" in value:
            raise ValueError(f"secret {key!r} must be a single line")
    url = public_url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError("public_url must start with http:// or https://")
    redis = f"redis://:{secrets['redis_password']}@redis-proxy:6379"
    return (
        "[pretix]\n"
        "instance_name=pretix-cluster\n"
        f"url={url}\n"
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
        f"password={secrets['pg_pretix_password']}\n"
        "host=pg-proxy\n"
        "port=5432\n"
        "disable_server_side_cursors=on\n"   # PgBouncer pools per transaction
        "\n"
        f"{render_mail(mail, mail_password, mail_from)}"
        "\n"
        "[redis]\n"
        f"location=redis://redis-proxy:6379/{REDIS_DB_CACHE}\n"
        f"password={secrets['redis_password']}\n"
        "sessions=true\n"
        "\n"
        "[celery]\n"
        f"backend={redis}/{REDIS_DB_CELERY_BACKEND}\n"
        f"broker={redis}/{REDIS_DB_CELERY_BROKER}\n"
        "\n"
        "[django]\n"
        f"secret={secrets['django_secret']}\n"
        "debug=off\n"
    )


def secret_name(key: str, content: str) -> str:
    """Content-addressed Docker secret name: changed content => new name (secrets are immutable)."""
    if key not in SECRET_KEYS:
        raise ValueError(f"unknown secret key {key!r}")
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:10]
    return f"pxc_{key}_{digest}"


def tag_var(image: str) -> str:
    """The stack variable holding an image's tag: each image keeps its own, so unchanged images do not restart."""
    return "TAG_" + image.upper().replace("-", "_")


def stack_env(
    registry: str,
    tags: dict,
    secret_names: dict,
    web_replicas: int = 2,
    worker_replicas: int = 2,
    http_port: int = 80,
    nodes: int = 3,
) -> dict[str, str]:
    """Environment for ``docker stack deploy -c stack/pretix.yml pretix``: a TAG_<IMAGE> per image in tags."""
    missing = [k for k in SECRET_KEYS if not secret_names.get(k)]
    if missing:
        raise ValueError(f"missing secret names for {', '.join(missing)}")
    if int(web_replicas) < 1 or int(worker_replicas) < 1:
        raise ValueError("web_replicas and worker_replicas must be >= 1")
    missing_tags = [n for n, t in tags.items() if not t]
    if missing_tags or not tags:
        raise ValueError(f"missing image tags for {', '.join(missing_tags) or 'every image'}")
    env = {
        "REGISTRY": registry.rstrip("/"),
        **{tag_var(name): tag for name, tag in tags.items()},
        "WEB_REPLICAS": str(int(web_replicas)),
        "WEB_MAX_PER_NODE": str(max_per_node(int(web_replicas), nodes)),
        "WORKER_REPLICAS": str(int(worker_replicas)),
        "WORKER_MAX_PER_NODE": str(max_per_node(int(worker_replicas), nodes)),
        "HTTP_PORT": str(int(http_port)),
    }
    for key in SECRET_KEYS:
        env[f"SECRET_{key.upper()}"] = secret_names[key]
    return env


def max_per_node(replicas: int, nodes: int) -> int:
    """Replicas one node may run: spread over the nodes, yet all of them still fit when one node is gone."""
    return max(1, -(-replicas // max(1, nodes - 1)))


def placement(node_names: list[str], current: dict[str, dict], lb_nodes: list[str]) -> dict[str, dict]:
    """Labels to add so each pg/redis member sits on its own node (round-robin) and nginx on the LB nodes.

    Labels already present anywhere are kept where they are: a PostgreSQL volume lives on its node.
    """
    add: dict[str, dict] = {}
    have = {label for labels in current.values() for label, v in labels.items() if v == "true"}
    for group in SPREAD_GROUPS:
        for i, label in enumerate(group):
            if label not in have:
                add.setdefault(node_names[i % len(node_names)], {})[label] = "true"
    if LB_LABEL not in have:
        for node in lb_nodes or node_names[:1]:
            add.setdefault(node, {})[LB_LABEL] = "true"
    return add
