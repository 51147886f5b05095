"""The tests' judge of "would the platform object to this stream": its safeguards, written here.

Read off the platform's rules (docs/platform.md, "Safeguards"; platform-facts): a Service of
type LoadBalancer, a PodDisruptionBudget that lets no pod be evicted, a Deployment or
StatefulSet under 2 replicas without the annotation, a pod no NetworkPolicy selects, and a
cluster-scoped object. PyYAML, its own label selector, its own arithmetic: neither the
transforms nor the audit (``jhub_ck8s.check``), which share ``jhub_ck8s.platform`` and
``podspec.selects``, decide the verdict. ``tests/test_safeguards.py`` tests the judge on
hand-written cases.
"""

from __future__ import annotations

from typing import Any

import yaml

# The platform's annotation for an intended single replica (docs/platform.md), not the transform's constant.
IGNORE_MINIMUM_REPLICAS = "elastisys.io/ignore-minimum-replicas"

# Kubernetes kinds with no namespace that a chart may render (a tenant cannot create any of them).
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "PriorityClass", "StorageClass", "CustomResourceDefinition",
                  "Namespace", "PersistentVolume", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
                  "IngressClass", "RuntimeClass"}


def _matches(selector: Any, labels: dict[str, Any]) -> bool:
    """A LabelSelector (matchLabels, matchExpressions) against a pod's labels; {} selects every pod."""
    if not isinstance(selector, dict):
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        ok = {"In": key in labels and labels[key] in values, "NotIn": key not in labels or labels[key] not in values,
              "Exists": key in labels, "DoesNotExist": key not in labels}.get(operator, False)
        if not ok:
            return False
    return True


def _template_labels(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The labels of the pods an object makes, or None when it makes none."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind == "Pod":
        return (obj.get("metadata") or {}).get("labels") or {}
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    elif kind not in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"):
        return None
    return ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}


def _pods_for(value: Any, replicas: int) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%"):
        return -(-int(value[:-1]) * replicas // 100)  # percentages round up
    return None


def objections(text: str) -> dict[str, list[str]]:
    """Safeguard -> objects the platform objects to (load-balancer, pdb, min-replicas, network-policy, cluster-scoped)."""
    objs = [o for o in yaml.safe_load_all(text) if isinstance(o, dict)]
    label = lambda o: f"{o['kind']}/{(o.get('metadata') or {}).get('name')}"  # noqa: E731
    found: dict[str, list[str]] = {}
    policies = [o["spec"].get("podSelector") for o in objs if o.get("kind") == "NetworkPolicy"]
    replicated = [o for o in objs if o.get("kind") in ("Deployment", "StatefulSet")]
    for obj in objs:
        kind, spec = obj.get("kind"), obj.get("spec") or {}
        objections = []
        if kind == "Service" and spec.get("type") == "LoadBalancer":
            objections.append("load-balancer")
        if kind in CLUSTER_SCOPED:
            objections.append("cluster-scoped")
        if kind in ("Deployment", "StatefulSet"):
            count = 1 if spec.get("replicas") is None else spec["replicas"]
            noted = ((obj.get("metadata") or {}).get("annotations") or {}).get(IGNORE_MINIMUM_REPLICAS)
            if count < 2 and noted is None:
                objections.append("min-replicas")
        labels = _template_labels(obj)
        if labels is not None and not any(_matches(selector, labels) for selector in policies):
            objections.append("network-policy")
        if kind == "PodDisruptionBudget":
            if _pods_for(spec.get("maxUnavailable"), 1) == 0 or spec.get("minAvailable") == "100%":
                objections.append("pdb")
            elif "minAvailable" in spec:
                for target in replicated:
                    count = 1 if target["spec"].get("replicas") is None else target["spec"]["replicas"]
                    needed = _pods_for(spec["minAvailable"], count)
                    if _matches(spec.get("selector"), _template_labels(target) or {}) and needed is not None and needed >= count:
                        objections.append("pdb")
                        break
        for rule in objections:
            found.setdefault(rule, []).append(label(obj))
    return found
