"""Building the stack's images on the cluster's build node, pushing them, and recording their tags."""
from __future__ import annotations

import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..builders import docker as commands
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from . import images

REMOTE_DIR = "/var/tmp/pxc-build"


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


def upload_contexts(remote: Remote, node, names: list[str], cas: list[Path], work: str) -> None:
    with tempfile.NamedTemporaryFile(suffix=".tar.gz") as tmp:
        tmp.write(images.contexts_tarball(names, cas))
        tmp.flush()
        remote.check(node, commands.sh("mkdir", "-p", REMOTE_DIR))
        remote.put(node, tmp.name, f"{work}.tar.gz")
    remote.check(node, f"rm -rf {work} && mkdir -p {work} && tar -xzf {work}.tar.gz -C {work} && rm {work}.tar.gz")


def build_one(remote: Remote, cl, node, name: str, tags: dict, work: str, no_cache: bool) -> float:
    started = time.monotonic()
    progress = BuildProgress(name)
    r = remote.stream(node, images.build_command(cl, name, tags, f"{work}/{name}", no_cache), progress)
    if not r.ok:
        raise OpsError(f"build of {name} failed on {node.name}: " + (r.error or " | ".join(progress.tail[-5:])))
    ref = images.image_ref(cl, name, tags[name])
    remote.check(node, commands.image_push(ref), timeout=900, echo=False)
    took = round(time.monotonic() - started, 1)
    say(f"  [{name}] built and pushed {ref} in {took}s" + (" (all steps from cache)" if progress.all_cached else ""))
    return took


def waves(names: list[str], deps: dict[str, tuple]) -> list[list[str]]:
    """Images grouped so that each group only needs earlier groups: a group builds concurrently."""
    done, out, left = set(), [], list(names)
    while left:
        wave = [n for n in left if all(d in done or d not in names for d in deps.get(n, ()))]
        if not wave:
            raise OpsError(f"images {', '.join(left)} are built from each other: break the cycle")
        out.append(wave)
        done |= set(wave)
        left = [n for n in left if n not in done]
    return out


def build_in_own_connection(cl, node, name: str, tags: dict, work: str, no_cache: bool) -> float:
    """One build on its own SSH connection (builds of a wave run side by side, each in its own thread)."""
    with Remote(cl, echo=False) as remote:
        return build_one(remote, cl, node, name, tags, work, no_cache)


def build_images(remote: Remote, cl, names: list[str], tags: dict, cas: list[Path], no_cache: bool) -> dict:
    """Build and push; independent images side by side (downloads overlap with compiling), dependents after."""
    node = cl.node(cl.build_node)
    work = f"{REMOTE_DIR}/{cl.name}-{tags[names[0]]}"   # labs on one machine share its file system
    upload_contexts(remote, node, names, cas, work)
    timings = {}
    try:
        for wave in waves(names, images.built_from()):
            with ThreadPoolExecutor(max_workers=len(wave)) as pool:
                futures = {n: pool.submit(build_in_own_connection, cl, node, n, tags, work, no_cache) for n in wave}
            errors = [f.exception() for f in futures.values() if f.exception()]
            if errors:
                raise errors[0]
            timings.update({n: f.result() for n, f in futures.items()})
        return timings
    finally:
        remote.run(node, commands.sh("rm", "-rf", work), echo=False)
