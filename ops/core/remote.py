"""Run commands on cluster nodes over SSH (Fabric), host keys checked, secrets masked, a result per node."""
from __future__ import annotations

import io
import logging
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import paramiko
from fabric import Connection
from invoke.exceptions import CommandTimedOut

from .errors import RemoteError
from .inventory import Cluster, Jump, Node
from .output import MASKER, say

# paramiko logs tracebacks of failed transports itself; our errors already name node and cause
logging.getLogger("paramiko").setLevel(logging.CRITICAL)


class WholeInput(io.StringIO):
    """A command's stdin, handed over in one read. Invoke reads a stream that is not a terminal one character per
    loop and sleeps 10 ms in between (invoke.terminals.bytes_to_read falls back to 1): 100 bytes/s, so a 1.3 kB TLS
    secret took 13 s and a fresh deploy spent about 30 s creating its secrets."""

    def read(self, size: int | None = -1) -> str:
        return super().read(-1)


@dataclass(frozen=True)
class NodeResult:
    node: str
    command: str
    exit_code: int
    stdout: str
    stderr: str
    error: str = ""       # connection-level failure, exit_code is -1 then
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.error

    def describe(self) -> str:
        """One line naming the node and the (masked) command, for error messages."""
        why = self.error or (self.stderr.strip().splitlines() or [f"exit {self.exit_code}"])[-1]
        return MASKER(f"[{self.node}] `{self.command}` failed: {why}")


def gateway_for(jump: Jump | None, node: Node, timeout: int):
    """Fabric gateway: a ProxyCommand string (like ssh -o ProxyCommand) or a bastion Connection."""
    if jump is None:
        return None
    if jump.proxy_command:
        return jump.proxy_command.replace("%h", node.address).replace("%p", str(node.port))
    bastion = Connection(
        host=jump.host, user=jump.user, port=jump.port, connect_timeout=timeout,
        connect_kwargs={"key_filename": jump.key_file, "look_for_keys": False, "allow_agent": False},
    )
    return bastion


def connect(cluster: Cluster, node: Node) -> Connection:
    """A Fabric connection that refuses any host key not in the cluster's known_hosts."""
    conn = Connection(
        host=node.address,
        user=node.user,
        port=node.port,
        connect_timeout=cluster.connect_timeout,
        gateway=gateway_for(cluster.jump, node, cluster.connect_timeout),
        connect_kwargs={
            "key_filename": node.key_file,
            "look_for_keys": False,
            "allow_agent": False,
            "banner_timeout": cluster.connect_timeout,
            "auth_timeout": cluster.connect_timeout,
        },
    )
    conn.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    conn.client.load_host_keys(cluster.known_hosts)
    if isinstance(conn.gateway, Connection):
        conn.gateway.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        conn.gateway.client.load_host_keys(cluster.known_hosts)
    return conn


def _explain(exc: Exception, node: Node) -> str:
    if isinstance(exc, paramiko.BadHostKeyException):
        return (f"host key of {node.address} does NOT match the cluster's known_hosts: refusing to connect "
                f"(possible impersonation; if the node was reinstalled, verify and update known_hosts)")
    if isinstance(exc, paramiko.SSHException) and "not found in known_hosts" in str(exc):
        return (f"host key of {node.address} is not in the cluster's known_hosts: refusing to connect "
                f"(verify the key, then add it to the known_hosts file)")
    if isinstance(exc, paramiko.AuthenticationException):
        return f"SSH authentication failed as {node.user} (check key_file)"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"unreachable: no SSH answer from {node.address}:{node.port} within the timeout"
    if isinstance(exc, (OSError, EOFError, paramiko.SSHException, paramiko.ProxyCommandFailure)):
        # banner timeouts, "No existing session", refused connections: all mean nobody answered SSH there
        return (f"unreachable: no SSH server answered at {node.address}:{node.port} "
                f"(node down or wrong address? {type(exc).__name__}: {exc or 'connection closed'})")
    return f"{type(exc).__name__}: {exc}"


