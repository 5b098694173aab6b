"""Image builds as data: build contexts, a content tag, and the docker build/push command lines."""
from __future__ import annotations

import glob
import hashlib
import io
import tarfile
from pathlib import Path

from . import commands
from .base import base_ref
from .inventory import Cluster
from .stackconfig import IMAGE_ORDER

IMAGES_DIR = Path(__file__).resolve().parent.parent / "images"
REPO = "pretix-cluster"
AUTO_CA = "/usr/local/share/ca-certificates/*.crt"


def image_ref(cluster: Cluster, name: str, tag: str) -> str:
    return f"{cluster.registry}/{REPO}/{name}:{tag}"


def select(only: str | None) -> list[str]:
    """Images to build, in dependency order; --only takes a comma-separated list."""
    if not only:
        return list(IMAGE_ORDER)
    wanted = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in IMAGE_ORDER]
    if unknown:
        from .errors import OpsError
        raise OpsError(f"unknown image {', '.join(unknown)}: choose from {', '.join(IMAGE_ORDER)}")
    return [n for n in IMAGE_ORDER if n in wanted]


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


# an image's tag also covers what it is built from: nginx copies pretix's static files
BUILT_FROM = {"nginx": ("pretix",)}


def content_tags(names=IMAGE_ORDER, images_dir: Path = IMAGES_DIR) -> dict[str, str]:
    """A tag per image from its build context: unchanged sources keep their tag, so a deploy restarts
    only the services whose image really changed."""
    return {name: _hash_tag([*BUILT_FROM.get(name, ()), name], images_dir) for name in names}


def _hash_tag(names, images_dir: Path) -> str:
    h = hashlib.sha256()
    for name in names:
        for f in context_files(name, images_dir):
            h.update(str(f.relative_to(images_dir)).encode() + b"\0" + f.read_bytes() + b"\0")
    return "c" + h.hexdigest()[:12]


def tags_for(tag: str | None, recorded: dict | None = None) -> dict[str, str]:
    """--tag T means T for every image; otherwise what the last build recorded, else the sources' tags."""
    if tag:
        return {name: tag for name in IMAGE_ORDER}
    if recorded and set(recorded) >= set(IMAGE_ORDER):
        return {name: recorded[name] for name in IMAGE_ORDER}
    return content_tags()


def build_command(cluster: Cluster, name: str, tags: dict, context_dir: str, no_cache: bool = False) -> str:
    args = ["build", "--network", "host", "--build-arg", f"BASE_IMAGE={base_ref(cluster)}"]
    if name == "nginx":
        args += ["--build-arg", f"PRETIX_IMAGE={image_ref(cluster, 'pretix', tags['pretix'])}"]
    if cluster.proxy:
        for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            args += ["--build-arg", f"{var}={cluster.proxy}"]
    if no_cache:
        args.append("--no-cache")
    args += ["--tag", image_ref(cluster, name, tags[name]), context_dir]
    return commands.docker(*args)


def manifest_probe(cluster: Cluster, name: str, tag: str) -> str:
    return commands.registry_manifest(cluster.registry, f"{REPO}/{name}", tag)
