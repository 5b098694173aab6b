"""Builders of what runs inside pretix's own containers and images: the SMTP test, Django's migrations."""
from __future__ import annotations

from .docker import docker, sh

# Sends one message exactly the way pretix.cfg's [mail] section says (STARTTLS / TLS, login), from inside a pretix
# container, and prints the relay's answers as one JSON line. Arguments: recipient, subject. The password is read
# from the config file inside the container; it is never printed.
MAIL_TEST = r"""
import configparser, json, os, smtplib, socket, ssl, sys, time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
cp = configparser.RawConfigParser()
cp.read(os.environ.get("PRETIX_CONFIG_FILE", "/run/secrets/pretix_cfg"))
get = lambda key, default="": cp.get("mail", key, fallback=default)
on = lambda key: get(key, "off").strip().lower() in ("on", "true", "yes", "1")
to, subject = sys.argv[1], sys.argv[2]
out = {"relay": "%s:%s" % (get("host", "localhost"), get("port", "25")), "tls": on("tls"), "ssl": on("ssl"),
       "user": get("user") or None, "from": get("from", "pretix@localhost"), "to": to}
msg = EmailMessage()
msg["From"], msg["To"], msg["Subject"] = out["from"], to, subject
msg["Date"], msg["Message-ID"] = formatdate(localtime=False), make_msgid(domain="pretix-cluster")
msg.set_content("A test message from pretix-cluster (inv mail.test), sent from %s through the relay of pretix.cfg."
                % socket.gethostname())
step = "connect"
try:
    t0 = time.time()
    ctx = ssl.create_default_context()
    smtp = smtplib.SMTP_SSL(timeout=20, context=ctx) if out["ssl"] else smtplib.SMTP(timeout=20)
    code, banner = smtp.connect(get("host", "localhost"), int(get("port", "25")))
    out["banner"] = [code, banner.decode(errors="replace")]
    step = "ehlo"
    smtp.ehlo()
    if out["tls"]:
        step = "starttls"
        smtp.starttls(context=ctx)
        smtp.ehlo()
    if out["user"]:
        step = "login"
        smtp.login(out["user"], get("password"))
    step = "mail from"
    code, answer = smtp.mail(out["from"])
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, answer, out["from"])
    step = "rcpt to"
    code, answer = smtp.rcpt(to)
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({to: (code, answer)})
    step = "data"
    code, answer = smtp.data(msg.as_bytes())
    out["answer"] = [code, answer.decode(errors="replace")]
    out["seconds"] = round(time.time() - t0, 2)
    smtp.quit()
except Exception as exc:
    out["error"] = "%s failed: %s: %s" % (step, type(exc).__name__, exc)
print(json.dumps(out))
sys.exit(1 if "error" in out else 0)
"""


def mail_test(to: str, subject: str) -> str:
    return sh("python3", "-c", MAIL_TEST, to, subject)


def sink_recipients(stack: str) -> str:
    """The recipients of every message the lab's mail sink kept on this node, read from its spool volume on the
    host: a sink that Swarm moved to another node (its node cut off) left what it had received behind."""
    return (f"d=$(docker volume inspect -f '{{{{.Mountpoint}}}}' {stack}_mail_spool 2>/dev/null) || exit 0; "
            f"cat \"$d\"/*.eml 2>/dev/null | grep -i '^To:' || true")


# Django's applied migrations, read on the PostgreSQL leader (no pretix process needed): app.name per line.
APPLIED_MIGRATIONS = sh("psql", "-h", "/var/run/postgresql", "-U", "postgres", "-d", "pretix", "-XtA", "-c",
                        "select app || '.' || name from django_migrations order by 1")

# The migrations an image ships, read without any database (pretix's settings on a throw-away SQLite config).
_SHIPPED = ("import django; django.setup(); from django.db.migrations.loader import MigrationLoader; "
            "print(' '.join(sorted('%s.%s' % k for k in MigrationLoader(None, ignore_no_migrations=True)"
            ".disk_migrations)))")
_SCRATCH_CFG = "[pretix]\\ndatadir=/tmp/pxc-mig\\n[database]\\nbackend=sqlite3\\n"


def image_migrations(ref: str) -> str:
    """Run the image once, offline, and print the migrations it ships on one line ('app.name ...')."""
    inner = (f"mkdir -p /tmp/pxc-mig && printf '{_SCRATCH_CFG}' > /tmp/pxc-mig/pretix.cfg && "
             f"PRETIX_CONFIG_FILE=/tmp/pxc-mig/pretix.cfg python -c {sh(_SHIPPED)}")
    return docker("run", "--rm", "--network", "none", "--entrypoint", "sh", ref, "-c", inner)
