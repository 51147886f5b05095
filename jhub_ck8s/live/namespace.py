"""Namespace: Pod Security labels, and NetworkPolicies that would cut JupyterHub's own traffic.

``namespace-pod-security``: the namespace enforces Pod Security ``restricted`` (and warns
and audits at that level). Read from the Namespace's labels when the user may; otherwise
(Namespaces are cluster-scoped) seen by a dry-run probe: a pod that is baseline but not
restricted is refused when ``enforce: restricted`` is set, and draws a warning when
``warn`` is. A missing label is a warning, not a failure: the release still runs.

``namespace-network-policy``: the namespace's NetworkPolicies, with the release's own in
their place, are evaluated (Kubernetes semantics: a pod selected by a policy of a type is
isolated for that direction, and traffic needs an allowing rule on both ends) for:

* proxy → hub on 8081, hub → proxy API on 8001, proxy → user pods on 8888,
  user pods → hub on 8081 (pods from the release's templates and the rebuilt user pod);
* the ingress controller (another namespace, labels unknown) → the proxy's http port:
  allowed when a rule admits any peer, a ``namespaceSelector`` or an ``ipBlock``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .client import ApiError, Forbidden, LiveError
from .model import FAIL, PASS, SKIP, WARN, Context, Result
from .pods import release_pods, user_pods

GROUP = "Namespace"
PSA_PREFIX = "pod-security.kubernetes.io/"
EXPECTED = "restricted"
COMPONENT = "component"


# ------------------------------------------------------------------- Pod Security


def _probe(ctx: Context) -> Result:
    images = [c.get("image") for u in release_pods(ctx) for c in (u.pod.get("spec") or {}).get("containers") or []]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "preflight-pod-security-probe"},
           "spec": {"containers": [{"name": "probe", "image": next((i for i in images if i), "registry.invalid/probe:1"),
                                    "resources": {"requests": {"cpu": "1m", "memory": "1Mi"},
                                                  "limits": {"cpu": "1m", "memory": "1Mi"}}}]}}
    try:
        answer = ctx.client.dry_run_create(pod)
    except ApiError as exc:
        if "PodSecurity" in exc.server_message and f'"{EXPECTED}' in exc.server_message:
            return Result("namespace-pod-security", GROUP, PASS,
                          f"namespace {ctx.namespace} enforces Pod Security {EXPECTED} (seen by a dry-run probe; "
                          "its labels are not readable to this user)")
        return Result("namespace-pod-security", GROUP, WARN,
                      f"namespace {ctx.namespace} does not enforce Pod Security {EXPECTED} (a dry-run probe that violates "
                      "it was not refused for Pod Security)", _label_fix(ctx))
    if any("PodSecurity" in w and EXPECTED in w for w in answer.warnings):
        return Result("namespace-pod-security", GROUP, WARN,
                      f"namespace {ctx.namespace} only warns about Pod Security {EXPECTED}, it does not enforce it",
                      _label_fix(ctx))
    return Result("namespace-pod-security", GROUP, WARN,
                  f"namespace {ctx.namespace} has no Pod Security labels: a pod that violates {EXPECTED} was admitted "
                  "without a warning", _label_fix(ctx))


def _label_fix(ctx: Context) -> str:
    return (f"ask the platform administrator to label namespace {ctx.namespace} "
            f"{PSA_PREFIX}enforce={EXPECTED} (and warn, audit)")


def pod_security(ctx: Context) -> Result:
    try:
        namespace = ctx.client.get("v1", "Namespace", ctx.namespace)
    except Forbidden:
        return _probe(ctx)
    except LiveError as exc:
        return Result("namespace-pod-security", GROUP, FAIL, str(exc), "")
    labels = (namespace.get("metadata") or {}).get("labels") or {}
    wrong = [f"{mode}={labels.get(PSA_PREFIX + mode, '(missing)')}" for mode in ("enforce", "warn", "audit")
             if labels.get(PSA_PREFIX + mode) != EXPECTED]
    if wrong:
        return Result("namespace-pod-security", GROUP, WARN,
                      f"namespace {ctx.namespace} Pod Security labels: {', '.join(wrong)} (expected {EXPECTED})", _label_fix(ctx))
    return Result("namespace-pod-security", GROUP, PASS, f"namespace {ctx.namespace} enforces, warns and audits Pod Security {EXPECTED}")


# ------------------------------------------------------------------ NetworkPolicies


def _selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    from ..podspec import selects

    return bool(selects(selector, labels))


@dataclass(frozen=True)
class Endpoint:
    name: str  # "hub", "proxy", "user pods", "the ingress controller"
    labels: Mapping[str, Any] | None  # None: a pod in another namespace, labels unknown
    ports: tuple[dict[str, Any], ...] = ()  # its containers' ports (named ports)


def _port_matches(rule_ports: Any, port: int, target: Endpoint) -> bool:
    if not rule_ports:
        return True
    for item in rule_ports:
        if not isinstance(item, dict):
            continue
        if item.get("protocol", "TCP") != "TCP":
            continue
        value = item.get("port")
        if value is None:
            return True
        if isinstance(value, str):
            value = next((p.get("containerPort") for p in target.ports if p.get("name") == value), None)
        end = item.get("endPort") or value
        if isinstance(value, int) and isinstance(end, int) and value <= port <= end:
            return True
    return False


def _peer_matches(peers: Any, other: Endpoint, namespace_labels: Mapping[str, Any]) -> bool:
    if not peers:
        return True  # no from/to: everyone
    for peer in peers:
        if not isinstance(peer, dict):
            continue
        if other.labels is None:  # another namespace, labels unknown: only broad peers can admit it
            if "ipBlock" in peer or "namespaceSelector" in peer:
                return True
            continue
        if "ipBlock" in peer:
            continue  # pod IPs of the namespace: not judged here
        if "namespaceSelector" in peer and not _selects(peer["namespaceSelector"], namespace_labels):
            continue
        if _selects(peer.get("podSelector") or {}, other.labels):
            return True
    return False


def _types(policy: Mapping[str, Any]) -> list[str]:
    spec = policy.get("spec") or {}
    declared = spec.get("policyTypes")
    if declared:
        return [str(t) for t in declared]
    return ["Ingress", *(["Egress"] if spec.get("egress") else [])]


def _allowed(policies: list[dict[str, Any]], source: Endpoint, target: Endpoint, port: int,
             namespace_labels: Mapping[str, Any]) -> str | None:
    """None when allowed, else why not (names the isolating policies)."""
    if target.labels is not None:
        isolating = [p for p in policies if "Ingress" in _types(p)
                     and _selects((p.get("spec") or {}).get("podSelector") or {}, target.labels)]
        if isolating and not any(_peer_matches(rule.get("from"), source, namespace_labels)
                                 and _port_matches(rule.get("ports"), port, target)
                                 for p in isolating for rule in (p.get("spec") or {}).get("ingress") or []):
            names = ", ".join(p["metadata"]["name"] for p in isolating)
            return f"{target.name} pods are selected by {names} and none lets {source.name} in on {port}"
    if source.labels is not None:
        isolating = [p for p in policies if "Egress" in _types(p)
                     and _selects((p.get("spec") or {}).get("podSelector") or {}, source.labels)]
        if isolating and not any(_peer_matches(rule.get("to"), target, namespace_labels)
                                 and _port_matches(rule.get("ports"), port, target)
                                 for p in isolating for rule in (p.get("spec") or {}).get("egress") or []):
            names = ", ".join(p["metadata"]["name"] for p in isolating)
            return f"{source.name} pods are selected by {names} and none lets them out to {target.name} on {port}"
    return None


def _endpoint(ctx: Context, component: str, name: str) -> Endpoint | None:
    for use in release_pods(ctx):
        labels = (use.pod.get("metadata") or {}).get("labels") or {}
        if labels.get(COMPONENT) == component and not use.hook:
            ports = tuple(p for c in (use.pod.get("spec") or {}).get("containers") or [] for p in c.get("ports") or [])
            return Endpoint(name, labels, ports)
    return None


def network_policies(ctx: Context) -> Iterator[Result]:
    try:
        live = ctx.client.list("networking.k8s.io/v1", "NetworkPolicy")
    except Forbidden:
        yield Result("namespace-network-policy", GROUP, SKIP, "may not list NetworkPolicies in the namespace",
                     "ask for list on networkpolicies (the namespaced admin role has it)")
        return
    except LiveError as exc:
        yield Result("namespace-network-policy", GROUP, FAIL, str(exc), "")
        return
    own = {p["metadata"]["name"]: p for p in ctx.release.of_kind("NetworkPolicy")}
    policies = [p for p in live if p["metadata"]["name"] not in own] + list(own.values())
    namespace_labels = {"kubernetes.io/metadata.name": ctx.namespace}
    hub, proxy = _endpoint(ctx, "hub", "hub"), _endpoint(ctx, "proxy", "proxy")
    users = user_pods(ctx)
    user = None
    if isinstance(users, list) and users:
        pod = users[0].pod
        user = Endpoint("user", (pod.get("metadata") or {}).get("labels") or {},
                        tuple(p for c in (pod.get("spec") or {}).get("containers") or [] for p in c.get("ports") or []))
    if hub is None or proxy is None:
        yield Result("namespace-network-policy", GROUP, SKIP, "the release has no hub or proxy pod (component labels)", "")
        return
    http_port = next((int(p["containerPort"]) for p in proxy.ports if p.get("name") == "http"), 8000)
    ingress_controller = Endpoint("the ingress controller", None)
    flows = [(proxy, hub, 8081), (hub, proxy, 8001)]
    if user is not None:
        flows += [(proxy, user, 8888), (user, hub, 8081)]
    flows.append((ingress_controller, proxy, http_port))
    blocked = []
    for source, target, port in flows:
        why = _allowed(policies, source, target, port, namespace_labels)
        if why:
            blocked.append((f"{source.name} → {target.name}:{port}", why))
    for flow, why in blocked:
        yield Result("namespace-network-policy", GROUP, FAIL, f"{flow} is blocked: {why}",
                     "add a NetworkPolicy that allows it (or keep the chart's own, *.networkPolicy.enabled: true)", flow)
    if not blocked:
        yield Result("namespace-network-policy", GROUP, PASS,
                     f"{len(policies)} NetworkPolicies ({len(own)} of the release) let through "
                     + ", ".join(f"{s.name} → {t.name}:{p}" for s, t, p in flows))


def run(ctx: Context) -> Iterator[Result]:
    yield pod_security(ctx)
    yield from network_policies(ctx)
