"""Give every container cpu and memory requests and limits, filling only what is missing.

The platform rejects a container without ``requests.cpu`` and ``requests.memory``,
and z2jh 4.4.0 renders every ``resources`` empty. Guarantees:

* every container and init container of every pod spec (hooks included) has
  ``requests`` and ``limits`` for ``cpu`` and ``memory`` (ephemeral containers are
  left alone: the API forbids resources there);
* an explicit value is never changed; missing ones come from ``resources`` in the
  settings, overridden by every matching ``resourceOverrides`` entry (globs on kind,
  workload name and container name; later entries win);
* a filled value never makes an invalid pair: a default request above an explicit
  limit is lowered to that limit, a default limit below an explicit (or default)
  request is raised to it, and the finding says so;
* an explicit request above its explicit limit is an error (rule
  ``resources-request-above-limit``), an explicit value that is not a quantity too
  (rule ``resources-invalid-quantity``); neither is changed.

Before (defaults: requests 10m/512Mi, limits 1/1Gi)::

    containers: [{name: pause, resources: {requests: {memory: 2G}}}]

After (the default memory limit 1Gi is below the explicit 2G request, so it is raised)::

    containers:
    - name: pause
      resources:
        requests: {memory: 2G, cpu: 10m}
        limits: {cpu: "1", memory: 2G}

How a default is chosen and filled lives in ``jhub_ck8s.resource_defaults``, which
the ``user-pods`` transform uses too for the containers KubeSpawner creates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from jhub_ck8s.podspec import containers, pod_metadata, pod_spec
from jhub_ck8s.quantity import try_parse
from jhub_ck8s.report import CHANGE, ERROR, Finding
from jhub_ck8s.resource_defaults import defaults_for, fill_container_resources

if TYPE_CHECKING:
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "resources"
RULE_ABOVE_LIMIT = "resources-request-above-limit"
RULE_INVALID = "resources-invalid-quantity"

_NAMES = ("cpu", "memory")
# The API forbids resources on ephemeral containers, so they are not listed here.
_FIELDS = ("initContainers", "containers")

# z2jh 4.4.0: (pod label `component`, container name) -> the chart value for its resources.
# "*" matches any container of that component.
_CHART_VALUES: dict[tuple[str, str], str] = {
    ("hub", "hub"): "hub.resources",
    ("hub", "*"): "hub.extraContainers / hub.initContainers",
    ("proxy", "chp"): "proxy.chp.resources",
    ("autohttps", "traefik"): "proxy.traefik.resources",
    ("autohttps", "secret-sync"): "proxy.secretSync.resources",
    ("user-scheduler", "kube-scheduler"): "scheduling.userScheduler.resources",
    ("user-placeholder", "pause"): "scheduling.userPlaceholder.resources or singleuser.cpu/memory",
    ("continuous-image-puller", "*"): "prePuller.resources",
    ("hook-image-puller", "*"): "prePuller.resources",
    ("image-puller", "*"): "prePuller.hook.resources",
}


class Problem(NamedTuple):
    """An explicit resources value the platform would reject; never changed by this module."""

    rule: str
    message: str


def problems(container: dict[str, Any]) -> list[Problem]:
    """Explicit values that are not quantities, and explicit requests above explicit limits."""
    resources = container.get("resources")
    if resources is None:
        return []
    if not isinstance(resources, dict):
        return [Problem(RULE_INVALID, "resources is not a mapping")]
    found: list[Problem] = []
    parsed: dict[tuple[str, str], Any] = {}
    for part in ("requests", "limits"):
        section = resources.get(part)
        if section is None:
            continue
        if not isinstance(section, dict):
            found.append(Problem(RULE_INVALID, f"resources.{part} is not a mapping"))
            continue
        for name, value in section.items():
            number = try_parse(value)
            if number is None or number < 0:
                message = f"{part}.{name} {value!r} is not a valid quantity"
                found.append(Problem(RULE_INVALID, message))
            else:
                parsed[(part, str(name))] = number
    for name in sorted({n for _, n in parsed}):
        request, limit = parsed.get(("requests", name)), parsed.get(("limits", name))
        if request is not None and limit is not None and request > limit:
            found.append(
                Problem(
                    RULE_ABOVE_LIMIT,
                    f"requests.{name} {resources['requests'][name]} is above limits.{name} "
                    f"{resources['limits'][name]}; the API server rejects the pod",
                )
            )
    return found


def _chart_value(component: str, container: str) -> str:
    return _CHART_VALUES.get((component, container)) or _CHART_VALUES.get((component, "*"), "")


def _fix(rule: str, component: str, container: str) -> str:
    value = _chart_value(component, container)
    where = value or "the chart value that sets this container's resources"
    if rule == RULE_ABOVE_LIMIT:
        return f"set {where} so that each request is at most its limit"
    return f"set {where} to valid quantities (such as 500m, 1, 512Mi, 1Gi)"


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    for doc in stream.live():
        spec = pod_spec(doc.obj)
        if spec is None:
            continue
        labels = (pod_metadata(doc.obj) or {}).get("labels")
        component = str(labels.get("component", "")) if isinstance(labels, dict) else ""
        for ref in containers(spec, _FIELDS):
            for problem in problems(ref.container):
                yield Finding.on_container(
                    ID, ERROR, problem.message, doc, ref,
                    fix=_fix(problem.rule, component, ref.name), rule=problem.rule,
                )
            defaults = defaults_for(settings, doc.kind, doc.name, ref.name)
            filled = fill_container_resources(ref.container, defaults)
            if filled:
                yield Finding.on_container(ID, CHANGE, "set " + ", ".join(filled), doc, ref)
