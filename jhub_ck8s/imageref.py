"""The one parser for container image references, and the mapping to the target registry.

Follows the grammar of the distribution project's reference package (what the
container runtime applies when it pulls), including its normalisation:

* a first path component is a registry host only if it contains ``.`` or ``:``,
  is ``localhost``, or has upper-case letters; otherwise the host is ``docker.io``;
* on ``docker.io`` a single-component name gets the implicit ``library/``
  (``traefik`` -> ``docker.io/library/traefik``), and ``index.docker.io`` is ``docker.io``;
* a reference may carry a tag, a digest, or both (``name:tag@sha256:...``); both are kept.

>>> parse("traefik:v3.6.12").normalized
'docker.io/library/traefik:v3.6.12'
>>> parse("localhost:5000/team/app@sha256:" + "a" * 64).registry
'localhost:5000'
"""

from __future__ import annotations

import enum
import re
from fnmatch import fnmatchcase
from typing import NamedTuple

from .errors import SettingsError

DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z")
# Compiled on first use (re caches it): a chart rendered without --pin has no digests.
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}\Z"
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?\Z"
)


def host_key(host: str) -> str:
    """A registry host as hosts are compared everywhere (credentials, registryMap, collisions):
    DNS names are case-insensitive, and Docker Hub's aliases are ``docker.io``.

    >>> host_key("Quay.IO"), host_key("index.docker.io")
    ('quay.io', 'docker.io')
    """
    host = host.lower().rstrip("/")
    return DOCKER_HUB if host in _DOCKER_HUB_ALIASES else host


class ImageRefError(ValueError):
    """The text is not a valid image reference; the message says which part is wrong."""


