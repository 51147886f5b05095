"""Relocate every image to the target registry: rendered pod specs and the hub's runtime config.

Guarantees:

* every container, init container and ephemeral container image of every pod-bearing
  kind (hooks included) points into the target registry, unless ``keepImages`` keeps it
  or it is already there (so a second run changes nothing);
* the same holds for the images the hub hands to KubeSpawner at spawn time
  (``Secret/hub`` ``values.yaml``: singleuser image, profiles and their options, user
  init/sidecar containers, network tools, ``hub.config.KubeSpawner``), reported by key
  path only;
* tag and digest are kept; the repository path is kept without the source host,
  Docker Hub names get ``library/``; ``registryMap`` sends a source registry to its own
  destination (Harbor proxy-cache projects);
* each rewritten object records its original references in the annotation
  ``jhub-ck8s.io/original-images`` (JSON, container name -> reference);
* a reference that is not pinned (no tag, or ``:latest``) is an error (rule
  ``disallowed-tag``); one that cannot be parsed is an error (rule ``image-reference``);
* two different source images mapped to the same destination tag (``a.example/x:1`` and
  ``b.example/x:1`` with one ``registry``) stop the run with an error naming both and the
  ``registryMap`` fix (``ImageCollision``): one would silently replace the other in Harbor;
* with ``pin`` (a lock file written by ``mirror``), every image gets the digest it was
  mirrored with (``...:4.4.0@sha256:...``); an image the lock does not list is an error
  (rule ``image-not-locked``), except ``singleuser.networkTools.image`` when the metadata
  block is off: no pod runs it, so ``images`` and ``mirror`` leave it out and it is moved
  but not pinned.

Before (``registry: harbor.example.com/jupyterhub``)::

    containers: [{name: traefik, image: "traefik:v3.6.12"}]

After::

    metadata: {annotations: {jhub-ck8s.io/original-images: '{"traefik":"traefik:v3.6.12"}'}}
    containers: [{name: traefik, image: harbor.example.com/jupyterhub/library/traefik:v3.6.12}]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from jhub_ck8s.errors import shape_of
from jhub_ck8s.hubconfig import NETWORK_TOOLS_KEY, VALUES_KEY, image_slots, network_tools_runs
from jhub_ck8s.imageref import DestinationClaims, ImageRef, ImageRefError, Relocator, parse
from jhub_ck8s.podspec import containers, pod_spec
from jhub_ck8s.report import CHANGE, ERROR, WARNING, Finding

if TYPE_CHECKING:
    from jhub_ck8s.documents import Document
    from jhub_ck8s.lock import ImageLock
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "images"
ORIGINAL_IMAGES_ANNOTATION = "jhub-ck8s.io/original-images"
_PIN_FIX = "pin the image to a version tag or a digest in the chart values that set it"
_STRING_FIX = "set the image to a reference such as registry.example.com/project/name:1.0 (or {name, tag}) in the chart values"


def _relocate(
    text: object, relocator: Relocator, lock: ImageLock | None, doc: Document, where: str, *, secret: bool,
    claims: DestinationClaims,
) -> tuple[str | None, Finding | None]:
    """New reference (or None to leave it) and a problem, if any.

    With ``secret`` the message names no value: the reference lives in Secret/hub.
    """
    shown = "" if secret else f" {text!r}"
    if not isinstance(text, str):
        return None, Finding(ID, ERROR, f"image is {shape_of(text)}, not a reference", doc, where, _STRING_FIX, "image-reference")
    try:
        ref = parse(text)
    except ImageRefError as exc:
        message = "image reference cannot be parsed" if secret else str(exc)
        return None, Finding(ID, ERROR, message, doc, where, "correct the image reference", "image-reference")
    problem = None
    if not ref.pinned:
        why = "uses the tag latest" if ref.tag == "latest" else "has no tag or digest"
        problem = Finding(
            ID, ERROR, f"image{shown} {why}; the platform rejects it", doc, where, _PIN_FIX, "disallowed-tag"
        )
    relocation = relocator.relocate(ref, text)
    claims.claim(relocation, f"{doc.label} {where}" if secret else None)
    destination = relocation.destination
    if lock is not None and not ref.digest:
        pinned = _pin(ref, destination, lock)
        if pinned is None:
            return None, problem or Finding(
                ID, ERROR, f"image{shown} is not in the lock file, so it cannot be pinned", doc, where,
                "run helm ck8s-jupyter mirror again so the lock file lists it", "image-not-locked",
            )
        return pinned.normalized, problem
    return (destination.normalized if destination else None), problem


def _pin(ref: ImageRef, destination: ImageRef | None, lock: ImageLock) -> ImageRef | None:
    """The destination with the digest recorded at mirror time (looked up by source or destination)."""
    entry = lock.by_source().get(ref.normalized) or lock.by_destination().get(ref.normalized)
    if entry is None:
        return None
    target = destination or ref
    return ImageRef(target.registry, target.repository, target.tag, entry.digest)


def _pod_specs(
    stream: Stream, relocator: Relocator, lock: ImageLock | None, claims: DestinationClaims
) -> Iterator[Finding]:
    for doc in stream.live():
        spec = pod_spec(doc.obj)
        if spec is None:
            continue
        originals: dict[str, str] = {}
        for ref in containers(spec):
            image = ref.container.get("image")
            new, problem = _relocate(image, relocator, lock, doc, ref.where, secret=False, claims=claims)
            if problem:
                problem.container = ref.name
                yield problem
            if new is not None and new != image:
                originals[ref.name] = str(image)
                ref.container["image"] = new
                yield Finding.on_container(ID, CHANGE, f"image {image} -> {new}", doc, ref)
        if originals:
            metadata = doc.obj.setdefault("metadata", {})
            if not isinstance(metadata.get("annotations"), dict):
                metadata["annotations"] = {}
            merged = _recorded_originals(metadata["annotations"].get(ORIGINAL_IMAGES_ANNOTATION))
            merged.update(originals)
            import json  # only when something moved

            metadata["annotations"][ORIGINAL_IMAGES_ANNOTATION] = json.dumps(
                merged, sort_keys=True, separators=(",", ":")
            )


def _recorded_originals(previous: object) -> dict[str, str]:
    """The originals recorded by an earlier run; anything else in our annotation is replaced."""
    import json

    try:
        recorded = json.loads(previous) if isinstance(previous, str) and previous else {}
    except ValueError:
        return {}
    if not isinstance(recorded, dict):
        return {}
    return {str(k): str(v) for k, v in recorded.items() if isinstance(v, str)}


def _hub_config(
    stream: Stream, relocator: Relocator, lock: ImageLock | None, claims: DestinationClaims
) -> Iterator[Finding]:
    hub = stream.hub()
    if hub is None:
        return
    tools_run = network_tools_runs(hub.values)
    for slot in image_slots(hub.values):
        text = slot.get()
        where = f"{VALUES_KEY}: {slot.path}"
        if text is None:
            if slot.holder.get(slot.key) not in (None, ""):  # set, but neither a string nor {name, tag}
                yield Finding(ID, ERROR, "image is not a reference", hub.document, where, _STRING_FIX, "image-reference")
            continue
        # The lock holds what mirror copied, which is the inventory: an image no pod runs is not in it.
        slot_lock = lock if slot.path != NETWORK_TOOLS_KEY or tools_run else None
        new, problem = _relocate(text, relocator, slot_lock, hub.document, where, secret=True, claims=claims)
        if problem:
            yield problem
        if new is not None and new != text:
            slot.set(new)
            yield Finding(
                ID, CHANGE, "runtime image moved to the target registry", hub.document, where, hub_key=slot.path
            )


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    relocator = settings.relocator()
    if not settings.registry and not settings.registry_map:
        yield Finding(
            ID,
            WARNING,
            "no target registry is configured, so images stay where they are",
            fix="set registry (--registry harbor.example.com/PROJECT, or ck8s.registry in the wrapper chart)",
            rule="no-registry",
        )
    lock = None
    if settings.pin:
        from jhub_ck8s.lock import load

        lock = load(settings.pin)
    claims = DestinationClaims()  # shared: a pod image and a runtime image can collide too
    yield from _pod_specs(stream, relocator, lock, claims)
    yield from _hub_config(stream, relocator, lock, claims)
