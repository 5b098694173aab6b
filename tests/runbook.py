"""RUNBOOK.md's commands and the integration test that runs each one (kept here so a new entry cannot go untested)."""
from __future__ import annotations

import re
from pathlib import Path

RUNBOOK = Path(__file__).resolve().parent.parent / "RUNBOOK.md"

_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
_INLINE = re.compile(r"`(inv [^`]+)`")
_PLACEHOLDERS = {"SET_ID": "{set_id}", "NODE": "{node}"}


def commands(text: str) -> list[str]:
    """Every `inv ...` command: the lines of sh blocks (comments cut) and inline code, in order, once each."""
    found = []
    for block in _BLOCK.findall(text):
        found += [line.split("  #")[0].strip() for line in block.splitlines() if line.strip().startswith("inv ")]
    found += _INLINE.findall(_BLOCK.sub("", text))
    return list(dict.fromkeys(found))


def placeholders_filled(command: str) -> str:
    """The runbook's placeholders as format fields, for a test to fill with the lab's values."""
    return " ".join(_PLACEHOLDERS.get(word, word) for word in command.split(" "))


_RB = "tests/test_runbook_integration.py::"
_OPS = "tests/test_ops_integration.py::"
_BK = "tests/test_backup_integration.py::"
_AS_WRITTEN = _RB + "test_first_look_and_diagnostics_as_written"

#: each runbook command -> the integration test that runs it (as written, placeholders filled)
COVERED = {
    "inv status": _AS_WRITTEN,
    "inv history --limit 5": _AS_WRITTEN,
    "inv logs nginx --tail 30": _AS_WRITTEN,
    "inv logs web --tail 50": _AS_WRITTEN,
    "inv logs worker --tail 50": _AS_WRITTEN,
    "inv logs pg1 --tail 40": _AS_WRITTEN,
    "inv logs sentinel1 --tail 40": _AS_WRITTEN,
    "inv logs redis-proxy --tail 30": _AS_WRITTEN,
    "inv logs migrate --tail 60": _AS_WRITTEN,
    "inv cluster.check": _AS_WRITTEN,
    'inv cluster.run "df -h / /var/lib/docker"': _AS_WRITTEN,
    'inv cluster.run "docker system df"': _AS_WRITTEN,
    'inv cluster.run "docker container prune -f; docker image prune -f"': _AS_WRITTEN,
    'inv cluster.run "uptime"': _AS_WRITTEN,
    "inv mail.test oncall@example.org": _AS_WRITTEN,
    "inv scale web=3": _RB + "test_scale_web_up_and_back_as_written",
    "inv restart worker": _OPS + "test_worker_restart_under_load_loses_no_order_and_no_mail",
    "inv scale web=2": _RB + "test_scale_web_up_and_back_as_written",
    "inv unlock": _OPS + "test_status_shows_last_deploy_and_a_held_lock",
    "inv maintenance --on": _OPS + "test_maintenance_page_is_503_with_retry_after",
    "inv maintenance --off": _OPS + "test_maintenance_page_is_503_with_retry_after",
    "inv failover.db": _OPS + "test_failover_db_under_load_fails_no_purchase",
    "inv failover.db --to NODE": _OPS + "test_failover_db_under_load_fails_no_purchase",
    "inv failover.redis": _OPS + "test_failover_redis_under_load_fails_no_purchase",
    "inv rollback": _OPS + "test_rollback_refused_after_a_migration_done_without",
    "inv backup": _BK + "test_backup_list_check_and_restore_a_set",
    "inv backup.list": _BK + "test_backup_list_check_and_restore_a_set",
    "inv backup.check": _BK + "test_backup_list_check_and_restore_a_set",
    "inv restore --set SET_ID": _BK + "test_backup_list_check_and_restore_a_set",
    "inv restore --time TIME": _BK + "test_point_in_time_restore_brings_a_deleted_event_back",
    "inv drill.partition": "tests/test_drills_integration.py::test_node_partitioned_under_load",
    "inv drill.db": "tests/test_drills_integration.py::test_db_leader_killed_under_load",
    "inv bench": "tests/test_bench_integration.py::test_short_bench_verifies_its_orders_and_writes_the_report",
    "inv deploy": "tests/test_stack_integration.py::test_second_deploy_changes_nothing",
}
