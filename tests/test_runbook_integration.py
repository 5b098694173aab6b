"""RUNBOOK.md's first-look and diagnostic commands run as written on the deployed lab stack, each giving the output
the runbook says it gives; the scale step of the 500/502 entry."""
import re
import shlex
import time

import pytest

from tests.labs import STACK_LAB, inv
from tests.runbook import COVERED

pytestmark = pytest.mark.integration

#: what each command's output shows on a healthy lab (the runbook's "should look like")
EXPECT = {
    "inv status": r"postgres: leader pg\d .*\n.*etcd: 3/3 members healthy.*\n.*redis: sentinels 3/3 say master is "
                  r"redis\d(?s:.*)deploy lock: free(?s:.*)converged: yes",
    "inv history --limit 5": r"history of pretix on stacktest: \d+ of \d+ entries, newest first",
    "inv logs nginx --tail 30": r"pretix_nginx\.",
    "inv logs web --tail 50": r"pretix_web\.",
    "inv logs worker --tail 50": r"pretix_worker\.",
    "inv logs pg1 --tail 40": r"pretix_pg1\.",
    "inv logs sentinel1 --tail 40": r"pretix_sentinel1\.",
    "inv logs redis-proxy --tail 30": r"pretix_redis-proxy\.",
    "inv logs migrate --tail 60": r"pretix_migrate\.",
    "inv cluster.check": r"n1(?s:.*)n2(?s:.*)n3",
    'inv cluster.run "df -h / /var/lib/docker"': r"Filesystem +Size +Used",
    'inv cluster.run "docker system df"': r"Images +\d+",
    'inv cluster.run "docker container prune -f; docker image prune -f"': r"Total reclaimed space",
    'inv cluster.run "uptime"': r"load average",
    "inv mail.test oncall@example.org": r"mail.test: relay .* -> oncall@example.org: accepted, the relay answered 250",
}


def run(command):
    return inv(*shlex.split(command)[1:], lab=STACK_LAB, timeout=300)


def test_every_as_written_command_has_an_expectation():
    as_written = sorted(c for c, t in COVERED.items() if t.endswith("::test_first_look_and_diagnostics_as_written"))
    assert as_written == sorted(EXPECT)


def converged() -> bool:
    """The cluster whole again after the tests before this one (a failover restarts tasks); bounded."""
    for _ in range(30):
        if "converged: yes" in run("inv status").stdout:
            return True
        time.sleep(10)
    return False


def test_first_look_and_diagnostics_as_written(seeded):
    assert converged(), run("inv status").stdout
    for command, pattern in EXPECT.items():
        out = run(command).stdout
        assert re.search(pattern, out), f"{command}:\n{out[-3000:]}"


def test_scale_web_up_and_back_as_written(stack):
    assert "scale: web=3 converged" in run("inv scale web=3").stdout
    try:
        assert re.search(r"\n  web +3/3 ", run("inv status").stdout)
    finally:
        assert "scale: web=2 converged" in run("inv scale web=2").stdout
    assert re.search(r"\n  web +2/2 ", run("inv status").stdout)
