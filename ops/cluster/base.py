"""The base image every image builds FROM: debootstrapped offline (cached) or pulled, pushed to the registry."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ..builders import docker as commands
from ..core.errors import OpsError
from ..core.inventory import Cluster
from ..core.output import say
from ..core.remote import Remote

SUITE = "bookworm"
REPO = "pretix-cluster/base"
IMPORT_CHANGES = ("ENV LANG=C.UTF-8", 'CMD ["bash"]')


def base_ref(cluster: Cluster) -> str:
    return f"{cluster.registry}/{REPO}:{SUITE}"


def debian_mirror(sources_dir: str = "/etc/apt") -> str:
    """The Debian mirror this machine's apt uses (deb822 or one-line format): we never hard-code one."""
    texts = []
    for p in [Path(sources_dir) / "sources.list", *sorted(Path(sources_dir).glob("sources.list.d/*"))]:
        if p.is_file():
            texts.append(p.read_text())
    return parse_mirror("\n".join(texts))


def parse_mirror(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        m = re.match(r"^URIs:\s*(\S+)", line) or re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+\S+", line)
        if m and "security" not in m.group(1):
            return m.group(1)
    raise OpsError("no Debian mirror found in /etc/apt sources: set pxc.debian_mirror in invoke.yaml")


def debootstrap_argv(target: str, mirror: str) -> list[str]:
    return ["debootstrap", "--variant=minbase", SUITE, target, mirror]


def import_command(ref: str, tarball: str) -> str:
    args = []
    for change in IMPORT_CHANGES:
        args += ["--change", change]
    return commands.docker("import", *args, tarball, ref)


def ensure_rootfs_tarball(cache_dir: Path, mirror: str) -> Path:
    """debootstrap once; later runs reuse the cached tarball."""
    tarball = cache_dir / f"debian-{SUITE}-minbase.tar.gz"
    if tarball.exists():
        say(f"base: reusing cached root filesystem {tarball}")
        return tarball
    if os.geteuid() != 0:
        raise OpsError("debootstrap needs root: run `inv build.base` as root (or use a cluster with base_image set)")
    cache_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        root = Path(tmp) / "rootfs"
        say(f"base: debootstrap {SUITE} (minbase) from {mirror} ...")
        p = subprocess.run(debootstrap_argv(str(root), mirror), capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            raise OpsError(f"debootstrap failed: {(p.stderr or p.stdout).strip().splitlines()[-1:]} "
                           f"(check the mirror and the network)")
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "var/log"):
            shutil.rmtree(root / junk, ignore_errors=True)
            (root / junk).mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-czf", str(partial), "."], check=True)
        partial.rename(tarball)
    say(f"base: root filesystem ready in {time.monotonic() - started:.0f}s ({tarball.stat().st_size >> 20} MiB)")
    return tarball


def registry_reachable(remote: Remote, cluster: Cluster) -> None:
    node = cluster.node(cluster.build_node)
    r = remote.run(node, commands.registry_probe(cluster.registry), echo=False, timeout=30)
    if not r.ok:
        raise OpsError(f"registry {cluster.registry} does not answer from {node.name}: start it "
                       f"(lab: `inv lab.up`) or fix `registry:` in {cluster.path}")


def ensure_base(remote: Remote, cluster: Cluster, cache_dir: Path, mirror: str | None, force: bool = False) -> str:
    """Make base_ref(cluster) exist in the registry; returns what was done."""
    node = cluster.node(cluster.build_node)
    ref = base_ref(cluster)
    registry_reachable(remote, cluster)
    if not force and remote.run(node, commands.registry_manifest(cluster.registry, REPO, SUITE), echo=False).ok:
        return f"{ref} already in the registry: nothing to do"
    if cluster.pulls_base:
        remote.check(node, commands.image_pull(cluster.base_image), timeout=600)
        remote.check(node, commands.image_tag(cluster.base_image, ref))
    else:
        tarball = ensure_rootfs_tarball(cache_dir, mirror or debian_mirror())
        remote_tar = f"/tmp/pxc-base-{cluster.name}-{SUITE}.tar.gz"
        remote.put(node, str(tarball), remote_tar)
        try:
            remote.check(node, import_command(ref, remote_tar), timeout=600)
        finally:
            remote.run(node, commands.sh("rm", "-f", remote_tar), echo=False)
    remote.check(node, commands.image_push(ref), timeout=600)
    return f"{ref} built and pushed"
