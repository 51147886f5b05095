"""Apply the user's RFC 6902 JSON patches, last, to the objects they target.

Guarantees: each patch in ``patches`` is applied, in the order given, to every
object whose kind and name match its ``target`` globs, after every other
transform has run (so a patch can undo or refine anything, and has the final
word). A patch that matches no object is a warning; a patch that does not apply
to an object it targets (a missing path, a failed ``test``) is an error naming
the patch and the document. The settings document and removed objects are never
patched.

Before (``patches: [{name: proxy-port, target: {kind: Service, name: proxy-*},
patch: [{op: replace, path: /spec/ports/0/port, value: 8080}]}]``)::

    kind: Service
    metadata: {name: proxy-public}
    spec: {ports: [{port: 80}]}

After::

    spec: {ports: [{port: 8080}]}
"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from jhub_ck8s.report import CHANGE, ERROR, WARNING, Finding

if TYPE_CHECKING:
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "patches"


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    if not settings.patches:
        return
    import jsonpatch  # only when patches are configured: keeps start-up light

    for patch in settings.patches:
        targets = [
            doc
            for doc in stream.live()
            if fnmatchcase(doc.kind, patch.target.kind) and fnmatchcase(doc.name, patch.target.name)
        ]
        if not targets:
            yield Finding(
                ID,
                WARNING,
                f"patch {patch.name} matches no object (target kind {patch.target.kind!r}, name {patch.target.name!r})",
                fix="correct the patch target or remove the patch",
                rule="patch-no-target",
            )
            continue
        operations = jsonpatch.JsonPatch([dict(op) for op in patch.operations])
        for doc in targets:
            try:
                patched = operations.apply(doc.obj, in_place=False)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                reason = str(exc).split("\n")[0]
                yield Finding(
                    ID,
                    ERROR,
                    f"patch {patch.name} does not apply: {reason}",
                    doc,
                    fix="correct the patch's paths for this object, or narrow its target",
                    rule="patch-failed",
                )
                continue
            if patched == doc.obj:
                continue
            if not isinstance(patched, dict) or not patched.get("kind"):
                yield Finding(
                    ID, ERROR, f"patch {patch.name} leaves no Kubernetes object (no kind)", doc,
                    fix="a patch may change an object, not replace it with something else", rule="patch-failed",
                )
                continue
            doc.obj.clear()
            doc.obj.update(patched)
            yield Finding(ID, CHANGE, f"applied patch {patch.name}", doc)
