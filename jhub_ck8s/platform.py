"""The platform's rules that both sides need: the transforms that fix a release and the
checker that audits one. One definition each, so ``check`` and the post-renderer can
never disagree on what the platform rejects (``docs/platform.md``: *Tenant limits*, *Gatekeeper
safeguards*).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from fractions import Fraction

MINIMUM_REPLICAS_ANNOTATION = "elastisys.io/ignore-minimum-replicas"

# Kinds whose spec.replicas counts pods (what a PodDisruptionBudget is measured against).
REPLICATED_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"})

# Objects a namespaced admin cannot create: cluster-scoped kinds (Kubernetes 1.32 built-ins,
# and common add-ons').
CLUSTER_SCOPED_KINDS = frozenset({
    # core and RBAC
    "Namespace", "Node", "PersistentVolume", "ComponentStatus",
    "ClusterRole", "ClusterRoleBinding",
    # scheduling, node, storage
    "PriorityClass", "RuntimeClass", "StorageClass", "CSIDriver", "CSINode",
    "VolumeAttachment", "VolumeAttributesClass",
    # API machinery and admission
    "CustomResourceDefinition", "APIService",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
    "FlowSchema", "PriorityLevelConfiguration", "StorageVersion",
    # networking, certificates, resource claims
    "IngressClass", "IPAddress", "ServiceCIDR", "CertificateSigningRequest",
    "ClusterTrustBundle", "DeviceClass",
    # removed from Kubernetes, still in old charts
    "PodSecurityPolicy",
    # common add-ons
    "ClusterIssuer", "GatewayClass", "ClusterPolicy", "ClusterSecretStore",
})


def replicas(obj: Mapping[str, Any]) -> int | None:
    """spec.replicas of a replicated kind (missing or null = 1, the API default); None otherwise."""
    if obj.get("kind") not in REPLICATED_KINDS:
        return None
    spec = obj.get("spec")
    value = spec.get("replicas", 1) if isinstance(spec, Mapping) else 1
    if value is None:
        return 1
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _percent(value: Any) -> Fraction | None:
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        from fractions import Fraction  # imports decimal: only for a percentage

        return Fraction(int(value[:-1]), 100)
    return None


def _pods(value: Any, count: int) -> int | None:
    """An int-or-percent field as a number of pods out of ``count`` (percentages round up)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    share = _percent(value)
    return math.ceil(share * count) if share is not None else None


class BlockedEviction(NamedTuple):
    """Why a PodDisruptionBudget blocks every eviction."""

    field: str  # the spec field at fault: "spec.maxUnavailable" or "spec.minAvailable"
    reason: str  # for people: "minAvailable 2 >= replicas 2 of Deployment/hub: no pod may be evicted"


def blocking_pdb(spec: Any, workloads: Iterable[tuple[str, int]]) -> BlockedEviction | None:
    """Why a PodDisruptionBudget blocks every eviction, or None.

    ``workloads`` are the (Kind/name, replicas) of the workloads its selector selects. The
    Gatekeeper rule rejects ``maxUnavailable: 0``/``"0%"``, and ``minAvailable`` at least
    the replicas of a selected workload (so 0 >= 0 blocks too).
    """
    if not isinstance(spec, Mapping):
        return None
    if "maxUnavailable" in spec and _pods(spec["maxUnavailable"], 1) == 0:
        return BlockedEviction("spec.maxUnavailable", f"maxUnavailable {spec['maxUnavailable']} lets no pod be evicted")
    if "minAvailable" not in spec:
        return None
    wanted = spec["minAvailable"]
    share = _percent(wanted)
    if share is not None and share >= 1:
        return BlockedEviction("spec.minAvailable", f"minAvailable {wanted} lets no pod be evicted")
    for label, count in workloads:
        needed = _pods(wanted, count)
        if needed is not None and needed >= count:
            return BlockedEviction(
                "spec.minAvailable", f"minAvailable {wanted} >= replicas {count} of {label}: no pod may be evicted"
            )
    return None
