"""Where pod specs and containers live in each kind: the one table every transform asks.

Like kustomize's field specs, *where* a field lives is kept apart from *what* a
transform does to it. Adding a pod-bearing kind is one line in ``POD_SPEC_PATHS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

# kind -> path from the object to its PodSpec
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
WORKLOAD_KINDS = frozenset(POD_SPEC_PATHS)

# container list field -> the word used for it in messages
CONTAINER_LISTS: dict[str, str] = {
    "initContainers": "init container",
    "containers": "container",
    "ephemeralContainers": "ephemeral container",
}


def _walk(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The PodSpec of a pod-bearing object, or None for other kinds (or a missing spec)."""
    path = POD_SPEC_PATHS.get(str(obj.get("kind")))
    spec = _walk(obj, path) if path else None
    return spec if isinstance(spec, dict) else None


def pod_metadata(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The metadata of the pods an object creates (the Pod's own for a Pod)."""
    path = POD_SPEC_PATHS.get(str(obj.get("kind")))
    if not path:
        return None
    meta = _walk(obj, (*path[:-1], "metadata"))
    return meta if isinstance(meta, dict) else None


class ContainerRef(NamedTuple):
    """One container of a pod spec, and how to name it in messages."""

    field: str  # "containers", "initContainers" or "ephemeralContainers"
    position: int  # in its list (not `index`: a tuple already has that method)
    container: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.container.get("name", f"#{self.position}"))

    @property
    def where(self) -> str:
        """``container hub`` / ``init container load-acme``."""
        return f"{CONTAINER_LISTS[self.field]} {self.name}"

    @property
    def is_main(self) -> bool:
        return self.field == "containers"


def containers(spec: dict[str, Any], fields: tuple[str, ...] = tuple(CONTAINER_LISTS)) -> Iterator[ContainerRef]:
    """Every container of a pod spec, init containers first (the order the kubelet runs them)."""
    for field_name in fields:
        items = spec.get(field_name)
        if isinstance(items, list):
            for index, container in enumerate(items):
                if isinstance(container, dict):
                    yield ContainerRef(field_name, index, container)


def selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    """True when a LabelSelector (matchLabels + matchExpressions) selects these labels.

    An empty selector selects everything; a missing (None) or malformed one nothing.
    """
    if not isinstance(selector, Mapping):
        return False
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, Mapping) or not isinstance(expressions, list):
        return False
    if any(k not in labels or str(labels[k]) != str(v) for k, v in match_labels.items()):
        return False
    for expression in expressions:
        if not isinstance(expression, Mapping):
            return False
        key, operator = str(expression.get("key")), expression.get("operator")
        values = {str(v) for v in expression.get("values") or []}
        present = key in labels
        if operator == "In":
            ok = present and str(labels[key]) in values
        elif operator == "NotIn":
            ok = not present or str(labels[key]) not in values
        elif operator == "Exists":
            ok = present
        elif operator == "DoesNotExist":
            ok = not present
        else:
            return False
        if not ok:
            return False
    return True


def pod_labels(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The labels of the pods a workload creates, or None for kinds that create no pods."""
    if obj.get("kind") not in WORKLOAD_KINDS or obj.get("kind") == "PodTemplate":
        return None
    labels = (pod_metadata(obj) or {}).get("labels")
    return dict(labels) if isinstance(labels, Mapping) else {}


def selector_key(selector: Any) -> Any:
    """A hashable form of a selector (or any JSON-like value), equal for equal selectors."""
    if isinstance(selector, Mapping):
        return ("{", tuple(sorted((str(k), selector_key(v)) for k, v in selector.items())))
    if isinstance(selector, list | tuple):
        return ("[", tuple(selector_key(v) for v in selector))
    return selector if selector is None or isinstance(selector, str | int | float | bool) else repr(selector)


class LabelIndex:
    """Items with labels, indexed by label pair, so selecting from a large stream is not
    a scan of every item for every selector (PDBs, NetworkPolicies, Services of many
    releases at once). ``matching`` gives exactly what ``selects`` would, in item order.

    Results are kept per distinct selector: many copies of a release share a handful
    of selectors, and each is evaluated once (linear, not quadratic, in the copies).
    """

    def __init__(self, items: Sequence[tuple[Any, Mapping[str, Any]]]) -> None:
        self.items = items
        self._by_pair: dict[tuple[str, str], list[int]] = {}
        self._results: dict[Any, list[int]] = {}
        for position, (_, labels) in enumerate(items):
            for key, value in labels.items():
                self._by_pair.setdefault((key, str(value)), []).append(position)

    def selected_by_any(self, selectors: Iterable[Any]) -> set[int]:
        """Positions selected by at least one of ``selectors`` (each distinct one evaluated once)."""
        distinct = {selector_key(selector): selector for selector in selectors}
        found: set[int] = set()
        for selector in distinct.values():
            found.update(self.positions(selector))
        return found

    def positions(self, selector: Any) -> list[int]:
        """Positions of the items ``selector`` selects, ascending."""
        if not isinstance(selector, Mapping):
            return []
        key = selector_key(selector)
        known = self._results.get(key)
        if known is None:
            known = self._results[key] = self._evaluate(selector)
        return known

    def _evaluate(self, selector: Mapping[str, Any]) -> list[int]:
        match_labels = selector.get("matchLabels")
        if isinstance(match_labels, Mapping) and match_labels:
            buckets = [self._by_pair.get((str(k), str(v)), []) for k, v in match_labels.items()]
            smallest = min(buckets, key=len)
            others = [set(b) for b in buckets if b is not smallest]
            candidates: Iterator[int] | range | list[int] = [
                p for p in smallest if all(p in other for other in others)
            ]
        else:
            candidates = range(len(self.items))
        return [p for p in candidates if selects(selector, self.items[p][1])]

    def matching(self, selector: Any) -> list[Any]:
        return [self.items[p][0] for p in self.positions(selector)]
