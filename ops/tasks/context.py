"""Glue between Invoke tasks and the library: settings, shared flag help, cluster selection, errors -> Exit."""
from __future__ import annotations

import functools
import inspect
import os
import sys
from pathlib import Path

import invoke
from invoke.exceptions import Exit

from ..core.errors import OpsError
from ..core.files import private_dir
from ..core.inventory import Cluster, load_cluster

PROJECT = Path(__file__).resolve().parents[2]

#: Help of the flags many tasks share, defined once.
HELP = {
    "cluster": "cluster inventory name (clusters/NAME.yaml; default from invoke.yaml)",
    "seed": "seed file naming organizer, event, products (default scripts/seed.yaml)",
}


def setting(c, key: str):
    """A value from invoke.yaml's `pxc:` section (env PXC_<KEY> wins, for tests and CI). Defaults live there."""
    env = os.environ.get(f"PXC_{key.upper()}")
    if env is not None:
        return env
    settings = c.config.get("pxc", {})
    if key not in settings:
        raise OpsError(f"setting pxc.{key} is missing from invoke.yaml: add it (see the repository's invoke.yaml)")
    return settings[key]


def project_path(value: str) -> Path:
    p = Path(os.path.expanduser(str(value)))
    return p if p.is_absolute() else PROJECT / p


def clusters_dir(c) -> Path:
    return project_path(setting(c, "clusters_dir"))


def cache_dir(c) -> Path:
    return project_path(setting(c, "cache_dir"))


def state_dir(c, cluster: str) -> Path:
    """Per-cluster local state (generated secrets, tokens): outside the repo, 0700."""
    return private_dir(project_path(setting(c, "state_dir")) / cluster)


def load(c, name: str | None) -> Cluster:
    return load_cluster(name or setting(c, "cluster"), clusters_dir(c))


def expected_errors(task_fn):
    """Expected failures end the task with their one-line message and exit code 1, never a traceback."""
    @functools.wraps(task_fn)
    def wrapper(*args, **kwargs):
        try:
            return task_fn(*args, **kwargs)
        except OpsError as exc:
            raise Exit(f"error: {exc}", 1) from None
    return wrapper


def task(*args, **kwargs):
    """invoke.task without auto short flags (they collide with -h/--help); long flags only. A task with positional
    arguments answers `--help` too: Invoke hands that word to the missing positional argument instead."""
    kwargs.setdefault("auto_shortflags", False)
    if args and callable(args[0]):
        return task(**kwargs)(args[0])

    def decorate(fn):
        positional = kwargs.get("positional")
        if positional is None:  # Invoke's rule: the arguments without a default
            params = list(inspect.signature(fn).parameters.values())[1:]
            positional = [p.name for p in params if p.default is inspect.Parameter.empty]
        body = answers_help(fn, kwargs.get("name") or fn.__name__, positional, kwargs.get("help") or {}) \
            if positional else fn
        return invoke.task(*args, **kwargs)(body)
    return decorate


def answers_help(fn, name: str, positional, flags: dict):
    """fn, printing its help instead of running when a positional argument is --help or -h."""
    @functools.wraps(fn)
    def wrapper(c, *args, **kwargs):
        if any(v in ("--help", "-h") for v in [*args, *(kwargs.get(p) for p in positional)]):
            print(help_text(typed_name(name), fn.__doc__ or "", positional, flags, defaults(fn)))
            return None
        return fn(c, *args, **kwargs)
    return wrapper


def defaults(fn) -> dict:
    """The default of each flag of a task function (its kind in the help: a switch, a number or a string)."""
    params = list(inspect.signature(fn).parameters.values())[1:]
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def flag_line(flag: str, text: str, default=None) -> str:
    """One option as Invoke shows it: --dry-run for a switch, --tail=INT, --service=STRING."""
    kind = "" if isinstance(default, bool) else "=INT" if isinstance(default, int) else "=STRING"
    return f"  --{flag.replace('_', '-')}{kind}  {text}"


def typed_name(name: str) -> str:
    """The task's name as typed (with its namespace: mail.test), from the word before --help on the command line."""
    words = sys.argv
    at = next((i for i, w in enumerate(words) if w in ("--help", "-h")), 0)
    return words[at - 1] if at > 1 and words[at - 1].endswith(name) else name


def help_text(name: str, doc: str, positional, flags: dict, flag_defaults: dict | None = None) -> str:
    """Invoke's help layout: usage, the docstring, one line per flag."""
    args = " ".join(f"<{p}>" for p in positional)
    lines = [f"Usage: inv[oke] [--core-opts] {name} [--options] {args}".rstrip(), "", "Docstring:"]
    lines += [f"  {line.strip()}" for line in doc.strip().splitlines()] + ["", "Options:"]
    lines += [flag_line(flag, text, (flag_defaults or {}).get(flag)) for flag, text in flags.items()]
    return "\n".join(lines)
