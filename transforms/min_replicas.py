"""Mark single-replica Deployments and StatefulSets as deliberately single.

The platform warns about a Deployment or StatefulSet with ``replicas < 2`` unless it
carries the annotation ``elastisys.io/ignore-minimum-replicas``. The z2jh hub cannot
run two replicas (it holds state and the proxy routes in memory), the proxy and
autohttps run one by design, and the user-placeholder StatefulSet is sized by
``scheduling.userPlaceholder.replicas``. Guarantees, with
``minimumReplicasAnnotation: true`` (the default):

* every Deployment and StatefulSet with ``replicas`` below 2 (missing = 1) carries
  ``elastisys.io/ignore-minimum-replicas: "true"`` in its own metadata;
* an annotation already there is kept as it is, whatever its value;
* objects with 2 or more replicas are not touched.

``minimumReplicasAnnotation: false`` turns the transform off.

Before::

    kind: Deployment
    metadata: {name: hub}
    spec: {replicas: 1}

After::

    kind: Deployment
    metadata: {name: hub, annotations: {elastisys.io/ignore-minimum-replicas: "true"}}
    spec: {replicas: 1}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from jhub_ck8s.platform import MINIMUM_REPLICAS_ANNOTATION, replicas
from jhub_ck8s.report import CHANGE, Finding

if TYPE_CHECKING:
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "min-replicas"
ANNOTATION = MINIMUM_REPLICAS_ANNOTATION
_KINDS = frozenset({"Deployment", "StatefulSet"})


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    if not settings.minimum_replicas_annotation:
        return
    for doc in stream.live():
        if doc.kind not in _KINDS:
            continue
        count = replicas(doc.obj)
        if count is None or count >= 2:
            continue
        metadata = doc.obj.setdefault("metadata", {})
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict) and ANNOTATION in annotations:
            continue
        if not isinstance(annotations, dict):
            metadata["annotations"] = annotations = {}
        annotations[ANNOTATION] = "true"
        yield Finding(
            ID,
            CHANGE,
            f"replicas {count} < 2: annotated {ANNOTATION}: \"true\" so the platform's "
            "minimum-replicas safeguard accepts it",
            doc,
            "metadata.annotations",
        )
