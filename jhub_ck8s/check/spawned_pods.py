"""The pods the hub will spawn, rebuilt for the audit, and how the report names them.

User server pods never appear in the rendered manifests: KubeSpawner builds them at
spawn time from ``Secret/hub`` ``values.yaml``. ``jhub_ck8s.check.pod_rebuild`` rebuilds them
with the pinned ``jupyterhub-kubespawner`` library itself (default server, each
profile, each ``profile_options`` choice). Guarantees:

* ``spawned_pods`` returns ``(display label, pod)`` pairs such as
  ``spawned user pod (default)``, ``spawned user pod (profile 1: r-environment)`` and
  ``spawned user pod (profile 0: data-science-scipy, image=scipy)``;
* when kubespawner is not installed, or cannot build a pod from this config, it
  raises ``SpawnUnavailable`` with a one-line reason that quotes nothing of the Secret
  (no exception text from the library, which could carry config values);
* ``fix_hint`` names the hub config keys that change a user pod, per rule, for the
  findings on spawned pods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SOURCE = "Secret/hub values.yaml (built with kubespawner)"
_PROFILE = re.compile(r"profile-(\d+)-(.+)\Z")


class SpawnUnavailable(Exception):
    """Spawned pods could not be rebuilt; the message is safe to show."""


@dataclass(frozen=True)
class SpawnedPod:
    label: str  # "spawned user pod (default)", ...
    key: str  # the library's label: "default", "profile-1-r-environment", ...
    pod: dict[str, Any]


def display(labels: list[str]) -> list[str]:
    """Report names for the library's pod labels, in the same order.

    ``profile-<i>-<slug>`` is the i-th profile; a later label with the same index
    extends that slug with ``-<option>-<choice>``.
    """
    slugs: dict[str, str] = {}
    shown = []
    for label in labels:
        match = _PROFILE.match(label)
        if not match:
            shown.append(f"spawned user pod ({label})")
            continue
        index, rest = match.groups()
        slug = slugs.setdefault(index, rest)
        if rest == slug:
            shown.append(f"spawned user pod (profile {index}: {slug})")
        elif rest.startswith(slug + "-"):
            option = rest[len(slug) + 1 :]
            name, _, choice = option.partition("-")
            shown.append(f"spawned user pod (profile {index}: {slug}, {name}={choice})")
        else:
            shown.append(f"spawned user pod (profile {index}: {rest})")
    return shown


def spawned_pods(hub_values: dict[str, Any]) -> list[SpawnedPod]:
    """Every pod KubeSpawner would create for one user, labelled for the report."""
    import warnings

    from . import pod_rebuild

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            built = pod_rebuild.build_user_pods(hub_values)
    except pod_rebuild.KubeSpawnerMissing:
        raise SpawnUnavailable(
            "jupyterhub-kubespawner is not installed (run make setup): spawned user pods were not audited"
        ) from None
    except RuntimeError as exc:
        raise SpawnUnavailable(
            f"kubespawner could not build the user pods ({type(exc).__name__}): spawned user pods were not audited"
        ) from None
    except Exception as exc:  # the library rejected the config; its message may quote values
        raise SpawnUnavailable(
            f"kubespawner could not build the user pods from the hub config ({type(exc).__name__}): "
            "spawned user pods were not audited"
        ) from None
    labels = display([pod.label for pod in built])
    return [SpawnedPod(label, pod.label, pod.pod) for label, pod in zip(labels, built, strict=True)]


# rule id -> the hub config that changes it in a user pod (appended to the fix)
_HINTS = {
    "pss-restricted-run-as-non-root": "hub.config.KubeSpawner.pod_security_context.runAsNonRoot: true",
    "pss-restricted-seccomp": "hub.config.KubeSpawner.pod_security_context.seccompProfile.type: RuntimeDefault",
    "pss-restricted-capabilities": "hub.config.KubeSpawner.container_security_context.capabilities.drop: [ALL]",
    "pss-restricted-allow-privilege-escalation": "singleuser.allowPrivilegeEscalation: false",
    "pss-restricted-run-as-user": "singleuser.uid (non-zero)",
    "pss-baseline-privileged": "singleuser.cloudMetadata.blockWithIptables: false (the singleuser "
    "NetworkPolicy blocks the metadata address)",
    "pss-baseline-capabilities": "singleuser.cloudMetadata.blockWithIptables: false",
    "safeguard-resource-requests": "singleuser.cpu.guarantee and singleuser.memory.guarantee",
    "safeguard-trusted-registry": "singleuser.image.name (and each profile's kubespawner_override.image)",
    "safeguard-network-policy": "singleuser.networkPolicy.enabled: true",
}


def fix_hint(rule: str, where: str) -> str:
    """Where in the chart values a user pod's finding is fixed ('' if no general answer).

    Contexts of the notebook container come from KubeSpawner traits; user init and
    sidecar containers (singleuser.initContainers / extraContainers) are passed through
    raw and need their own full securityContext.
    """
    if where == "init container block-cloud-metadata":
        return "singleuser.cloudMetadata.blockWithIptables: false (the singleuser NetworkPolicy blocks the metadata address)"
    if where.startswith(("init container", "ephemeral container")) or (
        where.startswith("container ") and where != "container notebook"
    ):
        if rule.startswith("pss-"):
            return "give this container a full securityContext in singleuser.initContainers / extraContainers"
        if rule == "safeguard-resource-requests":
            return "set resources in its singleuser.extraContainers entry"
    return _HINTS.get(rule, "")
