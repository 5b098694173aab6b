"""Django's PostgreSQL backend, but a new connection waits up to PXC_DB_CONNECT_WAIT s (30) for a primary.

While no member is primary (a partitioned leader's key expiring: ~20 s), PgBouncer fails every new client at its
first statement ("server login has been failing": it fast-fails clients while no server connection exists, whatever
server_login_retry says), and each web request answered HTTP 500 (a partition drill: 56 failed purchases in
20 s). Only opening the connection is retried: the login and Django's session set-up (SET TIME ZONE), before any
statement of the request ran, so a retry is always safe; a request then waits for the new primary as a queued
query in PgBouncer already does. The engine's name keeps ".postgresql", which pretix looks for to pick its
PostgreSQL code paths.
"""
import contextlib
import logging
import os
import time

from django.db.backends.postgresql import base

logger = logging.getLogger(__name__)
WAIT_S = float(os.environ.get("PXC_DB_CONNECT_WAIT", "30"))


class DatabaseWrapper(base.DatabaseWrapper):
    def connect(self):
        deadline, pause = time.monotonic() + WAIT_S, 0.25
        while True:
            try:
                return super().connect()
            except self.Database.OperationalError as exc:
                self._drop_half_open()
                if time.monotonic() + pause > deadline:
                    raise
                logger.warning("no database connection yet, again in %.2f s: %s", pause, str(exc).strip())
                time.sleep(pause)
                pause = min(pause * 2, 1.0)

    def _drop_half_open(self):
        """A login that succeeded at PgBouncer whose session set-up then failed: close it, so connect starts afresh."""
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None
