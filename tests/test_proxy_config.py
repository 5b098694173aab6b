"""The proxies' configuration as images/proxy/proxy-entrypoint.sh renders it, checked by the real `haproxy -c`."""
import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "images" / "proxy" / "proxy-entrypoint.sh"
pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs haproxy (scripts/install-deps.sh)")


def render(tmp_path, kind, **env):
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t-token\n")
    conf = tmp_path / "conf"
    conf.mkdir()
    run_env = {"PATH": os.environ["PATH"], "PROXY_KIND": kind, "PROXY_NODES": "pg1 pg2 pg3",
               "PROXY_CONF_DIR": str(conf), "PG_PRETIX_PASSWORD_FILE": str(secret),
               "REDIS_PASSWORD_FILE": str(secret), **env}
    done = subprocess.run(["bash", str(SCRIPT), "render"], env=run_env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return conf


def section(cfg: str, header: str) -> list:
    lines = cfg.split("\n")
    start = lines.index(header)
    body = []
    for line in lines[start + 1:]:
        if not line.startswith(" "):
            break
        if not line.strip().startswith("#"):
            body.append(line.strip())
    return body


def warm_at(body: list) -> int:
    """The epoch second from which the frontend serves, as rendered into its first rule."""
    rule = next(line for line in body if "date() ge" in line)
    return int(rule.split("date() ge ")[1].split()[0])


def test_postgres_frontend_holds_logins_while_there_is_no_primary_and_during_the_warm_up(tmp_path):
    before = int(time.time())
    body = section((render(tmp_path, "postgres") / "haproxy.cfg").read_text(), "frontend pg_in")
    warm = warm_at(body)
    assert before + 3 <= warm <= int(time.time()) + 3
    assert body == [
        "bind 127.0.0.1:5433",
        "tcp-request inspect-delay 250ms",
        f"tcp-request content accept if {{ date() ge {warm} }} {{ nbsrv(pg_primary) gt 0 }}",
        f"tcp-request content accept if {{ date() ge {warm} }} WAIT_END",
        "tcp-request content reject if WAIT_END",
        "default_backend pg_primary",
    ]


def test_the_hold_and_the_warm_up_are_configurable(tmp_path):
    before = int(time.time())
    body = section((render(tmp_path, "postgres", PG_HOLD_NOSRV="2s", PROXY_WARMUP_S="7") / "haproxy.cfg")
                   .read_text(), "frontend pg_in")
    assert "tcp-request inspect-delay 2s" in body
    assert before + 7 <= warm_at(body) <= int(time.time()) + 7


def test_redis_frontend_holds_clients_until_the_first_checks_have_run(tmp_path):
    body = section((render(tmp_path, "redis") / "haproxy.cfg").read_text(), "frontend redis_in")
    warm = warm_at(body)
    assert body == [
        "bind :6379",
        "tcp-request inspect-delay 3s",
        f"tcp-request content accept if {{ date() ge {warm} }}",
        "tcp-request content accept if WAIT_END",
        "default_backend redis_master",
    ]


def test_postgres_backend_gives_up_on_a_dead_address_quickly_and_follows_patroni(tmp_path):
    body = section((render(tmp_path, "postgres") / "haproxy.cfg").read_text(), "backend pg_primary")
    assert body[:3] == ["balance first", "timeout connect 500ms", "option redispatch 1"]
    assert "http-check send meth GET uri /primary ver HTTP/1.0" in body
    assert body[-3:] == ["server pg1 pg1:5432", "server pg2 pg2:5432", "server pg3 pg3:5432"]


def test_pgbouncer_retries_logins_at_once_and_reads_its_users_from_the_conf_dir(tmp_path):
    conf = render(tmp_path, "postgres")
    ini = (conf / "pgbouncer.ini").read_text()
    assert "server_login_retry = 0" in ini.splitlines()
    assert f"auth_file = {conf}/userlist.txt" in ini.splitlines()
    assert (conf / "userlist.txt").read_text() == '"pretix" "s3cr3t-token"\n'
    assert (conf / "userlist.txt").stat().st_mode & 0o077 == 0


def test_redis_config_renders_and_checks(tmp_path):
    body = section((render(tmp_path, "redis") / "haproxy.cfg").read_text(), "backend redis_master")
    assert "tcp-check send AUTH\\ s3cr3t-token\\r\\n" in body


def test_an_unknown_kind_is_one_clear_error(tmp_path):
    done = subprocess.run(["bash", str(SCRIPT), "render"], capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"], "PROXY_KIND": "mysql", "PROXY_CONF_DIR": str(tmp_path)})
    assert done.returncode == 2
    assert done.stderr.strip() == "proxy-entrypoint[mysql]: ERROR: PROXY_KIND must be postgres or redis"


INFO = {"master": "# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=redis2,port=6379,state=online\r\n",
        "lonely": "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n",
        "replica": "# Replication\r\nrole:slave\r\nmaster_host:redis1\r\nmaster_port:6379\r\nmaster_link_status:up\r\n"}


def fake_redis(reply: str) -> int:
    """A loopback server answering AUTH, QUIT and INFO as Redis does (the INFO reply in one write); its port."""
    srv = socket.create_server(("127.0.0.1", 0))

    def serve(conn):
        with conn, conn.makefile("rb") as f, contextlib.suppress(OSError):   # HAProxy may close first
            for line in f:
                word = line.split(b" ")[0].strip().upper()
                if word == b"INFO":
                    conn.sendall(f"${len(reply)}\r\n{reply}\r\n".encode())
                elif word in (b"AUTH", b"QUIT"):
                    conn.sendall(b"+OK\r\n")

    def accept():
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
    threading.Thread(target=accept, daemon=True).start()
    return srv.getsockname()[1]


def test_redis_checks_fail_a_replica_and_a_master_without_replicas_at_once(tmp_path):
    """The rendered check rules, run by the real HAProxy against fake Redis servers: a mismatch is a final answer.
    (A master promoted just before its replica re-attached showed connected_slaves:0, and HAProxy waited for more bytes
    until the check's 2 s timeout, keeping the new master DOWN that much longer.)"""
    body = section((render(tmp_path, "redis") / "haproxy.cfg").read_text(), "backend redis_master")
    rules = [line for line in body if line.startswith(("option tcp-check", "tcp-check"))]
    listen = socket.create_server(("127.0.0.1", 0))
    port = listen.getsockname()[1]
    listen.close()
    servers = [f"    server {name} 127.0.0.1:{fake_redis(reply)} check inter 300ms fall 1 rise 1"
               for name, reply in INFO.items()]
    cfg = tmp_path / "check.cfg"
    cfg.write_text("\n".join(["global", "    log stdout format raw local0", "defaults", "    mode tcp", "    log global",
                              "    timeout connect 300ms", "    timeout client 5s", "    timeout server 5s",
                              "    timeout check 2s", "listen redis_in", f"    bind 127.0.0.1:{port}",
                              *[f"    {r}" for r in rules], *servers, ""]))
    out = subprocess.run(["timeout", "3", "haproxy", "-db", "-f", str(cfg)], capture_output=True, text=True).stdout
    down = {name: line for line in out.splitlines() for name in INFO if f"redis_in/{name} is DOWN" in line}
    assert set(down) == {"lonely", "replica"}, out
    assert all("did not match content" in line and "timeout" not in line for line in down.values()), out
