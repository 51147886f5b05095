"""``helm ck8s-jupyter diff``: fetch what the judgement needs, from helm and the cluster.

1. The cluster answers (``Client.version``), or the run stops with one line (exit 2).
2. ``helm get manifest``: the last release, or None (then it is the diff of an install).
3. ``helm upgrade --install --dry-run=server -o json`` through the post-renderer: the
   manifest this upgrade would store. Helm's own server-side dry run, so the chart's
   ``lookup`` finds the release's Secrets and keeps its generated tokens (no false
   token or checksum change).
4. The live object of every object of either manifest (``Client.get``), the running user
   pods (``component=singleuser-server``), and on Helm 4 a server-side apply dry run of
   each object edited by hand, as Helm's field manager, to see whether Helm would stop
   with a conflict.
5. The user pods KubeSpawner would build from both configs (``check``'s rebuild), and a
   dry-run create of each new one on the API server.

``diff_release`` judges, ``diff_output`` prints. Nothing here writes to the cluster:
the client's only writes are dry runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from ..errors import UserError
from ..release import ChartRequest, InstallOptions, Outcome
from .client import ApiError, Client, Conflict, LiveError, NotFound, load_config
from .diff_release import (
    SINGLEUSER_SELECTOR,
    BuiltPod,
    DiffResult,
    Item,
    ReleaseState,
    hub_values,
    is_hub_secret,
    object_id,
    object_items,
    refused_items,
    running_pod_items,
    user_pod_items,
)
from .diff_tree import Change

#: The field manager Helm 4's server-side apply uses (seen in managedFields).
HELM4_FIELD_MANAGER = "helm"
_INSTANCE_LABELS = ("app.kubernetes.io/instance", "release")


class HelmFailed(Exception):
    """helm could not render the upgrade; ``outcome`` says why."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__("helm failed")
        self.outcome = outcome


@dataclass(frozen=True)
class DiffRun:
    result: DiffResult
    namespace: str


def _documents(text: str, what: str) -> list[dict[str, Any]]:
    from ..errors import InputError
    from ..stream import parse

    try:
        return [doc.obj for doc in parse(text) if isinstance(doc.obj, dict) and doc.obj.get("kind")]
    except InputError as exc:
        raise UserError(f"{what} cannot be read: {exc}") from None


def _client(request: ChartRequest, kubeconfig: str | None, env: Mapping[str, str] | None) -> Client:
    try:
        config = load_config(kubeconfig, request.kube_context, request.namespace, env)
        client = Client(config)
        client.version()
    except LiveError as exc:
        raise UserError(f"diff needs the cluster: {exc}") from None
    return client


def _rendered(request: ChartRequest, helm: Any) -> tuple[list[dict[str, Any]], Outcome]:
    from ..release import run_chart

    dry = replace(request, install=InstallOptions(server_dry_run=True, output="json"))
    outcome = run_chart(dry, helm, capture=True)
    if outcome.exit_code != 0:
        raise HelmFailed(outcome)
    try:
        release = json.loads(outcome.stdout)
        manifest = release["manifest"]
    except (ValueError, KeyError, TypeError):
        raise UserError("helm upgrade --dry-run=server -o json printed no release (see helm's output)") from None
    return _documents(str(manifest or ""), "the manifest helm rendered"), outcome


