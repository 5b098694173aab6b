"""Glue between Invoke tasks and the library: settings, shared flag help, cluster selection, errors -> Exit."""
from __future__ import annotations

import functools
import os
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
    """invoke.task without auto short flags (they collide with -h/--help); long flags only."""
    kwargs.setdefault("auto_shortflags", False)
    return invoke.task(*args, **kwargs)
