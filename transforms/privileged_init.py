"""Remove init containers that cannot run under Pod Security "restricted".

Guarantees, on every pod spec (hooks included):

* an init container whose securityContext is ``privileged: true``, sets
  ``runAsUser: 0``, or adds ``NET_ADMIN``, ``NET_RAW`` or ``SYS_ADMIN`` is removed,
  and the removal is reported with every reason (such containers set up iptables
  and the like; on the platform a NetworkPolicy does that job);
* every other init container stays untouched -- the image pullers'
  ``image-pull-metadata-block`` runs as 65534 with ``drop: [ALL]`` and is kept;
* a privileged main container is never removed: it is an error (rule
  ``privileged``), to be fixed in the chart values or accepted with ``allow``.

Before::

    initContainers:
    - name: block-metadata
      securityContext: {privileged: true, runAsUser: 0, capabilities: {add: [NET_ADMIN]}}
    - {name: fetch, securityContext: {runAsUser: 1000}}

After::

    initContainers:
    - {name: fetch, securityContext: {runAsUser: 1000}}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from jhub_ck8s.hardening import PRIVILEGED, init_container_removal_reasons
from jhub_ck8s.podspec import containers, pod_spec
from jhub_ck8s.report import CHANGE, ERROR, Finding

if TYPE_CHECKING:
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "privileged-init"


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    for doc in stream.live():
        spec = pod_spec(doc.obj)
        if spec is None:
            continue
        removed: set[int] = set()
        for ref in containers(spec, ("initContainers",)):
            reasons = init_container_removal_reasons(ref.container)
            if reasons:
                removed.add(ref.position)
                yield Finding.on_container(
                    ID,
                    CHANGE,
                    f"removed init container {ref.name}: {'; '.join(reasons)} (Pod Security restricted rejects it)",
                    doc,
                    ref,
                )
        if removed:
            kept = [c for i, c in enumerate(spec["initContainers"]) if i not in removed]
            if kept:
                spec["initContainers"] = kept
            else:
                del spec["initContainers"]
        for ref in containers(spec, ("containers",)):
            context = ref.container.get("securityContext")
            if isinstance(context, dict) and context.get("privileged") is True:
                yield Finding.on_container(
                    ID,
                    ERROR,
                    "securityContext.privileged is true: a privileged main container is never "
                    "removed, and Pod Security restricted rejects it",
                    doc,
                    ref,
                    fix=(
                        "set securityContext.privileged to false in the chart values for this "
                        f"container, or allow it with allow: [{{kind: {doc.kind}, name: {doc.name}, "
                        f"container: {ref.name}, rule: {PRIVILEGED}}}]"
                    ),
                    rule=PRIVILEGED,
                )
