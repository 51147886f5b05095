"""The list of every image a release needs, where each is used, and where it goes in Harbor.

``collect(documents, settings)`` reads a rendered stream and guarantees:

* every container, init container and ephemeral container image of every pod-bearing
  kind is listed, hooks included (the table of where pod specs live is ``podspec``);
* every runtime image the hub hands KubeSpawner is listed too (``hubconfig.image_slots``:
  singleuser image, profiles and their ``profile_options`` choices, user init/sidecar
  containers, ``hub.config.KubeSpawner``), except ``singleuser.networkTools.image`` when
  ``singleuser.cloudMetadata.blockWithIptables`` is off (then no pod ever runs it);
  runtime usages name the key path only -- no other content of ``Secret/hub`` is read
  out, and an unreadable runtime reference is reported by key path, never by value;
* references are normalised by ``imageref.parse`` and deduplicated by source: one
  ``InventoryImage`` per source, with all of its usages, sorted by source;
* each destination is computed by ``Settings.relocator()`` -- the very mapping the
  post-renderer applies -- so ``mirror`` copies exactly where the post-renderer points.
  Two different sources mapped to one destination tag are refused (``ImageCollision``),
  before anything is copied;
  An image already in the target registry (or kept by ``keepImages``) has itself as
  destination; with no target registry configured the destination is None.

Settings come from the same layers as the post-renderer's, weakest first: the
``PostRenderSettings`` document in the stream, ``--config``, flags (``settings_for``).

Before (stream)::

    kind: Deployment ... containers: [{name: traefik, image: "traefik:v3.6.12"}]

After (``registry: harbor.example.com/jupyterhub``)::

    InventoryImage(source=docker.io/library/traefik:v3.6.12,
                   destination=harbor.example.com/jupyterhub/library/traefik:v3.6.12,
                   usages=(Deployment/autohttps container traefik,))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import API_VERSION, hubconfig
from .documents import Document
from .errors import InputError
from .imageref import IN_TARGET, KEPT, MOVE, UNMAPPED, DestinationClaims, ImageRef, ImageRefError, Placement, parse
from .podspec import containers, pod_spec
from .settings import Settings, find_in_stream, merge

HOOK_ANNOTATION = "helm.sh/hook"


@dataclass(frozen=True)
class Usage:
    """One place that uses an image: a container of a rendered object, or a hub key path."""

    object: str  # "Deployment/hub", or "Secret/hub" for a runtime image
    container: str | None = None  # container name (pod specs)
    container_field: str | None = None  # "containers", "initContainers", "ephemeralContainers"
    hub_key: str | None = None  # key path in Secret/hub values.yaml (runtime images)
    hook: bool = False  # the object is a Helm hook

    @property
    def runtime(self) -> bool:
        return self.hub_key is not None

    @property
    def text(self) -> str:
        """``Deployment/hub container hub``, ``Secret/hub values.yaml: singleuser.image (runtime)``."""
        if self.hub_key is not None:
            return f"{self.object} {hubconfig.VALUES_KEY}: {self.hub_key} (runtime)"
        from .podspec import CONTAINER_LISTS

        word = CONTAINER_LISTS.get(self.container_field or "containers", "container")
        return f"{self.object} {word} {self.container}" + (" (hook)" if self.hook else "")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"object": self.object}
        if self.hub_key is not None:
            data.update(hubKey=self.hub_key, runtime=True)
        else:
            data.update(container=self.container, containerField=self.container_field, hook=self.hook)
        return data


@dataclass(frozen=True)
class InventoryImage:
    """One source image, where it goes, and everything that uses it."""

    source: ImageRef
    destination: ImageRef | None  # None: no target registry configured
    status: Placement  # what the mapping decided: MOVE, IN_TARGET, KEPT or UNMAPPED
    reason: str  # the mapping's reason, for people: "moved to harbor.example.com/jupyterhub"
    usages: tuple[Usage, ...]

    @property
    def needs_copy(self) -> bool:
        return self.status == MOVE

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source.normalized,
            "destination": self.destination.normalized if self.destination else None,
            "status": self.status.value,
            "reason": self.reason,
            "pinned": self.source.pinned,
            "usages": [usage.to_json() for usage in self.usages],
        }


@dataclass(frozen=True)
class Inventory:
    """Every image of one release, sorted by source, and the settings that mapped them."""

    images: tuple[InventoryImage, ...]
    settings: Settings = field(default_factory=Settings)

    def to_json(self) -> dict[str, Any]:
        return {
            "apiVersion": API_VERSION,
            "kind": "ImageInventory",
            "registry": self.settings.registry,
            "images": [image.to_json() for image in self.images],
        }


def in_stream_settings(documents: Iterable[Document]) -> dict[str, Any]:
    """The settings layer of the stream's PostRenderSettings document ({} when there is none)."""
    return find_in_stream(documents)[0]


