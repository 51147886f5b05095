"""The image lock file (``images.lock.yaml``): what was mirrored, and the digest it resolved to.

``mirror`` writes it; the post-renderer reads it with ``--pin LOCK`` (setting ``pin``)
and then writes ``destination@sha256:...`` for every image, so what runs is exactly what
was mirrored. Format::

    apiVersion: jhub-ck8s.io/v1alpha1
    kind: ImageLock
    images:
      - source: quay.io/jupyterhub/k8s-hub:4.4.0          # normalised source reference
        digest: sha256:...                                # resolved at the source (index digest)
        destination: harbor.example.com/jupyterhub/jupyterhub/k8s-hub:4.4.0
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import UserError

LOCK_API_VERSION = "jhub-ck8s.io/v1alpha1"
LOCK_KIND = "ImageLock"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class LockEntry:
    source: str
    digest: str
    destination: str


@dataclass(frozen=True)
class ImageLock:
    entries: tuple[LockEntry, ...]

    def by_source(self) -> dict[str, LockEntry]:
        return {entry.source: entry for entry in self.entries}

    def by_destination(self) -> dict[str, LockEntry]:
        return {entry.destination: entry for entry in self.entries}

    def to_yaml(self) -> str:
        from .stream import dump_yaml

        return dump_yaml(
            {
                "apiVersion": LOCK_API_VERSION,
                "kind": LOCK_KIND,
                "images": [
                    {"source": e.source, "digest": e.digest, "destination": e.destination}
                    for e in sorted(self.entries, key=lambda e: e.source)
                ],
            }
        )


def merge(old: ImageLock | None, new: Iterable[LockEntry]) -> ImageLock:
    entries = {e.source: e for e in (old.entries if old else ())}
    entries.update({e.source: e for e in new})
    return ImageLock(tuple(entries[k] for k in sorted(entries)))


def load(path: str) -> ImageLock:
    """Read and validate a lock file; UserError with one line for anything wrong."""
    from .stream import load_yaml

    try:
        with open(path, encoding="utf-8") as handle:
            raw = load_yaml(handle.read())
    except OSError as exc:
        raise UserError(f"lock file {path}: cannot read it ({exc.strerror}); run helm ck8s-jupyter mirror first") from None
    except Exception:
        raise UserError(f"lock file {path}: not valid YAML") from None
    if not isinstance(raw, dict) or raw.get("kind") != LOCK_KIND or not isinstance(raw.get("images"), list):
        raise UserError(f"lock file {path}: expected kind {LOCK_KIND} with a list of images")
    entries = []
    for i, item in enumerate(raw["images"]):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("source", "digest", "destination")):
            raise UserError(f"lock file {path}: images[{i}] needs source, digest and destination strings")
        if not _DIGEST.match(item["digest"]):
            raise UserError(f"lock file {path}: images[{i}].digest is not a sha256 digest")
        entries.append(LockEntry(item["source"], item["digest"], item["destination"]))
    return ImageLock(tuple(entries))