def _live(client: Client, objects: list[dict[str, Any]], namespace: str) -> dict[str, dict[str, Any] | None]:
    def fetch(obj: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        name = str((obj.get("metadata") or {}).get("name"))
        try:
            return object_id(obj), client.get(str(obj.get("apiVersion")), str(obj.get("kind")), name, namespace)
        except NotFound:
            return object_id(obj), None

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(pool.map(fetch, objects))


def _running_pods(client: Client, namespace: str, release: str) -> list[dict[str, Any]]:
    pods = client.list("v1", "Pod", namespace, label_selector=SINGLEUSER_SELECTOR)
    mine = []
    for pod in pods:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        instance = next((labels[key] for key in _INSTANCE_LABELS if key in labels), None)
        if instance in (None, release):
            mine.append(pod)
    return mine


def _built(values: dict[str, Any] | None) -> tuple[list[BuiltPod], str]:
    """The user pods of a hub config, or why they could not be built."""
    if values is None:
        return [], ""
    from ..check.spawned_pods import SpawnUnavailable, spawned_pods

    try:
        pods = spawned_pods(values)
    except SpawnUnavailable as exc:
        return [], str(exc).replace("audited", "compared")
    return [BuiltPod(p.key, p.label.replace("spawned user pod", "user pod"), p.pod) for p in pods], ""


def _refusals(client: Client, pods: list[BuiltPod], namespace: str) -> list[tuple[str, str]]:
    def submit(indexed: tuple[int, BuiltPod]) -> tuple[str, str] | None:
        index, built = indexed
        pod = json.loads(json.dumps(built.pod))
        pod.setdefault("metadata", {})["name"] = f"jhub-ck8s-diff-probe-{index}"
        pod["metadata"].pop("namespace", None)
        try:
            client.dry_run_create(pod, namespace)
        except ApiError as exc:
            return built.display, exc.server_message or str(exc)
        return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        return [r for r in pool.map(submit, enumerate(pods)) if r is not None]


def _conflicts(client: Client, items: list[Item], new: list[dict[str, Any]], namespace: str) -> dict[str, str]:
    """Helm 4: objects edited by hand whose apply as Helm would stop with a conflict (and the server's words)."""
    edited = {item.object for item in items if item.change.edited}
    found = {}
    for obj in new:
        oid = object_id(obj)
        if oid not in edited or is_hub_secret(obj) or obj.get("kind") == "Secret":
            continue
        try:
            client.dry_run_patch(str(obj["apiVersion"]), str(obj["kind"]), str(obj["metadata"]["name"]), obj,
                                 namespace, patch_type="apply", field_manager=HELM4_FIELD_MANAGER)
        except Conflict as exc:
            found[oid] = exc.server_message.split(";")[0]
        except ApiError:
            continue
    return found


def _with_conflicts(items: list[Item], conflicts: Mapping[str, str]) -> list[Item]:
    out = []
    for item in items:
        if item.change.edited:
            if item.object in conflicts:
                note = f"changed by hand in the cluster: Helm 4 stops with a conflict ({conflicts[item.object]}); --force-conflicts takes it back"
            else:
                note = "changed by hand in the cluster: Helm 4's server-side apply sets it back"
            item = Item(item.object, item.change, item.impact, note)
        out.append(item)
    return out


def run_diff(
    request: ChartRequest,
    *,
    show_secrets: bool = False,
    helm: Any = None,
    kubeconfig: str | None = None,
    env: Mapping[str, str] | None = None,
) -> DiffRun:
    """The whole diff of ``request`` against its release (see the module doc)."""
    from ..helm import Helm, get_manifest

    client = _client(request, kubeconfig, env)
    namespace = client.namespace
    request = replace(request, namespace=namespace)
    helm = helm or Helm.from_environment(env)
    major = helm.version().major
    old_text = get_manifest(helm, request.release, namespace, request.kube_context)
    exists = old_text is not None
    old = _documents(old_text or "", f"the manifest of release {request.release}")
    new, _ = _rendered(request, helm)
    try:
        live = _live(client, [*old, *new], namespace) if exists else {}
        running = _running_pods(client, namespace, request.release) if exists else []
        state = ReleaseState(old=old, new=new, live=live, helm_major=major, running_pods=running, release_exists=exists)
        items = object_items(state, show_secrets)
        if major >= 4 and any(item.change.edited for item in items):
            items = _with_conflicts(items, _conflicts(client, items, new, namespace))

        def values_of(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
            return next((hub_values(o) for o in objects if is_hub_secret(o)), None)

        old_pods, old_problem = _built(values_of(old))
        new_pods, new_problem = _built(values_of(new))
        problem = new_problem or old_problem
        if problem:
            items.append(Item("user pods", Change("", "changed", None, None), "next-spawn", problem))
        else:
            items += user_pod_items(old_pods, new_pods)
            items += refused_items(_refusals(client, new_pods, namespace))
            items += running_pod_items(running, old_pods, new_pods)
    except LiveError as exc:
        raise UserError(f"reading the cluster failed: {exc}") from None
    return DiffRun(DiffResult(items, exists), namespace)
