"""Findings about the hub's runtime config, worded alike by every transform that reads it.

The transforms of the hub config (``hub-blind-spots``, ``cloud-metadata``, ``user-pods``,
``user-resources``) report on key paths of ``Secret/hub`` ``values.yaml``; this module
builds their findings (key paths only: the values live in the Secret) and holds what
they share about how KubeSpawner reads that config.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from . import hardening
from .hubconfig import VALUES_KEY
from .report import CHANGE, ERROR, WARNING, Finding

if TYPE_CHECKING:
    from .hardening import Violation
    from .hubconfig import HubConfig

SPAWNER = "hub.config.KubeSpawner"
PLATFORM_STILL = (
    "the platform still enforces Pod Security restricted and the Gatekeeper safeguards on user "
    "pods at spawn time, so a non-compliant pod fails to start instead of running"
)


def items(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Entries of a chart list that may also be a mapping keyed for mergeability."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield f"{path}[{index}]", item
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield f"{path}.{key}", item


def camel_or_snake(holder: Mapping[str, Any], camel: str, snake: str) -> str | None:
    """The key under which a KubeSpawner ``extra_*_config`` holds a field (both spellings work)."""
    for key in (camel, snake):
        if holder.get(key) is not None:
            return key
    return None


class HubFindings:
    """One transform's run over the hub config: where its findings go and how they are worded."""

    __slots__ = ("hub", "transform")

    def __init__(self, transform: str, hub: HubConfig) -> None:
        self.transform = transform
        self.hub = hub

    @property
    def secret(self) -> str:
        return self.hub.document.name

    def where(self, path: str) -> str:
        return f"{VALUES_KEY}: {path}"

    def change(self, path: str, message: str, container: str = "") -> Finding:
        return Finding(
            self.transform,
            CHANGE,
            message,
            self.hub.document,
            self.where(path),
            hub_key=path,
            container=container,
        )

    def warning(self, path: str, message: str, fix: str, rule: str) -> Finding:
        return Finding(self.transform, WARNING, message, self.hub.document, self.where(path), fix, rule)

    def error(self, violation: Violation, container: str = "") -> Finding:
        """An explicit violation, named by key path only (the value lives in the Secret)."""
        allow = f"kind: Secret, name: {self.secret}, " + (f"container: {container}, " if container else "")
        fix = (
            f"{violation.action} in the chart values (the hub reads it from "
            f"Secret/{self.secret} at spawn time), or allow it with "
            f"allow: [{{{allow}rule: {violation.rule}}}]"
        )
        return Finding(
            self.transform,
            ERROR,
            violation.message(show_value=False),
            self.hub.document,
            self.where(violation.field),
            fix,
            violation.rule,
            container=container,
        )

    def trait_error(self, path: str, rule: str, why: str, action: str) -> Finding:
        return self.error(hardening.Violation(rule, path, "", why, action))
