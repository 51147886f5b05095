"""The one settings object, and how it is read from flags, a file and the stream.

Sources, strongest first: command-line flags > ``--config`` file > the settings
document inside the rendered stream (the wrapper chart renders it from ``ck8s:``)
> defaults. Each source names only the keys it sets; a stronger source replaces a
key as a whole, except ``registryMap``, whose entries are merged source by source.

File and in-stream document share one format (camelCase, like Helm values)::

    apiVersion: jhub-ck8s.io/v1alpha1   # only in the stream; see SETTINGS_API_VERSION
    kind: PostRenderSettings
    registry: harbor.example.com/jupyterhub
    registryMap: {docker.io: harbor.example.com/dockerhub-proxy}
    keepImages: ["registry.internal.example/*"]
    pullSecret: pull-secret
    mode: enforce            # or warn
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from . import API_VERSION
from .errors import SettingsError, shape_of

if TYPE_CHECKING:
    from .documents import Document
    from .imageref import Relocator

SETTINGS_API_VERSION = API_VERSION  # see jhub_ck8s.API_VERSION
SETTINGS_KIND = "PostRenderSettings"

MODES = ("enforce", "warn")
LOAD_BALANCER_ACTIONS = ("clusterip", "error")
CLUSTER_SCOPED_ACTIONS = ("error", "drop")
# Compiled on first use (re caches it): most runs never name a pull secret.
_DNS1123 = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z"


class ResourceList(NamedTuple):
    cpu: str | None = None
    memory: str | None = None


class Resources(NamedTuple):
    requests: ResourceList = ResourceList()
    limits: ResourceList = ResourceList()


class ResourceOverride(NamedTuple):
    """Resource defaults for matching containers; globs, all given fields must match."""

    kind: str = "*"
    name: str = "*"
    container: str = "*"
    resources: Resources = Resources()


class AllowRule(NamedTuple):
    """An explicit violation accepted on purpose; globs, all given fields must match."""

    kind: str = "*"
    name: str = "*"
    container: str = "*"
    rule: str = "*"


class PatchTarget(NamedTuple):
    kind: str = "*"
    name: str = "*"


class Patch(NamedTuple):
    """An RFC 6902 JSON patch applied to every object that matches ``target``."""

    target: PatchTarget
    operations: tuple[Mapping[str, Any], ...]
    name: str = ""


DEFAULT_RESOURCES = Resources(requests=ResourceList(cpu="10m", memory="512Mi"), limits=ResourceList(cpu="1", memory="1Gi"))


class UserResources(NamedTuple):
    """Defaults for singleuser.cpu / singleuser.memory in the hub's runtime config."""

    cpu_guarantee: float | None = 0.1
    cpu_limit: float | None = 1.0
    memory_guarantee: str | None = "1G"
    memory_limit: str | None = "2G"


class Settings(NamedTuple):
    """Everything a post-render run can be told. Immutable; build with ``merge``.

    The value types here are NamedTuples, not dataclasses: the post-renderer starts on
    every helm call, and each dataclass costs about a millisecond to build at import
    (plus the import of ``dataclasses`` and ``inspect``); a NamedTuple a tenth of that.
    """

    registry: str | None = None
    registry_map: tuple[tuple[str, str], ...] = ()
    keep_images: tuple[str, ...] = ()
    pull_secret: str | None = None
    mode: str = "enforce"
    disable: tuple[str, ...] = ()
    allow: tuple[AllowRule, ...] = ()
    resources: Resources = DEFAULT_RESOURCES
    resource_overrides: tuple[ResourceOverride, ...] = ()
    user_resources: UserResources = UserResources()
    load_balancer: str = "clusterip"
    cluster_scoped: str = "error"
    minimum_replicas_annotation: bool = True
    network_policy: bool = True
    patches: tuple[Patch, ...] = ()
    report: str | None = None
    pin: str | None = None  # path of an image lock file: pin every image to its mirrored digest
    gitops: bool = False  # stable renders: the hub's tokens from hub.existingSecret (transforms/gitops.py)

    @property
    def enforce(self) -> bool:
        return self.mode == "enforce"

    def relocator(self) -> Relocator:
        from .imageref import Relocator

        return Relocator(self.registry, self.registry_map, self.keep_images)


# --- reading raw (YAML/flag) values -------------------------------------------------------


def _bad(key: str, reason: str) -> SettingsError:
    """A setting's value is wrong; the message names the setting, the error carries both parts."""
    return SettingsError(f"setting {key!r}: {reason}", key=key, reason=reason)


def _fail(key: str, expected: str, value: Any) -> SettingsError:
    shown = type(value).__name__ if isinstance(value, Mapping | list) else repr(value)
    return _bad(key, f"expected {expected}, got {shown}")


