"""The platform's Gatekeeper safeguards and the tenant RBAC limit, one table entry each.

What Compliant Kubernetes (Welkin) enforces beyond Pod Security, as listed in
``docs/platform.md``, evaluated on what is rendered -- never changed. Guarantees:

* ``SAFEGUARDS`` is the single registry: rule id -> ``Safeguard(id, severity, title,
  applies, check)``; the severity is the platform's default (``warning`` for the
  trusted registry, NetworkPolicy coverage and minimum replicas; ``error`` for the rest);
* pod rules read the PodSpec through ``jhub_ck8s.podspec`` and apply to every
  pod-bearing object and to spawned user pods alike;
* image rules read the reference exactly as written (Gatekeeper compares text):
  the trusted registry wants it to start with one of the trusted prefixes followed
  by ``/``; disallowed tags reject ``:latest`` and a reference without any ``:``;
* the trusted-registry rule is *not evaluated* (``Context.trusted is None``) when no
  registry is known; the runner says so in a note instead of guessing;
* every finding names the value that fixes it, for z2jh 4.4.0 the chart value where
  one exists.

A Service that passes ``safeguard-load-balancer`` and one that fails it::

    kind: Service
    spec: {type: ClusterIP}       # passes
    ---
    kind: Service
    spec: {type: LoadBalancer}    # fails: rejected on several clouds
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..platform import CLUSTER_SCOPED_KINDS, MINIMUM_REPLICAS_ANNOTATION, blocking_pdb, replicas
from ..podspec import POD_SPEC_PATHS, containers, selects
from .model import ERROR, WARNING, Finding

# Kinds whose pods run (every pod-bearing kind but PodTemplate): the trusted registry,
# NetworkPolicy coverage and resource requests apply to them.
POD_KINDS = frozenset(POD_SPEC_PATHS) - {"PodTemplate"}

@dataclass(frozen=True)
class Workload:
    """A pod-bearing object of the stream, as the PDB and NetworkPolicy rules see it."""

    label: str  # Kind/name
    replicas: int | None  # None for kinds without replicas (DaemonSet, Job, Pod, ...)
    labels: Mapping[str, Any]


@dataclass(frozen=True)
class Context:
    """What the rules need from the whole stream."""

    trusted: tuple[str, ...] | None = None  # registry prefixes; None: rule not evaluated
    policy_selectors: tuple[Any, ...] = ()  # podSelector of every NetworkPolicy
    workloads: tuple[Workload, ...] = field(default=())


@dataclass(frozen=True)
class Target:
    """The object under audit: the whole object, and its pod spec and pod labels if any."""

    kind: str
    obj: Mapping[str, Any]
    spec: Mapping[str, Any] | None = None
    labels: Mapping[str, Any] | None = None

    @property
    def metadata(self) -> Mapping[str, Any]:
        meta = self.obj.get("metadata")
        return meta if isinstance(meta, Mapping) else {}


Check = Callable[[Target, Context], Iterator[Finding]]


@dataclass(frozen=True)
class Safeguard:
    """One platform rule."""

    id: str
    severity: str
    title: str
    applies: Callable[[Target], bool]
    check: Check


def _images(spec: Mapping[str, Any], fields: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    for ref in containers(dict(spec), fields):
        image = ref.container.get("image")
        yield ref.where, image if isinstance(image, str) else ""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# ---------------------------------------------------------------------------- rules


def trusted_registry(target: Target, ctx: Context) -> Iterator[Finding]:
    """Every container and init container image starts with the platform's Harbor."""
    assert target.spec is not None and ctx.trusted is not None
    shown = " or ".join(ctx.trusted)
    for where, image in _images(target.spec, ("initContainers", "containers")):
        if not any(image.startswith(prefix.rstrip("/") + "/") for prefix in ctx.trusted):
            yield Finding(
                "safeguard-trusted-registry", WARNING,
                f"image {image or '(none)'} is not in the trusted registry {shown}", where,
                f"mirror it to {ctx.trusted[0]} and use that reference (the jhub-ck8s post-renderer "
                "rewrites image references with --registry)",
            )


