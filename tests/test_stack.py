"""Stack builders and parsers: deploy command, convergence, fed with captured docker output."""
from pathlib import Path

from ops.builders import stack as S
from ops.facts import stack as F

FIX = Path(__file__).parent / "fixtures"


def test_stack_deploy_command_carries_names_not_values():
    cmd = S.stack_deploy("pretix", "/tmp/s.yml", {"TAG": "c1", "REGISTRY": "r:5000", "SECRET_X": "pxc_x_ab"})
    assert cmd == ("env REGISTRY=r:5000 SECRET_X=pxc_x_ab TAG=c1 docker stack deploy --prune --resolve-image always "
                   "--compose-file /tmp/s.yml pretix")


def test_secret_create_reads_value_from_stdin():
    assert S.secret_create("pxc_django_secret_0123456789", "django_secret", "pretix") == (
        "docker secret create --label pxc.stack=pretix --label pxc.key=django_secret pxc_django_secret_0123456789 -")


def test_service_commands():
    assert S.service_logs("pretix_web", 5, True) == "docker service logs --no-task-ids --tail 5 --follow pretix_web"
    assert S.service_restart("pretix_worker") == "docker service update --detach --force pretix_worker"
    assert S.service_scale("pretix_web", 4, 2) == (
        "docker service update --detach --replicas 4 --replicas-max-per-node 2 pretix_web")
    assert S.stack_volumes_rm("pretix") == (
        "docker volume ls -q --filter label=com.docker.stack.namespace=pretix | xargs -r docker volume rm -f "
        ">/dev/null 2>&1; docker volume ls -q --filter label=com.docker.stack.namespace=pretix")


def test_parse_service_ls_captured():
    rows = F.parse_service_ls((FIX / "service_ls.jsonl").read_text())
    by = {r.short: r for r in rows}
    assert len(rows) == 17
    assert (by["web"].running, by["web"].desired) == (0, 2)
    assert (by["pgpool"].running, by["pgpool"].desired) == (2, 2)
    assert by["nginx"].mode == "global"


def test_converged_reports_what_is_pending():
    services = F.parse_service_ls((FIX / "service_ls.jsonl").read_text())
    tasks = F.parse_stack_ps((FIX / "stack_ps.jsonl").read_text())
    done, pending = F.converged(services, tasks, "pretix")
    assert not done
    assert pending == ["cron 0/1", "migrate: Running 6 minutes ago", "web 0/2", "worker 0/1"]


def test_converged_when_migrate_completed_and_all_running():
    services = [F.ServiceRow("pretix_web", "replicated", 2, 2, "r/pretix:t@sha256:1"),
                F.ServiceRow("pretix_migrate", "replicated", 0, 1, "r/pretix:t@sha256:1")]
    tasks = [F.TaskRow("pretix_migrate.1", "n1", "Shutdown", "Complete 1 minute ago", "", "r/pretix:t@sha256:1")]
    assert F.converged(services, tasks, "pretix") == (True, [])
    old = [F.TaskRow("pretix_migrate.1", "n1", "Shutdown", "Complete 9 minutes ago", "", "r/pretix:old@sha256:0")]
    assert F.converged(services, old, "pretix") == (False, ["migrate: Complete 9 minutes ago"])


def test_failing_services_need_repeated_failures():
    t = [F.TaskRow("pretix_web.1", "n1", "Shutdown", "Failed 1 minute ago", "task: non-zero exit (1)", "i")] * 3
    assert list(F.failing_services(t)) == ["pretix_web"]
    assert F.failing_services(t[:2]) == {}


def test_probe_parser():
    assert F.parse_probe("pg1|f \npg2|t \nnoise\n") == {"pg1": "f", "pg2": "t"}


def test_update_states_of_this_deploy_decide():
    states = F.parse_update_states("pretix_web updating\npretix_pg-proxy rollback_completed\npretix_nginx none\n"
                                   "pretix_redis1 completed\n")
    assert F.updates_pending(states, ["pretix_web", "pretix_redis1"]) == (["web updating"], [])
    assert F.updates_pending(states, ["pretix_pg-proxy"]) == ([], ["pretix_pg-proxy"])
    assert F.updates_pending(states, []) == ([], [])   # an old rollback is history, not this deploy's failure
