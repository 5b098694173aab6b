"""Mail: the inventory's relay (validated, password never in the file), pretix.cfg's [mail], the relay password from
the state dir, the SMTP test (its command, its answer), all without a cluster."""
import configparser
import json
import os

import pytest
import yaml

from ops.builders import pretix as P
from ops.cluster import mail as M
from ops.cluster.stackconfig import DEFAULT_MAIL_FROM, render_mail, render_pretix_cfg
from ops.core.errors import InventoryError, OpsError
from ops.core.inventory import Mail, load_cluster
from ops.facts import pretix as F
from ops.facts.pretix import mail_test_line, parse_mail_test

FIXED = {"pg_pretix_password": "pretix-pw", "redis_password": "redis-pw", "django_secret": "dj-secret"}
RELAY = Mail(host="smtp.example.org", port=587, tls=True, user="tickets", sender="tickets@example.org")


@pytest.fixture
def files(tmp_path):
    (tmp_path / "id").write_text("key\n")
    (tmp_path / "known_hosts").write_text("10.0.0.1 ssh-ed25519 AAAA\n")
    return tmp_path


def inventory(files, mail):
    data = {"registry": "r:5000", "ssh": {"key_file": "id", "known_hosts": "known_hosts"},
            "nodes": [{"name": "a", "address": "10.0.0.1"}]}
    if mail is not None:
        data["mail"] = mail
    path = files / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_default_is_the_stacks_sink(files):
    cl = load_cluster(inventory(files, None))
    assert cl.mail == Mail() and cl.mail.is_sink


def test_relay_from_the_inventory(files):
    cl = load_cluster(inventory(files, {"host": "smtp.example.org", "port": 587, "tls": True, "user": "tickets",
                                        "from": "tickets@example.org"}))
    assert cl.mail == RELAY and not cl.mail.is_sink


@pytest.mark.parametrize("mail, problem", [
    ({"host": "smtp", "password": "x"}, "mail.password must not be in the inventory: put the relay's password in "
                                         "the cluster's state dir as mail_password (mode 0600)"),
    ({"port": 25}, "mail.host is missing"),
    ({"host": "smtp", "port": 70000}, "mail.port 70000 is not a TCP port"),
    ({"host": "smtp", "tls": "yes"}, "mail.tls must be true or false, not 'yes'"),
    ({"host": "smtp", "tls": True, "ssl": True}, "mail.tls (STARTTLS) and mail.ssl (TLS from the start, port 465) "
                                                 "exclude each other"),
    ({"host": "smtp", "from": "nobody"}, "mail.from 'nobody' is not an email address"),
    ({"host": "smtp", "relay": 1}, "unknown key 'relay' in mail"),
    ("smtp", "'mail' must be a mapping"),
])
def test_bad_mail_sections_are_one_clear_line(files, mail, problem):
    with pytest.raises(InventoryError) as exc:
        load_cluster(inventory(files, mail))
    assert problem in str(exc.value)


def test_render_mail_whole():
    assert render_mail(Mail()) == f"[mail]\nfrom={DEFAULT_MAIL_FROM}\nhost=mail\nport=25\ntls=off\nssl=off\n"
    assert render_mail(RELAY, "pw") == ("[mail]\nfrom=tickets@example.org\nhost=smtp.example.org\nport=587\n"
                                        "user=tickets\npassword=pw\ntls=on\nssl=off\n")
    assert render_mail(Mail(host="smtp", port=465, ssl=True), mail_from="x@y") == \
        "[mail]\nfrom=x@y\nhost=smtp\nport=465\ntls=off\nssl=on\n"


@pytest.mark.parametrize("password", [None, "", "two\nlines", " padded"])
def test_render_mail_refuses_a_missing_or_unsafe_password(password):
    with pytest.raises(ValueError):
        render_mail(RELAY, password)


def test_pretix_cfg_carries_the_relay_for_pretix_to_read():
    cp = configparser.RawConfigParser()
    cp.read_string(render_pretix_cfg(FIXED, "https://t.example.org", mail=RELAY, mail_password="p%w"))
    assert dict(cp["mail"]) == {"from": "tickets@example.org", "host": "smtp.example.org", "port": "587",
                                "user": "tickets", "password": "p%w", "tls": "on", "ssl": "off"}


class Cl:
    def __init__(self, mail, path="clusters/prod.yaml"):
        self.mail, self.path = mail, path


def test_relay_password_from_the_state_dir(tmp_path):
    assert M.relay_password(Cl(Mail()), tmp_path) is None
    with pytest.raises(OpsError) as exc:
        M.relay_password(Cl(RELAY), tmp_path)
    assert str(exc.value) == (f"mail.user 'tickets' is set in clusters/prod.yaml but {tmp_path}/mail_password is "
                              f"missing or empty: write the relay's password there (one line, chmod 600), then deploy")
    (tmp_path / "mail_password").write_text("relay-pw\n")
    os.chmod(tmp_path / "mail_password", 0o644)
    with pytest.raises(OpsError, match="can be read by other users: `chmod 600"):
        M.relay_password(Cl(RELAY), tmp_path)
    os.chmod(tmp_path / "mail_password", 0o600)
    assert M.relay_password(Cl(RELAY), tmp_path) == "relay-pw"


def test_mail_test_command_passes_address_and_subject_as_arguments():
    cmd = P.mail_test("ops@example.org", "pretix-cluster mail test X")
    assert cmd.startswith("python3 -c '\nimport configparser")
    assert cmd.endswith(" ops@example.org 'pretix-cluster mail test X'")


def test_mail_test_answers():
    ok = {"relay": "mail:25", "tls": False, "ssl": False, "user": None, "from": "a@b", "to": "c@d",
          "answer": [250, "OK stored"], "seconds": 0.12}
    assert parse_mail_test("noise\n" + json.dumps(ok) + "\n") == ok
    assert mail_test_line(ok) == "relay mail:25 (plain, no login), a@b -> c@d: accepted, the relay answered 250 OK " \
                                 "stored (0.12 s)"
    bad = {"relay": "smtp:587", "tls": True, "user": "u", "from": "a@b", "to": "c@d",
           "error": "login failed: SMTPAuthenticationError: (535, b'bad credentials')"}
    assert mail_test_line(bad) == ("relay smtp:587 (STARTTLS, as u), a@b -> c@d: login failed: "
                                   "SMTPAuthenticationError: (535, b'bad credentials')")
    assert parse_mail_test("Traceback ...") == {"error": "no answer from the test: Traceback ..."}


def test_send_test_refuses_a_non_address():
    with pytest.raises(OpsError, match="is not an email address"):
        M.send_test(None, Cl(Mail()), "not an address")


def test_sink_recipients_are_read_from_the_to_headers():
    spool = ("To: buyer-1@example.org\nto: \"A B\" <Buyer-2@Example.org>, c@example.net\n"
             "Subject: To: nobody@example.org\nX-To: x@example.org\n")
    assert F.parse_recipients(spool) == {"buyer-1@example.org", "buyer-2@example.org", "c@example.net"}
    assert F.parse_recipients("") == set()
    assert P.sink_recipients("pretix") == (
        "d=$(docker volume inspect -f '{{.Mountpoint}}' pretix_mail_spool 2>/dev/null) || exit 0; "
        "cat \"$d\"/*.eml 2>/dev/null | grep -i '^To:' || true")
