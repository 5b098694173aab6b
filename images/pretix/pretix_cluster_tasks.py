"""Celery task annotations: a mail whose task lost its database connection is sent again seconds later, not dropped.

A db drill (2026-12-07, 093615Z) killed the leader while a worker's `mail_send_task` was inside a query: the task
raised OperationalError ("server closed the connection unexpectedly") and pretix does not retry it, so a confirmed
order's mail waited for pretix's hourly sweep of stuck mails (retry_stuck_queued_mails / retry_stuck_inflight_mails).
pretix_cluster_db waits for a primary only while a *new* connection opens; this covers the one that was open.
Named by CELERY_TASK_ANNOTATIONS in pretix_cluster_settings.py ("@run": Celery wraps the task's run method).
"""
import functools
import logging

logger = logging.getLogger(__name__)

MAIL_TASK = "pretix.base.services.mail.mail_send_task"
# a marker in the retried task's kwargs; mail_send_task reads only "outgoing_mail" from its kwargs
REQUEUE = "pxc_requeue_inflight"
RETRY_DELAY_S = 2
MAX_RETRIES = 10


def retry_mail_cut_from_its_database(run):
    """Wrap mail_send_task's run: on a database error, retry the task in RETRY_DELAY_S (its next connection then waits
    for the new primary). The retry first puts the mail back from "inflight" to "queued" when the cut attempt had
    marked it so, as pretix's own sweep does an hour later: an attempt cut after its SMTP send (before it could save
    "sent") mails twice, which beats a confirmation that never arrives."""
    @functools.wraps(run)
    def run_or_retry(task, *args, **kwargs):
        from django.db.utils import InterfaceError, OperationalError
        requeue = kwargs.pop(REQUEUE, False)
        try:
            if requeue:
                _requeue_if_inflight(kwargs.get("outgoing_mail"))
            return run(task, *args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            logger.warning("mail %s: database connection lost (%s), again in %d s", kwargs.get("outgoing_mail"),
                           _first_line(exc), RETRY_DELAY_S)
            raise task.retry(exc=exc, kwargs={**kwargs, REQUEUE: True}, countdown=RETRY_DELAY_S,
                             max_retries=MAX_RETRIES)
    return run_or_retry


def _requeue_if_inflight(pk) -> None:
    from pretix.base.models.mail import OutgoingMail
    moved = OutgoingMail.objects.filter(pk=pk, status=OutgoingMail.STATUS_INFLIGHT).update(
        status=OutgoingMail.STATUS_QUEUED)
    if moved:
        logger.warning("mail %s: back from inflight to queued after a lost database connection", pk)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


ANNOTATIONS = {MAIL_TASK: {"@run": retry_mail_cut_from_its_database}}
