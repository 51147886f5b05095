"""Cluster-scoped objects: a tenant cannot create them, so name the value that turns them off.

Application developers on the platform are namespace admins only: ClusterRole,
ClusterRoleBinding, PriorityClass, CRDs, webhooks, namespaces (``jhub_ck8s.platform.CLUSTER_SCOPED_KINDS``)
are rejected. z2jh 4.4.0 renders the user-scheduler's ClusterRole and
ClusterRoleBinding (``scheduling.userScheduler.enabled``, on by default) and up to
three PriorityClasses (``scheduling.podPriority.enabled``: default-priority,
user-placeholder, and image-puller when a pre-puller is on). Guarantees:

* ``clusterScoped: error`` (the default): each such object is an error (rule
  ``cluster-scoped``) whose fix names the chart value that removes it, found from
  its ``# Source`` template or, failing that, its ``component`` label;
* ``clusterScoped: drop`` (the platform administrators provide what is needed):
  each such object is removed; every ``priorityClassName`` naming a removed
  PriorityClass is removed from the pod specs (the API server rejects a pod whose
  class does not exist), and when the chart's default-priority class is removed the
  hub's runtime config gets ``scheduling.podPriority.enabled: false`` so the user pods
  KubeSpawner creates do not name it either. Removing the user-scheduler's RBAC is
  reported with a warning (rule ``cluster-scoped-user-scheduler``): that scheduler
  cannot work without it unless an administrator created it.

Before (``clusterScoped: drop``)::

    kind: PriorityClass
    metadata: {name: jhub-default-priority}
    ---
    kind: Deployment
    spec: {template: {spec: {priorityClassName: jhub-default-priority, ...}}}

After::

    kind: Deployment
    spec: {template: {spec: {...}}}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from jhub_ck8s.platform import CLUSTER_SCOPED_KINDS
from jhub_ck8s.podspec import pod_spec
from jhub_ck8s.report import CHANGE, ERROR, WARNING, Finding

if TYPE_CHECKING:
    from jhub_ck8s.documents import Document
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "cluster-scoped"
RULE = "cluster-scoped"
RULE_USER_SCHEDULER = "cluster-scoped-user-scheduler"

_USER_SCHEDULER = "scheduling.userScheduler.enabled: false"
_POD_PRIORITY = "scheduling.podPriority.enabled: false"
# z2jh 4.4.0 template (path inside the chart) -> the value that removes what it renders.
_BY_TEMPLATE = {
    "templates/scheduling/user-scheduler/rbac.yaml": _USER_SCHEDULER,
    "templates/scheduling/priorityclass.yaml": _POD_PRIORITY,
    "templates/scheduling/user-placeholder/priorityclass.yaml": _POD_PRIORITY,
    # rendered when podPriority is on and a pre-puller (hook or continuous) is on
    "templates/image-puller/priorityclass.yaml": _POD_PRIORITY,
}
# Without a Source (plain `helm template` piped through other tools): (kind, component label).
_BY_COMPONENT = {
    ("ClusterRole", "user-scheduler"): _USER_SCHEDULER,
    ("ClusterRoleBinding", "user-scheduler"): _USER_SCHEDULER,
    ("PriorityClass", "default-priority"): _POD_PRIORITY,
    ("PriorityClass", "user-placeholder"): _POD_PRIORITY,
    ("PriorityClass", "image-puller"): _POD_PRIORITY,
}
_DEFAULT_PRIORITY_TEMPLATE = "templates/scheduling/priorityclass.yaml"


def _component(doc: Document) -> str:
    labels = (doc.obj.get("metadata") or {}).get("labels")
    return str(labels.get("component", "")) if isinstance(labels, dict) else ""


def _template(doc: Document) -> str:
    """The chart-relative template path (``templates/...``) of the Source, or ''."""
    source = doc.source or ""
    index = source.find("templates/")
    return source[index:] if index >= 0 else ""


def chart_value(doc: Document) -> str:
    """The z2jh value that stops the chart rendering this object, or '' if unknown."""
    return _BY_TEMPLATE.get(_template(doc)) or _BY_COMPONENT.get((doc.kind, _component(doc)), "")


def _is_default_priority(doc: Document) -> bool:
    if doc.kind != "PriorityClass":
        return False
    template = _template(doc)
    if template:
        return template == _DEFAULT_PRIORITY_TEMPLATE
    return _component(doc) == "default-priority"


def _report(doc: Document) -> Finding:
    value = chart_value(doc)
    fix = f"set {value}" if value else "remove it from the chart values or templates"
    return Finding(
        ID,
        ERROR,
        f"{doc.kind} is cluster-scoped; a tenant with namespaced admin cannot create it",
        doc,
        fix=f"{fix}, or set clusterScoped: drop if the platform administrators provide it",
        rule=RULE,
    )


def _drop(stream: Stream, dropped: list[Document]) -> Iterator[Finding]:
    for doc in dropped:
        doc.removed = True
        value = chart_value(doc)
        hint = f"; {value} stops the chart rendering it" if value else ""
        yield Finding(ID, CHANGE, f"removed (cluster-scoped, clusterScoped: drop){hint}", doc)
    classes = {doc.name for doc in dropped if doc.kind == "PriorityClass"}
    for doc in stream.live():
        spec = pod_spec(doc.obj)
        if spec is not None and spec.get("priorityClassName") in classes:
            name = spec.pop("priorityClassName")
            yield Finding(
                ID, CHANGE, f"removed priorityClassName {name}: that PriorityClass is dropped", doc,
                "pod spec",
            )
    yield from _runtime(stream, dropped)


def _runtime(stream: Stream, dropped: list[Document]) -> Iterator[Finding]:
    """Keep the user pods KubeSpawner creates from naming what was dropped."""
    hub = stream.hub()
    default_priority = any(_is_default_priority(doc) for doc in dropped)
    if hub is not None and default_priority and hub.get("scheduling.podPriority.enabled"):
        hub.ensure("scheduling.podPriority")["enabled"] = False
        yield Finding(
            ID,
            CHANGE,
            "user pods would name the dropped default-priority PriorityClass: turned pod "
            "priority off in the hub's runtime config",
            hub.document,
            "values.yaml: scheduling.podPriority.enabled",
            hub_key="scheduling.podPriority.enabled",
        )
    rbac = [doc for doc in dropped if chart_value(doc) == _USER_SCHEDULER]
    if rbac and (hub is None or hub.get("scheduling.userScheduler.enabled", True)):
        yield Finding(
            ID,
            WARNING,
            "dropped the user-scheduler's " + " and ".join(doc.label for doc in rbac) + "; the "
            "user-scheduler (which schedules the user pods) cannot work without them unless the "
            "platform administrators created them",
            rbac[0],
            fix=f"set {_USER_SCHEDULER}",
            rule=RULE_USER_SCHEDULER,
        )


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    found = [doc for doc in stream.live() if doc.kind in CLUSTER_SCOPED_KINDS]
    if not found:
        return
    if settings.cluster_scoped == "drop":
        yield from _drop(stream, found)
    else:
        yield from (_report(doc) for doc in found)
