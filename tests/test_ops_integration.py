"""Day-2 operations on the deployed lab stack: audit log and status, maintenance page, mail through the lab's sink,
planned switchovers and a worker restart under purchase load (no purchase may fail), rollback refused after a migration, done without."""
import re
import time

import pytest
import requests

from tests.labs import STACK_LAB, inv
from tests.underload import around, inv_action

pytestmark = pytest.mark.integration
URL = f"http://127.0.0.1:{STACK_LAB['PXC_LAB_HTTP_PORT']}"


def sinv(*args, **kw):
    return inv(*args, lab=STACK_LAB, **kw)


def one_line_error(p):
    assert p.returncode == 1, p.stdout[-2000:]
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    return lines[0]


def lock_dir():
    return f"/var/tmp/pxc-{STACK_LAB['PXC_CLUSTER']}-pretix.deploy-lock"


def test_history_shows_the_deploy(stack):
    out = sinv("history", "--limit", "5").stdout
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  \S+@\S+ +deploy .* ok \(\d+ s\)", out), out
    assert "    images: " in out and "pretix:" in out


def test_status_shows_last_deploy_and_a_held_lock(stack):
    out = sinv("status").stdout
    assert "last deploy: deploy " in out and "deploy lock: free" in out and "maintenance: off" in out, out
    sinv("cluster.run", "--node", "n1", f"mkdir {lock_dir()} && echo ci@elsewhere > {lock_dir()}/owner")
    try:
        assert "deploy lock: HELD on n1 by ci@elsewhere" in sinv("status").stdout
        error = one_line_error(sinv("deploy", check=False))
        assert "is held by ci@elsewhere" in error and "`inv unlock`" in error
    finally:
        sinv("unlock")
    assert "deploy lock: free" in sinv("status").stdout
    assert re.search(r"unlock +ok", sinv("history", "--limit", "3").stdout)


def test_maintenance_page_is_503_with_retry_after(stack):
    sinv("maintenance", "--on")
    try:
        r = requests.get(f"{URL}/", timeout=10, allow_redirects=False)
        assert r.status_code == 503 and r.headers.get("Retry-After") == "30", r.status_code
        assert "Back in a minute" in r.text and r.headers["Content-Type"].startswith("text/html")
        assert requests.get(f"{URL}/nginx-health", timeout=10).status_code == 200
        assert "maintenance: ON" in sinv("status").stdout
    finally:
        sinv("maintenance", "--off")
    assert requests.get(f"{URL}/healthcheck/", timeout=10).status_code == 200


def test_mail_test_goes_through_the_lab_sink(stack):
    out = sinv("mail.test", "ops@example.org", timeout=300).stdout
    assert "relay mail:25 (plain, no login)" in out and "accepted, the relay answered 250" in out, out
    subject = re.search(r"subject: (pretix-cluster mail test \S+)", out).group(1)
    logs = sinv("logs", "mail", "--tail", "30").stdout
    assert subject in logs and "to=ops@example.org" in logs.replace("['", "").replace("']", ""), logs[-2000:]
    assert one_line_error(sinv("mail.test", "nobody", check=False)).endswith("is not an email address: give one, "
                                                                             "e.g. `inv mail.test ops@example.org`")


def assert_no_failed_purchase(figures):
    print(figures)   # the measured figures, for the report (pytest -s)
    assert figures["outcome"]["exit"] == 0, figures["outcome"]["out"]
    assert figures["purchases"]["completed"] > 0, figures
    assert figures["purchases"]["failed"] == 0, figures["failed"]
    assert figures["lost"] == [] and figures["audit_ok"], figures["audit"]


