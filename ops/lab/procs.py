"""Local processes of the lab: run a command, start a daemon with a pidfile and a log, find it, stop it."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

from ..core.errors import LabError
from ..core.retry import poll


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


def alive_pid(pidfile: Path, marker: str) -> int | None:
    """The pid in pidfile if it names a live process whose command line contains marker (pid reuse guard)."""
    pid = read_pid(pidfile)
    return pid if pid and marker in cmdline(pid) else None


def start(argv: list[str], pidfile: Path, log: Path, env: dict | None = None) -> int:
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
                                env={**os.environ, **(env or {})})
    pidfile.write_text(f"{proc.pid}\n")
    return proc.pid


def wait_until(check, timeout: float, what: str, log: Path | None = None):
    value = poll(check, timeout, first=0.05, cap=1.0)
    if value:
        return value
    tail = ""
    if log and log.exists():
        lines = log.read_text(errors="replace").strip().splitlines()
        tail = f"; last log line: {lines[-1]}" if lines else ""
    raise LabError(f"{what} did not come up within {timeout:.0f}s{tail}")


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def kill_all(pids, grace: float) -> None:
    """SIGTERM all at once, then SIGKILL whatever is still there after the grace period."""
    pids = list(pids)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    poll(lambda: all(gone(p) for p in pids), grace, first=0.1, cap=0.1)
    for pid in pids:
        if not gone(pid):
            _signal(pid, signal.SIGKILL)


def kill(pid: int, grace: float = 5.0) -> None:
    kill_all([pid], grace)


def listening(port: int, ns: str | None = None, udp: bool = False) -> bool:
    """Something listens on the port (TCP) or is bound to it (UDP), in a network namespace or this one."""
    argv = ["ss", "-Hlun" if udp else "-Hltn", f"sport = :{port}"]
    return bool(sh(["ip", "netns", "exec", ns, *argv] if ns else argv, check=False).stdout.strip())


def unix_answers(path: Path, request: bytes = b"", expect: bytes = b"", timeout: float = 2) -> bool:
    """Something listens on the unix socket (and, given a request, answers with expect)."""
    if not path.exists():
        return False
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
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
