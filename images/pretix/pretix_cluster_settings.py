"""pretix's settings for the cluster: pretix.settings, with media files in the object store (S3, django-storages).

Every web replica and worker on every node reads and writes the same bucket, so a ticket PDF a worker rendered
on one node downloads through any web replica, also once that node is gone (each object lives on two nodes).
Without PXC_MEDIA_S3_ENDPOINT the media stay pretix's local /data/media (e.g. `inv bench --baseline`).
Redis commands of the cache, the sessions and Celery's broker are sent again on a fresh connection when theirs is
cut (below); Celery's results and a worker's reconnect wait through a Redis failover (pretix_cluster_celery.py); a
mail task cut from its database is retried (pretix_cluster_tasks.py).

Environment: PXC_MEDIA_S3_ENDPOINT (https://s3:8443), PXC_MEDIA_S3_BUCKET (pretix-media), PXC_MEDIA_S3_ACCESS_KEY
(pxc-media), PXC_MEDIA_S3_SECRET_FILE (/run/secrets/s3_media_secret), PXC_MEDIA_S3_CA_FILE
(/run/secrets/backup_tls_ca: base64url PEM, decoded once to /tmp/pretix-cluster/s3-ca.pem).
Public media (logos, ...) keep their URLs /media/<key> on the shop's host: the entry point proxies them to the
bucket. Private files (cached tickets, invoices, uploads of answers) are only streamed by pretix itself.
"""
import base64
import os
from urllib.parse import urlparse

from pretix.settings import *  # noqa: F401,F403 - this module is pretix.settings plus the overrides below
from pretix.settings import CACHES, DATABASES, MEDIA_URL, SITE_URL, STORAGES
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

import pretix_cluster_tasks

_ENDPOINT = os.environ.get("PXC_MEDIA_S3_ENDPOINT", "")


def _retry_cut_cache_commands_with_keep_alive(caches: dict) -> None:
    """A failover of the Redis master (planned: `inv failover.redis`; or the Sentinels') ends with redis-proxy
    closing the clients' sessions on the old master, where writes were held: a command waiting there then failed as
    HTTP 500 (redis-py retries nothing by default; 1-6 failed purchases per failover in the lab). Sent again on a
    fresh connection it reaches the new master. The held writes never ran, and the cache and session commands are
    idempotent (SET, GET, DEL), so sending one twice is safe. The same pool arguments turn on TCP keep-alive (see
    _keep_alive_redis_sockets: a cache socket through a cut node's proxy)."""
    for cache in caches.values():
        if cache.get("BACKEND") == "django_redis.cache.RedisCache":
            options = cache.setdefault("OPTIONS", {})
            options["CONNECTION_POOL_KWARGS"] = {**options.get("CONNECTION_POOL_KWARGS", {}),
                                                 "retry": Retry(ExponentialBackoff(cap=1.0, base=0.1), 5),
                                                 "socket_keepalive": True}


_retry_cut_cache_commands_with_keep_alive(CACHES)


def _wait_for_a_primary(databases: dict) -> None:
    """A new PostgreSQL connection waits for a primary instead of failing (pretix_cluster_db/postgresql/base.py)."""
    for db in databases.values():
        if db.get("ENGINE") == "django.db.backends.postgresql":
            db["ENGINE"] = "pretix_cluster_db.postgresql"


_wait_for_a_primary(DATABASES)


def _resend_cut_task_messages(options: dict) -> None:
    """The same cut, met by a Celery task message (the order, a mail) on its way to the broker: kombu's own publish
    retry then fails in its Redis transport (`AttributeError: 'NoneType' object has no attribute 'client'`, the
    channel it retries on is closed; 0-2 failed purchases per `inv failover.redis` in the lab). kombu's public
    `retry_on_timeout` makes redis-py send a command cut by a ConnectionError (or a timeout) once more on a fresh
    connection, before kombu sees an error; redis-proxy has moved its clients to the new master by then. A message
    pushed twice (its first push ran, the answer was lost) runs its task twice: pretix's order task then finds the
    cart already turned into the order and fails harmlessly.
    Publishers only (the web processes): in a Celery worker the same option also covers the consumer's BRPOP and
    pub/sub connections, which kombu watches in its event loop; redis-py reconnecting one behind kombu's back left a
    worker that no longer consumed anything (seen in the lab: silent for 90 s after a failover)."""
    options["retry_on_timeout"] = True


if os.environ.get("PXC_PUBLISHER_ONLY") and globals().get("CELERY_BROKER_URL", "").startswith("redis"):
    _resend_cut_task_messages(CELERY_BROKER_TRANSPORT_OPTIONS)  # noqa: F405 - pretix defines both with a broker


def _keep_alive_redis_sockets(broker_options: dict) -> None:
    """TCP keep-alive on every Redis socket of Celery (broker and results) and of the cache. A worker waits for the
    answer to its BRPOP on a socket that sends nothing: when the node of its redis-proxy is cut off, that socket
    stays open (no timeout, and nothing unacknowledged that the kernel would retransmit and give up on), and the
    worker consumes nothing more until the node comes back (a partition drill: no sale from the cut until 34 s after
    the return). With keep-alive the kernel declares the peer dead after the stack's sysctls (idle 10 s, then 3
    probes 3 s apart) and the worker reconnects to a live proxy. (Celery's results: CELERY_REDIS_SOCKET_KEEPALIVE;
    the cache's sockets: _retry_cut_cache_commands_with_keep_alive.)"""
    broker_options["socket_keepalive"] = True


