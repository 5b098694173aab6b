"""Create, inspect and remove the local lab (runs as root on this machine; nodes are network namespaces)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from . import labspec as L
from .errors import LabError
from .remote import say


# --- local process helpers ---------------------------------------------------

def sh(argv: list[str], check: bool = True, tolerate: tuple[str, ...] = (), timeout: int = 120,
       env: dict | None = None) -> subprocess.CompletedProcess:
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    if check and p.returncode != 0 and not any(t in p.stderr for t in tolerate):
        last = (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1]
        raise LabError(f"`{' '.join(argv)}` failed: {last}")
    return p


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(spec: L.LabSpec, what: str) -> int | None:
    """The pid of a lab process if its pidfile names a live process of this lab (guards against pid reuse)."""
    pid = read_pid(spec.pidfile(what))
    if pid and str(spec.dir) in cmdline(pid):
        return pid
    return None


def start(spec: L.LabSpec, what: str, argv: list[str], env: dict | None = None) -> int:
    log = open(spec.run_dir / f"{what}.log", "ab")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                            env={**os.environ, **(env or {})})
    log.close()
    spec.pidfile(what).write_text(f"{proc.pid}\n")
    return proc.pid


def wait_until(check, timeout: float, what: str, log: Path | None = None):
    deadline, delay = time.monotonic() + timeout, 0.05
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
    tail = ""
    if log and log.exists():
        lines = log.read_text(errors="replace").strip().splitlines()
        tail = f"; last log line: {lines[-1]}" if lines else ""
    raise LabError(f"{what} did not come up within {timeout:.0f}s{tail}")


def kill(pid: int, grace: float = 5.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or _zombie(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def kill_all(pids: list[int], grace: float) -> None:
    """SIGTERM all at once, then SIGKILL whatever is still there after the grace period."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() and not _zombie(p) for p in pids):
        time.sleep(0.1)
    for pid in pids:
        kill(pid, grace=0)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


# --- facts about the lab on this machine --------------------------------------

def namespaces() -> set[str]:
    p = sh(["ip", "netns", "list"], check=False)
    return {line.split()[0] for line in p.stdout.splitlines() if line.strip()}


def lab_namespaces(spec: L.LabSpec) -> list[str]:
    ours = [spec.net_ns] + [spec.node_ns(n) for n in spec.node_names()]
    prefix = f"{spec.name}-"
    return sorted({ns for ns in namespaces() if ns.startswith(prefix)} | (set(ours) & namespaces()))


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below path, deepest first (so they can be unmounted in order)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mnt = line.split()[4].replace("\\040", " ")
        if mnt == str(path) or mnt.startswith(str(path) + "/"):
            found.append(mnt)
    return sorted(set(found), key=lambda m: m.count("/"), reverse=True)


def cgroup_dirs(spec: L.LabSpec, node: str = "") -> list[Path]:
    """The lab's (or one node's) cgroup directories in every v1 hierarchy and in v2, deepest first."""
    sub = spec.node_cgroup(node) if node else spec.cgroup_parent
    tops = [p for p in Path("/sys/fs/cgroup").glob("*/" + sub) if p.is_dir()]
    if (Path("/sys/fs/cgroup") / sub).is_dir():
        tops.append(Path("/sys/fs/cgroup") / sub)
    dirs = []
    for top in tops:
        dirs += [p for p in top.rglob("*") if p.is_dir()] + [top]
    return sorted(set(dirs), key=lambda p: len(p.parts), reverse=True)


def cgroup_pids(spec: L.LabSpec, node: str = "") -> set[int]:
    pids = set()
    for d in cgroup_dirs(spec, node):
        for name in ("cgroup.procs", "tasks"):
            f = d / name
            if f.exists():
                try:
                    pids |= {int(x) for x in f.read_text().split()}
                except OSError:
                    pass
    return pids


def ns_pids(ns: str) -> set[int]:
    p = sh(["ip", "netns", "pids", ns], check=False)
    return {int(x) for x in p.stdout.split() if x.isdigit()}


# --- building blocks of lab.up ----------------------------------------------

