"""What an upgrade changes, as data: objects, the hub's config key by key, user pods, running pods.

Pure: everything read from helm and the cluster is handed in (``ReleaseState``), so this
module can be read, and tested, without either. ``diff.py`` fetches, this module judges.

* **Objects** are compared three-way (``diff_tree.compare``): the last release's manifest,
  the manifest this upgrade would store (Helm's server-side dry run, so ``lookup`` kept the
  generated tokens), and the live object. A hand edit of a field the chart sets is shown
  with what the running Helm major does to it.
* **Secret/hub** ``values.yaml`` is decoded and compared key by key
  (``singleuser.profileList[1].kubespawner_override.image``). Its credentials
  (``diff_tree.secret_leaf``) and its other data keys are always masked; other Secrets'
  data is masked unless ``show_secrets``. ``checksum/*`` annotations are hashes of
  Secrets: masked too, so no output carries a hash anyone could test guesses against.
* **Impact** of each change: ``hub-restart``, ``proxy-restart``, ``restart`` (another
  workload rolls), ``next-spawn`` (user pods only, at their next start) or ``none``.
* **User pods**: the pod KubeSpawner would build for every profile and option, before
  and after, reduced to what matters (``pod_summary``: images, resources, security
  contexts, volumes and mounts, environment variable *names*) and compared.
* **Running user pods** whose summary no pod of the new config has will change at their
  next spawn; they are listed with the differences.

Example (text output, see ``diff_output``)::

    Secret/hub values.yaml
    @@ next-spawn: running user servers keep their pod until they restart @@
    -singleuser.image.tag: "4.4.0"
    +singleuser.image.tag: "4.4.1"
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..hubconfig import VALUES_KEY
from .diff_tree import ADDED, CHANGED, REMOVED, Change, compare, is_checksum, leaves, secret_leaf

HUB_RESTART, PROXY_RESTART, RESTART, NEXT_SPAWN, NONE = "hub-restart", "proxy-restart", "restart", "next-spawn", "none"
#: What each impact means for the people using the hub (the text output's hunk headers).
IMPACTS = {
    HUB_RESTART: "hub restart: strategy Recreate, logins fail until the new hub is up; running user servers keep running",
    PROXY_RESTART: "proxy restart: open connections to user servers are dropped",
    RESTART: "pods of this workload are replaced",
    NEXT_SPAWN: "next spawn only: running user servers keep their pod until they restart",
    NONE: "none: applied in place",
}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
# Keys of the hub's config that only shape the pods KubeSpawner builds.
SPAWN_KEYS = ("singleuser", "hub.config.KubeSpawner", "hub.config.Spawner", "scheduling.userPods")
SINGLEUSER_SELECTOR = "component=singleuser-server"
USERNAME_LABEL = "hub.jupyter.org/username"


@dataclass(frozen=True)
class Item:
    """One change with the object it is in and its impact (one JSON entry, one -/+ pair)."""

    object: str  # "Deployment/hub", "Secret/hub values.yaml", "user pod (default)", "running pod jupyter-alice"
    change: Change
    impact: str
    note: str = ""


@dataclass
class DiffResult:
    items: list[Item] = field(default_factory=list)
    release_exists: bool = True

    @property
    def changed(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True)
class ReleaseState:
    """Everything the judgement needs, fetched by ``diff.py``."""

    old: list[dict[str, Any]]  # the last release's manifest (empty when it does not exist)
    new: list[dict[str, Any]]  # what the upgrade would store
    live: Mapping[str, dict[str, Any] | None]  # object id -> the live object (None: not there)
    helm_major: int
    running_pods: Sequence[dict[str, Any]] = ()
    release_exists: bool = True


def object_id(obj: Mapping[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def _component(obj: Mapping[str, Any]) -> str:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return str(labels.get("component") or "")


def is_hub_secret(obj: Mapping[str, Any]) -> bool:
    if obj.get("kind") != "Secret":
        return False
    name = str((obj.get("metadata") or {}).get("name") or "")
    data = {**(obj.get("data") or {}), **(obj.get("stringData") or {})}
    return VALUES_KEY in data and (_component(obj) == "hub" or name == "hub" or name.endswith("-hub"))


def _secret_data(obj: Mapping[str, Any]) -> dict[str, str]:
    """A Secret's data as stored (base64), ``stringData`` folded in as the API server does."""
    data = {str(k): str(v) for k, v in (obj.get("data") or {}).items()}
    for key, value in (obj.get("stringData") or {}).items():
        data[str(key)] = base64.b64encode(str(value).encode()).decode()
    return data


