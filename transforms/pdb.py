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

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from jhub_ck8s.platform import blocking_pdb, replicas
from jhub_ck8s.podspec import LabelIndex, pod_labels, selector_key
from jhub_ck8s.report import CHANGE, INFO, Finding

if TYPE_CHECKING:
    from jhub_ck8s.platform import BlockedEviction
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "pdb"

# z2jh 4.4.0: PDB name -> the value that stops the chart rendering it.
_CHART_VALUES = {
    "hub": "hub.pdb.enabled: false",
    "proxy": "proxy.chp.pdb.enabled: false",
    "autohttps": "proxy.traefik.pdb.enabled: false",
    "user-scheduler": "scheduling.userScheduler.pdb.enabled: false",
}
# Kinds with a replica count Gatekeeper compares minAvailable with.
def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    live = stream.live()
    pods = LabelIndex([(doc, labels) for doc in live if (labels := pod_labels(doc.obj)) is not None])
    # Copies of a release share their PDBs' specs: each distinct spec is judged once.
    judged: dict[Any, tuple[list[tuple[str, int]], BlockedEviction | None]] = {}
    for pdb in live:
        if pdb.kind != "PodDisruptionBudget":
            continue
        spec = pdb.obj.get("spec")
        key = selector_key(spec)
        if key not in judged:
            selector = spec.get("selector") if isinstance(spec, dict) else None
            selected = pods.matching(selector)
            workloads = [(doc.label, n) for doc in selected if (n := replicas(doc.obj)) is not None]
            judged[key] = (workloads, blocking_pdb(spec, workloads))
        workloads, blocking = judged[key]
        reason = blocking.reason if blocking else None
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
