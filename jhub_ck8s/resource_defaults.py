"""Resource defaults for one container: which apply, and filling only what is missing.

Shared by the ``resources`` transform (the containers of rendered pod specs) and the
``user-pods`` transform (the containers KubeSpawner creates from the hub config), so
both fill the same values the same way. Guarantees:

* ``defaults_for``: the ``resources`` setting, then every matching ``resourceOverrides``
  entry in order (globs on kind, workload name and container name; later ones win);
* ``fill_container_resources``: explicit values are never changed; a filled value never
  makes a request exceed its limit (a default request above an explicit limit is
  lowered to it, a default limit below the request raised to it), and it says so.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from .quantity import try_parse
from .settings import ResourceList, Resources

if TYPE_CHECKING:
    from .settings import Settings

_NAMES = ("cpu", "memory")


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
        return a._replace(**{n: getattr(b, n) for n in _NAMES if getattr(b, n) is not None})

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
    requests: dict[str, Any] = resources["requests"] if isinstance(resources.get("requests"), dict) else {}
    limits: dict[str, Any] = resources["limits"] if isinstance(resources.get("limits"), dict) else {}
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