class ImageRef(NamedTuple):
    """A parsed, normalised image reference."""

    registry: str  # host[:port], "docker.io" when implicit
    repository: str  # path inside the registry, with "library/" for Docker Hub official images
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """Registry and repository, without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def normalized(self) -> str:
        """The full reference as the runtime resolves it."""
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    @property
    def pinned(self) -> bool:
        """True when the reference names a fixed version: a digest, or a tag other than latest."""
        return bool(self.digest) or (self.tag is not None and self.tag != "latest")

    def with_name(self, name: str) -> ImageRef:
        """The same tag and digest under another ``registry/repository`` name."""
        moved = parse(name)
        return ImageRef(moved.registry, moved.repository, self.tag, self.digest)

    def __str__(self) -> str:
        return self.normalized


def parse(text: str) -> ImageRef:
    """Parse an image reference; raise ImageRefError naming the bad part."""
    if not isinstance(text, str) or not text:
        raise ImageRefError("image reference is empty")
    if text != text.strip() or any(c.isspace() for c in text):
        raise ImageRefError(f"image reference {text!r} contains white space")
    rest, digest = text, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not re.match(_DIGEST, digest):
            raise ImageRefError(f"image reference {text!r} has an invalid digest {digest!r}")
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG.match(tag):
            raise ImageRefError(f"image reference {text!r} has an invalid tag {tag!r}")
    if not rest:
        raise ImageRefError(f"image reference {text!r} has no repository name")
    first, sep, remainder = rest.partition("/")
    if sep and (("." in first or ":" in first) or first == "localhost" or first.lower() != first):
        registry, path = first, remainder
        if not _HOST.match(registry):
            raise ImageRefError(f"image reference {text!r} has an invalid registry host {registry!r}")
    else:
        registry, path = DOCKER_HUB, rest
    if registry in _DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"
    for component in path.split("/"):
        if not _COMPONENT.match(component):
            raise ImageRefError(
                f"image reference {text!r} has an invalid path component {component!r} "
                "(lower-case letters, digits and . _ - separators only)"
            )
    return ImageRef(registry, path, tag, digest)


def split_registry_path(target: str) -> tuple[str, str]:
    """Split ``host[:port]/project/...`` into host and path; raise ImageRefError if invalid."""
    target = target.rstrip("/")
    host, _, path = target.partition("/")
    if "://" in target:
        raise ImageRefError(f"{target!r} must not contain a scheme such as https://")
    if not host or not _HOST.match(host) or not ("." in host or ":" in host or host == "localhost"):
        raise ImageRefError(
            f"{target!r} does not start with a registry host (such as harbor.example.com)"
        )
    for component in path.split("/") if path else []:
        if not _COMPONENT.match(component):
            raise ImageRefError(f"{target!r} has an invalid path component {component!r}")
    return host, path


class Placement(enum.Enum):
    """What the mapping decided for one reference (``Relocation.status``); the value is shown in JSON."""

    MOVE = "move"  # to the destination
    IN_TARGET = "in-target"  # already in the target registry (or a registryMap destination)
    KEPT = "kept"  # a keepImages pattern leaves it where it is
    UNMAPPED = "unmapped"  # no target registry configured


MOVE, IN_TARGET, KEPT, UNMAPPED = Placement.MOVE, Placement.IN_TARGET, Placement.KEPT, Placement.UNMAPPED


class Relocation(NamedTuple):
    """What the mapping decided for one reference."""

    source: ImageRef
    destination: ImageRef | None  # None: leave the reference as it is
    reason: str  # why it was moved or left, for people
    status: Placement = Placement.MOVE  # the same, for programs


class Relocator(NamedTuple):
    """Maps source references to the target registry (the post-renderer and `mirror` share it).

    ``target`` is ``host[/project...]``; ``registry_map`` sends one source registry to
    another destination prefix (Harbor proxy-cache projects); ``keep`` holds glob patterns
    of references or registries that stay where they are.
    """

    target: str | None
    registry_map: tuple[tuple[str, str], ...] = ()
    keep: tuple[str, ...] = ()

    def _destinations(self) -> list[str]:
        prefixes = [dest for _, dest in self.registry_map]
        if self.target:
            prefixes.append(self.target)
        return prefixes

    def relocate(self, ref: ImageRef, original: str | None = None) -> Relocation:
        original = original or ref.normalized
        for prefix in self._destinations():
            if original.startswith(prefix + "/") or ref.normalized.startswith(prefix + "/"):
                return Relocation(ref, None, f"already in {prefix}", IN_TARGET)
        for pattern in self.keep:
            if any(
                fnmatchcase(candidate, pattern)
                for candidate in (original, ref.normalized, ref.name, ref.registry)
            ):
                return Relocation(ref, None, f"kept by pattern {pattern!r}", KEPT)
        for source_registry, dest in self.registry_map:
            if host_key(ref.registry) == host_key(source_registry):
                return Relocation(ref, ref.with_name(f"{dest}/{ref.repository}"), f"{source_registry} maps to {dest}")
        if not self.target:
            return Relocation(ref, None, "no target registry configured", UNMAPPED)
        return Relocation(ref, ref.with_name(f"{self.target}/{ref.repository}"), f"moved to {self.target}")


def push_target(ref: ImageRef) -> str:
    """Where a copy to ``ref`` writes: its tag (``:latest`` without one), or its digest if untagged."""
    if ref.tag or not ref.digest:
        return f"{ref.name}:{ref.tag or 'latest'}"
    return f"{ref.name}@{ref.digest}"


class ImageCollision(SettingsError):
    """Two different source images are mapped to the same destination tag.

    A source with a ``label`` (a Secret key path) is named by its label, and then nothing
    derived from its value is shown unless the other source shows it anyway.
    """

    def __init__(self, first: Claim, second: Claim, destination: ImageRef) -> None:
        first, second = sorted((first, second), key=lambda claim: (claim.label or "", claim.source.normalized))
        self.sources = (first.source, second.source)
        self.destination = destination
        shown = [claim for claim in (second, first) if claim.label is None]
        where = f" both map to {push_target(destination)}" if shown else " map to the same destination tag"
        host = shown[0].source.registry if shown else "SOURCE-HOST"
        super().__init__(
            f"images {first.text} and {second.text}{where}, so one would overwrite the other; give one source "
            f"registry a project of its own with the registryMap setting (e.g. registryMap: {{{host}: "
            f"{destination.registry}/PROJECT}} under ck8s: in the values, or in --config)"
        )


class Claim(NamedTuple):
    source: ImageRef
    label: str | None = None  # shown instead of the reference (it lives in a Secret)

    @property
    def text(self) -> str:
        return self.label or self.source.normalized


class DestinationClaims:
    """Which source image each destination tag was given to; a second source is an ImageCollision.

    Only moved images claim a destination (the others are not copied). The same repository
    twice (another digest under one tag) is left to ``mirror``'s digest check, and two sources
    naming the same digest are the same image.
    """

    def __init__(self) -> None:
        self._taken: dict[str, Claim] = {}

    def claim(self, relocation: Relocation, label: str | None = None) -> None:
        if relocation.status != MOVE or relocation.destination is None:
            return
        claim = Claim(relocation.source, label)
        first = self._taken.setdefault(push_target(relocation.destination), claim)
        source = first.source
        same = host_key(source.registry) == host_key(claim.source.registry) and source.repository == claim.source.repository
        if not same and not (source.digest and source.digest == claim.source.digest):
            raise ImageCollision(first, claim, relocation.destination)
