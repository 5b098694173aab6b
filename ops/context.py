"""Glue between Invoke tasks and the ops library: settings, cluster selection, expected errors -> Exit."""
from __future__ import annotations

import functools
import os
from pathlib import Path

import invoke
from invoke.exceptions import Exit

from .errors import OpsError
from .inventory import Cluster, load_cluster

PROJECT = Path(__file__).resolve().parent.parent


def setting(c, key: str, default=None):
    """A value from invoke.yaml's `pxc:` section (env PXC_<KEY> wins, for tests and CI)."""
    env = os.environ.get(f"PXC_{key.upper()}")
    if env is not None:
        return env
    return c.config.get("pxc", {}).get(key, default)


def clusters_dir(c) -> Path:
    d = Path(setting(c, "clusters_dir", "clusters"))
    return d if d.is_absolute() else PROJECT / d


def state_dir(c, cluster: str) -> Path:
    """Per-cluster local state (generated secrets, tokens): outside the repo, 0700."""
    d = Path(os.path.expanduser(setting(c, "state_dir", "~/.local/state/pretix-cluster"))) / cluster
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(d, 0o700)
    return d


def cluster_name(c, name: str | None) -> str:
    return name or setting(c, "cluster", "lab")


def load(c, name: str | None) -> Cluster:
    return load_cluster(cluster_name(c, name), clusters_dir(c))


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
