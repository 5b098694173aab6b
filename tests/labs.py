"""The labs integration tests run on: their own names, subnets and ports (never a person's `lab`), and `inv`."""
import os
import subprocess
import sys
from pathlib import Path

import yaml

from ops.lab.spec import LabSpec

PROJECT = Path(__file__).resolve().parent.parent

TEST_LAB = {
    "PXC_LAB_NAME": "pxtest",
    "PXC_LAB_CLUSTER": "labtest",
    "PXC_LAB_SUBNET": "10.78.0",
    "PXC_LAB_HTTP_PORT": "28080",
    "PXC_LAB_EGRESS_PORT": "28889",
    "PXC_CLUSTER": "labtest",
}
STACK_LAB = {
    "PXC_LAB_NAME": "pxstack",
    "PXC_LAB_CLUSTER": "stacktest",
    "PXC_LAB_SUBNET": "10.80.0",
    "PXC_LAB_HTTP_PORT": "28180",
    "PXC_LAB_EGRESS_PORT": "28890",
    "PXC_CLUSTER": "stacktest",
}


def defaults() -> dict:
    """invoke.yaml's `pxc:` settings (the tasks' defaults)."""
    return yaml.safe_load((PROJECT / "invoke.yaml").read_text())["pxc"]


def lab_spec(lab: dict) -> LabSpec:
    """The LabSpec a lab's settings describe (the rest from invoke.yaml, like the tasks do)."""
    pxc = defaults()
    return LabSpec(name=lab["PXC_LAB_NAME"], cluster=lab["PXC_LAB_CLUSTER"], nodes=int(pxc["lab_nodes"]),
                   subnet=lab["PXC_LAB_SUBNET"], root=pxc["lab_root"], http_port=int(lab["PXC_LAB_HTTP_PORT"]),
                   egress_port=int(lab["PXC_LAB_EGRESS_PORT"]))


def inv(*args, env=None, check=True, timeout=600, lab=TEST_LAB):
    """Run a task through the real CLI, as a user would."""
    e = {**os.environ, **lab, **(env or {})}
    p = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=PROJECT, env=e, capture_output=True,
                       text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"inv {' '.join(args)} exited {p.returncode}\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    return p
