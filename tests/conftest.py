"""Shared fixtures: real labs (network namespaces, sshd, dockerd, swarm) for integration tests."""
import os

import pytest

from tests.labs import STACK_LAB, inv


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
    """A deployed stack on its own 3-node lab, built and deployed from nothing (a cold start); the stack and its
    data are removed at the end."""
    need_root()
    # from nothing, like a fresh machine: a former run's volumes (kept database, object store) must not leak in
    inv("lab.down", "--purge", lab=STACK_LAB, check=False, timeout=600)
    inv("lab.up", lab=STACK_LAB)
    build = inv("build", lab=STACK_LAB, timeout=3000)
    deploy = inv("deploy", lab=STACK_LAB, timeout=1800)
    # what the first deploy leaves, taken now: later tests restore backups (a new migrate task)
    first = {"migrate_ps": inv("cluster.run", "docker service ps pretix_migrate --format '{{.CurrentState}}'",
                               "--node", "n1", lab=STACK_LAB).stdout,
             "migrate_log": inv("logs", "migrate", "--tail", "200", lab=STACK_LAB).stdout}
    yield {"build": build, "deploy": deploy, "dir": clusters_dir, **first}
    if not os.environ.get("PXC_KEEP_TEST_LAB"):
        inv("destroy", "--volumes", "--yes", lab=STACK_LAB, check=False, timeout=300)
        inv("lab.down", lab=STACK_LAB, check=False)


@pytest.fixture(scope="session")
def seeded(stack):
    """The stack's shop seeded by the quickstart (its first run's output)."""
    return inv("quickstart", lab=STACK_LAB, timeout=900)
