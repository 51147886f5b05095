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

``defaults_for`` and ``fill_container_resources`` are public: the hub runtime
transform uses them for the containers KubeSpawner creates.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from jhub_ck8s.podspec import containers, pod_metadata, pod_spec
from jhub_ck8s.quantity import try_parse
from jhub_ck8s.report import CHANGE, ERROR, Finding
from jhub_ck8s.settings import ResourceList, Resources

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


def defaults_for(settings: Settings, kind: str, name: str, container: str) -> Resources:
    """The defaults for one container: ``resources`` plus every matching override, in order."""
    result = settings.resources
    for override in settings.resource_overrides:
        if (
            fnmatchcase(kind, override.kind)
            and fnmatchcase(name, override.name)
            and fnmatchcase(container, override.container)
        ):
            result = _merge(result, override.resources)
    return result


def _merge(base: Resources, over: Resources) -> Resources:
    def merge_list(a: ResourceList, b: ResourceList) -> ResourceList:
        return replace(a, **{n: getattr(b, n) for n in _NAMES if getattr(b, n) is not None})

    return Resources(merge_list(base.requests, over.requests), merge_list(base.limits, over.limits))


def _section(resources: dict[str, Any], part: str) -> dict[str, Any]:
    if not isinstance(resources.get(part), dict):
        resources[part] = {}
    return resources[part]


def fill_container_resources(container: dict[str, Any], defaults: Resources) -> list[str]:
    """Fill missing requests/limits of one container in place; one description per field filled.

    Explicit values are never changed. A default that would make a request exceed its
    limit is clamped (request down to an explicit limit, or limit up to the request)
    and the description says so. Values that cannot be parsed are not compared.
    Each description reads ``<requests|limits>.<cpu|memory>=<value>``, optionally followed
    by `` (<why it was clamped>)``; callers may split it on the first ``=``.
    """
    current = container.get("resources")
    if current is not None and not isinstance(current, dict):
        return []  # not a mapping: problems() reports it; never overwrite it
    resources: dict[str, Any] = current if current is not None else {}
    # A section that is there but not a mapping is reported by problems(), never replaced.
    fillable = {part: resources.get(part) is None or isinstance(resources[part], dict)
                for part in ("requests", "limits")}
    requests = resources.get("requests") if isinstance(resources.get("requests"), dict) else {}
    limits = resources.get("limits") if isinstance(resources.get("limits"), dict) else {}
    done: list[str] = []
    for name in _NAMES:
        request, limit = requests.get(name), limits.get(name)
        default_request = getattr(defaults.requests, name)
        default_limit = getattr(defaults.limits, name)
        new_request = new_limit = None
        if request is None and default_request is not None and fillable["requests"]:
            new_request = default_request
            note = ""
            bound = try_parse(limit)
            wanted = try_parse(default_request)
            if limit is not None and bound is not None and wanted is not None and wanted > bound:
                new_request = limit
                note = f" (default {default_request} lowered to the limit)"
            done.append(f"requests.{name}={new_request}{note}")
        if limit is None and default_limit is not None and fillable["limits"]:
            new_limit = default_limit
            note = ""
            floor = try_parse(request if request is not None else new_request)
            wanted = try_parse(default_limit)
            if floor is not None and wanted is not None and wanted < floor:
                new_limit = request if request is not None else new_request
                note = f" (default {default_limit} raised to the request)"
            done.append(f"limits.{name}={new_limit}{note}")
        if new_request is not None:
            _section(resources, "requests")[name] = new_request
        if new_limit is not None:
            _section(resources, "limits")[name] = new_limit
    if done and current is None:
        container["resources"] = resources
    return done


@dataclass(frozen=True)
class Problem:
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
