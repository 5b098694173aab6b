"""Image builds as data: the image list (one folder per image), contexts, content tags, build/push commands.

The image list comes from one place, the folders of images/ that hold a Dockerfile. An image that is built
from another one declares it as a build argument, e.g. nginx's `ARG PRETIX_IMAGE`: it is built after that
image, gets its reference passed in, and its content tag covers that image's sources too.
"""
from __future__ import annotations

import glob
import hashlib
import io
import re
import tarfile
from pathlib import Path

from ..builders import docker as commands
from ..core.errors import OpsError
from ..core.inventory import Cluster
from .base import base_ref

IMAGES_DIR = Path(__file__).resolve().parents[2] / "images"
REPO = "pretix-cluster"
AUTO_CA = "/usr/local/share/ca-certificates/*.crt"
_FROM_ARG = re.compile(r"^ARG\s+([A-Z0-9_]+)_IMAGE\b", re.M)
# A tag ending in -<image><version> pins that version: images whose Dockerfile declares ARG <IMAGE>_VERSION get it
# as a build argument (`inv upgrade --pretix 2026.8.0` builds pretix:<content tag>-pretix2026.8.0).
_VERSION_SUFFIX = re.compile(r"-([a-z][a-z0-9-]*?)([0-9][0-9A-Za-z.]*)$")


def version_suffix(image: str, version: str) -> str:
    return f"-{image}{version}"


def version_args(name: str, tag: str, images_dir: Path = IMAGES_DIR) -> list[str]:
    """The version build argument a tag pins for this image (nothing when its Dockerfile does not declare it)."""
    m = _VERSION_SUFFIX.search(tag)
    if not m:
        return []
    arg = m.group(1).upper().replace("-", "_") + "_VERSION"
    declared = re.search(rf"^ARG\s+{arg}\b", (images_dir / name / "Dockerfile").read_text(), re.M)
    return ["--build-arg", f"{arg}={m.group(2)}"] if declared else []


def image_ref(cluster: Cluster, name: str, tag: str) -> str:
    return f"{cluster.registry}/{REPO}/{name}:{tag}"


def arg_name(image: str) -> str:
    """The build argument that carries an image's reference: pretix -> PRETIX_IMAGE."""
    return image.upper().replace("-", "_") + "_IMAGE"


def built_from(images_dir: Path = IMAGES_DIR) -> dict[str, tuple[str, ...]]:
    """{image: the images it is built from}, read from each Dockerfile's `ARG <NAME>_IMAGE` lines."""
    names = sorted(p.parent.name for p in images_dir.glob("*/Dockerfile"))
    by_arg = {arg_name(n): n for n in names}
    deps = {}
    for n in names:
        text = (images_dir / n / "Dockerfile").read_text()
        deps[n] = tuple(by_arg[a + "_IMAGE"] for a in _FROM_ARG.findall(text) if a + "_IMAGE" in by_arg)
    return deps


def image_names(images_dir: Path = IMAGES_DIR) -> list[str]:
    """Every image, in build order: an image comes after those it is built from, otherwise by name."""
    deps, order = built_from(images_dir), []

    def visit(name: str, path: tuple = ()) -> None:
        if name in path:
            raise OpsError(f"images {' -> '.join(path + (name,))} are built from each other: break the cycle")
        if name not in order:
            for d in deps[name]:
                visit(d, path + (name,))
            order.append(name)

    for n in sorted(deps, key=lambda n: (bool(deps[n]), n)):
        visit(n)
    return order


def select(only: str | None, images_dir: Path = IMAGES_DIR) -> list[str]:
    """Images to build, in build order; --only takes a comma-separated list."""
    names = image_names(images_dir)
    if not only:
        return names
    wanted = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise OpsError(f"unknown image {', '.join(unknown)}: choose from {', '.join(names)}")
    return [n for n in names if n in wanted]


def extra_ca_files(spec: str | None) -> list[Path]:
    """--extra-ca: a file, 'auto' (this machine's local CA certificates) or none."""
    if not spec or spec == "none":
        return []
    if spec == "auto":
        return [Path(p) for p in sorted(glob.glob(AUTO_CA))]
    return [Path(spec)]


def context_files(name: str, images_dir: Path = IMAGES_DIR) -> list[Path]:
    root = images_dir / name
    return sorted(p for p in root.rglob("*") if p.is_file() and "extra-ca" not in p.relative_to(root).parts
                  and "__pycache__" not in p.parts)


def contexts_tarball(names: list[str], cas: list[Path], images_dir: Path = IMAGES_DIR) -> bytes:
    """One tar with a folder per image: its files plus extra-ca/ with the extra CA certificates."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in names:
            for f in context_files(name, images_dir):
                tar.add(f, arcname=f"{name}/{f.relative_to(images_dir / name)}", filter=_normalize)
            _add_dir(tar, f"{name}/extra-ca")
            for i, ca in enumerate(cas):
                tar.add(ca, arcname=f"{name}/extra-ca/extra-{i}.crt", filter=_normalize)
    return buf.getvalue()


def _normalize(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # stable metadata: the same files give the same build cache keys on the node
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mtime = 0
    return info


def _add_dir(tar: tarfile.TarFile, arcname: str) -> None:
    info = tarfile.TarInfo(arcname)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    tar.addfile(info)


def content_tags(names=None, images_dir: Path = IMAGES_DIR) -> dict[str, str]:
    """A tag per image from its build context (and those of the images it is built from): unchanged
    sources keep their tag, so a deploy restarts only the services whose image really changed."""
    deps = built_from(images_dir)
    return {n: _hash_tag([*deps[n], n], images_dir) for n in (names or image_names(images_dir))}


def _hash_tag(names, images_dir: Path) -> str:
    h = hashlib.sha256()
    for name in names:
        for f in context_files(name, images_dir):
            h.update(str(f.relative_to(images_dir)).encode() + b"\0" + f.read_bytes() + b"\0")
    return "c" + h.hexdigest()[:12]


def tags_for(tag: str | None, recorded: dict | None = None, images_dir: Path = IMAGES_DIR) -> dict[str, str]:
    """--tag T means T for every image; otherwise what the last build recorded, else the sources' tags."""
    names = image_names(images_dir)
    if tag:
        return {name: tag for name in names}
    if recorded and set(recorded) >= set(names):
        return {name: recorded[name] for name in names}
    return content_tags(names, images_dir)


def build_command(cluster: Cluster, name: str, tags: dict, context_dir: str, no_cache: bool = False,
                  images_dir: Path = IMAGES_DIR) -> str:
    args = ["build", "--network", "host", "--build-arg", f"BASE_IMAGE={base_ref(cluster)}"]
    for dep in built_from(images_dir)[name]:
        args += ["--build-arg", f"{arg_name(dep)}={image_ref(cluster, dep, tags[dep])}"]
    if cluster.proxy:
        for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            args += ["--build-arg", f"{var}={cluster.proxy}"]
    args += version_args(name, tags[name], images_dir)
    if no_cache:
        args.append("--no-cache")
    args += ["--tag", image_ref(cluster, name, tags[name]), context_dir]
    return commands.docker(*args)


def manifest_probe(cluster: Cluster, name: str, tag: str) -> str:
    return commands.registry_manifest(cluster.registry, f"{REPO}/{name}", tag)
