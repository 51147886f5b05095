"""Rebuild the user Pods that KubeSpawner creates at spawn time.

The z2jh chart never renders the user server Pods: the hub builds them at spawn
time from the merged chart values it reads out of ``Secret/hub`` (data key
``values.yaml``). This module turns those values into KubeSpawner configuration
(our own mapping of the chart keys that shape a Pod, following what the chart's
``jupyterhub_config.py`` does) and then lets the real ``jupyterhub-kubespawner``
library build the Pod, offline: no Kubernetes API, no kubeconfig, no reflectors.

One Pod is produced for the default server, one per ``singleuser.profileList``
entry and one per choice of each profile's ``profile_options``.

kubespawner (and jupyterhub, which it pulls in) is imported lazily inside
:func:`build_user_pods`, so importing this module stays cheap.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..hubconfig import lookup, profile_parts

__all__ = ["KubeSpawnerMissing", "UserPod", "build_user_pods", "chart_names", "spawner_config"]


class KubeSpawnerMissing(RuntimeError):
    """The jupyterhub-kubespawner library cannot be imported, so no pod can be rebuilt."""

    def __init__(self) -> None:
        super().__init__("jupyterhub-kubespawner is not installed: run make setup")

#: Port of the chart's ``hub`` Service (fixed in z2jh 4.x).
_HUB_SERVICE_PORT = 8081
#: Token put into the rebuilt Pods; the hub would put a real per-server token here.
_DUMMY_TOKEN = "dummy-token"

#: The kubespawner version the hub image of z2jh 4.4.0 runs.
_KUBESPAWNER_VERSION = "7.0.0"
_JUPYTERHUB_VERSION_ANNOTATION = "hub.jupyter.org/jupyterhub-version"


@dataclass(frozen=True)
class UserPod:
    """One Pod KubeSpawner would create for a user.

    ``label`` is ``"default"`` for the default server, ``"profile-<i>-<slug>"`` for
    the i-th ``profileList`` entry, and ``"profile-<i>-<slug>-<option>-<choice>"``
    for one choice of one of that profile's ``profile_options``.
    """

    label: str  # "default", "profile-0-data-science-scipy", "profile-1-r-environment", ...
    pod: dict[str, Any]  # the Pod manifest as a plain dict


# --------------------------------------------------------------------------- values


def _as_list(value: Any) -> list[Any]:
    """A chart value that may be null, a list, or a dict keyed for mergeability."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        # KubeSpawner orders dict-shaped lists by key
        return [copy.deepcopy(value[k]) for k in sorted(value)]
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return copy.deepcopy(list(value))
    return [copy.deepcopy(value)]


def chart_names(hub_values: Mapping[str, Any]) -> dict[str, str]:
    """Resource names of the chart that end up inside user Pods.

    Mirrors the chart's naming helpers: ``fullnameOverride`` given as a string
    (the chart default is ``""``) is the prefix as is; ``null`` means
    ``<release>-<name>`` (or just ``<release>`` when it already contains the name).
    Cluster-wide names fall back to release-prefixed names when the prefix is empty.
    """
    release = str(lookup(hub_values, "Release.Name") or "")
    chart = str(lookup(hub_values, "Chart.Name") or "jupyterhub")
    override = lookup(hub_values, "fullnameOverride")
    if isinstance(override, str):
        fullname = override
    else:
        name = lookup(hub_values, "nameOverride") or chart
        fullname = release if name in release else f"{release}-{name}"
    dash = f"{fullname}-" if fullname else ""
    return {
        "fullname": fullname,
        "hub": f"{dash}hub",
        "singleuser": f"{dash}singleuser",
        "image-pull-secret": f"{dash}image-pull-secret",
        "priority": fullname if fullname else f"{release}-default-priority",
        "user-scheduler": f"{dash}user-scheduler" if fullname else f"{release}-user-scheduler",
    }