def ensure_packages() -> list[str]:
    missing = [pkg for pkg in L.LAB_PACKAGES if not Path(L.PACKAGE_PROBES[pkg]).exists()]
    if not missing:
        return []
    if os.geteuid() != 0:
        raise LabError(f"missing packages {', '.join(missing)}: run as root (apt-get install {' '.join(missing)})")
    say(f"lab: installing {', '.join(missing)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    sh(["apt-get", "update", "-qq"], timeout=600, env=env)
    sh(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], timeout=900, env=env)
    return [f"installed {', '.join(missing)}"]


def ensure_files(spec: L.LabSpec) -> list[str]:
    changes = []
    for d in [spec.dir, spec.run_dir, spec.ssh_dir, *(spec.node_dir(n) for n in spec.node_names()),
              *(spec.node_run(n) for n in spec.node_names()), spec.dir / "registry", spec.cache_dir]:
        d.mkdir(parents=True, exist_ok=True)
    os.chmod(spec.ssh_dir, 0o700)
    Path("/run/sshd").mkdir(exist_ok=True)
    if not spec.client_key.exists():
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{spec.name}-ops", "-f", str(spec.client_key)])
        changes.append("generated the lab's SSH client key")
    auth = spec.ssh_dir / "authorized_keys"
    auth.write_text(Path(str(spec.client_key) + ".pub").read_text())
    os.chmod(auth, 0o600)
    known = []
    for n in spec.node_names():
        key = spec.host_key(n)
        if not key.exists():
            sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", spec.hostname(n), "-f", str(key)])
            changes.append(f"{n}: generated its SSH host key")
        kind, blob = Path(str(key) + ".pub").read_text().split()[:2]
        known.append(f"{spec.address(n)} {kind} {blob}\n")
    _write_if_changed(spec.known_hosts, "".join(known), 0o600)
    _write_if_changed(spec.dir / "registry.yml", L.registry_config(spec))
    _write_if_changed(spec.dir / "tinyproxy.conf", L.tinyproxy_config(spec))
    for n in spec.node_names():
        _write_if_changed(spec.node_dir(n) / "sshd_config", L.sshd_config(spec, n), 0o600)
        _write_if_changed(spec.node_dir(n) / "daemon.json", L.daemon_json(spec, n))
    return changes


def _write_if_changed(path: Path, text: str, mode: int = 0o644) -> bool:
    if path.exists() and path.read_text() == text:
        return False
    path.write_text(text)
    os.chmod(path, mode)
    return True


def ensure_network(spec: L.LabSpec) -> list[str]:
    changes, have = [], namespaces()
    exists = ("File exists", "already assigned")
    if spec.net_ns not in have:
        sh(L.netns_add(spec.net_ns))
        changes.append(f"created namespace {spec.net_ns}")
    if spec.gateway_address not in sh(["ip", "-n", spec.net_ns, "-br", "addr"], check=False).stdout:
        for argv in L.bridge_setup(spec):
            sh(argv, tolerate=exists)
        changes.append(f"{spec.net_ns}: bridge br0 at {spec.gateway_address}")
    for n in spec.node_names():
        ns = spec.node_ns(n)
        if ns not in have:
            sh(L.netns_add(ns))
            changes.append(f"created namespace {ns}")
        if spec.address(n) not in sh(["ip", "-n", ns, "-br", "addr"], check=False).stdout:
            for argv in L.node_link_setup(spec, n):
                sh(argv, tolerate=exists)
            changes.append(f"{n}: linked {spec.address(n)} to the lab bridge")
    return changes


def ensure_process(spec: L.LabSpec, what: str, argv: list[str], ready, timeout: float = 20,
                   env: dict | None = None) -> list[str]:
    if alive(spec, what) and ready():
        return []
    stale = alive(spec, what)
    if stale:
        kill(stale)
    start(spec, what, argv, env)
    wait_until(ready, timeout, what, spec.run_dir / f"{what}.log")
    return [f"started {what}"]


