"""`inv build.*`: the images of the stack, built on the cluster's build node and pushed to its registry."""
from __future__ import annotations

import os
import time
from pathlib import Path

from invoke import Collection

from .base import ensure_base
from .context import expected_errors, load, setting, task
from .remote import Remote, say

CLUSTER_HELP = "cluster inventory name (clusters/NAME.yaml; default from invoke.yaml)"


def cache_dir(c) -> Path:
    return Path(os.path.expanduser(setting(c, "cache_dir", "~/.cache/pretix-cluster")))


@task(help={"cluster": CLUSTER_HELP, "force": "rebuild and push even if the registry has it"})
@expected_errors
def base(c, cluster=None, force=False):
    """Make the Debian bookworm base image (debootstrap offline, cached; or pull) and push it."""
    cl = load(c, cluster)
    started = time.monotonic()
    with Remote(cl) as remote:
        result = ensure_base(remote, cl, cache_dir(c), setting(c, "debian_mirror"), force=force)
    say(f"base: {result} ({time.monotonic() - started:.1f}s)")


ns = Collection("build", base)