def _common_labels(hub_values: Mapping[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = {}
    name = lookup(hub_values, "nameOverride") or lookup(hub_values, "Chart.Name") or "jupyterhub"
    labels["app.kubernetes.io/name"] = labels["app"] = str(name)
    release = lookup(hub_values, "Release.Name")
    if release:
        labels["app.kubernetes.io/instance"] = labels["release"] = str(release)
    chart_name = lookup(hub_values, "Chart.Name")
    chart_version = lookup(hub_values, "Chart.Version")
    if chart_name and chart_version:
        chart = f"{chart_name}-{str(chart_version).replace('+', '_')}"
        labels["helm.sh/chart"] = labels["chart"] = chart
    labels["app.kubernetes.io/managed-by"] = "kubespawner"
    return labels


def _environment(extra_env: Any) -> dict[str, Any] | None:
    """``singleuser.extraEnv`` as a KubeSpawner ``environment`` dict.

    The chart accepts a mapping (name -> value or EnvVar spec) or a list of EnvVar specs.
    """
    if extra_env is None:
        return None
    if isinstance(extra_env, Mapping):
        return copy.deepcopy(dict(extra_env))
    env: dict[str, Any] = {}
    for item in extra_env:
        if isinstance(item, Mapping) and "name" in item:
            env[str(item["name"])] = copy.deepcopy(dict(item))
    return env


def _block_cloud_metadata_container(hub_values: Mapping[str, Any]) -> dict[str, Any]:
    """The privileged init container the chart adds when blockWithIptables is true."""
    ip = lookup(hub_values, "singleuser.cloudMetadata.ip") or "169.254.169.254"
    name = lookup(hub_values, "singleuser.networkTools.image.name")
    tag = lookup(hub_values, "singleuser.networkTools.image.tag")
    resources = lookup(hub_values, "singleuser.networkTools.resources")
    container: dict[str, Any] = {
        "name": "block-cloud-metadata",
        "image": f"{name}:{tag}",
        "command": [
            "iptables",
            "--append",
            "OUTPUT",
            "--protocol",
            "tcp",
            "--destination",
            ip,
            "--destination-port",
            "80",
            "--jump",
            "DROP",
        ],
        "securityContext": {
            "privileged": True,
            "runAsUser": 0,
            "capabilities": {"add": ["NET_ADMIN"]},
        },
    }
    if resources is not None:
        container["resources"] = copy.deepcopy(resources)
    return container


# singleuser.<key> -> KubeSpawner trait, set only when the value is not null
_SINGLEUSER_TRAITS: tuple[tuple[str, str], ...] = (
    ("podNameTemplate", "pod_name_template"),
    ("startTimeout", "start_timeout"),
    ("image.pullPolicy", "image_pull_policy"),
    ("events", "events_enabled"),
    ("extraLabels", "extra_labels"),
    ("extraAnnotations", "extra_annotations"),
    ("uid", "uid"),
    ("fsGid", "fs_gid"),
    ("serviceAccountName", "service_account"),
    ("storage.extraLabels", "storage_extra_labels"),
    ("nodeSelector", "node_selector"),
    ("extraNodeAffinity.required", "node_affinity_required"),
    ("extraNodeAffinity.preferred", "node_affinity_preferred"),
    ("extraPodAffinity.required", "pod_affinity_required"),
    ("extraPodAffinity.preferred", "pod_affinity_preferred"),
    ("extraPodAntiAffinity.required", "pod_anti_affinity_required"),
    ("extraPodAntiAffinity.preferred", "pod_anti_affinity_preferred"),
    ("lifecycleHooks", "lifecycle_hooks"),
    ("initContainers", "init_containers"),
    ("extraContainers", "extra_containers"),
    ("memory.limit", "mem_limit"),
    ("memory.guarantee", "mem_guarantee"),
    ("cpu.limit", "cpu_limit"),
    ("cpu.guarantee", "cpu_guarantee"),
    ("extraResource.limits", "extra_resource_limits"),
    ("extraResource.guarantees", "extra_resource_guarantees"),
    ("profileList", "profile_list"),
    ("extraPodConfig", "extra_pod_config"),
)

# hub.config.<section> applied to the spawner (KubeSpawner wins over Spawner, as in traitlets)
_SPAWNER_SECTIONS = ("Spawner", "KubeSpawner")


def _storage(hub_values: Mapping[str, Any], names: Mapping[str, str], ks: dict[str, Any]) -> None:
    volumes: list[Any] = []
    mounts: list[Any] = []
    storage_type = lookup(hub_values, "singleuser.storage.type")
    home = lookup(hub_values, "singleuser.storage.homeMountPath")
    if storage_type == "dynamic":
        pvc_template = lookup(hub_values, "singleuser.storage.dynamic.pvcNameTemplate")
        if pvc_template:
            ks["pvc_name_template"] = pvc_template
        volume_name = lookup(hub_values, "singleuser.storage.dynamic.volumeNameTemplate")
        ks["storage_pvc_ensure"] = True
        for key, trait in (
            ("dynamic.storageClass", "storage_class"),
            ("dynamic.storageAccessModes", "storage_access_modes"),
            ("capacity", "storage_capacity"),
        ):
            value = lookup(hub_values, f"singleuser.storage.{key}")
            if value is not None:
                ks[trait] = copy.deepcopy(value)
        volumes.append({"name": volume_name, "persistentVolumeClaim": {"claimName": "{pvc_name}"}})
        mount: dict[str, Any] = {"mountPath": home, "name": volume_name}
        sub_path = lookup(hub_values, "singleuser.storage.dynamic.subPath")
        if sub_path is not None:
            mount["subPath"] = sub_path
        mounts.append(mount)
    elif storage_type == "static":
        claim = lookup(hub_values, "singleuser.storage.static.pvcName")
        volumes.append({"name": "home", "persistentVolumeClaim": {"claimName": claim}})
        mount = {"mountPath": home, "name": "home"}
        sub_path = lookup(hub_values, "singleuser.storage.static.subPath")
        if sub_path is not None:
            mount["subPath"] = sub_path
        mounts.append(mount)

    extra_files = lookup(hub_values, "singleuser.extraFiles") or {}
    if extra_files:
        items: list[dict[str, Any]] = []
        for key, details in extra_files.items():
            item: dict[str, Any] = {"key": key, "path": key}
            if "mode" in details:
                item["mode"] = details["mode"]
            items.append(item)
        volumes.append(
            {"name": "files", "secret": {"secretName": names["singleuser"], "items": items}}
        )
        for key, details in extra_files.items():
            mounts.append({"mountPath": details["mountPath"], "subPath": key, "name": "files"})

    volumes.extend(_as_list(lookup(hub_values, "singleuser.storage.extraVolumes")))
    mounts.extend(_as_list(lookup(hub_values, "singleuser.storage.extraVolumeMounts")))
    ks["volumes"] = volumes
    ks["volume_mounts"] = mounts


def spawner_config(hub_values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """KubeSpawner configuration the hub derives from its runtime values.

    Returns traitlets config sections ``{"Spawner": {...}, "KubeSpawner": {...}}``.
    ``hub.config.Spawner`` / ``hub.config.KubeSpawner`` are applied last: a key
    there replaces whatever the chart values produced for that trait.
    """
    names = chart_names(hub_values)
    spawner: dict[str, Any] = {}
    ks: dict[str, Any] = {"common_labels": _common_labels(hub_values)}

    for key, trait in _SINGLEUSER_TRAITS:
        value = lookup(hub_values, f"singleuser.{key}")
        if value is not None:
            ks[trait] = copy.deepcopy(value)
    environment = _environment(lookup(hub_values, "singleuser.extraEnv"))
    if environment is not None:
        ks["environment"] = environment

    image = lookup(hub_values, "singleuser.image.name")
    if image:
        tag = lookup(hub_values, "singleuser.image.tag")
        ks["image"] = f"{image}:{tag}" if tag else image

    # None, False and True are all meaningful: always set
    ks["allow_privilege_escalation"] = lookup(hub_values, "singleuser.allowPrivilegeEscalation")

    pull_secrets: list[Any] = []
    if lookup(hub_values, "imagePullSecret.automaticReferenceInjection") and lookup(
        hub_values, "imagePullSecret.create"
    ):
        pull_secrets.append(names["image-pull-secret"])
    pull_secrets.extend(_as_list(lookup(hub_values, "imagePullSecrets")))
    pull_secrets.extend(_as_list(lookup(hub_values, "singleuser.image.pullSecrets")))
    if pull_secrets:
        ks["image_pull_secrets"] = pull_secrets

    if lookup(hub_values, "scheduling.userScheduler.enabled"):
        ks["scheduler_name"] = names["user-scheduler"]
    if lookup(hub_values, "scheduling.podPriority.enabled"):
        ks["priority_class_name"] = names["priority"]

    purpose = lookup(hub_values, "scheduling.userPods.nodeAffinity.matchNodePurpose")
    if purpose:
        term = {
            "matchExpressions": [
                {"key": "hub.jupyter.org/node-purpose", "operator": "In", "values": ["user"]}
            ]
        }
        if purpose == "prefer":
            preferred = _as_list(ks.get("node_affinity_preferred"))
            ks["node_affinity_preferred"] = [*preferred, {"weight": 100, "preference": term}]
        elif purpose == "require":
            ks["node_affinity_required"] = [*_as_list(ks.get("node_affinity_required")), term]
        elif purpose != "ignore":
            raise ValueError(f"unrecognized scheduling.userPods.nodeAffinity: {purpose!r}")

    tolerations = _as_list(lookup(hub_values, "scheduling.userPods.tolerations")) + _as_list(
        lookup(hub_values, "singleuser.extraTolerations")
    )
    if tolerations:
        ks["tolerations"] = tolerations

    _storage(hub_values, names, ks)

    singleuser = lookup(hub_values, "singleuser")
    if isinstance(singleuser, Mapping) and "cmd" in singleuser:
        # an explicit null command is meaningful (use the image's CMD)
        spawner["cmd"] = copy.deepcopy(singleuser["cmd"])
    default_url = lookup(hub_values, "singleuser.defaultUrl")
    if default_url is not None:
        spawner["default_url"] = default_url

    if lookup(hub_values, "singleuser.cloudMetadata.blockWithIptables") is True:
        init = _as_list(ks.get("init_containers"))
        ks["init_containers"] = [*init, _block_cloud_metadata_container(hub_values)]

    if lookup(hub_values, "debug.enabled"):
        spawner["debug"] = True

    config = {"Spawner": spawner, "KubeSpawner": ks}
    for section in _SPAWNER_SECTIONS:
        overrides = lookup(hub_values, f"hub.config.{section}")
        if isinstance(overrides, Mapping):
            config[section].update(copy.deepcopy(dict(overrides)))
    return config


def _hub_urls(hub_values: Mapping[str, Any]) -> tuple[str, str]:
    """(hub base_url, hub connect url), e.g. ("/hub/", "http://hub:8081/hub/")."""
    base = lookup(hub_values, "hub.config.JupyterHub.base_url")
    if base is None:
        base = lookup(hub_values, "hub.baseUrl") or "/"
    base = "/" + str(base).strip("/") + "/" if str(base).strip("/") else "/"
    hub_prefix = f"{base}hub/"
    connect = f"http://{chart_names(hub_values)['hub']}:{_HUB_SERVICE_PORT}{hub_prefix}"
    return hub_prefix, connect


# --------------------------------------------------------------------------- spawning


_PATCH_LOCK = threading.Lock()


def _offline(*args: Any, **kwargs: Any) -> None:
    """Stand-in for kubespawner's kubeconfig loader and API client factory."""


class _FakeUser:
    """The few attributes of a jupyterhub User that spawning a default server reads."""

    def __init__(self, name: str, base_url: str) -> None:
        self.name = name
        self.escaped_name = name
        self.id = 1
        self.url = f"{base_url}user/{name}/"


def _spawn_requests(profile_list: list[dict[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """The default spawn, then one spawn per profile and per listed choice of its options."""
    requests: list[tuple[str, dict[str, str]]] = [("default", {})]
    for part in profile_parts(profile_list, "profile_list"):
        if part.unlisted:
            continue  # filled from what a user types: no fixed pod to rebuild
        slug = str(part.profile["slug"])
        label = f"profile-{part.position}-{slug}"
        if part.option is None:
            requests.append((label, {"profile": slug}))
        else:
            requests.append((f"{label}-{part.option}-{part.choice}", {"profile": slug, part.option: str(part.choice)}))
    return requests


async def _build(
    hub_values: Mapping[str, Any], username: str, config: dict[str, dict[str, Any]]
) -> list[UserPod]:
    import logging

    import kubespawner.spawner as ks_module
    from jupyterhub.objects import Hub
    from kubernetes_asyncio.client import ApiClient
    from traitlets.config import Config

    log = logging.getLogger(__name__)

    hub_prefix, connect_url = _hub_urls(hub_values)
    app_version = lookup(hub_values, "Chart.AppVersion")
    app_version = str(app_version) if app_version else None
    base_url = hub_prefix[: -len("hub/")]

    def new_spawner() -> Any:
        # KubeSpawner.__init__ loads a kubeconfig and creates an API client: both are
        # stubbed while constructing, nothing here talks to a cluster (reflectors are
        # only started by start(), which is never called).
        with _PATCH_LOCK:
            saved = (ks_module.load_config, ks_module.shared_client)
            ks_module.load_config = _offline
            ks_module.shared_client = _offline
            try:
                return ks_module.KubeSpawner(
                    config=Config(copy.deepcopy(config)),
                    user=_FakeUser(username, base_url),
                    hub=Hub(base_url=hub_prefix, connect_url=connect_url),
                    api_token=_DUMMY_TOKEN,
                    log=log,
                )
            finally:
                ks_module.load_config, ks_module.shared_client = saved

    # slugs and defaults of the profile list exactly as KubeSpawner initializes them
    # (a callable profile_list can only come from Python config, never from values)
    probe = new_spawner()
    initialized = probe._get_initialized_profile_list(probe.profile_list or [])

    pods: list[UserPod] = []
    async with ApiClient() as api:
        for label, options in _spawn_requests(initialized):
            spawner = new_spawner()
            spawner.user_options = dict(options)
            await spawner.load_user_options()
            manifest = await spawner.get_pod_manifest()
            pod = api.sanitize_for_serialization(manifest)
            pod.setdefault("apiVersion", "v1")
            pod.setdefault("kind", "Pod")
            if app_version:
                # the annotation names the JupyterHub installed here; the hub image
                # runs the chart's appVersion
                pod["metadata"]["annotations"][_JUPYTERHUB_VERSION_ANNOTATION] = app_version
            pods.append(UserPod(label=label, pod=_ordered_pod(pod)))
    return pods


def _ordered_pod(pod: dict[str, Any]) -> dict[str, Any]:
    head = {"apiVersion": pod.pop("apiVersion"), "kind": pod.pop("kind")}
    head.update(pod)
    return head


def build_user_pods(hub_values: dict[str, Any], username: str = "alice") -> list[UserPod]:
    """Pods KubeSpawner would create for ``username``'s default (unnamed) server.

    ``hub_values`` is the decoded ``values.yaml`` of ``Secret/hub``. The first Pod is
    the default spawn (the default profile applied when a profileList exists),
    followed by one per profile and one per profile-option choice.
    """
    import warnings

    with warnings.catch_warnings():
        # traitlets deprecation noise from kubespawner's own trait definitions
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import kubespawner
        except ImportError as exc:
            raise KubeSpawnerMissing() from exc
    import asyncio
    import concurrent.futures

    version = getattr(kubespawner, "__version__", "unknown")
    if version != _KUBESPAWNER_VERSION:
        warnings.warn(
            f"jupyterhub-kubespawner {version} is installed, the hub image runs "
            f"{_KUBESPAWNER_VERSION}: rebuilt user pods may differ from real ones",
            RuntimeWarning,
            stacklevel=2,
        )

    config = spawner_config(hub_values)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_build(hub_values, username, config))
    # called from async code: run on a private event loop in another thread
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _build(hub_values, username, config)).result()
