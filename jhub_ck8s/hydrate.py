"""Hydrated manifests: a rendered release as a folder, one file per object, plus a
``kustomization.yaml`` (``render --output-dir``): for a Flux ``Kustomization``, Argo CD's
source hydrator, or plain review in git.

Guarantees:

* one file per object, named ``<kind>-<name>.yaml`` in lower case (``deployment-hub.yaml``),
  a second object of the same kind and name gets ``-2``, ... in stream order; so the names
  stay the same from one render to the next, and a diff in git shows what changed;
* each file holds the object's text exactly as rendered (Helm 3's ``# Source:`` comment
  kept): ``kustomize build DIR`` gives the same objects as ``render``;
* ``kustomization.yaml`` lists the files in stream order (the order Helm applies them);
* a folder written before is replaced whole: the files its ``kustomization.yaml`` listed
  are removed first, so an object that left the release leaves the folder too. A folder
  holding anything else is refused, and nothing is written.
"""

from __future__ import annotations

import re
from pathlib import Path

from .documents import Document
from .errors import UserError
from .inputs import read_text
from .stream import parse

KUSTOMIZATION = "kustomization.yaml"
MARKER = "# Written by helm ck8s-jupyter render --output-dir; rewritten whole by the next render.\n"
_UNSAFE = re.compile(r"[^a-z0-9.-]+")


def file_names(documents: list[Document]) -> list[str]:
    """The stable file name of each document, in order."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for doc in documents:
        stem = _UNSAFE.sub("-", f"{doc.kind}-{doc.name}".lower()).strip("-.") or "object"
        seen[stem] = seen.get(stem, 0) + 1
        names.append(f"{stem}.yaml" if seen[stem] == 1 else f"{stem}-{seen[stem]}.yaml")
    return names


def kustomization(files: list[str]) -> str:
    lines = [MARKER, "apiVersion: kustomize.config.k8s.io/v1beta1\n", "kind: Kustomization\n", "resources:\n"]
    lines += [f"  - {name}\n" for name in files]
    return "".join(lines)


def _previous_files(directory: Path) -> list[Path]:
    """What an earlier render wrote here; UserError when the folder holds anything else."""
    if not directory.exists():
        return []
    if not directory.is_dir():
        raise UserError(f"--output-dir {directory}: exists and is not a folder")
    entries = sorted(directory.iterdir())
    if not entries:
        return []
    marker = directory / KUSTOMIZATION
    text = read_text(str(marker), label=f"--output-dir {marker}") if marker.is_file() else ""
    if not text.startswith(MARKER):
        raise UserError(
            f"--output-dir {directory}: the folder is not empty and was not written by render --output-dir; "
            "give an empty or new folder"
        )
    listed = {marker} | {directory / line.strip()[2:] for line in text.splitlines() if line.startswith("  - ")}
    extra = [entry.name for entry in entries if entry not in listed]
    if extra:
        raise UserError(
            f"--output-dir {directory}: holds {extra[0]}, which the last render did not write; move it away first"
        )
    return sorted(listed)


def write(text: str, directory: Path) -> list[str]:
    """Write the rendered stream ``text`` into ``directory``; the file names, in order."""
    documents = [doc for doc in parse(text) if not doc.removed]
    if any(doc.item is not None for doc in documents):
        raise UserError("--output-dir: the render holds a kind: List document, which cannot be split into files")
    names = file_names(documents)
    old = _previous_files(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for path in old:
        path.unlink(missing_ok=True)
    for name, doc in zip(names, documents, strict=True):
        body = doc.text()
        (directory / name).write_text(body if body.endswith("\n") else body + "\n", encoding="utf-8")
    (directory / KUSTOMIZATION).write_text(kustomization(names), encoding="utf-8")
    return names
