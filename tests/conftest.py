"""Shared fixtures: real labs (network namespaces, sshd, dockerd, swarm) for integration tests."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent

# Test labs never collide with a person's `lab` on the same machine (own names, subnets, ports).
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


def inv(*args, env=None, check=True, timeout=600, lab=TEST_LAB):
    """Run a task through the real CLI, as a user would."""
    e = {**os.environ, **lab, **(env or {})}
    p = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=PROJECT, env=e, capture_output=True,
                       text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"inv {' '.join(args)} exited {p.returncode}\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    return p


@pytest.fixture(scope="session")
def clusters_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("clusters")
    os.environ["PXC_CLUSTERS_DIR"] = str(d)
    os.environ["PXC_STATE_DIR"] = str(tmp_path_factory.mktemp("state"))
    return d


def need_root():
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")


@pytest.fixture(scope="module")
def lab(clusters_dir):
    need_root()
    first = inv("lab.up", "--nodes", "3")
    yield {"dir": clusters_dir, "first_up": first}
    if not os.environ.get("PXC_KEEP_TEST_LAB"):
        inv("lab.down", "--purge", check=False)


@pytest.fixture(scope="session")
def stack(clusters_dir):
    """A deployed stack on its own 3-node lab. The lab keeps its images between runs; the stack and its
    data are removed at the end."""
    need_root()
    inv("lab.up", lab=STACK_LAB)
    build = inv("build", lab=STACK_LAB, timeout=3000)
    deploy = inv("deploy", lab=STACK_LAB, timeout=1800)
    yield {"build": build, "deploy": deploy, "dir": clusters_dir}
    if not os.environ.get("PXC_KEEP_TEST_LAB"):
        inv("destroy", "--volumes", "--yes", lab=STACK_LAB, check=False, timeout=300)
        inv("lab.down", lab=STACK_LAB, check=False)