def disallowed_tags(target: Target, ctx: Context) -> Iterator[Finding]:
    """No ``:latest`` and no reference without a tag (no ``:`` at all)."""
    assert target.spec is not None
    for where, image in _images(target.spec, ("initContainers", "containers", "ephemeralContainers")):
        if image.endswith(":latest") or ":" not in image:
            yield Finding(
                "safeguard-disallowed-tags", ERROR,
                f"image {image or '(none)'} has " + ("the tag latest" if image.endswith(":latest") else "no tag"),
                where, "pin the image to a version tag or a digest",
            )


def resource_requests(target: Target, ctx: Context) -> Iterator[Finding]:
    """Every ``containers[]`` entry requests cpu and memory."""
    assert target.spec is not None
    for ref in containers(dict(target.spec), ("containers",)):
        requests = _mapping(_mapping(ref.container.get("resources")).get("requests"))
        missing = [name for name in ("cpu", "memory") if requests.get(name) in (None, "")]
        if missing:
            yield Finding(
                "safeguard-resource-requests", ERROR,
                "resources.requests." + " and resources.requests.".join(missing) + " not set", ref.where,
                "set resources.requests.cpu and resources.requests.memory for this container",
            )


def network_policy(target: Target, ctx: Context) -> Iterator[Finding]:
    """Some NetworkPolicy of the release selects the pods."""
    labels = target.labels or {}
    if not any(selects(selector, labels) for selector in ctx.policy_selectors):
        yield Finding(
            "safeguard-network-policy", WARNING, "no NetworkPolicy of the release selects its pods",
            "pod labels", "add a NetworkPolicy whose podSelector matches these pods "
            "(the jhub-ck8s post-renderer adds a deny-ingress policy)",
        )


def localhost_seccomp(target: Target, ctx: Context) -> Iterator[Finding]:
    """No ``seccompProfile.type: Localhost`` on the pod or any container."""
    assert target.spec is not None
    fix = "use seccompProfile.type: RuntimeDefault"
    if _mapping(_mapping(target.spec.get("securityContext")).get("seccompProfile")).get("type") == "Localhost":
        yield Finding("safeguard-localhost-seccomp", ERROR, "seccompProfile.type is Localhost", "pod", fix)
    for ref in containers(dict(target.spec)):
        profile = _mapping(_mapping(ref.container.get("securityContext")).get("seccompProfile"))
        if profile.get("type") == "Localhost":
            yield Finding("safeguard-localhost-seccomp", ERROR, "seccompProfile.type is Localhost", ref.where, fix)


def minimum_replicas(target: Target, ctx: Context) -> Iterator[Finding]:
    """A Deployment or StatefulSet with ``replicas < 2`` carries the ignore annotation."""
    count = replicas(target.obj)
    annotations = _mapping(target.metadata.get("annotations"))
    if count is not None and count < 2 and MINIMUM_REPLICAS_ANNOTATION not in annotations:
        yield Finding(
            "safeguard-minimum-replicas", WARNING, f"replicas {count} < 2 without the annotation "
            f"{MINIMUM_REPLICAS_ANNOTATION}", "metadata.annotations",
            f'annotate it {MINIMUM_REPLICAS_ANNOTATION}: "true" if one replica is intended '
            "(the jhub-ck8s post-renderer does), or run 2 replicas",
        )


def load_balancer(target: Target, ctx: Context) -> Iterator[Finding]:
    """No Service of type LoadBalancer."""
    if _mapping(target.obj.get("spec")).get("type") == "LoadBalancer":
        yield Finding(
            "safeguard-load-balancer", ERROR, "Service type LoadBalancer is rejected", "spec.type",
            "set spec.type: ClusterIP and expose it through an Ingress (z2jh: proxy.service.type: ClusterIP "
            "and ingress.enabled: true)",
        )


