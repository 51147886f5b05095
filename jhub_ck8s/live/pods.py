"""The pods a release runs, for the checks: its pod templates, and the user pods the hub spawns.

``release_pods`` turns every pod-bearing object of the release into the Pod its controller
would create (``podspec`` knows where pod specs live), with its replica count;
``user_pods`` rebuilds the user pods from ``Secret/hub`` with kubespawner, exactly as
``check`` does (``jhub_ck8s.check.spawned_pods``): one per profile and option.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .model import Context, label

HOOK_ANNOTATION = "helm.sh/hook"


@dataclass(frozen=True)
class PodUse:
    source: str  # "Deployment/hub", "spawned user pod (default)"
    pod: dict[str, Any]  # a v1 Pod
    replicas: int  # how many run at once (user pods: per user)
    user: bool = False
    hook: bool = False


def _pod_name(source: str) -> str:
    import re

    return re.sub(r"[^a-z0-9-]+", "-", source.lower()).strip("-")[:60] or "pod"


def release_pods(ctx: Context) -> list[PodUse]:
    from ..platform import replicas
    from ..podspec import pod_metadata, pod_spec

    def compute() -> list[PodUse]:
        found = []
        for obj in ctx.release.objects:
            spec = pod_spec(obj)
            if spec is None:
                continue
            metadata = copy.deepcopy(pod_metadata(obj) or {}) if obj.get("kind") != "Pod" else copy.deepcopy(obj.get("metadata") or {})
            metadata["name"] = (obj.get("metadata") or {}).get("name") if obj.get("kind") == "Pod" else _pod_name(f"preflight-{label(obj)}")
            count = replicas(obj)
            annotations = (obj.get("metadata") or {}).get("annotations") or {}
            found.append(PodUse(label(obj), {"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
                                             "spec": copy.deepcopy(spec)},
                                1 if count is None else count, hook=HOOK_ANNOTATION in annotations))
        return found

    return ctx.cached("release_pods", compute)


def user_pods(ctx: Context) -> list[PodUse] | str:
    """The user pods, or why they cannot be built (a line that quotes nothing of the Secret)."""
    def compute() -> list[PodUse] | str:
        from ..check.spawned_pods import SpawnUnavailable, spawned_pods

        if ctx.release.hub_values is None:
            return "the release has no readable Secret/hub values.yaml"
        try:
            built = spawned_pods(copy.deepcopy(ctx.release.hub_values))
        except SpawnUnavailable as exc:
            return str(exc)
        uses = []
        for spawned in built:
            pod = copy.deepcopy(spawned.pod)
            pod.setdefault("metadata", {})["name"] = _pod_name(f"preflight-user-{spawned.key}")
            uses.append(PodUse(spawned.label, pod, 1, user=True))
        return uses

    return ctx.cached("user_pods", compute)
