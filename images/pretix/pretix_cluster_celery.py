"""Celery's result backend and worker consumer, made to wait through a Redis failover instead of failing in it.

Both are named by strings in pretix_cluster_settings.py (CELERY_RESULT_BACKEND, CELERY_WORKER_CONSUMER), so the web
processes never import Celery's worker. A failover (the master killed: the Sentinels promote a replica within ~3 s,
redis-proxy follows within ~0.3 s) used to cost a purchase and ~4 s of the workers' time (drill.redis, 2026-12-07).
"""
from functools import partial

from celery.backends.redis import RedisBackend
from celery.worker.consumer import Consumer
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

# ~10 s of retries (0.2, 0.4, 0.8, then 1 s apart): longer than a failover
RESULT_RETRY = Retry(ExponentialBackoff(cap=1.0, base=0.1), 12)
# the consumer's reconnect: 0.5 s, then 0.5 s longer each time, at most 2 s (kombu's default: 2 s, 4 s, ... 30 s)
RECONNECT_INTERVALS = {"interval_start": 0.5, "interval_step": 0.5, "interval_max": 2.0}


class FailoverRedisBackend(RedisBackend):
    """Celery's Redis results, each command retried on a fresh connection for ~10 s. Celery retries SET itself but
    not the GET it makes before storing a result: an order task that finished while the master was away failed in
    that GET ("Connection closed by server": redis-proxy had no master yet), and the buyer was told "an unexpected
    error has occurred" about an order that existed. Results are read and written by key: sending one again is safe."""

    def _get_pool(self, **params):
        return super()._get_pool(**{**params, "retry": RESULT_RETRY})


class QuickReconnectConsumer(Consumer):
    """A worker's consumer that reconnects to the broker every 0.5-2 s. With kombu's 2 s, 4 s, ... the workers came
    back 4 s after redis-proxy had the new master (a failover: attempts at +0, +2 s, +6 s)."""

    def ensure_connected(self, conn):
        conn.ensure_connection = partial(conn.ensure_connection, **RECONNECT_INTERVALS)
        return super().ensure_connected(conn)