class Remote:
    """Connections to the nodes of one cluster; runs commands and returns NodeResults."""

    def __init__(self, cluster: Cluster, echo: bool = True):
        self.cluster = cluster
        self.echo = echo
        self._conns: dict[str, Connection] = {}

    def conn(self, node: Node) -> Connection:
        if node.name not in self._conns:
            self._conns[node.name] = connect(self.cluster, node)
        return self._conns[node.name]

    def run(self, node: Node, command: str, timeout: int = 120, stdin: str | None = None,
            echo: bool | None = None) -> NodeResult:
        if self.echo if echo is None else echo:
            say(f"[{node.name}] $ {command}")
        return self._call(node, command, timeout, hide=True,
                          in_stream=WholeInput(stdin) if stdin is not None else False)

    def stream(self, node: Node, command: str, on_line, timeout: int = 3600) -> NodeResult:
        """Run a long command, handing each output line (masked) to on_line as it arrives."""
        say(f"[{node.name}] $ {command}")
        # One writer per stream: stdout and stderr arrive on separate threads and must not split each other's lines
        out, err = _LineWriter(on_line), _LineWriter(on_line)
        try:
            return self._call(node, command, timeout, hide=False, in_stream=False, out_stream=out, err_stream=err)
        finally:
            out.close()
            err.close()

    def _call(self, node: Node, command: str, timeout: int, **kwargs) -> NodeResult:
        try:
            r = self.conn(node).run(command, warn=True, timeout=timeout, **kwargs)
            return NodeResult(node.name, command, r.exited, r.stdout, r.stderr)
        except CommandTimedOut:
            return NodeResult(node.name, command, -1, "", "", error=f"timed out after {timeout}s", timed_out=True)
        except Exception as exc:  # connection-level: name the node, never a traceback
            self._conns.pop(node.name, None)
            return NodeResult(node.name, command, -1, "", "", error=_explain(exc, node))

    def check(self, node: Node, command: str, **kwargs) -> NodeResult:
        """Run and raise RemoteError (naming node and command) unless it succeeded."""
        r = self.run(node, command, **kwargs)
        if not r.ok:
            raise RemoteError(r.describe())
        return r

    def run_all(self, nodes, command: str, timeout: int = 120, echo: bool | None = None) -> dict[str, NodeResult]:
        """The same command on several nodes in parallel; a result per node, in inventory order."""
        nodes = list(nodes)
        if self.echo if echo is None else echo:
            say(f"[{','.join(n.name for n in nodes)}] $ {command}")
        with ThreadPoolExecutor(max_workers=max(1, len(nodes))) as pool:
            futures = {n.name: pool.submit(self.run, n, command, timeout, None, False) for n in nodes}
        return {name: f.result() for name, f in futures.items()}

    def put(self, node: Node, local: str, remote: str) -> None:
        say(f"[{node.name}] put {local} -> {remote}")
        try:
            self.conn(node).put(local, remote)
        except Exception as exc:
            raise RemoteError(f"[{node.name}] upload of {local} failed: {_explain(exc, node)}") from None

    def close(self) -> None:
        for c in self._conns.values():
            try:
                c.close()
            except Exception:
                pass
        self._conns.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _LineWriter:
    """A file-like sink that calls on_line for every complete line."""

    def __init__(self, on_line):
        self.on_line, self.buf = on_line, ""

    def write(self, data: str) -> None:
        self.buf += data
        while "\n" in self.buf:
            line, self.buf = self.buf.split("\n", 1)
            self.on_line(MASKER(line.rstrip("\r")))

    def flush(self) -> None:
        """Nothing: Invoke flushes after every chunk, and a chunk may end mid-line."""

    def close(self) -> None:
        """Hand over what is left once the command has ended."""
        if self.buf:
            self.on_line(MASKER(self.buf))
            self.buf = ""


def fail_on_errors(results: dict[str, NodeResult]) -> None:
    bad = [r.describe() for r in results.values() if not r.ok]
    if bad:
        raise RemoteError("\n".join(bad))

