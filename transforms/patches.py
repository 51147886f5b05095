"""Apply the user's RFC 6902 JSON patches, last, to the objects they target.

Guarantees: each patch in ``patches`` is applied, in the order given, to every
object whose kind and name match its ``target`` globs, after every other
transform has run and after the hub's runtime config is written back into
``Secret/hub`` (so a patch can undo or refine anything, ``values.yaml`` included,
and has the final word; ``checksum/secret`` then follows the patched Secret).
A patch that matches no object is a warning; a patch that does not apply to an
object it targets (a missing path, a failed ``test``) is an error naming the patch,
the operation (its number, op and path) and the document, never a value of the
object. A patch that would remove ``values.yaml`` from ``Secret/hub`` is refused
(exit 2). The settings document and removed objects are never patched.

Before (``patches: [{name: proxy-port, target: {kind: Service, name: proxy-*},
patch: [{op: replace, path: /spec/ports/0/port, value: 8080}]}]``)::

    kind: Service
    metadata: {name: proxy-public}
    spec: {ports: [{port: 80}]}

After::

    spec: {ports: [{port: 8080}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from jhub_ck8s.errors import SettingsError
from jhub_ck8s.hubconfig import VALUES_KEY
from jhub_ck8s.report import CHANGE, ERROR, WARNING, Finding

if TYPE_CHECKING:
    from jhub_ck8s.documents import Document
    from jhub_ck8s.settings import Patch, Settings
    from jhub_ck8s.stream import Stream

ID = "patches"
# The pipeline writes the hub's runtime config back into Secret/hub before this runs:
# a patch of values.yaml then has the final word instead of being overwritten.
AFTER_HUB_WRITE_BACK = True


def _failure(exc: Exception, operation: Mapping[str, Any]) -> str:
    """Why one operation failed, in words of our own.

    jsonpatch's messages quote the whole target object (for Secret/hub: the cookie
    secret and proxy token), so no text of the exception is ever used.
    """
    import jsonpatch

    if isinstance(exc, jsonpatch.JsonPatchTestFailed):
        return "the value at the path is not the one the test expects"
    if isinstance(exc, jsonpatch.JsonPatchConflict | jsonpatch.JsonPointerException | KeyError | IndexError):
        return "a path it names does not exist in this object"
    return "the operation does not fit this object"


def _apply(patch: Patch, doc: Document) -> tuple[dict[str, Any] | None, str]:
    """The patched object, or None and why it failed (naming the operation, never a value)."""
    import copy

    import jsonpatch

    patched: Any = copy.deepcopy(doc.obj)
    for index, operation in enumerate(patch.operations):
        try:
            patched = jsonpatch.JsonPatch([dict(operation)]).apply(patched, in_place=True)
        except Exception as exc:  # any failure of a third-party library on user data
            source = f"{operation.get('from')} -> " if operation.get("op") in ("move", "copy") else ""
            described = f"operation {index + 1} ({operation.get('op')} {source}{operation.get('path')})"
            return None, f"patch {patch.name} does not apply: {described}: {_failure(exc, operation)}"
    return patched, ""


def _removes_hub_config(stream: Stream, doc: Document, patched: dict[str, Any], patch: Patch) -> None:
    hub = stream.decoded_hub
    if hub is None or hub.document is not doc:
        return
    data = patched.get(hub.field)
    if not isinstance(data, dict) or VALUES_KEY not in data:
        raise SettingsError(
            f"{doc.where}: patch {patch.name} removes {hub.field}.{VALUES_KEY}, the hub's runtime config, "
            "without which the hub cannot start; patch keys inside it instead, or drop the patch"
        )


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    if not settings.patches:
        return
    stream.hub()  # decoded first, so a patch that removes it is recognised
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
        for doc in targets:
            patched, failure = _apply(patch, doc)
            if patched is None:
                yield Finding(
                    ID, ERROR, failure, doc,
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
            _removes_hub_config(stream, doc, patched, patch)
            doc.obj.clear()
            doc.obj.update(patched)
            yield Finding(ID, CHANGE, f"applied patch {patch.name}", doc)
