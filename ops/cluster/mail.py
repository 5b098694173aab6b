"""Mail: the relay's password from the operator's state dir (into pretix.cfg, a Docker secret), and a test message
sent from inside the cluster through the relay pretix.cfg names, with the relay's answer."""
from __future__ import annotations

import os
import time
from pathlib import Path

from ..builders import pretix as P
from ..core.errors import OpsError
from ..core.files import read_text
from ..core.inventory import MAIL_PASSWORD_FILE
from ..core.output import MASKER
from ..core.remote import Remote
from ..core.retry import poll
from ..facts import pretix as F
from .containers import in_one


def relay_password(cl, state: Path) -> str | None:
    """The relay's password when the inventory names a mail user: <state>/mail_password, 0600, one line."""
    if not cl.mail.user:
        return None
    path = state / MAIL_PASSWORD_FILE
    password = read_text(path)
    if not password:
        raise OpsError(f"mail.user {cl.mail.user!r} is set in {cl.path} but {path} is missing or empty: write the "
                       f"relay's password there (one line, chmod 600), then deploy")
    if os.stat(path).st_mode & 0o077:
        raise OpsError(f"{path} can be read by other users: `chmod 600 {path}`")
    MASKER.add(password)
    return password


def send_test(remote: Remote, cl, to: str) -> tuple[dict, str]:
    """Send a test message through the configured relay from a web container: (the relay's answer, subject)."""
    if "@" not in to or any(c.isspace() for c in to):
        raise OpsError(f"{to!r} is not an email address: give one, e.g. `inv mail.test ops@example.org`")
    subject = f"pretix-cluster mail test {time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    r = in_one(remote, cl, "web", P.mail_test(to, subject), timeout=90)
    if r is None:
        raise OpsError(f"no web container runs on {cl.name}: the test is sent from one (`inv status`)")
    if r.error:
        raise OpsError(f"no node with a web container answered: {r.describe()}")
    return F.parse_mail_test(r.stdout + r.stderr), subject


def undelivered(remote: Remote, cl, addresses: set[str], timeout: float = 120) -> set[str]:
    """The addresses the lab's mail sink has no message for yet, waiting up to timeout seconds (mail leaves
    through the Celery workers, after the order). Only the lab's sink can be read: a real relay cannot."""
    if not cl.mail.is_sink:
        raise OpsError(f"{cl.name} sends mail through a real relay ({cl.mail.host}): only a lab's sink can be audited")
    want, missing = {a.lower() for a in addresses}, set()

    def arrived() -> bool:
        results = remote.run_all(cl.nodes, P.sink_recipients(cl.stack), timeout=60, echo=False)
        found = set().union(*(F.parse_recipients(r.stdout) for r in results.values() if r.ok))
        missing.clear()
        missing.update(want - found)
        return not missing

    if not poll(arrived, timeout, first=1, cap=10):
        return set(missing or want)
    return set()