def test_failover_db_under_load_fails_no_purchase(seeded):
    status = sinv("status").stdout
    replica = re.search(r"(pg\d) replica ", status)
    if replica:
        error = one_line_error(sinv("failover.db", "--to", replica.group(1), check=False))
        assert "is not the synchronous standby" in error
    figures = around(STACK_LAB, inv_action(STACK_LAB, "failover.db"), buyers=3, before_s=10, budget_s=45, after_s=10)
    assert_no_failed_purchase(figures)
    assert any("is the leader, serving through pg-proxy" in line for line in figures["outcome"]["out"])
    status = sinv("status").stdout
    assert len(re.findall(r"postgres: leader pg\d", status)) == 1 and "DEGRADED" not in status, status


def test_failover_redis_under_load_fails_no_purchase(seeded):
    """Writes wait on the old master (its min-replicas-to-write lowered meanwhile: a write refused for want of
    replicas came before the pause), the clients move once the new master counts a replica, and what the move
    cuts is sent again (pretix's cache and sessions, the web's task messages): measured in the lab, 8 runs of 3-6
    buyers, no failed purchase (before: 1-6 per run)."""
    figures = around(STACK_LAB, inv_action(STACK_LAB, "failover.redis"), buyers=3, before_s=10, budget_s=35,
                     after_s=10)
    assert_no_failed_purchase(figures)
    assert any("is the master, serving through redis-proxy" in line for line in figures["outcome"]["out"])
    assert "DEGRADED" not in sinv("status").stdout


def test_worker_restart_under_load_loses_no_order_and_no_mail(seeded):
    """`inv restart worker` while buyers buy: Swarm replaces one worker after the other (start-first), a stopped
    worker finishes what it runs and hands back what it holds; every confirmed order and its mail arrive."""
    figures = around(STACK_LAB, inv_action(STACK_LAB, "restart", "worker"), buyers=3, before_s=10, budget_s=150,
                     after_s=10, mails=True)
    assert_no_failed_purchase(figures)
    assert any("restart: worker converged in" in line for line in figures["outcome"]["out"])
    assert figures["unmailed"] == [], figures["unmailed"]
    error = one_line_error(sinv("restart", "pg1", check=False))
    assert "restart takes one of web, worker," in error and "inv failover.db" in error


def test_nginx_restart_under_load_fails_no_purchase(seeded):
    """`inv restart nginx` while buyers buy: each node's nginx drains (404 to the entry load balancer, its requests
    in flight finish) before it stops, so the load balancer never cuts a request."""
    figures = around(STACK_LAB, inv_action(STACK_LAB, "restart", "nginx"), buyers=3, before_s=10, budget_s=120,
                     after_s=10)
    assert_no_failed_purchase(figures)
    assert any("restart: nginx converged in" in line for line in figures["outcome"]["out"])


FAKE = "('pxctest', '0001_fake')"


def on_the_leader(sql):
    """Run SQL in every pg container: only the leader can write, the standbys refuse (ignored)."""
    loop = ("for s in pg1 pg2 pg3; do for c in $(docker ps -q --filter label=com.docker.swarm.service.name=pretix_$s);"
            f" do docker exec -u postgres $c psql -h /var/run/postgresql -d pretix -XtAc \"{sql}\" || true; done; done")
    sinv("cluster.run", loop, check=False)


def test_rollback_refused_after_a_migration_done_without(seeded):
    tag = f"ops{int(time.time())}"
    sinv("build", "--only", "mailsink", "--tag", tag, timeout=900)
    sinv("deploy", timeout=900)
    assert f"mailsink:{tag}" in sinv("status").stdout
    on_the_leader(f"insert into django_migrations (app, name, applied) values {FAKE[:-1]}, now())")
    try:
        error = one_line_error(sinv("rollback", check=False))
        assert "rollback refused: 1 migration(s) ran since the images of" in error and "pxctest.0001_fake" in error
        assert "inv restore --" in error
    finally:
        on_the_leader(f"delete from django_migrations where (app, name) = {FAKE}")
    out = sinv("rollback", timeout=900).stdout
    assert "rollback: done" in out
    assert f"mailsink:{tag}" not in sinv("status").stdout
    assert re.search(r"rollback +ok", sinv("history", "--limit", "3").stdout)
