"""`inv build`: every image of the stack built on the cluster's build node and pushed to its registry."""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from invoke import Collection

from . import commands, images
from .base import ensure_base, registry_reachable
from .context import expected_errors, load, setting, state_dir, task
from .errors import OpsError
from .remote import Remote, say

CLUSTER_HELP = "cluster inventory name (clusters/NAME.yaml; default from invoke.yaml)"
REMOTE_DIR = "/var/tmp/pxc-build"


def cache_dir(c) -> Path:
    return Path(os.path.expanduser(setting(c, "cache_dir", "~/.cache/pretix-cluster")))


@task(help={"cluster": CLUSTER_HELP, "force": "rebuild and push even if the registry has it"})
@expected_errors
def base(c, cluster=None, force=False):
    """Make the Debian bookworm base image (debootstrap offline, cached; or pull) and push it."""
    cl = load(c, cluster)
    started = time.monotonic()
    with Remote(cl) as remote:
        result = ensure_base(remote, cl, cache_dir(c), setting(c, "debian_mirror"), force=force)
    say(f"base: {result} ({time.monotonic() - started:.1f}s)")


def recorded_tags(state: Path) -> dict:
    path = state / "built_tags.json"
    return json.loads(path.read_text()) if path.exists() else {}


def record_tags(state: Path, built: dict) -> None:
    """What the registry holds for each image after this build (deploy's default)."""
    (state / "built_tags.json").write_text(json.dumps({**recorded_tags(state), **built}, indent=2) + "\n")


class BuildProgress:
    """Shows the builder's step lines (not every pip line) and keeps the tail for error messages."""

    def __init__(self, name: str):
        self.name, self.tail, self.cached, self.steps_after_from, self.seen_from = name, [], 0, 0, False

    def __call__(self, line: str) -> None:
        self.tail = (self.tail + [line])[-15:]
        if line.startswith("Step "):
            say(f"  [{self.name}] {line[:110]}")
            is_from = " FROM " in line
            if self.seen_from and not is_from:
                self.steps_after_from += 1
            self.seen_from = self.seen_from or is_from
        elif "Using cache" in line:
            self.cached += 1

    @property
    def all_cached(self) -> bool:
        """Every step after FROM came from the layer cache (the legacy builder says so per step)."""
        return self.steps_after_from > 0 and self.cached >= self.steps_after_from


def build_images(remote: Remote, cl, names: list[str], tags: dict, cas: list[Path], no_cache: bool) -> dict:
    node = cl.node(cl.build_node)
    work = f"{REMOTE_DIR}/{tags[names[0]]}"
    with tempfile.NamedTemporaryFile(suffix=".tar.gz") as tmp:
        tmp.write(images.contexts_tarball(names, cas))
        tmp.flush()
        remote.check(node, commands.sh("mkdir", "-p", REMOTE_DIR))
        remote.put(node, tmp.name, f"{work}.tar.gz")
    remote.check(node, f"rm -rf {work} && mkdir -p {work} && tar -xzf {work}.tar.gz -C {work} && rm {work}.tar.gz")
    timings = {}
    try:
        for name in names:
            started = time.monotonic()
            progress = BuildProgress(name)
            r = remote.stream(node, images.build_command(cl, name, tags, f"{work}/{name}", no_cache), progress)
            if not r.ok:
                raise OpsError(f"build of {name} failed on {node.name}: "
                               + (r.error or " | ".join(progress.tail[-5:])))
            remote.check(node, commands.image_push(images.image_ref(cl, name, tags[name])), timeout=900, echo=False)
            timings[name] = round(time.monotonic() - started, 1)
            say(f"  [{name}] built and pushed {images.image_ref(cl, name, tags[name])} in {timings[name]}s"
                + (" (all steps from cache)" if progress.all_cached else ""))
    finally:
        remote.run(node, commands.sh("rm", "-rf", work), echo=False)
    return timings


@task(default=True, help={
    "only": "build only these images (comma-separated; default: all, in dependency order)",
    "no_cache": "build without the layer cache",
    "extra_ca": "extra CA certificate file trusted inside images (e.g. an intercepting proxy's); "
                "'auto' = this machine's /usr/local/share/ca-certificates/*.crt; 'none' = nothing",
    "tag": "one tag for every image (default: a hash of each image's sources, so unchanged images keep "
           "their tag and their services are not restarted by a deploy)",
    "cluster": CLUSTER_HELP,
})
@expected_errors
def build(c, only=None, no_cache=False, extra_ca=None, tag=None, cluster=None):
    """Build every image of the stack on the build node (with visible progress) and push it to the registry."""
    cl = load(c, cluster)
    names = images.select(only)
    tags = images.tags_for(tag)
    cas = images.extra_ca_files(extra_ca or setting(c, "build_extra_ca", "auto"))
    for ca in cas:
        if not ca.is_file():
            raise OpsError(f"extra CA file {ca} does not exist (give a PEM file to --extra-ca)")
    started = time.monotonic()
    with Remote(cl, echo=False) as remote:
        registry_reachable(remote, cl)
        say(f"build: base image: {ensure_base(remote, cl, cache_dir(c), setting(c, 'debian_mirror'))}")
        say(f"build: {', '.join(f'{n}:{tags[n]}' for n in names)} on {cl.build_node}"
            + (f" via proxy {cl.proxy}" if cl.proxy else "") + (f", {len(cas)} extra CA" if cas else ""))
        timings = build_images(remote, cl, names, tags, cas, no_cache)
    record_tags(state_dir(c, cl.name), {n: tags[n] for n in names})
    say(f"build: done in {time.monotonic() - started:.0f}s; deploy with `inv deploy --cluster {cl.name}`")
    return timings


ns = Collection("build")
ns.add_task(build, default=True)
ns.add_task(base)
