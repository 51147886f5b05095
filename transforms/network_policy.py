"""Cover the release's pods that no NetworkPolicy selects with one deny-ingress policy.

The platform wants every pod selected by some NetworkPolicy. z2jh ships policies for
the hub, proxy, autohttps and user pods, but not for the image pullers, the image
awaiter, the user placeholders or the user-scheduler: none of those receives traffic.
Guarantees, with ``networkPolicy: true`` (the default):

* every pod-bearing workload of the stream that no NetworkPolicy of the stream selects
  (``podSelector`` ``matchLabels`` and ``matchExpressions`` against its pod labels),
  and that no Service sends traffic to, is selected by one added NetworkPolicy
  ``jhub-ck8s-deny-ingress`` that allows no ingress (``policyTypes: [Ingress]``,
  no rules; egress is left open so images and the API server stay reachable);
* its ``podSelector`` selects exactly those workloads among the stream's pods: the
  labels they share (``app``, ``release``, ...) plus ``<key> In [values]`` on the
  first label key they all carry (``component`` for z2jh) that selects no other pod;
* a workload a Service selects but no policy does (the hub or proxy when the chart's
  policy for it is turned off) is not denied -- that would cut it off -- but reported
  with a warning (rule ``network-policy-unselected``) naming the chart value that
  turns its policy back on; so is a workload no such selector can single out;
* a second run changes nothing: the added policy is recomputed and only rewritten
  when the set of uncovered workloads changed.

Before (z2jh defaults)::

    NetworkPolicy hub, proxy, singleuser (podSelector component: hub / proxy / singleuser-server)
    DaemonSet continuous-image-puller   pod labels {component: continuous-image-puller,
                                                    app: jupyterhub, release: jhub, ...}
    StatefulSet user-placeholder        pod labels {component: user-placeholder, ...}

After, added right after the last NetworkPolicy::

    kind: NetworkPolicy
    metadata: {name: jhub-ck8s-deny-ingress, labels: {app: jupyterhub, release: jhub, ...}}
    spec:
      podSelector:
        matchLabels: {app: jupyterhub, release: jhub, app.kubernetes.io/name: jupyterhub,
                      app.kubernetes.io/instance: jhub}
        matchExpressions:
        - {key: component, operator: In, values: [continuous-image-puller, user-placeholder]}
      policyTypes: [Ingress]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from jhub_ck8s.podspec import LabelIndex, pod_labels
from jhub_ck8s.report import CHANGE, WARNING, Finding

if TYPE_CHECKING:
    from jhub_ck8s.documents import Document
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "network-policy"
RULE_UNSELECTED = "network-policy-unselected"
POLICY_NAME = "jhub-ck8s-deny-ingress"
SOURCE = "jhub-ck8s/generated/network-policy.yaml"
PURPOSE_ANNOTATION = "jhub-ck8s.io/purpose"

# Labels that name the release rather than a component: shared ones go into matchLabels.
_RELEASE_KEYS = ("app", "release", "app.kubernetes.io/name", "app.kubernetes.io/instance")
# Keys tried, in order, for the `In` expression that tells the covered pods apart.
_COMPONENT_KEYS = ("component", "app.kubernetes.io/component", "app.kubernetes.io/name", "app")
# z2jh 4.4.0: pod `component` -> the value that renders its own NetworkPolicy.
_CHART_POLICIES = {
    "hub": "hub.networkPolicy.enabled: true",
    "proxy": "proxy.chp.networkPolicy.enabled: true",
    "autohttps": "proxy.traefik.networkPolicy.enabled: true",
}

Pod = tuple["Document", dict[str, Any]]


def _selector(obj: dict[str, Any], path: str) -> Any:
    spec = obj.get("spec")
    return spec.get(path) if isinstance(spec, dict) else None


def _build_selector(targets: list[Pod], others: LabelIndex) -> dict[str, Any] | None:
    """A podSelector that selects every target and none of ``others``, or None."""
    shared: dict[str, str] = {}
    for key in _RELEASE_KEYS:
        values = {str(labels.get(key)) for _, labels in targets if key in labels}
        if len(values) == 1 and all(key in labels for _, labels in targets):
            shared[key] = values.pop()
    common_keys = set.intersection(*(set(labels) for _, labels in targets))
    candidates = [k for k in _COMPONENT_KEYS if k in common_keys]
    candidates += sorted(common_keys - set(candidates) - set(shared))
    for key in candidates:
        selector: dict[str, Any] = {}
        match_labels = {k: v for k, v in shared.items() if k != key}
        if match_labels:
            selector["matchLabels"] = match_labels
        selector["matchExpressions"] = [
            {"key": key, "operator": "In", "values": sorted({str(labels[key]) for _, labels in targets})}
        ]
        if not others.positions(selector):
            return selector
    return None


def _policy(selector: dict[str, Any]) -> dict[str, Any]:
    labels = dict(selector.get("matchLabels", {}))
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": POLICY_NAME,
            **({"labels": labels} if labels else {}),
            "annotations": {
                PURPOSE_ANNOTATION: "added by the jhub-ck8s post-renderer: denies ingress to the "
                "release's pods that no other NetworkPolicy selects and no Service targets",
            },
        },
        "spec": {"podSelector": selector, "policyTypes": ["Ingress"]},
    }


def _unselected_warning(doc: Document, labels: dict[str, Any], why: str) -> Finding:
    value = _CHART_POLICIES.get(str(labels.get("component", "")))
    fix = f"set {value}" if value else "add a NetworkPolicy that selects its pods"
    return Finding(
        ID, WARNING, f"no NetworkPolicy selects its pods, and {why}", doc, "pod template labels",
        fix=fix, rule=RULE_UNSELECTED,
    )


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    if not settings.network_policy:
        return
    live = stream.live()
    ours = next((d for d in live if d.kind == "NetworkPolicy" and d.name == POLICY_NAME), None)
    policies = [d for d in live if d.kind == "NetworkPolicy" and d is not ours]
    services = [d for d in live if d.kind == "Service" and _selector(d.obj, "selector")]
    pods: list[Pod] = [(doc, labels) for doc in live if (labels := pod_labels(doc.obj)) is not None]

    index = LabelIndex(pods)
    by_policy = index.selected_by_any(_selector(policy.obj, "podSelector") for policy in policies)
    # A Service selector is a plain label map: it selects like matchLabels.
    by_service = index.selected_by_any({"matchLabels": _selector(service.obj, "selector")} for service in services)
    targets: list[Pod] = []
    for position, (doc, labels) in enumerate(pods):
        if position in by_policy:
            continue
        if position in by_service:
            yield _unselected_warning(doc, labels, "a Service targets it, so it is not denied")
        elif not labels:
            yield _unselected_warning(doc, labels, "its pods carry no labels to select them by")
        else:
            targets.append((doc, labels))
    if not targets:
        return
    target_docs = {id(doc) for doc, _ in targets}
    others = LabelIndex([pod for pod in pods if id(pod[0]) not in target_docs])
    selector = _build_selector(targets, others)
    if selector is None:
        for doc, labels in targets:
            yield _unselected_warning(doc, labels, "no label selector singles out these pods")
        return
    wanted = _policy(selector)
    covered = ", ".join(doc.label for doc, _ in targets)
    if ours is not None:
        if ours.obj.get("spec") == wanted["spec"]:
            return
        ours.obj["spec"] = wanted["spec"]
        yield Finding(ID, CHANGE, f"now denies ingress to {covered}", ours, "spec.podSelector")
        return
    after = policies[-1] if policies else None
    added = stream.add(wanted, after=after, source=SOURCE)
    yield Finding(
        ID, CHANGE, f"added NetworkPolicy {POLICY_NAME}: denies ingress to {covered}, "
        "which no NetworkPolicy selected", added,
    )
