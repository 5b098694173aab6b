"""RUNBOOK.md stays true: every `inv` command in it parses against the real task tree (task and flags exist), and
names the integration test that runs it."""
import ast
import re
import shlex
from pathlib import Path

import pytest
from invoke import Parser

import tasks
from tests.runbook import COVERED, RUNBOOK, commands, placeholders_filled

ROOT = Path(__file__).resolve().parent.parent


def test_commands_are_found_in_blocks_and_inline_code():
    text = "x\n```sh\ninv status\ninv logs web --tail 5   # why\n```\nthen `inv unlock`, not `docker ps`.\n"
    assert commands(text) == ["inv status", "inv logs web --tail 5", "inv unlock"]


def test_placeholders_are_filled_for_a_run():
    assert placeholders_filled("inv restore --set SET_ID") == "inv restore --set {set_id}"
    assert placeholders_filled("inv failover.db --to NODE") == "inv failover.db --to {node}"


RUNBOOK_COMMANDS = commands(RUNBOOK.read_text())


@pytest.mark.parametrize("command", RUNBOOK_COMMANDS)
def test_runbook_command_is_a_real_task_with_real_flags(command):
    parser = Parser(contexts=tasks.ns.to_contexts())
    parsed = parser.parse_argv(shlex.split(command)[1:])
    assert parsed and all(ctx.name for ctx in parsed), command
    assert not parsed.unparsed, f"{command}: left over {parsed.unparsed}"


def defined_tests(path: Path) -> set[str]:
    return {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("command", RUNBOOK_COMMANDS)
def test_runbook_command_names_an_integration_test_that_exists(command):
    test_id = COVERED.get(command)
    assert test_id, f"{command!r} has no integration test: add it to tests/runbook.py COVERED"
    file, _, name = test_id.partition("::")
    assert re.fullmatch(r"tests/test_\w+_integration\.py", file), test_id
    assert name in defined_tests(ROOT / file), f"{test_id} does not exist"


def test_no_stale_coverage_entries():
    assert sorted(set(COVERED) - set(RUNBOOK_COMMANDS)) == []
