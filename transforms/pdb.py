"""Remove PodDisruptionBudgets the platform rejects because they block every eviction.

Gatekeeper on the platform rejects a PDB with ``maxUnavailable: 0`` / ``"0%"``, or with
``minAvailable >= replicas`` of a workload it selects. Such a PDB also stops node
drains, so the platform's maintenance would stall on it. Guarantees:

* a PDB with ``maxUnavailable`` 0 or ``"0%"`` is removed;
* a PDB with ``minAvailable: "100%"`` is removed;
* a PDB whose ``minAvailable`` (a number, or a percentage rounded up as Kubernetes
  does) is at least the ``replicas`` (missing = 1) of a Deployment, StatefulSet,
  ReplicaSet or ReplicationController of the stream it selects is removed -- this
  includes ``minAvailable: 0`` over ``replicas: 0``, z2jh's user-placeholder PDB by
  default: ``0 >= 0`` is rejected, and a PDB over no pods protects nothing;
* a PDB that selects no workload of the stream (or only kinds without ``replicas``)
  is left alone with an info finding: the Gatekeeper rule is checked at admission.

Selectors are evaluated as the API server does (``matchLabels`` and
``matchExpressions`` against the pod template labels; see ``selects``).

Before::

    kind: PodDisruptionBudget
    metadata: {name: user-placeholder}
    spec: {minAvailable: 0, selector: {matchLabels: {component: user-placeholder}}}
    ---
    kind: StatefulSet
    metadata: {name: user-placeholder}
    spec: {replicas: 0, template: {metadata: {labels: {component: user-placeholder}}}}

After: the StatefulSet only (the PDB is removed and reported).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from jhub_ck8s.podspec import LabelIndex, pod_labels
from jhub_ck8s.report import CHANGE, INFO, Finding

if TYPE_CHECKING:
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Document, Stream

ID = "pdb"

# z2jh 4.4.0: PDB name -> the value that stops the chart rendering it.
_CHART_VALUES = {
    "hub": "hub.pdb.enabled: false",
    "proxy": "proxy.chp.pdb.enabled: false",
    "autohttps": "proxy.traefik.pdb.enabled: false",
    "user-scheduler": "scheduling.userScheduler.pdb.enabled: false",
}
# Kinds with a replica count Gatekeeper compares minAvailable with.
_REPLICATED = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"})


def _replicas(doc: Document) -> int | None:
    if doc.kind not in _REPLICATED:
        return None
    spec = doc.obj.get("spec")
    replicas = spec.get("replicas", 1) if isinstance(spec, dict) else 1
    if replicas is None:
        return 1
    return replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else None


def _percent(value: Any) -> Fraction | None:
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        return Fraction(int(value[:-1]), 100)
    return None


def _is_zero(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value == 0
    return _percent(value) == 0


def _min_available(value: Any, replicas: int) -> int | None:
    """minAvailable as a pod count for this many replicas (percentages round up)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    share = _percent(value)
    return math.ceil(share * replicas) if share is not None else None


def _blocking(pdb: Document, workloads: list[tuple[Document, int]]) -> str | None:
    """Why this PDB blocks every eviction (the reason Gatekeeper rejects it), or None."""
    spec = pdb.obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if "maxUnavailable" in spec and _is_zero(spec["maxUnavailable"]):
        return f"maxUnavailable {spec['maxUnavailable']} lets no pod be evicted"
    if "minAvailable" not in spec:
        return None
    wanted = spec["minAvailable"]
    if _percent(wanted) is not None and _percent(wanted) >= 1:
        return f"minAvailable {wanted} lets no pod be evicted"
    for workload, replicas in workloads:
        count = _min_available(wanted, replicas)
        if count is not None and count >= replicas:
            return (
                f"minAvailable {wanted} >= replicas {replicas} of {workload.label}, "
                "so no pod may be evicted"
            )
    return None


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    live = stream.live()
    pods = LabelIndex([(doc, labels) for doc in live if (labels := pod_labels(doc.obj)) is not None])
    for pdb in live:
        if pdb.kind != "PodDisruptionBudget":
            continue
        spec = pdb.obj.get("spec")
        selector = spec.get("selector") if isinstance(spec, dict) else None
        selected = pods.matching(selector)
        workloads = [(doc, n) for doc in selected if (n := _replicas(doc)) is not None]
        reason = _blocking(pdb, workloads)
        if reason is not None:
            pdb.removed = True
            value = _CHART_VALUES.get(pdb.name)
            hint = f"; {value} stops the chart rendering it" if value else ""
            yield Finding(
                ID,
                CHANGE,
                f"removed: {reason}; the platform rejects a PodDisruptionBudget that blocks "
                f"every eviction (it would stall node maintenance){hint}",
                pdb,
            )
        elif not workloads:
            yield Finding(
                ID,
                INFO,
                "selects no workload with replicas in this release, so it cannot be checked here; "
                "Gatekeeper checks it against the workloads it selects at admission",
                pdb,
            )
