"""The image reference parser and the registry mapping, table-driven."""

from __future__ import annotations

import pytest

from jhub_ck8s.imageref import ImageRefError, Relocator, parse, split_registry_path

D = "sha256:" + "a" * 64

PARSE_CASES = [
    # text, registry, repository, tag, digest
    ("traefik:v3.6.12", "docker.io", "library/traefik", "v3.6.12", None),
    ("traefik", "docker.io", "library/traefik", None, None),
    ("docker.io/traefik:1", "docker.io", "library/traefik", "1", None),
    ("index.docker.io/library/busybox:1.36.1", "docker.io", "library/busybox", "1.36.1", None),
    ("jupyter/base-notebook:x", "docker.io", "jupyter/base-notebook", "x", None),
    ("quay.io/jupyterhub/k8s-hub:4.4.0", "quay.io", "jupyterhub/k8s-hub", "4.4.0", None),
    ("registry.k8s.io/pause:3.10.1", "registry.k8s.io", "pause", "3.10.1", None),
    ("localhost/app:1", "localhost", "app", "1", None),
    ("localhost:5000/team/app:1", "localhost:5000", "team/app", "1", None),
    ("registry.local:5000/a/b/c", "registry.local:5000", "a/b/c", None, None),
    (f"quay.io/x/y@{D}", "quay.io", "x/y", None, D),
    (f"quay.io/x/y:1.0@{D}", "quay.io", "x/y", "1.0", D),
    (f"busybox@{D}", "docker.io", "library/busybox", None, D),
    ("Registry.Example/app:1", "Registry.Example", "app", "1", None),
    ("[::1]:5000/app:1", "[::1]:5000", "app", "1", None),
    ("a.io/some_thing/x__y-z.w:TAG_1.2-3", "a.io", "some_thing/x__y-z.w", "TAG_1.2-3", None),
]


@pytest.mark.parametrize(("text", "registry", "repository", "tag", "digest"), PARSE_CASES)
def test_parse(text, registry, repository, tag, digest):
    ref = parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert parse(ref.normalized) == ref  # normal form parses to itself


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "empty"),
        ("Traefik:1", "invalid path component"),
        ("quay.io/x:", "invalid tag"),
        ("quay.io/x:bad/tag", "invalid path component"),
        ("quay.io/x@sha256:zz", "invalid digest"),
        ("quay.io/x y:1", "white space"),
        ("quay.io//x:1", "invalid path component"),
        (":1", "no repository"),
        ("bad_host:5000/x:1", "invalid registry host"),
    ],
)
def test_parse_rejects(text, complaint):
    with pytest.raises(ImageRefError, match=complaint):
        parse(text)


@pytest.mark.parametrize(
    ("text", "pinned"),
    [("a:1", True), ("a", False), ("a:latest", False), (f"a@{D}", True), (f"a:latest@{D}", True)],
)
def test_pinned(text, pinned):
    assert parse(text).pinned is pinned


RELOCATOR = Relocator(
    "harbor.example.com/jupyterhub",
    (("docker.io", "harbor.example.com/dockerhub-proxy"),),
    ("registry.internal.example", "quay.io/keep/*"),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quay.io/jupyterhub/k8s-hub:4.4.0", "harbor.example.com/jupyterhub/jupyterhub/k8s-hub:4.4.0"),
        ("registry.k8s.io/pause:3.10.1", "harbor.example.com/jupyterhub/pause:3.10.1"),
        ("traefik:v3.6.12", "harbor.example.com/dockerhub-proxy/library/traefik:v3.6.12"),
        ("jupyter/r:1", "harbor.example.com/dockerhub-proxy/jupyter/r:1"),
        (f"ghcr.io/a/b:1@{D}", f"harbor.example.com/jupyterhub/a/b:1@{D}"),
        ("localhost:5000/x:1", "harbor.example.com/jupyterhub/x:1"),
        # left alone: already there, kept by pattern
        ("harbor.example.com/jupyterhub/jupyterhub/k8s-hub:4.4.0", None),
        ("harbor.example.com/dockerhub-proxy/library/traefik:v3.6.12", None),
        ("registry.internal.example/x:1", None),
        ("quay.io/keep/thing:1", None),
    ],
)
def test_relocate(text, expected):
    relocation = RELOCATOR.relocate(parse(text), text)
    got = relocation.destination.normalized if relocation.destination else None
    assert got == expected, relocation.reason
    if got:  # relocating the result again changes nothing
        assert RELOCATOR.relocate(parse(got), got).destination is None


def test_relocate_without_target_leaves_everything():
    assert Relocator(None).relocate(parse("a:1")).destination is None


@pytest.mark.parametrize(
    ("target", "ok"),
    [
        ("harbor.example.com/jupyterhub", True),
        ("harbor.example.com:8443/team/sub", True),
        ("localhost:5000", True),
        ("https://harbor.example.com/x", False),
        ("jupyterhub", False),
        ("harbor.example.com/Bad", False),
    ],
)
def test_split_registry_path(target, ok):
    if ok:
        split_registry_path(target)
    else:
        with pytest.raises(ImageRefError):
            split_registry_path(target)


# --- destination collisions ---------------------------------------------------------------------


def _claims(*texts: str, relocator=None):
    from jhub_ck8s.imageref import DestinationClaims, Relocator

    relocator = relocator or Relocator("harbor.example.com/jh")
    claims = DestinationClaims()
    for text in texts:
        claims.claim(relocator.relocate(parse(text), text))
    return claims


def test_two_registries_sending_one_tag_to_one_destination_collide():
    from jhub_ck8s.errors import SettingsError
    from jhub_ck8s.imageref import ImageCollision

    for pair in (("a.example/apps/x:1.0", "b.example/apps/x:1.0"), ("a.example/apps/x", "b.example/apps/x:latest"),
                 ("apps/x:1.0", "quay.io/apps/x:1.0")):
        with pytest.raises(ImageCollision) as caught:
            _claims(*pair)
        assert isinstance(caught.value, SettingsError)  # exit 2, one line, like other settings problems
        first, second = sorted(parse(p).normalized for p in pair)
        assert f"images {first} and {second} both map to harbor.example.com/jh/" in str(caught.value)
        assert "registryMap" in str(caught.value)


def test_the_same_image_or_other_tags_do_not_collide():
    from jhub_ck8s.imageref import Relocator

    digest = "sha256:" + "a" * 64
    _claims(f"a.example/apps/x:1.0@{digest}", f"b.example/apps/x:1.0@{digest}")  # one image, two mirrors of it
    _claims("a.example/apps/x:1.0", "b.example/apps/x:2.0")  # other tags
    _claims("a.example/apps/x:1.0", f"a.example/apps/x:1.0@{digest}")  # one repository: mirror's digest check
    _claims("a.example/apps/x:1.0", "a.example/apps/x:1.0")
    _claims("harbor.example.com/jh/apps/x:1.0", "b.example/apps/x:1.0")  # already there: not copied
    _claims("a.example/apps/x:1.0", "b.example/apps/x:1.0", relocator=Relocator("harbor.example.com/jh", keep=("b.example",)))
    _claims("a.example/apps/x:1.0", "b.example/apps/x:1.0",
            relocator=Relocator("harbor.example.com/jh", registry_map=(("b.example", "harbor.example.com/b"),)))