def _str(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(key, "a non-empty string", value)
    return value


def _enum(allowed: tuple[str, ...]) -> Callable[[str, Any], str]:
    def read(key: str, value: Any) -> str:
        if value not in allowed:
            raise _fail(key, "one of " + ", ".join(allowed), value)
        return value

    return read


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise _fail(key, "true or false", value)
    return value


def _str_list(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _fail(key, "a list of strings", value)
    return tuple(_str(f"{key}[{i}]", item) for i, item in enumerate(value))


def _mapping(key: str, value: Any, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(key, "a mapping", value)
    for name in value:
        if name not in allowed:
            raise SettingsError(
                f"setting {key}.{name}: unknown key (allowed: {', '.join(allowed)})"
                if key
                else f"unknown setting {name!r} (allowed: {', '.join(allowed)})"
            )
    return value


def _registry(key: str, value: Any) -> str:
    from .imageref import ImageRefError, split_registry_path

    text = _str(key, value).rstrip("/")
    try:
        split_registry_path(text)
    except ImageRefError as exc:
        raise _bad(key, f"{exc}; expected host[:port]/project") from None
    return text


def _registry_map(key: str, value: Any) -> tuple[tuple[str, str], ...]:
    from .imageref import host_key

    if not isinstance(value, Mapping):
        raise _fail(key, "a mapping of source registry to destination prefix", value)
    pairs = []
    for source, dest in value.items():
        source = host_key(_str(f"{key} key", source))
        if "/" in source:
            raise SettingsError(
                f"setting {key}.{source}: the source must be a registry host such as docker.io or quay.io"
            )
        pairs.append((source, _registry(f"{key}.{source}", dest)))
    return tuple(sorted(pairs))


def _dns_name(key: str, value: Any) -> str:
    text = _str(key, value)
    if len(text) > 253 or not re.match(_DNS1123, text):
        raise _fail(key, "a Kubernetes object name (lower-case letters, digits, - and .)", text)
    return text


def _quantity(key: str, value: Any) -> str:
    from .quantity import QuantityError, QuantityRangeError, parse

    expected = "a Kubernetes quantity such as 500m, 1, 512Mi or 1Gi"
    try:
        number = parse(value)
    except QuantityRangeError:
        raise _bad(key, f"{str(value)[:40]!r} is out of range; expected {expected}") from None
    except QuantityError:
        raise _fail(key, expected, value) from None
    if number < 0:
        raise _fail(key, expected + " (not negative)", value)
    return repr(value) if isinstance(value, float) else str(value)


def _number(key: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _fail(key, "a non-negative number of CPUs or null", value)
    return float(value)


def _resource_list(key: str, value: Any) -> ResourceList:
    raw = _mapping(key, value, ("cpu", "memory"))
    return ResourceList(
        **{name: _quantity(f"{key}.{name}", raw[name]) for name in ("cpu", "memory") if name in raw}
    )


def _resources(key: str, value: Any, base: Resources | None = None) -> Resources:
    base = base or Resources()
    raw = _mapping(key, value, ("requests", "limits"))
    result = base
    for part in ("requests", "limits"):
        if part in raw:
            given = _resource_list(f"{key}.{part}", raw[part])
            merged = getattr(base, part)._replace(
                **{name: getattr(given, name) for name in given._fields if getattr(given, name)},
            )
            result = result._replace(**{part: merged})
    return result


def _globs(key: str, raw: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    return {name: _str(f"{key}.{name}", raw[name]) for name in names if name in raw}


def _resource_overrides(key: str, value: Any) -> tuple[ResourceOverride, ...]:
    if not isinstance(value, list):
        raise _fail(key, "a list of {kind, name, container, requests, limits}", value)
    result = []
    for i, item in enumerate(value):
        k = f"{key}[{i}]"
        raw = _mapping(k, item, ("kind", "name", "container", "requests", "limits"))
        res = _resources(k, {p: raw[p] for p in ("requests", "limits") if p in raw})
        result.append(ResourceOverride(**_globs(k, raw, ("kind", "name", "container")), resources=res))
    return tuple(result)


def _allow(key: str, value: Any) -> tuple[AllowRule, ...]:
    if not isinstance(value, list):
        raise _fail(key, "a list of {kind, name, container, rule}", value)
    names = ("kind", "name", "container", "rule")
    return tuple(
        AllowRule(**_globs(f"{key}[{i}]", _mapping(f"{key}[{i}]", item, names), names))
        for i, item in enumerate(value)
    )


def _patches(key: str, value: Any) -> tuple[Patch, ...]:
    if not isinstance(value, list):
        raise _fail(key, "a list of {target: {kind, name}, patch: [operations]}", value)
    result = []
    for i, item in enumerate(value):
        k = f"{key}[{i}]"
        raw = _mapping(k, item, ("name", "target", "patch"))
        if "target" not in raw or "patch" not in raw:
            raise SettingsError(f"setting {k}: needs both 'target' and 'patch'")
        target = _mapping(f"{k}.target", raw["target"], ("kind", "name"))
        ops = raw["patch"]
        if not isinstance(ops, list) or not ops or not all(isinstance(o, Mapping) for o in ops):
            raise _fail(f"{k}.patch", "a non-empty list of RFC 6902 operations", ops)
        for j, op in enumerate(ops):
            _patch_operation(f"{k}.patch[{j}]", op)
        name = _str(f"{k}.name", raw["name"]) if "name" in raw else f"patches[{i}]"
        result.append(
            Patch(PatchTarget(**_globs(f"{k}.target", target, ("kind", "name"))), tuple(ops), name)
        )
    return tuple(result)


_PATCH_OPS = ("add", "remove", "replace", "move", "copy", "test")


def _pointer(key: str, value: Any) -> None:
    """An RFC 6901 JSON pointer: empty (the whole object) or starting with '/'."""
    if not isinstance(value, str) or (value and not value.startswith("/")):
        shown = repr(value) if isinstance(value, str) else shape_of(value)
        raise SettingsError(f"setting {key}: {shown} is not a JSON pointer: it must start with / (such as /metadata/labels)")


def _patch_operation(key: str, op: Mapping[str, Any]) -> None:
    """One RFC 6902 operation, checked before any is applied."""
    kind = op.get("op")
    if "op" in op and kind not in _PATCH_OPS:
        shown = repr(kind) if isinstance(kind, str) else shape_of(kind)
        raise SettingsError(f"setting {key}.op: {shown} is not an RFC 6902 operation; use one of {', '.join(_PATCH_OPS)}")
    if kind not in _PATCH_OPS or "path" not in op:
        raise SettingsError(f"setting {key}: needs 'op' ({', '.join(_PATCH_OPS)}) and 'path'")
    _pointer(f"{key}.path", op["path"])
    if op["op"] in ("move", "copy"):
        if "from" not in op:
            raise SettingsError(f"setting {key}: op {op['op']} needs 'from'")
        _pointer(f"{key}.from", op["from"])
    if op["op"] in ("add", "replace", "test") and "value" not in op:
        raise SettingsError(f"setting {key}: op {op['op']} needs 'value'")


def _optional_quantity(key: str, value: Any) -> str | None:
    return None if value is None else _quantity(key, value)


def _user_resources(key: str, value: Any) -> UserResources:
    raw = _mapping(key, value, ("cpu", "memory"))
    result = UserResources()
    if "cpu" in raw:
        cpu = _mapping(f"{key}.cpu", raw["cpu"], ("guarantee", "limit"))
        if "guarantee" in cpu:
            result = result._replace(cpu_guarantee=_number(f"{key}.cpu.guarantee", cpu["guarantee"]))
        if "limit" in cpu:
            result = result._replace(cpu_limit=_number(f"{key}.cpu.limit", cpu["limit"]))
    if "memory" in raw:
        mem = _mapping(f"{key}.memory", raw["memory"], ("guarantee", "limit"))
        if "guarantee" in mem:
            result = result._replace(memory_guarantee=_optional_quantity(f"{key}.memory.guarantee", mem["guarantee"]))
        if "limit" in mem:
            result = result._replace(memory_limit=_optional_quantity(f"{key}.memory.limit", mem["limit"]))
    return result


def _disable(key: str, value: Any) -> tuple[str, ...]:
    # Names only: which IDs exist is the registry's knowledge (the pipeline checks them),
    # so the library's settings never import the transforms.
    return _str_list(key, value)


# YAML key -> (dataclass field, reader)
_READERS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "registry": ("registry", _registry),
    "registryMap": ("registry_map", _registry_map),
    "keepImages": ("keep_images", _str_list),
    "pullSecret": ("pull_secret", _dns_name),
    "mode": ("mode", _enum(MODES)),
    "disable": ("disable", _disable),
    "allow": ("allow", _allow),
    "resources": ("resources", lambda k, v: _resources(k, v, DEFAULT_RESOURCES)),
    "resourceOverrides": ("resource_overrides", _resource_overrides),
    "userResources": ("user_resources", _user_resources),
    "loadBalancer": ("load_balancer", _enum(LOAD_BALANCER_ACTIONS)),
    "clusterScoped": ("cluster_scoped", _enum(CLUSTER_SCOPED_ACTIONS)),
    "minimumReplicasAnnotation": ("minimum_replicas_annotation", _bool),
    "networkPolicy": ("network_policy", _bool),
    "patches": ("patches", _patches),
    "report": ("report", _str),
    "pin": ("pin", _str),
    "gitops": ("gitops", _bool),
}
SETTING_KEYS = tuple(_READERS)


class Layer(dict[str, Any]):
    """One source's settings, ``{field: value}`` for the keys it sets, and where they came from."""

    def __init__(self, values: Mapping[str, Any] | None = None, origin: str = "") -> None:
        super().__init__(values or {})
        self.origin = origin


def read_layer(raw: Any, origin: str, *, document: bool = False) -> Layer:
    """Validate one source's raw mapping; return {field: value} for the keys it sets.

    ``origin`` names the source in messages ("--config values.yaml", "in-stream settings").
    Null values mean "not set here", so Helm values can leave a key empty.
    """
    if raw is None:
        return Layer(origin=origin)
    allowed = SETTING_KEYS + (("apiVersion", "kind", "metadata") if document else ())
    try:
        _mapping("", raw, allowed)
        return Layer(
            {
                _READERS[key][0]: _READERS[key][1](key, value)
                for key, value in raw.items()
                if key in _READERS and value is not None
            },
            origin,
        )
    except SettingsError as exc:
        raise SettingsError(f"{origin}: {exc}", key=exc.key, reason=exc.reason, origin=origin) from None


def merge(*layers: Mapping[str, Any]) -> Settings:
    """Build Settings from layers given weakest first (defaults are the base)."""
    values: dict[str, Any] = {}
    for layer in layers:
        for name, value in layer.items():
            if name == "registry_map" and name in values:
                combined = dict(values[name])
                combined.update(dict(value))
                value = tuple(sorted(combined.items()))
            values[name] = value
    return Settings(**values)


def load_file(path: str) -> dict[str, Any]:
    """Read and validate a ``--config`` settings file."""
    import yaml

    from .documents import load_yaml  # the stream's loader: plain scalars mean what they mean to Go
    from .inputs import read_text
    from .yamlio import MAX_DEPTH, TooDeep

    text = read_text(path, label=f"--config {path}", error=SettingsError)
    try:
        raw = load_yaml(text)
    except TooDeep:
        raise SettingsError(f"--config {path}: nests deeper than {MAX_DEPTH} levels; no setting is that deep") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise SettingsError(f"--config {path}: not valid YAML{where}") from None
    if raw is not None and not isinstance(raw, Mapping):
        raise SettingsError(f"--config {path}: expected a mapping of settings, got {shape_of(raw)}")
    if isinstance(raw, Mapping) and raw.get("kind") == SETTINGS_KIND:
        return read_layer(raw, f"--config {path}", document=True)
    return read_layer(raw, f"--config {path}")


def is_settings_document(obj: Any) -> bool:
    """A ``PostRenderSettings`` document, whatever its apiVersion (``find_in_stream`` checks it)."""
    return isinstance(obj, Mapping) and obj.get("kind") == SETTINGS_KIND


def find_in_stream(documents: Iterable[Document]) -> tuple[dict[str, Any], Document | None]:
    """The settings layer of the stream's one ``PostRenderSettings`` document, and that document.

    The one reader of the in-stream settings (the post-renderer, ``images`` and ``check``).
    More than one settings document, or one with another apiVersion than
    ``SETTINGS_API_VERSION`` (a newer wrapper chart, a foreign group), is an InputError:
    reading settings of another version as ours could silently weaken the release.
    """
    from .errors import InputError

    found = [doc for doc in documents if is_settings_document(doc.obj) and not doc.removed]
    if len(found) > 1:
        numbers = ", ".join(str(doc.number) for doc in found)
        raise InputError(
            f"documents {numbers}: more than one PostRenderSettings document; render the wrapper chart "
            "once, or merge the settings into one"
        )
    if not found:
        return {}, None
    doc = found[0]
    version = doc.obj.get("apiVersion")
    if version != SETTINGS_API_VERSION:
        raise InputError(
            f"{doc.where}: apiVersion {version!r} is not one this jhub-ck8s reads ({SETTINGS_API_VERSION}); "
            "use the wrapper chart and plugin of the same release, or fix the apiVersion"
        )
    return read_layer(doc.obj, f"in-stream settings ({doc.position}, {doc.source or 'no Source'})", document=True), doc


__all__ = [
    "SETTINGS_API_VERSION",
    "SETTINGS_KIND",
    "AllowRule",
    "Layer",
    "Patch",
    "ResourceList",
    "ResourceOverride",
    "Resources",
    "Settings",
    "UserResources",
    "find_in_stream",
    "is_settings_document",
    "load_file",
    "merge",
    "read_layer",
]
