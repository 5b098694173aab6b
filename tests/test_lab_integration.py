"""The lab for real: namespaces, sshd, dockerd, a 3-manager swarm, all reached over SSH."""
import os
import signal
import time
from pathlib import Path

import pytest
import yaml

from ops.cluster.swarm import HEARTBEAT_S
from ops.core.inventory import load_cluster, parse_cluster
from ops.core.remote import Remote
from ops.facts.docker import DOCKER_INFO, NODE_LS, parse_docker_info, parse_node_ls
from ops.lab import state
from tests.labs import TEST_LAB, inv, lab_spec

pytestmark = pytest.mark.integration
SPEC = lab_spec(TEST_LAB)


def cluster(lab):
    return load_cluster("labtest", lab["dir"])


def test_second_up_changes_nothing(lab):
    p = inv("lab.up")
    assert "lab is ready: nothing to change" in p.stdout
    p = inv("lab.status")
    assert "swarm: 3 nodes, 3 managers" in p.stdout
    assert "registry 10.78.0.11:5000: answering" in p.stdout


def test_every_node_reports_an_active_swarm_over_ssh(lab):
    p = inv("cluster.check")
    for n in ("n1", "n2", "n3"):
        assert f"{n}: pxtest-{n} docker" in p.stdout
    assert p.stdout.count("swarm active (manager, 3 managers, 3 nodes)") == 3
    cl = cluster(lab)
    with Remote(cl, echo=False) as r:
        facts = parse_docker_info(r.check(cl.node("n2"), DOCKER_INFO).stdout)
    assert facts.heartbeat_s == HEARTBEAT_S   # lab.up set it: a short blip no longer restarts a node's tasks


def test_ssh_sessions_land_on_their_own_node(lab):
    with Remote(cluster(lab), echo=False) as r:
        results = r.run_all(cluster(lab).nodes, "hostname; ip -br addr show eth0")
    for name, res in results.items():
        host, addr = res.stdout.splitlines()
        assert host == f"pxtest-{name}"
        assert SPEC.address(name) in addr


def test_registry_and_egress_work_from_a_node(lab):
    cl = cluster(lab)
    with Remote(cl, echo=False) as r:
        reg = r.run(cl.node("n2"), f"curl -fsS --max-time 5 http://{cl.registry}/v2/")
        assert reg.ok, reg.describe()
        # package downloads from inside the lab go through the egress proxy (the node has no route out)
        pip = r.run(cl.node("n3"), f"https_proxy={cl.proxy} pip download -q --no-deps -d $(mktemp -d) six==1.16.0",
                    timeout=120)
        assert pip.ok, pip.describe()
        direct = r.run(cl.node("n3"), "ip route get 1.1.1.1")
        assert not direct.ok  # no route out of the lab


def test_unknown_host_key_is_refused(lab, tmp_path):
    data = yaml.safe_load((lab["dir"] / "labtest.yaml").read_text())
    known = Path(data["ssh"]["known_hosts"]).read_text().splitlines()
    (tmp_path / "kh").write_text("\n".join(k for k in known if not k.startswith("10.78.0.12 ")) + "\n")
    data["ssh"]["known_hosts"] = str(tmp_path / "kh")
    cl = parse_cluster(data, path=str(tmp_path / "x.yaml"))
    with Remote(cl, echo=False) as r:
        res = r.run(cl.node("n2"), "true")
    assert not res.ok
    assert res.describe() == ("[n2] `true` failed: host key of 10.78.0.12 is not in the cluster's known_hosts: "
                              "refusing to connect (verify the key, then add it to the known_hosts file)")


def test_unreachable_node_is_named(lab, tmp_path):
    data = yaml.safe_load((lab["dir"] / "labtest.yaml").read_text())
    data["nodes"].append({"name": "ghost", "address": "10.78.0.99", "role": "worker"})
    path = tmp_path / "ghost.yaml"
    path.write_text(yaml.safe_dump(data))
    p = inv("cluster.check", "--cluster", str(path), check=False)
    assert p.returncode == 1
    assert "ghost: [ghost] `docker info --format '{{json .}}'` failed: unreachable: no SSH server answered at " \
           "10.78.0.99:22" in p.stdout
    assert "error: 1 of 4 nodes failed" in p.stderr


def test_killed_dockerd_is_marked_down_then_lab_up_repairs_it(lab):
    cl = cluster(lab)
    pid = state.alive(SPEC, "n3-dockerd")
    assert pid
    os.kill(pid, signal.SIGKILL)
    with Remote(cl, echo=False) as r:
        status = None
        deadline = time.monotonic() + 150   # 3 missed heartbeats of HEARTBEAT_S s, and some
        while time.monotonic() < deadline:
            res = r.run(cl.node("n1"), NODE_LS)
            rows = {row.hostname: row.status for row in parse_node_ls(res.stdout)} if res.ok else {}
            status = rows.get("pxtest-n3")
            if status == "Down":
                break
            time.sleep(2)
        assert status == "Down"
    p = inv("lab.up")
    assert "n3: started dockerd" in p.stdout
    with Remote(cl, echo=False) as r:
        facts = parse_docker_info(r.check(cl.node("n3"), DOCKER_INFO).stdout)
    assert facts.active


def test_bad_inventory_stops_before_touching_nodes(lab, tmp_path):
    data = yaml.safe_load((lab["dir"] / "labtest.yaml").read_text())
    data["nodes"][1]["role"] = "worker"
    path = tmp_path / "even.yaml"
    path.write_text(yaml.safe_dump(data))
    p = inv("cluster.check", "--cluster", str(path), check=False)
    assert p.returncode == 1
    assert p.stderr.strip() == (f"error: {path}: 2 managers is an even number: Raft needs an odd count (1, 3 or 5) "
                                "to keep quorum")


def test_zz_down_leaves_nothing_behind(lab):
    inv("lab.down", "--purge")
    assert state.leftovers(SPEC) == []
    assert not Path(SPEC.dir).exists()
    assert not (lab["dir"] / "labtest.yaml").exists()
