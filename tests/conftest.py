"""Shared fixtures: a real lab (network namespaces, sshd, dockerd, swarm) for integration tests."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent

# The test lab never collides with a person's `lab` on the same machine.
TEST_LAB = {
    "PXC_LAB_NAME": "pxtest",
    "PXC_LAB_CLUSTER": "labtest",
    "PXC_LAB_SUBNET": "10.78.0",
    "PXC_LAB_HTTP_PORT": "28080",
    "PXC_LAB_EGRESS_PORT": "28889",
    "PXC_CLUSTER": "labtest",
}


def inv(*args, env=None, check=True, timeout=600):
    """Run a task through the real CLI, as a user would."""
    e = {**os.environ, **TEST_LAB, **(env or {})}
    p = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=PROJECT, env=e, capture_output=True,
                       text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"inv {' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


@pytest.fixture(scope="session")
def clusters_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("clusters")
    os.environ["PXC_CLUSTERS_DIR"] = str(d)
    return d


@pytest.fixture(scope="session")
def lab(clusters_dir):
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    first = inv("lab.up", "--nodes", "3")
    yield {"dir": clusters_dir, "first_up": first}
    if not os.environ.get("PXC_KEEP_TEST_LAB"):
        inv("lab.down", "--purge", check=False)
