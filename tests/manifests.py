"""Small hand-written manifests and streams for the tests of the platform-safeguard transforms.

Shared by the test modules of ``load-balancer``, ``pdb``, ``min-replicas``,
``cluster-scoped`` and ``network-policy``: the objects are written out here with the
chart's labels, never built by the code under test.
"""

from __future__ import annotations

import base64
from typing import Any

import yaml

from jhub_ck8s.report import CHANGE, Finding
from jhub_ck8s.stream import Stream, parse

RELEASE = {"app": "jupyterhub", "release": "jhub"}
# The platform's annotation for an intended single replica (docs/platform.md), not the transform's constant.
IGNORE_MINIMUM_REPLICAS = "elastisys.io/ignore-minimum-replicas"


def workload(kind: str, name: str, component: str, replicas: int | None = 1,
             priority: str | None = None) -> dict[str, Any]:
    labels = {"component": component, **RELEASE}
    pod: dict[str, Any] = {
        "containers": [{"name": name, "image": "registry.k8s.io/pause:3.10.1"}],
    }
    if priority:
        pod["priorityClassName"] = priority
    spec: dict[str, Any] = {
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": pod},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def service(name: str, component: str, type_: str = "ClusterIP", **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"component": name}},
        "spec": {
            "selector": {"component": component, **RELEASE},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            "type": type_,
            **extra,
        },
    }


def lb_service() -> dict[str, Any]:
    """The chart's proxy-public Service as a LoadBalancer with every field that only a LoadBalancer has."""
    svc = service(
        "proxy-public", "proxy", "LoadBalancer",
        loadBalancerIP="10.0.0.1", loadBalancerSourceRanges=["10.0.0.0/8"],
        externalTrafficPolicy="Local", healthCheckNodePort=31000, ipFamilyPolicy="PreferDualStack",
    )
    svc["spec"]["ports"][0]["nodePort"] = 30080
    return svc


def netpol(name: str, selector: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name},
        "spec": {"podSelector": selector, "policyTypes": ["Ingress"]},
    }


def budget(name: str, selector: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {**spec, "selector": selector},
    }


def cluster_object(kind: str, name: str, component: str, source: str) -> tuple[str, dict[str, Any]]:
    api = "scheduling.k8s.io/v1" if kind == "PriorityClass" else "rbac.authorization.k8s.io/v1"
    obj: dict[str, Any] = {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": name, "labels": {"component": component, **RELEASE}},
    }
    if kind == "PriorityClass":
        obj["value"] = 0
    return source, obj


def hub_secret(values: dict[str, Any]) -> dict[str, Any]:
    encoded = base64.b64encode(yaml.safe_dump(values).encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "hub", "labels": {"component": "hub", **RELEASE}},
        "type": "Opaque",
        "data": {"values.yaml": encoded},
    }


def text_of(*objects: dict[str, Any] | tuple[str, dict[str, Any]]) -> str:
    """A Helm-3-style stream; a (source, object) pair gets a ``# Source:`` comment."""
    parts = []
    for item in objects:
        source, obj = item if isinstance(item, tuple) else ("", item)
        head = f"# Source: {source}\n" if source else ""
        parts.append("---\n" + head + yaml.safe_dump(obj, sort_keys=False))
    return "".join(parts)


def stream_of(*objects: dict[str, Any] | tuple[str, dict[str, Any]]) -> Stream:
    return Stream(parse(text_of(*objects)))


def by_name(stream: Stream, kind: str, name: str) -> dict[str, Any]:
    return next(d.obj for d in stream.live() if d.kind == kind and d.name == name)


def changes(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == CHANGE]
