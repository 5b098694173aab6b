"""Run in a pretix container (pretix shell): a mail task whose database connection is cut mid-query is sent anyway.

The cut is real: this session holds the mail's row lock, so the worker's mail_send_task waits inside its
SELECT ... FOR UPDATE; its server process is then terminated (pg_terminate_backend, allowed for the same role),
and the worker sees the connection close as it did when a drill killed the leader. Prints one line per step.
"""
import time

from django.db import connection, transaction
from pretix.base.models.mail import OutgoingMail
from pretix.celery_app import app

TASK = "pretix.base.services.mail.mail_send_task"
# pretix tags each query with its task's name; the text is cut at 1 kB, before the statement's FOR UPDATE
WAITING = ("SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
           " AND query LIKE '%task=pretix.base.services.mail.mail_send_task %'")


def waiting_pid(cursor, seconds: float = 60):
    """The server process of the worker's query that waits for our lock."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        cursor.execute(WAITING)
        row = cursor.fetchone()
        if row:
            return row[0]
        time.sleep(0.2)
    return None


def final_status(pk: int, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    status = ""
    while time.monotonic() < deadline:
        status = OutgoingMail.objects.get(pk=pk).status
        if status not in (OutgoingMail.STATUS_QUEUED, OutgoingMail.STATUS_INFLIGHT):
            break
        time.sleep(0.5)
    return status


mail = OutgoingMail.objects.create(subject="pretix-cluster: a mail task cut from its database", body_plain="test",
                                   sender="shop@pretix.invalid", to=["cut@pretix.invalid"], recipient_count=1)
print("mail", mail.pk)
with transaction.atomic():
    OutgoingMail.objects.select_for_update().get(pk=mail.pk)
    app.send_task(TASK, kwargs={"outgoing_mail": mail.pk})  # not the task's apply_async: that waits for our commit
    with connection.cursor() as c:
        pid = waiting_pid(c)
        print("task waiting in pid", pid)
        if pid:
            c.execute("SELECT pg_terminate_backend(%s)", [pid])
            print("terminated", c.fetchone()[0])
    time.sleep(0.5)
print("status:", final_status(mail.pk))
