"""Node-level faults of the lab, injected from this machine: a node cut off the network, its engine killed."""
from __future__ import annotations

import os
import signal

from ..core.errors import LabError
from . import spec as L
from .procs import sh
from .runtime import ensure_dockerds
from .state import alive


def cut(spec: L.LabSpec, node: str) -> None:
    sh(L.link_argv(spec, node, up=False))


def reconnect(spec: L.LabSpec, node: str) -> None:
    sh(L.link_argv(spec, node, up=True))


def kill_engine(spec: L.LabSpec, node: str) -> None:
    """SIGKILL the node's dockerd, as a crash of the engine would."""
    pid = alive(spec, f"{node}-dockerd")
    if not pid:
        raise LabError(f"{node}'s dockerd is not running: bring the lab up first (inv lab.up)")
    os.kill(pid, signal.SIGKILL)


def restart_engine(spec: L.LabSpec) -> list[str]:
    """Start every dockerd that is gone (its leftover containers are cleared first, as after a reboot)."""
    return ensure_dockerds(spec)