def normalized(obj: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What is compared of an object: no status, Secret data in one form, no bookkeeping metadata."""
    if obj is None:
        return None
    result = {k: v for k, v in obj.items() if k != "status"}
    if obj.get("kind") == "Secret":
        result.pop("stringData", None)
        result["data"] = _secret_data(obj)
        if not result["data"]:
            result.pop("data")
    return result


def hub_values(obj: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The decoded ``values.yaml`` of a hub Secret (None when absent or not readable as a mapping)."""
    if obj is None:
        return None
    from ..yamlio import load as load_yaml

    encoded = _secret_data(obj).get(VALUES_KEY)
    if encoded is None:
        return None
    try:
        values = load_yaml(base64.b64decode(encoded, validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, Exception):  # its text could quote the Secret
        return None
    return values if isinstance(values, dict) else None


# --- impact ----------------------------------------------------------------------------------


def object_impact(obj: Mapping[str, Any], path: str) -> str:
    """The impact of a change at ``path`` of a Kubernetes object."""
    kind, component = obj.get("kind"), _component(obj)
    if kind in WORKLOAD_KINDS and (path == "" or path.startswith("spec.template") or path.startswith("spec.jobTemplate")):
        return HUB_RESTART if component == "hub" else PROXY_RESTART if component == "proxy" else RESTART
    if component == "hub" and kind in ("Secret", "ConfigMap"):
        return HUB_RESTART  # the hub Deployment's checksum annotations follow them
    return NONE


def values_impact(path: str) -> str:
    """The impact of a change of the hub's config at ``path``: user pods only, or the hub itself."""
    if any(path == key or path.startswith((key + ".", key + "[")) for key in SPAWN_KEYS):
        return NEXT_SPAWN
    return HUB_RESTART


# --- masking ---------------------------------------------------------------------------------


def _object_mask(obj: Mapping[str, Any], show_secrets: bool) -> Callable[[str], bool]:
    hub = is_hub_secret(obj)
    secret = obj.get("kind") == "Secret"

    def masked(path: str) -> bool:
        if is_checksum(path):
            return True
        if secret and path.startswith(("data.", "data[", "stringData")):
            return hub or not show_secrets
        return False

    return masked


def _shown(obj: Mapping[str, Any], change: Change, show_secrets: bool) -> Change:
    """With ``show_secrets``, another Secret's data is shown decoded (never the hub's)."""
    if not show_secrets or obj.get("kind") != "Secret" or change.secret or not change.path.startswith("data"):
        return change

    def decoded(value: Any) -> Any:
        try:
            return base64.b64decode(str(value), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return value

    return Change(change.path, change.change, None if change.old is None else decoded(change.old),
                  None if change.new is None else decoded(change.new), change.secret, change.edited,
                  None if change.live is None else decoded(change.live))


def edit_note(helm_major: int) -> str:
    if helm_major >= 4:
        return ("changed by hand in the cluster: Helm 4's server-side apply stops with a conflict on this field "
                "while another field manager owns it (--force-conflicts takes it back)")
    return "changed by hand in the cluster: Helm 3's three-way merge sets it back to the chart's value"


# --- objects ---------------------------------------------------------------------------------


def _without_hub_values(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    if obj is None or not is_hub_secret(obj):
        return obj
    data = dict(obj.get("data") or {})
    data.pop(VALUES_KEY, None)
    return {**obj, "data": data} if data else {k: v for k, v in obj.items() if k != "data"}


def object_items(state: ReleaseState, show_secrets: bool = False) -> list[Item]:
    old = {object_id(o): normalized(o) for o in state.old}
    new = {object_id(o): normalized(o) for o in state.new}
    items: list[Item] = []
    note = edit_note(state.helm_major)
    for oid in sorted(set(old) | set(new)):
        before, after = old.get(oid), new.get(oid)
        live = normalized(state.live.get(oid)) if state.release_exists else None
        shape = after or before
        assert shape is not None
        mask = _object_mask(shape, show_secrets)
        live_leaves = None if live is None else leaves(_without_hub_values(live))
        if before is not None and live is None and state.release_exists and after is not None:
            items.append(Item(oid, Change("", ADDED, None, None), object_impact(shape, ""),
                              "deleted in the cluster by hand: the upgrade creates it again"))
        changes = compare(
            leaves(_without_hub_values(before)) if before else {},
            leaves(_without_hub_values(after)) if after else {},
            live_leaves if before is not None else None,
            secret=mask,
        )
        for change in changes:
            items.append(Item(oid, _shown(shape, change, show_secrets), object_impact(shape, change.path),
                              note if change.edited else ""))
        if is_hub_secret(shape):
            items += values_items(oid, before, after, live if before is not None else None, note)
    return items


def values_items(oid: str, before: dict[str, Any] | None, after: dict[str, Any] | None,
                 live: dict[str, Any] | None, note: str) -> list[Item]:
    """Secret/hub ``values.yaml``, key by key (secret leaves masked)."""
    old_values, new_values = hub_values(before) or {}, hub_values(after) or {}
    live_values = hub_values(live) if live is not None else None
    changes = compare(leaves(old_values), leaves(new_values), None if live_values is None else leaves(live_values),
                      secret=secret_leaf)
    return [Item(f"{oid} {VALUES_KEY}", change, values_impact(change.path), note if change.edited else "")
            for change in changes]


# --- user pods -------------------------------------------------------------------------------


def _env_names(container: Mapping[str, Any]) -> dict[str, str]:
    names = {str(e.get("name")): "(set)" for e in container.get("env") or [] if isinstance(e, Mapping)}
    for source in container.get("envFrom") or []:
        if isinstance(source, Mapping):
            for kind in ("configMapRef", "secretRef"):
                ref = source.get(kind)
                if isinstance(ref, Mapping):
                    names[f"{kind}:{ref.get('name')}"] = "(set)"
    return dict(sorted(names.items()))


def _resources(container: Mapping[str, Any]) -> dict[str, Any]:
    """Requests and limits; a limit without a request is the request too (the API server's default)."""
    resources = container.get("resources") or {}
    limits = dict(resources.get("limits") or {})
    requests = {**limits, **(resources.get("requests") or {})}
    return {key: value for key, value in (("requests", requests), ("limits", limits)) if value}


def pod_summary(pod: Mapping[str, Any]) -> dict[str, Any]:
    """What a user notices of their pod; nothing that names the user (claim names, env values)."""
    spec = pod.get("spec") or {}
    summary: dict[str, Any] = {}
    if spec.get("securityContext"):
        summary["securityContext"] = spec["securityContext"]
    for group in ("initContainers", "containers"):
        containers = {}
        for container in spec.get(group) or []:
            entry: dict[str, Any] = {"image": container.get("image")}
            if _resources(container):
                entry["resources"] = _resources(container)
            if container.get("securityContext"):
                entry["securityContext"] = container["securityContext"]
            if _env_names(container):
                entry["env"] = _env_names(container)
            mounts = {str(m.get("name")): m.get("mountPath") for m in container.get("volumeMounts") or []
                      if not str(m.get("name")).startswith("kube-api-access-")}
            if mounts:
                entry["volumeMounts"] = mounts
            containers[str(container.get("name"))] = entry
        if containers:
            summary[group] = containers
    volumes = {}
    for volume in spec.get("volumes") or []:
        name = str(volume.get("name"))
        if name.startswith("kube-api-access-"):
            continue  # a service account token the API server adds
        volumes[name] = next((k for k in sorted(volume) if k != "name"), "emptyDir")
    if volumes:
        summary["volumes"] = volumes
    return summary


def _pod_key(label: str) -> str:
    """The library's label without the profile's position, so an inserted profile pairs the rest by slug."""
    if label.startswith("profile-"):
        return "profile-" + label.split("-", 2)[2]
    return label


@dataclass(frozen=True)
class BuiltPod:
    label: str  # the library's label ("default", "profile-1-r-version-r43")
    display: str  # "user pod (profile 1: r, version=r43)"
    pod: dict[str, Any]


def user_pod_items(old_pods: Sequence[BuiltPod], new_pods: Sequence[BuiltPod]) -> list[Item]:
    """The pods KubeSpawner would build, before and after, paired by profile slug and option."""
    old = {_pod_key(p.label): p for p in old_pods}
    new = {_pod_key(p.label): p for p in new_pods}
    items = []
    for key in [*new, *[k for k in old if k not in new]]:
        before, after = old.get(key), new.get(key)
        name = (after or before).display  # type: ignore[union-attr]  # one of them exists
        if after is None:
            items.append(Item(name, Change("", REMOVED, None, None), NEXT_SPAWN))
            continue
        note, default = "", None
        if before is None:
            # a new profile or option: what it changes against the default pod says more than its whole spec
            default = new.get("default") if old else None  # an install: every pod is new, shown whole
            note = "new: shown against user pod (default)" if default is not None else "new"
            items.append(Item(name, Change("", ADDED, None, None), NEXT_SPAWN, note))
        base = leaves(pod_summary(before.pod)) if before else leaves(pod_summary(default.pod)) if default else {}
        for change in compare(base, leaves(pod_summary(after.pod)), None):
            items.append(Item(name, change, NEXT_SPAWN))
    return items


def running_pod_items(running: Sequence[dict[str, Any]], old_pods: Sequence[BuiltPod],
                      new_pods: Sequence[BuiltPod]) -> list[Item]:
    """Running user pods that no pod of the new config matches: they change at their next spawn.

    Each is compared with the new pod of the profile it was built from (found among the old
    config's pods), or with the new default pod."""
    new_summaries = [(p, leaves(pod_summary(p.pod))) for p in new_pods]
    old_summaries = [(p, leaves(pod_summary(p.pod))) for p in old_pods]
    items = []
    for pod in sorted(running, key=lambda p: str((p.get("metadata") or {}).get("name"))):
        current = leaves(pod_summary(pod))
        if any(not compare(summary, current, None) for _, summary in new_summaries):
            continue
        origin = next((p for p, summary in old_summaries if not compare(summary, current, None)), None)
        key = _pod_key(origin.label) if origin else "default"
        target = next((s for p, s in new_summaries if _pod_key(p.label) == key), None)
        if target is None and new_summaries:
            target = new_summaries[0][1]
        metadata = pod.get("metadata") or {}
        user = ((metadata.get("labels") or {}).get(USERNAME_LABEL)) or "?"
        name = f"running pod {metadata.get('name')} (user {user})"
        note = "changes at its next spawn"
        for change in compare(current, target or {}, None):
            items.append(Item(name, change, NEXT_SPAWN, note))
    return items


def refused_items(refusals: Sequence[tuple[str, str]]) -> list[Item]:
    """New user pods the API server refused in a dry run: (display, the server's message)."""
    return [Item(display, Change("", CHANGED, None, None), NEXT_SPAWN, f"refused by the API server: {message}")
            for display, message in refusals]


__all__ = [
    "HUB_RESTART", "IMPACTS", "NEXT_SPAWN", "NONE", "PROXY_RESTART", "RESTART", "BuiltPod", "DiffResult",
    "Item", "ReleaseState", "hub_values", "is_hub_secret", "object_id", "object_items", "pod_summary",
    "refused_items", "running_pod_items", "user_pod_items", "values_impact",
]