def settings_for(
    documents: Iterable[Document],
    file_layer: Mapping[str, Any] | None = None,
    flag_layer: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings as the post-renderer would build them for this stream."""
    return merge(in_stream_settings(documents), file_layer or {}, flag_layer or {})


def _is_hook(doc: Document) -> bool:
    annotations = (doc.obj.get("metadata") or {}).get("annotations")
    return isinstance(annotations, dict) and bool(annotations.get(HOOK_ANNOTATION))


def _references(documents: list[Document]) -> tuple[list[tuple[str, Usage]], list[str]]:
    """(reference text, usage) for every image, and the problems of unreadable ones."""
    found: list[tuple[str, Usage]] = []
    problems: list[str] = []
    for doc in documents:
        if doc.removed:
            continue
        spec = pod_spec(doc.obj)
        if spec is None:
            continue
        hook = _is_hook(doc)
        for ref in containers(spec):
            usage = Usage(doc.label, ref.name, ref.field, hook=hook)
            image = ref.container.get("image")
            if not isinstance(image, str) or not image:
                problems.append(f"{usage.text}: has no image")
                continue
            found.append((image, usage))
    hub = hubconfig.find(documents)
    if hub is not None:
        network_tools_runs = hubconfig.network_tools_runs(hub.values)
        for slot in hubconfig.image_slots(hub.values):
            if slot.path == hubconfig.NETWORK_TOOLS_KEY and not network_tools_runs:
                continue  # no pod runs network-tools when the metadata block is off
            usage = Usage(hub.document.label, hub_key=slot.path)
            text = slot.get()
            if text is None:
                if slot.holder.get(slot.key) not in (None, "", {}):
                    problems.append(f"{usage.text}: the image is neither a string nor a name/tag mapping")
                continue
            found.append((text, usage))
    return found, problems


def collect(documents: list[Document], settings: Settings) -> Inventory:
    """Every image of the stream, deduplicated by source.

    InputError for unreadable references; ImageCollision for two sources sent to one destination.
    """
    relocator = settings.relocator()
    claims = DestinationClaims()
    found, problems = _references(documents)
    images: dict[str, tuple[ImageRef, ImageRef | None, Placement, str, list[Usage]]] = {}
    for text, usage in found:
        try:
            ref = parse(text)
        except ImageRefError as exc:
            # A runtime reference lives in the Secret: name the key path, not the value.
            problems.append(f"{usage.text}: image reference cannot be parsed" if usage.runtime else f"{usage.text}: {exc}")
            continue
        key = ref.normalized
        if key in images:
            if usage not in images[key][4]:
                images[key][4].append(usage)
            continue
        relocation = relocator.relocate(ref, text)
        claims.claim(relocation)
        status = relocation.status
        # An image left where it is has itself as destination; unmapped ones have none.
        destination = relocation.destination or (None if status == UNMAPPED else ref)
        images[key] = (ref, destination, status, relocation.reason, [usage])
    if problems:
        raise InputError("; ".join(problems))
    return Inventory(
        tuple(
            InventoryImage(ref, dest, status, reason, tuple(usages))
            for ref, dest, status, reason, usages in (images[k] for k in sorted(images))
        ),
        settings,
    )


def table(inventory: Inventory) -> str:
    """A plain-text table: one row per image, continuation lines for further usages."""
    rows = [("SOURCE", "DESTINATION", "USED BY")]
    for image in inventory.images:
        destination = image.destination.normalized if image.destination else "(no target registry)"
        if image.status == IN_TARGET:
            destination += " (already there)"
        elif image.status == KEPT:
            destination += " (kept)"
        for i, usage in enumerate(image.usages):
            rows.append((image.source.normalized, destination, usage.text) if i == 0 else ("", "", usage.text))
    widths = [max(len(row[col]) for row in rows) for col in range(2)]
    lines = [f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip() for row in rows]
    return "\n".join(lines) + "\n"


__all__ = [
    "IN_TARGET",
    "KEPT",
    "MOVE",
    "UNMAPPED",
    "Inventory",
    "InventoryImage",
    "Placement",
    "Usage",
    "collect",
    "in_stream_settings",
    "settings_for",
    "table",
]