def disruption_budget(target: Target, ctx: Context) -> Iterator[Finding]:
    """No PodDisruptionBudget that blocks every eviction: ``maxUnavailable`` 0 / "0%", or
    ``minAvailable`` (percentages rounded up) at least the replicas of a workload it selects.
    """
    spec = _mapping(target.obj.get("spec"))
    selector = spec.get("selector")
    selected = [(w.label, w.replicas) for w in ctx.workloads if w.replicas is not None and selects(selector, w.labels)]
    blocking = blocking_pdb(spec, selected)
    if blocking is not None:
        yield Finding(
            "safeguard-pdb", ERROR, blocking.reason, blocking.field,
            "remove this PodDisruptionBudget (the jhub-ck8s post-renderer does), or let at least one pod be evicted",
        )


def _cluster_scoped_fix(target: Target) -> str:
    labels = _mapping(target.metadata.get("labels"))
    if target.kind in ("ClusterRole", "ClusterRoleBinding") and labels.get("component") == "user-scheduler":
        value = "scheduling.userScheduler.enabled: false"
    elif target.kind == "PriorityClass":
        value = "scheduling.podPriority.enabled: false"
    else:
        return "ask the platform administrators to create it, and leave it out of the release"
    return f"set {value} (or have the platform administrators create it and drop it: clusterScoped: drop)"


def cluster_scoped(target: Target, ctx: Context) -> Iterator[Finding]:
    """Tenants are namespace admins: no cluster-scoped objects."""
    yield Finding(
        "tenant-cluster-scoped", ERROR,
        f"{target.kind} is cluster-scoped; a namespace admin cannot create it", "", _cluster_scoped_fix(target),
    )


def _has_pods(target: Target) -> bool:
    return target.spec is not None and target.kind in POD_KINDS


# ------------------------------------------------------------------------- registry

_SAFEGUARDS: tuple[Safeguard, ...] = (
    Safeguard("safeguard-trusted-registry", WARNING, "trusted registry",
              lambda t: t.spec is not None and t.kind in POD_KINDS, trusted_registry),
    Safeguard("safeguard-disallowed-tags", ERROR, "disallowed tags", lambda t: t.spec is not None, disallowed_tags),
    Safeguard("safeguard-resource-requests", ERROR, "resource requests", _has_pods, resource_requests),
    Safeguard("safeguard-network-policy", WARNING, "NetworkPolicy coverage", _has_pods, network_policy),
    Safeguard("safeguard-localhost-seccomp", ERROR, "Localhost seccomp", lambda t: t.spec is not None,
              localhost_seccomp),
    Safeguard("safeguard-minimum-replicas", WARNING, "minimum replicas",
              lambda t: t.kind in ("Deployment", "StatefulSet"), minimum_replicas),
    Safeguard("safeguard-load-balancer", ERROR, "no LoadBalancer", lambda t: t.kind == "Service", load_balancer),
    Safeguard("safeguard-pdb", ERROR, "eviction-blocking PodDisruptionBudget",
              lambda t: t.kind == "PodDisruptionBudget", disruption_budget),
    Safeguard("tenant-cluster-scoped", ERROR, "tenant RBAC: cluster-scoped objects",
              lambda t: t.kind in CLUSTER_SCOPED_KINDS, cluster_scoped),
)

SAFEGUARDS: dict[str, Safeguard] = {rule.id: rule for rule in _SAFEGUARDS}
TRUSTED_REGISTRY = "safeguard-trusted-registry"


def get(rule_id: str) -> Safeguard:
    """The safeguard with this id; KeyError naming the known ids if there is none."""
    try:
        return SAFEGUARDS[rule_id]
    except KeyError:
        raise KeyError(f"unknown safeguard {rule_id!r} (known: {', '.join(SAFEGUARDS)})") from None


def evaluate(target: Target, ctx: Context) -> Iterator[tuple[Safeguard, Finding | None, str]]:
    """Every safeguard that applies to ``target``: ``(rule, finding, "")`` per finding,
    ``(rule, None, "")`` when it passed, ``(rule, None, reason)`` when it was not evaluated.
    """
    for rule in _SAFEGUARDS:
        if not rule.applies(target):
            continue
        if rule.id == TRUSTED_REGISTRY and ctx.trusted is None:
            yield rule, None, "no trusted registry known: pass --registry HOST/PROJECT"
            continue
        found = False
        for finding in rule.check(target, ctx):
            found = True
            yield rule, finding, ""
        if not found:
            yield rule, None, ""
