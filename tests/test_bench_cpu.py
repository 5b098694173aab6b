"""CPU per service from the nodes' cgroup counters: the command as a whole string, the parser on captured output
(tests/fixtures/bench: a 3-node lab running the HA stack), differences of two reads."""
from pathlib import Path

import pytest

from ops.bench.cpu import Sample, counters_command, difference, merge, parse_counters, short_name

FIX = Path(__file__).resolve().parent / "fixtures" / "bench"


def captured(kind: str) -> Sample:
    return merge([parse_counters((FIX / f"counters-{kind}-{n}.txt").read_text()) for n in ("n1", "n2", "n3")])


def test_counters_command_whole():
    assert counters_command("pretix") == (
        "echo now $(date +%s.%N); "
        "ids=$(docker ps -q --no-trunc --filter label=com.docker.stack.namespace=pretix); "
        "[ -n \"$ids\" ] && docker inspect --format '{{.Id}} {{.State.Pid}} {{index .Config.Labels "
        "\"com.docker.swarm.service.name\"}}' $ids | while read -r id pid svc; do "
        "v1=$(awk -F: '$2 ~ /(^|,)cpuacct(,|$)/ {print $3}' /proc/$pid/cgroup 2>/dev/null); "
        "v2=$(awk -F: '$1 == \"0\" {print $3}' /proc/$pid/cgroup 2>/dev/null); "
        "if [ -n \"$v1\" ] && [ -r /sys/fs/cgroup/cpuacct$v1/cpuacct.usage ]; then "
        "echo \"$id $svc cpuacct_ns $(cat /sys/fs/cgroup/cpuacct$v1/cpuacct.usage)\"; "
        "elif [ -r /sys/fs/cgroup$v2/cpu.stat ]; then "
        "echo \"$id $svc usage_usec $(awk '$1 == \"usage_usec\" {print $2}' /sys/fs/cgroup$v2/cpu.stat)\"; "
        "else echo \"$id $svc unknown -\"; fi; done; true")


def test_parse_captured_lab_output():
    s = captured("idle")
    services = sorted({svc for svc, _ in s.containers.values()})
    assert len(s.containers) == 25
    assert {"pretix_web", "pretix_worker", "pretix_pg1", "pretix_nginx", "pretix_sentinel3"} <= set(services)
    assert s.at == pytest.approx(1795946729.784, abs=1e-3)     # the latest node clock
    cron = next(v for svc, v in s.containers.values() if svc == "pretix_cron")
    assert cron == pytest.approx(6.497109474)


def test_parse_cgroup_v2_and_unreadable_lines():
    s = parse_counters("now 100.5\nabc pretix_web usage_usec 2500000\ndef pretix_nginx unknown -\nnoise\n")
    assert s.at == 100.5
    assert s.containers == {"abc": ("pretix_web", 2.5)}
    assert s.unreadable == ("pretix_nginx (def)",)


def test_difference_per_service_with_replaced_containers():
    before = Sample(10.0, {"a": ("pretix_web", 5.0), "b": ("pretix_web", 1.0), "gone": ("pretix_migrate", 9.0)})
    after = Sample(70.0, {"a": ("pretix_web", 8.0), "b": ("pretix_web", 2.5), "new": ("pretix_worker", 4.0)})
    d = difference(before, after, "pretix")
    assert d.seconds == 60.0
    assert d.by_service == {"web": 4.5, "worker": 4.0}
    assert d.total == 8.5
    assert d.cores() == {"web": 0.075, "worker": 0.0667}
    assert any("worker: container new started" in n for n in d.notes)
    assert any("migrate: container gone ended" in n for n in d.notes)


def test_difference_of_captured_reads_is_positive_and_names_every_service():
    s = captured("idle")
    later = Sample(s.at + 30, {k: (svc, v + 0.3) for k, (svc, v) in s.containers.items()})
    d = difference(s, later, "pretix")
    assert d.seconds == pytest.approx(30.0)
    assert d.by_service["pg-proxy"] == pytest.approx(0.6)     # two replicas
    assert d.total == pytest.approx(25 * 0.3)
    assert not d.notes


def test_node_errors_are_notes():
    d = difference(merge([], ("[n2] `...` failed: unreachable",)), Sample(1.0, {}), "pretix")
    assert d.notes == ("node did not answer: [n2] `...` failed: unreachable",)
    assert d.seconds == 0.0 and d.cores() == {}


def test_short_name():
    assert short_name("pretix_pg-proxy", "pretix") == "pg-proxy"
    assert short_name("baseline_web", "pretix") == "baseline_web"
