"""The lab's shape as data: argv lists and config files, compared whole."""
from ops.lab import spec as L
from ops.core.inventory import parse_cluster
from ops.core.output import Masker

SPEC = L.LabSpec(name="t", cluster="lab", nodes=3, subnet="10.99.0", root="/srv/lab", http_port=9080, egress_port=19999)


def test_names_and_addresses():
    assert SPEC.node_names() == ["n1", "n2", "n3"]
    assert SPEC.node_ns("n2") == "t-n2"
    assert SPEC.address("n3") == "10.99.0.13"
    assert SPEC.registry == "10.99.0.11:5000"
    assert SPEC.public_url == "http://127.0.0.1:9080"


def test_node_link_is_made_inside_namespaces_only():
    assert L.node_link_setup(SPEC, "n2") == [
        ["ip", "-n", "t-n2", "link", "set", "lo", "up"],
        ["ip", "-n", "t-net", "link", "add", "n2", "type", "veth", "peer", "name", "eth0", "netns", "t-n2"],
        ["ip", "-n", "t-net", "link", "set", "n2", "master", "br0", "up"],
        ["ip", "-n", "t-n2", "addr", "add", "10.99.0.12/24", "dev", "eth0"],
        ["ip", "-n", "t-n2", "link", "set", "eth0", "up"],
    ]


def test_dockerd_runs_in_node_netns_with_own_hostname():
    assert L.dockerd_argv(SPEC, "n1") == [
        "nsenter", "--net=/run/netns/t-n1", "unshare", "--uts", "sh", "-c",
        "hostname t-n1 && exec dockerd --config-file /srv/lab/t/n1/daemon.json"]


def test_sshd_config_points_docker_at_the_node_daemon():
    cfg = L.sshd_config(SPEC, "n2")
    assert cfg.splitlines() == [
        "ListenAddress 10.99.0.12",
        "Port 22",
        "HostKey /srv/lab/t/n2/ssh_host_ed25519_key",
        "PidFile /srv/lab/t/run/n2-sshd.pid",
        "AuthorizedKeysFile /srv/lab/t/ssh/authorized_keys",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PrintMotd no",
        "SetEnv DOCKER_HOST=unix:///srv/lab/t/run/n2/docker.sock",
        "Subsystem sftp internal-sftp",
    ]


def test_forwarders_stay_on_loopback_and_unix_sockets():
    assert L.entry_host_argv(SPEC) == [
        "socat", "TCP-LISTEN:9080,bind=127.0.0.1,fork,reuseaddr", "UNIX-CONNECT:/srv/lab/t/run/entry.sock"]
    assert L.entry_lb_argv(SPEC) == ["nsenter", "--net=/run/netns/t-net", "haproxy", "-db", "-f",
                                     "/srv/lab/t/entry-lb.cfg"]
    assert L.egress_node_argv(SPEC, "n3") == [
        "nsenter", "--net=/run/netns/t-n3", "socat", "TCP-LISTEN:3128,bind=127.0.0.1,fork,reuseaddr",
        "UNIX-CONNECT:/srv/lab/t/run/egress.sock"]
    assert "Listen 127.0.0.1\nAllow 127.0.0.1\n" in L.tinyproxy_config(SPEC)


def test_lab_inventory_is_a_valid_cluster_inventory(tmp_path):
    spec = L.LabSpec(name="t", cluster="t", nodes=3, subnet="10.77.0", root=str(tmp_path), http_port=9080,
                     egress_port=19999)
    (tmp_path / "t" / "ssh").mkdir(parents=True)
    spec.client_key.write_text("k")
    spec.known_hosts.write_text("h")
    cl = parse_cluster(L.inventory(spec), path=str(tmp_path / "lab.yaml"))
    assert [n.address for n in cl.managers] == ["10.77.0.11", "10.77.0.12", "10.77.0.13"]
    assert cl.jump.proxy_command == "ip netns exec t-net socat - TCP:%h:%p"
    assert cl.proxy == "http://127.0.0.1:3128"
    assert cl.base_image == "debootstrap"


def test_manager_count_is_always_odd():
    def managers(n):
        return sum(1 for node in L.inventory(L.LabSpec(name="t", cluster="t", nodes=n, subnet="10.99.0", root="/srv/lab", http_port=9080, egress_port=19999))["nodes"] if node["role"] == "manager")
    assert [managers(n) for n in (1, 2, 3, 4, 5, 6)] == [1, 1, 3, 3, 5, 5]


def test_masker_hides_every_secret_longest_first():
    m = Masker(["s3cretpass", "s3cret", "abc"])  # too-short values are not masked (they would mangle output)
    assert m("pw=s3cretpass other=s3cret abc") == "pw=****** other=****** abc"


def test_lab_dns_answers_nxdomain_for_the_question_asked():
    from ops.lab.dns import nxdomain
    # a query for "pg1" type A class IN, id 0xabcd, RD set (captured from glibc's resolver shape)
    query = bytes.fromhex("abcd01000001000000000000") + b"\x03pg1\x00" + bytes.fromhex("00010001")
    reply = nxdomain(query)
    assert reply == bytes.fromhex("abcd81830001000000000000") + b"\x03pg1\x00" + bytes.fromhex("00010001")
    assert nxdomain(b"\x00\x01") is None


def test_daemons_use_the_lab_dns_never_the_hosts_resolvers():
    import json
    assert json.loads(L.daemon_json(SPEC, "n1"))["dns"] == ["10.99.0.1"]
    assert L.dns_argv(SPEC)[:2] == ["nsenter", "--net=/run/netns/t-net"]
    assert L.dns_argv(SPEC)[-2:] == ["10.99.0.1", "/srv/lab/t"]


def test_entry_load_balancer_checks_every_node_and_never_resends_a_request():
    cfg = L.entry_lb_config(SPEC)
    assert "    bind unix@/srv/lab/t/run/entry.sock mode 600\n    bind 127.0.0.1:9080\n" in cfg
    assert ("    server n1 10.99.0.11:80 check\n    server n2 10.99.0.12:80 check\n"
            "    server n3 10.99.0.13:80 check\n") in cfg
    assert "option httpchk GET /nginx-health" in cfg and "retry-on conn-failure\n" in cfg
    # a stopping nginx answers 404: no new requests while it finishes those in flight
    assert "    http-check disable-on-404\n    http-check expect status 200\n" in cfg
    assert all(n["labels"] == {"pxc.lb": "true"} for n in L.inventory(SPEC)["nodes"])
