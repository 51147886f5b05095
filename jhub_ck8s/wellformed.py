"""What every transform and audit may assume about an object; one-line InputError otherwise.

Helm hands us whatever a chart rendered. Objects that Kubernetes could never decode,
or that would make a transform stumble, are refused here, once, before anything
runs, with the document, its ``# Source``, ``Kind/name`` and the field named, and how
to fix it (exit 2). Guarantees, for every document that passes ``check``:

* it nests at most ``yamlio.MAX_DEPTH`` levels, which ``documents.read`` enforces while
  reading (deeper input is hostile and would exhaust recursion in serialisers and copies);
* ``metadata`` is a mapping; ``metadata.labels`` and ``metadata.annotations`` are
  mappings whose values are strings (Go cannot decode a number or list there);
* in a pod-bearing kind, the path to the pod spec holds mappings; ``containers``,
  ``initContainers`` and ``ephemeralContainers`` are lists of mappings; each
  ``image`` is a string, each ``env[].value`` a string, each ``resources`` and its
  ``requests``/``limits`` a mapping of Kubernetes quantities (the API server cannot
  decode anything else), none with an absurd exponent.

A value that is well-formed but wrong for the platform (a missing tag, a negative
request, a privileged container) is not refused here: the transforms report
it as a finding, which allow-lists and warn mode can settle.

Before (``# Source: chart/templates/app.yaml``)::

    metadata: {name: app, labels: {tier: 5}}

Refused::

    error: document 3 (chart/templates/app.yaml) Deployment/app: metadata.labels.tier is
    a number; Kubernetes needs a string: quote it in the chart (tier: "5")
"""

from __future__ import annotations

__all__ = ["MAX_DEPTH", "check", "too_deep"]

from typing import Any

from .documents import Document
from .errors import InputError, shape_of
from .podspec import CONTAINER_LISTS, POD_SPEC_PATHS
from .quantity import QuantityError, QuantityRangeError
from .quantity import parse as parse_quantity
from .yamlio import MAX_DEPTH, too_deep


def _string_map(doc: Document, metadata: dict[str, Any], key: str) -> None:
    values = metadata.get(key)
    if values is None:
        return
    if not isinstance(values, dict):
        raise InputError(
            f"{doc.where}: metadata.{key} is {shape_of(values)}; Kubernetes needs a mapping of "
            "names to strings: fix the chart template that renders it"
        )
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            raise InputError(
                f"{doc.where}: metadata.{key}.{name} is {shape_of(value)}; Kubernetes needs a string: "
                f'quote it in the chart ({name}: "...")'
            )


def _short(value: Any) -> str:
    """A bad value, quoted, but never more than a line's worth of it."""
    text = repr(value) if isinstance(value, str | int | float) else shape_of(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _mapping(doc: Document, value: Any, path: str, fix: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputError(f"{doc.where}: {path} is {shape_of(value)}, not a mapping; {fix}")
    return value


def _container(doc: Document, container: dict[str, Any], path: str) -> None:
    name = container.get("name")
    where = f"{doc.where}, {path}" + (f" ({name})" if isinstance(name, str) else "")
    image = container.get("image")
    if image is not None and not isinstance(image, str):
        raise InputError(
            f"{where}: image is {shape_of(image)}; set it to a string reference such as "
            "registry.example.com/project/name:1.0 in the chart values that set it"
        )
    env = container.get("env")
    if isinstance(env, list):
        for index, item in enumerate(env):
            value = item.get("value") if isinstance(item, dict) else None
            if value is not None and not isinstance(value, str):
                raise InputError(
                    f"{where}: env[{index}].value is {shape_of(value)}; Kubernetes needs a string: "
                    "quote it in the chart values"
                )
    fix = "set the chart value for this container's resources to {requests: {cpu: ..., memory: ...}}"
    resources = _mapping(doc, container.get("resources"), f"{path}.resources", fix)
    for part in ("requests", "limits"):
        section = _mapping(doc, (resources or {}).get(part), f"{path}.resources.{part}", fix)
        for resource, quantity in (section or {}).items():
            try:
                parse_quantity(quantity)
            except QuantityError as exc:
                what = "out of range" if isinstance(exc, QuantityRangeError) else "not a Kubernetes quantity"
                raise InputError(
                    f"{where}: resources.{part}.{resource} {_short(quantity)} is {what}, so the API server "
                    "cannot read the object; set it to a quantity such as 500m, 1, 512Mi or 1Gi in the chart values"
                ) from None


def _pod_spec(doc: Document, path: tuple[str, ...]) -> None:
    node: Any = doc.obj
    walked: list[str] = []
    fix = "fix the chart template that renders it"
    for key in path:
        walked.append(key)
        node = _mapping(doc, node.get(key), ".".join(walked), fix)
        if node is None:
            return
    for field in CONTAINER_LISTS:
        items = node.get(field)
        if items is None:
            continue
        where = ".".join([*path, field])
        if not isinstance(items, list):
            raise InputError(f"{doc.where}: {where} is {shape_of(items)}, not a list of containers; {fix}")
        for index, container in enumerate(items):
            if not isinstance(container, dict):
                raise InputError(
                    f"{doc.where}: {where}[{index}] is {shape_of(container)}, not a container (a mapping); {fix}"
                )
            _container(doc, container, f"{where}[{index}]")


def check(doc: Document) -> None:
    """Raise InputError if ``doc`` breaks a guarantee of this module."""
    obj = doc.obj
    metadata = obj.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise InputError(
                f"{doc.where}: metadata is {shape_of(metadata)}; Kubernetes needs a mapping "
                "(name, labels, annotations): fix the chart template that renders it"
            )
        _string_map(doc, metadata, "labels")
        _string_map(doc, metadata, "annotations")
    path = POD_SPEC_PATHS.get(doc.kind)
    if path:
        _pod_spec(doc, path)