if globals().get("CELERY_BROKER_URL", "").startswith("redis"):
    _keep_alive_redis_sockets(CELERY_BROKER_TRANSPORT_OPTIONS)  # noqa: F405
    CELERY_REDIS_SOCKET_KEEPALIVE = True

if globals().get("CELERY_RESULT_BACKEND", "").startswith("redis"):
    # Celery's results: a command cut by a ConnectionError is sent once more on a fresh connection (redis-py's retry
    # covers ConnectionError once retry_on_timeout is on). A worker on a node that had been cut off found its socket
    # to a proxy reset after the return: reading the task's state before storing its result failed (broken pipe), a
    # cart that had been added was reported to the buyer as "an unexpected error" (partition drill, 4.6 s after the
    # return). Results are read and written by key (GET, SET, PUBLISH): sending one twice is harmless.
    CELERY_REDIS_RETRY_ON_TIMEOUT = True
    # ... and through a failover, for ~10 s (pretix_cluster_celery.FailoverRedisBackend)
    CELERY_RESULT_BACKEND = "pretix_cluster_celery:FailoverRedisBackend+" + CELERY_RESULT_BACKEND  # noqa: F405

# a worker reconnects to the broker every 0.5-2 s, not 2, 4, 6 s apart (pretix_cluster_celery.QuickReconnectConsumer)
CELERY_WORKER_CONSUMER = "pretix_cluster_celery:QuickReconnectConsumer"

# a mail task whose open database connection died (a failover) is retried in 2 s, not dropped (pretix_cluster_tasks.py)
CELERY_TASK_ANNOTATIONS = pretix_cluster_tasks.ANNOTATIONS


# Celery's Django fixup closes a worker's database connections after every task unless CELERY_DB_REUSE_MAX is set:
# each task (a cart, an order, its mail: several per purchase) then paid a new connection, SCRAM authentication at
# PgBouncer included (py-spy on a worker under bench load: psycopg2.connect and the session set-up in every task).
# Reused, a connection is still closed after CONN_MAX_AGE (120 s) and every 2 x 500 tasks; the check below replaces
# the per-task reconnect as the guard against a connection that died while the worker waited (PgBouncer restarted).
CELERY_DB_REUSE_MAX = 500


def _check_task_db_connections(**_) -> None:
    """Before each task: drop a connection that had an error, is obsolete, or no longer answers (SELECT 1 through
    PgBouncer), so that a task never starts on a dead one; the task then connects afresh."""
    from django.db import connections
    for conn in connections.all(initialized_only=True):
        conn.close_if_unusable_or_obsolete()
        if conn.connection is not None and not conn.is_usable():
            conn.close()


def _connect_task_db_check() -> None:
    from celery.signals import task_prerun
    task_prerun.connect(_check_task_db_connections, weak=False, dispatch_uid="pxc-task-db-check")


_connect_task_db_check()


def _mark_worker_ready(**_) -> None:
    """The worker's HEALTHCHECK (pretix-healthcheck.py) reads this file: ready without a ping per check."""
    os.makedirs("/tmp/pretix-cluster", exist_ok=True)
    with open("/tmp/pretix-cluster/worker-ready", "w") as f:
        f.write("ready\n")


def _connect_worker_ready() -> None:
    from celery.signals import worker_ready
    worker_ready.connect(_mark_worker_ready, weak=False, dispatch_uid="pxc-worker-ready")


_connect_worker_ready()


def _ca_file(src: str, dest: str = "/tmp/pretix-cluster/s3-ca.pem") -> str:
    """The CA of the object store's certificate as a PEM file (the secret holds it base64url-encoded)."""
    with open(src) as f:
        value = f.read().strip()
    pem = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if not os.path.exists(dest) or open(dest, "rb").read() != pem:
        tmp = f"{dest}.{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(pem)
        os.replace(tmp, dest)
    return dest


if _ENDPOINT:
    with open(os.environ.get("PXC_MEDIA_S3_SECRET_FILE", "/run/secrets/s3_media_secret")) as _f:
        _secret = _f.read().strip()
    _site = urlparse(SITE_URL)
    STORAGES = {
        **STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "endpoint_url": _ENDPOINT,
                "bucket_name": os.environ.get("PXC_MEDIA_S3_BUCKET", "pretix-media"),
                "access_key": os.environ.get("PXC_MEDIA_S3_ACCESS_KEY", "pxc-media"),
                "secret_key": _secret,
                "region_name": "us-east-1",
                "addressing_style": "path",
                "signature_version": "s3v4",
                "verify": _ca_file(os.environ.get("PXC_MEDIA_S3_CA_FILE", "/run/secrets/backup_tls_ca")),
                "file_overwrite": False,        # like FileSystemStorage: a taken name gets a suffix
                "default_acl": None,
                "querystring_auth": False,      # public URLs stay /media/<key> on the shop's own host
                "custom_domain": f"{_site.netloc}{MEDIA_URL.rstrip('/')}",
                "url_protocol": f"{_site.scheme}:",
            },
        },
    }
    del _f, _secret, _site
