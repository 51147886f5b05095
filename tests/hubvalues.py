"""A small release whose Secret/hub carries the chart's defaults, for the transforms of the hub's runtime config.

Shared by the test modules of ``hub-blind-spots``, ``cloud-metadata``, ``user-pods`` and
``user-resources``: the part of z2jh's merged values they touch, a hand-written hub
Secret and Deployment around it, and a way to run one or more transforms on it.
"""

from __future__ import annotations

import base64
from types import ModuleType
from typing import Any

from jhub_ck8s.documents import dump_yaml
from jhub_ck8s.settings import Settings, read_layer
from jhub_ck8s.stream import Stream, parse
from jhub_ck8s.transforms import REGISTRY, cloud_metadata, hub_blind_spots, user_pod_security, user_resources

# The four transforms of the hub's runtime config, in their order (written out here, not
# taken from the registry's own order).
HUB_CONFIG_TRANSFORMS = (hub_blind_spots, cloud_metadata, user_pod_security, user_resources)
HUB_CONFIG_IDS = ("hub-blind-spots", "cloud-metadata", "user-pods", "user-resources")

SPAWNER = "hub.config.KubeSpawner"
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
RESTRICTED_POD = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
# Stands for a token: it must never appear in any message or fix.
SECRET_MARK = "SUPERSECRET-0123"


def base_values() -> dict[str, Any]:
    """The part of z2jh's merged values these tests touch (defaults of the chart)."""
    return {
        "hub": {"config": {"JupyterHub": {"cookie_secret": SECRET_MARK}}, "extraConfig": {}},
        "singleuser": {
            "uid": 1000,
            "fsGid": 100,
            "allowPrivilegeEscalation": False,
            "cloudMetadata": {"blockWithIptables": True, "ip": "169.254.169.254"},
            "networkPolicy": {"enabled": True, "egressAllowRules": {"cloudMetadataServer": False}},
            "cpu": {"guarantee": None, "limit": None},
            "memory": {"guarantee": "1G", "limit": None},
            "extraPodConfig": {},
            "initContainers": [],
            "extraContainers": [],
            "profileList": [],
            "image": {"name": "quay.io/jupyterhub/k8s-singleuser-sample", "tag": "4.4.0"},
        },
    }


def release(values: dict[str, Any]) -> str:
    encoded = base64.b64encode(dump_yaml(values, sort_keys=True).encode()).decode()
    secret = {
        "kind": "Secret", "apiVersion": "v1",
        "metadata": {"name": "hub", "labels": {"component": "hub"}},
        "data": {"values.yaml": encoded, "hub.config.JupyterHub.cookie_secret": "c2VjcmV0"},
    }
    hub = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "hub", "labels": {"component": "hub"}},
        "spec": {"template": {
            "metadata": {"annotations": {"checksum/secret": "before"}},
            "spec": {
                "securityContext": RESTRICTED_POD,
                "containers": [{
                    "name": "hub", "image": "quay.io/jupyterhub/k8s-hub:4.4.0",
                    "securityContext": RESTRICTED_CONTAINER,
                    "resources": {"requests": {"cpu": "10m", "memory": "512Mi"},
                                  "limits": {"cpu": "1", "memory": "1Gi"}},
                }],
            },
        }},
    }
    return "---\n" + dump_yaml(secret) + "---\n" + dump_yaml(hub)


def apply(
    values: dict[str, Any], *transforms: ModuleType, settings: Settings | None = None
) -> tuple[dict[str, Any], list, Stream]:
    """Run ``transforms`` (all four of the hub config by default) on a release of ``values``."""
    stream = Stream(parse(release(values)))
    findings = []
    for transform in transforms or HUB_CONFIG_TRANSFORMS:
        findings += list(transform.apply(stream, settings or Settings()))
    return stream.hub().values, findings, stream


def get(values: dict[str, Any], path: str) -> Any:
    node: Any = values
    for key in path.split("."):
        node = node[key]
    return node


def no_secret_values(findings: list) -> None:
    for f in findings:
        assert SECRET_MARK not in f.message + f.fix + f.where


def only(*transform_ids: str, **raw: Any) -> dict:
    disable = [t for t in REGISTRY if t not in transform_ids]
    return read_layer({"disable": disable, **raw}, "test")
