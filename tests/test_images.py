"""Image build data: per-image content tags, build contexts and the docker build command line."""
import io
import tarfile

import pytest

from ops.cluster import images
from ops.core.errors import OpsError
from ops.core.inventory import parse_cluster


@pytest.fixture
def ctx(tmp_path):
    for name in ("pretix", "nginx", "redis"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text(f"FROM x\n# {name}\n")
    (tmp_path / "nginx" / "Dockerfile").write_text("ARG BASE_IMAGE\nARG PRETIX_IMAGE=x\nFROM ${PRETIX_IMAGE}\n")
    (tmp_path / "pretix" / "extra-ca").mkdir()
    (tmp_path / "pretix" / "extra-ca" / "local.crt").write_text("ignored: the build adds its own")
    return tmp_path


def cluster(tmp_path, proxy=None):
    (tmp_path / "k").write_text("k")
    (tmp_path / "kh").write_text("h")
    data = {"registry": "10.0.0.1:5000", "ssh": {"key_file": "k", "known_hosts": "kh"},
            "nodes": [{"name": "n1", "address": "10.0.0.1"}]}
    if proxy:
        data["proxy"] = proxy
    return parse_cluster(data, path=str(tmp_path / "c.yaml"))


def test_tags_change_only_for_the_image_whose_sources_changed(ctx):
    before = images.content_tags(("pretix", "nginx", "redis"), ctx)
    (ctx / "redis" / "Dockerfile").write_text("FROM x\n# changed\n")
    after = images.content_tags(("pretix", "nginx", "redis"), ctx)
    assert after["pretix"] == before["pretix"] and after["nginx"] == before["nginx"]
    assert after["redis"] != before["redis"]


def test_nginx_tag_follows_pretix_because_it_copies_its_static_files(ctx):
    before = images.content_tags(("pretix", "nginx"), ctx)
    (ctx / "pretix" / "Dockerfile").write_text("FROM y\n")
    after = images.content_tags(("pretix", "nginx"), ctx)
    assert after["nginx"] != before["nginx"]


def test_extra_ca_folder_is_not_part_of_the_tag(ctx):
    before = images.content_tags(("pretix",), ctx)
    (ctx / "pretix" / "extra-ca" / "other.crt").write_text("x")
    assert images.content_tags(("pretix",), ctx) == before


def test_explicit_tag_wins_then_recorded_tags(ctx):
    assert images.tags_for("v7", images_dir=ctx) == {"nginx": "v7", "pretix": "v7", "redis": "v7"}
    recorded = {n: f"r-{n}" for n in ("pretix", "nginx", "redis")}
    assert images.tags_for(None, recorded, ctx) == recorded
    assert images.tags_for(None, {"pretix": "only-one"}, ctx) == images.content_tags(images_dir=ctx)


def test_image_list_comes_from_the_folders_and_built_from_args(ctx):
    (ctx / "notes").mkdir()  # a folder without Dockerfile is not an image
    assert images.built_from(ctx) == {"nginx": ("pretix",), "pretix": (), "redis": ()}
    assert images.image_names(ctx) == ["pretix", "redis", "nginx"]


def test_images_built_from_each_other_are_refused(ctx):
    (ctx / "pretix" / "Dockerfile").write_text("ARG NGINX_IMAGE\nFROM ${NGINX_IMAGE}\n")
    with pytest.raises(OpsError, match="built from each other"):
        images.image_names(ctx)


def test_contexts_tarball_has_extra_ca_in_every_context(ctx, tmp_path):
    ca = tmp_path / "proxy.crt"
    ca.write_text("CERT")
    tar = tarfile.open(fileobj=io.BytesIO(images.contexts_tarball(["pretix", "redis"], [ca], ctx)))
    assert sorted(tar.getnames()) == ["pretix/Dockerfile", "pretix/extra-ca", "pretix/extra-ca/extra-0.crt",
                                      "redis/Dockerfile", "redis/extra-ca", "redis/extra-ca/extra-0.crt"]
    assert {m.mtime for m in tar.getmembers()} == {0}


def test_build_command_for_nginx_behind_a_proxy(tmp_path, ctx):
    cl = cluster(tmp_path, proxy="http://127.0.0.1:3128")
    tags = {n: f"t-{n}" for n in ("pretix", "nginx", "redis")}
    assert images.build_command(cl, "nginx", tags, "/var/tmp/b/nginx", images_dir=ctx) == (
        "docker build --network host --build-arg BASE_IMAGE=10.0.0.1:5000/pretix-cluster/base:bookworm "
        "--build-arg PRETIX_IMAGE=10.0.0.1:5000/pretix-cluster/pretix:t-pretix "
        "--build-arg http_proxy=http://127.0.0.1:3128 --build-arg https_proxy=http://127.0.0.1:3128 "
        "--build-arg HTTP_PROXY=http://127.0.0.1:3128 --build-arg HTTPS_PROXY=http://127.0.0.1:3128 "
        "--tag 10.0.0.1:5000/pretix-cluster/nginx:t-nginx /var/tmp/b/nginx")


def test_build_command_without_proxy_and_cache(tmp_path, ctx):
    cl = cluster(tmp_path)
    assert images.build_command(cl, "redis", {"redis": "v1"}, "/w/redis", no_cache=True, images_dir=ctx) == (
        "docker build --network host --build-arg BASE_IMAGE=10.0.0.1:5000/pretix-cluster/base:bookworm "
        "--no-cache --tag 10.0.0.1:5000/pretix-cluster/redis:v1 /w/redis")


def test_select_keeps_dependency_order_and_rejects_unknown(ctx):
    assert images.select("nginx,pretix", ctx) == ["pretix", "nginx"]
    with pytest.raises(OpsError) as e:
        images.select("pretix,nope", ctx)
    assert str(e.value) == "unknown image nope: choose from pretix, redis, nginx"


def test_base_mirror_is_read_from_apt_sources_not_hard_coded():
    from ops.cluster.base import parse_mirror
    assert parse_mirror("Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n") == \
        "http://mirror.example/debian"
    assert parse_mirror("deb [arch=amd64] http://m.example/debian bookworm main\n") == "http://m.example/debian"


def test_build_waves_run_independent_images_together():
    from ops.cluster.build import waves
    deps = {"nginx": ("pretix",), "pretix": (), "redis": (), "etcd": ()}
    assert waves(["etcd", "pretix", "redis", "nginx"], deps) == [["etcd", "pretix", "redis"], ["nginx"]]
    assert waves(["nginx"], deps) == [["nginx"]]        # --only nginx: pretix is already in the registry
    with pytest.raises(OpsError, match="built from each other"):
        waves(["a", "b"], {"a": ("b",), "b": ("a",)})


def first_steps_after_base(dockerfile: str) -> list[str]:
    """The instruction right after each `FROM ${BASE_IMAGE}` of a Dockerfile (comments and blank lines skipped)."""
    lines = [line.strip() for line in dockerfile.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [lines[i + 1] for i, line in enumerate(lines[:-1]) if line.startswith("FROM ${BASE_IMAGE}")]


def test_every_stage_from_the_base_begins_with_a_step_of_its_own():
    # Side by side builds with identical first steps made sibling cache entries; a later build continued from
    # another image's entry and rebuilt (new digest: the next deploy restarted etcd, Redis and the Sentinels).
    steps = [s for d in sorted(images.IMAGES_DIR.glob("*/Dockerfile")) for s in first_steps_after_base(d.read_text())]
    assert len(steps) >= 9
    assert all(s.startswith("LABEL pretix-cluster.stage=") for s in steps), steps
    assert len(set(steps)) == len(steps), steps
