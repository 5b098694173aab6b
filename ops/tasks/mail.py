"""`inv mail.test ADDRESS`: a message through the SMTP relay pretix.cfg names, sent from inside the cluster."""
from __future__ import annotations

from invoke import Collection

from ..cluster import mail
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from ..facts.pretix import mail_test_line
from .context import HELP, expected_errors, load, task


@task(name="test", positional=["address"],
      help={"address": "the recipient of the test message", "cluster": HELP["cluster"]})
@expected_errors
def test_(c, address, cluster=None):
    """Send a test message from a web container through the configured relay and show the relay's answer."""
    cl = load(c, cluster)
    with Remote(cl, echo=False) as remote:
        answer, subject = mail.send_test(remote, cl, address)
    line = mail_test_line(answer)
    if "error" in answer:
        raise OpsError(f"mail.test: {line} (check the mail section of {cl.path} and `inv deploy`)")
    say(f"mail.test: {line}")
    say(f"  subject: {subject}" + (" (the lab's sink keeps it: `inv logs mail`)" if cl.mail.is_sink else ""))


ns = Collection("mail", test_)