def _unix_answers(path: Path, request: bytes = b"", expect: bytes = b"", timeout: float = 2) -> bool:
    """Something listens on the unix socket (and, given a request, answers with expect)."""
    import socket as s
    if not path.exists():
        return False
    sock = s.socket(s.AF_UNIX, s.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
        if request:
            sock.sendall(request)
            return expect in sock.recv(256)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def _socket_answers(path: Path) -> bool:
    return _unix_answers(path, timeout=1)


def _docker_ping(spec: L.LabSpec, node: str) -> bool:
    return _unix_answers(spec.docker_sock(node), b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n", b"200 OK")


def _tcp_listening(ns: str, port: int) -> bool:
    out = sh(["ip", "netns", "exec", ns, "ss", "-Hltn", f"sport = :{port}"], check=False).stdout
    return bool(out.strip())


def _host_listening(port: int) -> bool:
    out = sh(["ss", "-Hltn", f"sport = :{port}"], check=False).stdout
    return bool(out.strip())


def reset_node_runtime(spec: L.LabSpec, node: str) -> None:
    """Clear what a dead dockerd left behind (container processes, mounts, exec-root), keeping its data."""
    for pid in cgroup_pids(spec, node):
        kill(pid, grace=0)
    for m in mounts_under(spec.node_run(node)) + mounts_under(spec.node_dir(node) / "docker"):
        sh(["umount", "-l", m], check=False)
    shutil.rmtree(spec.node_run(node) / "exec", ignore_errors=True)
    spec.docker_sock(node).unlink(missing_ok=True)
    spec.pidfile(f"{node}-dockerd").unlink(missing_ok=True)


def ensure_sshd(spec: L.LabSpec, node: str) -> list[str]:
    ns = spec.node_ns(node)

    def ready():
        return alive(spec, f"{node}-sshd") and _tcp_listening(ns, 22)

    if ready():
        return []
    stale = alive(spec, f"{node}-sshd")
    if stale:
        kill(stale)
    start(spec, f"{node}-sshd-launch", L.sshd_argv(spec, node))  # sshd daemonizes and writes its pidfile
    wait_until(ready, 20, f"{node} sshd", spec.run_dir / f"{node}-sshd-launch.log")
    return [f"{node}: started sshd"]


def ensure_dockerds(spec: L.LabSpec) -> list[str]:
    """Start every missing dockerd first, then wait: a restarted swarm manager answers only once quorum is back."""
    changes = []
    for node in spec.node_names():
        if not alive(spec, f"{node}-dockerd"):
            reset_node_runtime(spec, node)
            # nodes pull stack images from the lab registry, so no DOCKER_SERVICE_PREFER_OFFLINE_IMAGE here
            start(spec, f"{node}-dockerd-launch", L.dockerd_argv(spec, node))
            changes.append(f"{node}: started dockerd")
    for node in spec.node_names():
        wait_until(lambda: _docker_ping(spec, node), 90, f"{node} dockerd",
                   spec.run_dir / f"{node}-dockerd-launch.log")
    return changes


def ensure_node_egress(spec: L.LabSpec, node: str) -> list[str]:
    return ensure_process(spec, f"{node}-egress", L.egress_node_argv(spec, node),
                          ready=lambda: _tcp_listening(spec.node_ns(node), L.NODE_PROXY_PORT))


def _udp_bound(ns: str, port: int) -> bool:
    out = sh(["ip", "netns", "exec", ns, "ss", "-Hlun", f"sport = :{port}"], check=False).stdout
    return bool(out.strip())


def ensure_host_services(spec: L.LabSpec) -> list[str]:
    changes = ensure_process(spec, "dns", L.dns_argv(spec), ready=lambda: _udp_bound(spec.net_ns, 53))
    changes += ensure_process(spec, "tinyproxy", L.tinyproxy_argv(spec),
                             ready=lambda: _host_listening(spec.egress_port))
    changes += ensure_process(spec, "egress", L.egress_host_argv(spec), ready=lambda: _socket_answers(spec.egress_sock))
    return changes


def ensure_entry(spec: L.LabSpec) -> list[str]:
    changes = ensure_process(spec, "registry", L.registry_argv(spec),
                             ready=lambda: _tcp_listening(spec.node_ns("n1"), L.REGISTRY_PORT))
    changes += ensure_process(spec, "entry-node", L.entry_node_argv(spec), ready=lambda: _socket_answers(spec.entry_sock))
    changes += ensure_process(spec, "entry", L.entry_host_argv(spec), ready=lambda: _host_listening(spec.http_port))
    return changes


def check_ports_free(spec: L.LabSpec) -> None:
    for port, what in ((spec.http_port, "entry"), (spec.egress_port, "tinyproxy")):
        if not alive(spec, what) and _host_listening(port):
            raise LabError(f"127.0.0.1:{port} is already taken by another program: pick another port "
                           f"(--http-port / --egress-port) or stop that program")


def write_inventory(spec: L.LabSpec, clusters_dir: Path) -> Path:
    from .inventory import dump_cluster
    clusters_dir.mkdir(parents=True, exist_ok=True)
    path = clusters_dir / f"{spec.cluster}.yaml"
    text = "# Written by `inv lab.up` for this machine's lab; do not commit.\n" + dump_cluster(L.inventory(spec))
    _write_if_changed(path, text)
    return path


def bring_up(spec: L.LabSpec) -> list[str]:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, dockerd): run `inv lab.up` as root")
    changes = ensure_packages()
    check_ports_free(spec)  # before anything is created: a refused lab.up leaves nothing behind
    changes += ensure_files(spec)
    changes += ensure_network(spec)
    changes += ensure_host_services(spec)
    for n in spec.node_names():
        changes += ensure_sshd(spec, n)
    changes += ensure_dockerds(spec)
    for n in spec.node_names():
        changes += ensure_node_egress(spec, n)
    changes += ensure_entry(spec)
    return changes


# --- lab.down --------------------------------------------------------------------

PROCESS_NAMES = ("entry", "entry-node", "registry", "egress", "tinyproxy", "dns")


def tear_down(spec: L.LabSpec, purge: bool = False) -> list[str]:
    done = []
    nodes = _known_nodes(spec)
    # dockerd first, gracefully: it stops its containers
    dockerds = {n: alive(spec, f"{n}-dockerd") for n in nodes}
    kill_all([p for p in dockerds.values() if p], grace=15)
    done += [f"stopped {n} dockerd" for n, p in dockerds.items() if p]
    for what in [*PROCESS_NAMES, *(f"{n}-{p}" for n in nodes for p in ("egress", "sshd"))]:
        pid = alive(spec, what)
        if pid:
            kill(pid, grace=3)
            done.append(f"stopped {what}")
    # whatever is left: container processes in our cgroups, anything in our namespaces
    leftovers = cgroup_pids(spec)
    for ns in lab_namespaces(spec):
        leftovers |= ns_pids(ns)
    for pid in leftovers:
        kill(pid, grace=0)
    if leftovers:
        done.append(f"killed {len(leftovers)} leftover processes")
    if spec.dir.exists():
        for m in mounts_under(spec.dir):
            sh(["umount", "-l", m], check=False)
    for ns in lab_namespaces(spec):
        sh(L.netns_del(ns), check=False)
        done.append(f"deleted namespace {ns}")
    for d in cgroup_dirs(spec):
        try:
            d.rmdir()
        except OSError:
            pass
    shutil.rmtree(spec.run_dir, ignore_errors=True)
    if purge and spec.dir.exists():
        shutil.rmtree(spec.dir, ignore_errors=True)
        done.append(f"purged {spec.dir} (images, registry, keys)")
    return done


def _known_nodes(spec: L.LabSpec) -> list[str]:
    """Nodes present on disk, so down also cleans a lab made with another --nodes."""
    found = {p.name for p in spec.dir.glob("n*") if p.is_dir() and p.name[1:].isdigit()} if spec.dir.exists() else set()
    return sorted(found | set(spec.node_names()), key=lambda n: int(n[1:]))


def leftovers(spec: L.LabSpec) -> list[str]:
    """What of the lab still exists on this machine (empty after a clean lab.down)."""
    left = [f"namespace {ns}" for ns in lab_namespaces(spec)]
    left += [f"mount {m}" for m in mounts_under(spec.dir)] if spec.dir.exists() else []
    left += [f"cgroup {d}" for d in cgroup_dirs(spec)]
    for pid in cgroup_pids(spec):
        left.append(f"process {pid} ({cmdline(pid)[:60]})")
    for p in Path("/proc").iterdir():
        if p.name.isdigit() and str(spec.dir) in cmdline(int(p.name)):
            left.append(f"process {p.name} ({cmdline(int(p.name))[:80]})")
    return left


def registry_answers(spec: L.LabSpec) -> bool:
    """Ask the registry's v2 API from inside node 1's namespace (never from the root namespace)."""
    p = sh(L.in_ns(spec.node_ns("n1"), ["curl", "-fsS", "--max-time", "3", f"http://{spec.registry}/v2/"]),
           check=False) if spec.node_ns("n1") in namespaces() else None
    return bool(p and p.returncode == 0)
