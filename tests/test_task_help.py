"""Every task answers `inv TASK --help` with its usage and never runs: also the tasks with positional arguments,
to which Invoke would otherwise hand the word `--help` as their value."""
import copy
import re

import pytest
from invoke import Program

import tasks
from ops.tasks.context import help_text


# Invoke consumes a task's help dict when it builds a parser from it (one Program per process): this pristine
# copy is taken at collection, before any test parses the tree, and each test parses a copy of it
PRISTINE = copy.deepcopy(tasks.ns)


def tasks_by_name(coll, prefix=""):
    for name, t in coll.tasks.items():
        yield prefix + name, t
    for sub, c in coll.collections.items():
        yield from tasks_by_name(c, f"{prefix}{sub}.")


@pytest.mark.parametrize("name", sorted(name for name, _ in tasks_by_name(PRISTINE)))
def test_every_task_prints_help_without_running(name, capsys):
    Program(namespace=copy.deepcopy(PRISTINE), binary="inv").run(["inv", name, "--help"], exit=False)
    out = capsys.readouterr().out
    assert out.startswith("Usage: inv") and "Docstring:" in out, out
    assert "error:" not in out and "$ docker" not in out, out
    assert not bare_flags(out), f"{name}: flags without help: {bare_flags(out)}"


def bare_flags(help_out: str) -> list[str]:
    """The flags of Invoke's Options section with no help text (on their line or the lines wrapped after it)."""
    entries: list[list[str]] = []
    for line in help_out.split("Options:", 1)[-1].splitlines():
        if re.match(r"\s+-", line):
            entries.append(line.split())
        elif entries:
            entries[-1] += line.split()
    return [words[0] for words in entries if not [w for w in words[1:] if not w.startswith("-")]]


def test_help_text_lists_positional_arguments_and_flags():
    text = help_text("restart", "Restart a service.\n", ["service"], {"service": "which", "dry_run": "only show"})
    assert text == ("Usage: inv[oke] [--core-opts] restart [--options] <service>\n\nDocstring:\n  Restart a service."
                    "\n\nOptions:\n  --service=STRING  which\n  --dry-run=STRING  only show")


def test_help_text_shows_switches_and_numbers_as_invoke_does():
    text = help_text("logs", "Show logs.\n", ["service"], {"service": "which", "follow": "keep going", "tail": "lines"},
                     {"follow": False, "tail": 50, "cluster": None})
    assert text.splitlines()[-3:] == ["  --service=STRING  which", "  --follow  keep going", "  --tail=INT  lines"]
