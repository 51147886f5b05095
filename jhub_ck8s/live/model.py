"""What every preflight check shares: its result record, the context it reads, and the verdict.

A check module (``access``, ``admission``, ``images``, ``capacity``, ``ingress``,
``namespace``, ``storage``) has a docstring saying what it proves, a ``GROUP`` name and
one function ``run(ctx) -> Iterator[Result]``. It reads the cluster only through
``ctx.client`` (``jhub_ck8s.live.client``), never prints, never exits. A read the
tenant may not make is a ``skip`` whose message says what to ask the platform
administrator, never a failure.

Outcomes: ``pass``, ``warn``, ``fail``, ``skip``. Exit code of a run: 1 when a check
failed (or warned, with ``--fail-on warn``), else 0.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .client import Client

PASS = "pass"
WARN = "warn"
FAIL = "fail"
SKIP = "skip"
OUTCOMES = (PASS, WARN, FAIL, SKIP)

T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    """One check's verdict on one subject: a stable ID, the outcome, what was found and the fix."""

    id: str  # "images-pull", stable: used in the JSON and by people's scripts
    group: str  # "Images"
    outcome: str  # one of OUTCOMES
    message: str  # what was found, one line
    fix: str = ""  # how to fix it, one line ("" on pass)
    subject: str = ""  # "Deployment/hub", "quay.io/...:4.4.0", "" for the whole release

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "group": self.group, "outcome": self.outcome, "message": self.message}
        if self.subject:
            data["subject"] = self.subject
        if self.fix:
            data["fix"] = self.fix
        return data


def ask_admin(what: str) -> str:
    """The fix of a skip caused by a forbidden cluster-scoped read."""
    return f"ask the platform administrator to {what}"


@dataclass
class Release:
    """The post-rendered release, as the checks read it."""

    name: str
    objects: list[dict[str, Any]]  # every object of the post-rendered stream, in order
    documents: list[Any] = field(default_factory=list)  # the same as stream.Document (for inventory)
    hub_values: dict[str, Any] | None = None  # Secret/hub values.yaml (runtime config), when present

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [obj for obj in self.objects if obj.get("kind") in kinds]


@dataclass
class Options:
    users: int = 1  # concurrent user servers the quota must hold
    registry_timeout: float = 10.0  # seconds per registry request
    pin: str | None = None  # lock file: the registry's digests must match it
    workers: int = 8


@dataclass
class Context:
    """What a check gets: the client, the release, the options, and a few shared, cached reads."""

    client: Client
    release: Release
    options: Options = field(default_factory=Options)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _key_locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def namespace(self) -> str:
        return self.client.namespace

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per run (user pods, live objects), shared by every check; checks
        run in parallel, so a second caller waits for the first one's value."""
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]


def label(obj: Mapping[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name', '')}"


def hub_values_of(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``values.yaml`` of ``Secret/hub`` (data or stringData), or None."""
    from ..documents import load_yaml

    for obj in objects:
        if obj.get("kind") != "Secret" or (obj.get("metadata") or {}).get("name") != "hub":
            continue
        data = obj.get("data") or {}
        try:
            if isinstance(data.get("values.yaml"), str):
                values = load_yaml(base64.b64decode(data["values.yaml"]).decode("utf-8"))
            elif isinstance((obj.get("stringData") or {}).get("values.yaml"), str):
                values = load_yaml(obj["stringData"]["values.yaml"])
            else:
                return None
        except Exception:
            return None  # unreadable: the checks that need it say so, without quoting it
        return values if isinstance(values, dict) else None
    return None
