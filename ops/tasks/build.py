"""`inv build`, `inv build.base`: every image of the stack built on the build node and pushed to its registry."""
from __future__ import annotations

import time

from invoke import Collection

from ..cluster import images
from ..cluster.base import ensure_base, registry_reachable
from ..cluster.build import build_images, record_tags
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from .context import HELP, cache_dir, expected_errors, load, setting, state_dir, task


@task(help={"cluster": HELP["cluster"], "force": "rebuild and push even if the registry has it"})
@expected_errors
def base(c, cluster=None, force=False):
    """Make the Debian bookworm base image (debootstrap offline, cached; or pull) and push it."""
    cl = load(c, cluster)
    started = time.monotonic()
    with Remote(cl) as remote:
        result = ensure_base(remote, cl, cache_dir(c), setting(c, "debian_mirror"), force=force)
    say(f"base: {result} ({time.monotonic() - started:.1f}s)")


@task(default=True, help={
    "only": "build only these images (comma-separated; default: all, in dependency order)",
    "no_cache": "build without the layer cache",
    "extra_ca": "extra CA certificate file trusted inside images (e.g. an intercepting proxy's); "
                "'auto' = this machine's /usr/local/share/ca-certificates/*.crt; 'none' = nothing",
    "tag": "one tag for every image (default: a hash of each image's sources, so unchanged images keep "
           "their tag and their services are not restarted by a deploy)",
    "cluster": HELP["cluster"],
})
@expected_errors
def build(c, only=None, no_cache=False, extra_ca=None, tag=None, cluster=None):
    """Build every image of the stack on the build node (with visible progress) and push it to the registry."""
    cl = load(c, cluster)
    names = images.select(only)
    tags = images.tags_for(tag)
    cas = images.extra_ca_files(extra_ca or setting(c, "build_extra_ca"))
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
