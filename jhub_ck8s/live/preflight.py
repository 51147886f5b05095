"""Preflight: every check of this package against the live cluster, one report.

``CHECKS`` is the registry: the check modules in the order their groups are printed.
Adding a check group is one module (``GROUP``, ``run(ctx)``) and one line here.
``connect`` makes the client and refuses, as bad input (``PreflightInputError``, exit 2),
a cluster that does not answer, credentials that are refused, and a namespace in which
the user may do nothing (a context meant for another namespace). ``run`` returns a
``Report``; ``Report.text()`` and ``Report.to_json()`` are the two outputs.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ..errors import UserError
from .client import Client, LiveError, load_config
from .model import FAIL, OUTCOMES, PASS, SKIP, WARN, Context, Options, Release, Result, hub_values_of

CHECKS = ("access", "admission", "images", "capacity", "ingress", "namespace", "storage")
SYMBOL = {PASS: "ok  ", WARN: "WARN", FAIL: "FAIL", SKIP: "skip"}


class PreflightInputError(UserError):
    """No cluster, unusable kubeconfig, refused credentials, a namespace the user cannot use."""


def check_modules() -> list[ModuleType]:
    return [importlib.import_module(f"{__package__}.{name}") for name in CHECKS]


def connect(kubeconfig: str | None, context: str | None, namespace: str | None, timeout: float = 30.0) -> Client:
    """A client for the cluster helm would use, proven to answer and to let the user work in the namespace."""
    try:
        client = Client(load_config(kubeconfig, context, namespace), timeout=timeout)
        client.version()
        questions = [("list", "secrets", ""), ("create", "serviceaccounts", ""), ("get", "configmaps", "")]
        if not any(r.allowed for r in client.can_i_all(questions)):
            config = client.config
            origin = {"flag": "-n", "context": f"context {config.context!r}", "default": "no namespace given; the default"}
            raise PreflightInputError(
                f"user {config.user or '(anonymous)'} may do nothing in namespace {client.namespace} "
                f"({origin[config.namespace_source]}): is this the right namespace? Use -n NAMESPACE or --kube-context")
        return client
    except LiveError as exc:
        raise PreflightInputError(str(exc)) from None


def release_of(name: str, text: str) -> Release:
    from ..settings import find_in_stream
    from ..stream import parse

    documents = parse(text)
    _, settings_doc = find_in_stream(documents)
    documents = [d for d in documents if d is not settings_doc and not d.removed]
    objects = [d.obj for d in documents]
    return Release(name, objects, documents, hub_values_of(objects))


@dataclass
class Report:
    release: str
    namespace: str
    context: str
    server: str
    results: list[Result] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {outcome: sum(1 for r in self.results if r.outcome == outcome) for outcome in OUTCOMES}

    def exit_code(self, fail_on: str = FAIL) -> int:
        bad = {FAIL, WARN} if fail_on == WARN else {FAIL}
        return 1 if any(r.outcome in bad for r in self.results) else 0

    def to_json(self, fail_on: str = FAIL) -> dict[str, Any]:
        return {
            "apiVersion": "jhub-ck8s.io/v1alpha1",
            "kind": "PreflightReport",
            "release": self.release,
            "namespace": self.namespace,
            "context": self.context,
            "server": self.server,
            "summary": self.counts(),
            "exitCode": self.exit_code(fail_on),
            "results": [r.to_json() for r in self.results],
        }

    def text(self, *, quiet: bool = False) -> str:
        lines = [f"preflight of release {self.release} in namespace {self.namespace} "
                 f"(context {self.context}, {self.server})"]
        group = None
        for result in self.results:
            if quiet and result.outcome == PASS:
                continue
            if result.group != group:
                group = result.group
                lines.append(f"\n{group}")
            lines.append(f"  [{SYMBOL[result.outcome]}] {result.id}: {result.message}")
            if result.fix and result.outcome != PASS:
                lines.append(f"         fix: {result.fix}")
        counts = self.counts()
        lines.append("\n" + ", ".join(f"{counts[o]} {o}" for o in (PASS, WARN, FAIL, SKIP)))
        return "\n".join(lines) + "\n"


def run(client: Client, release: Release, options: Options | None = None,
        only: Sequence[str] | None = None) -> Report:
    from concurrent.futures import ThreadPoolExecutor

    ctx = Context(client, release, options or Options())
    report = Report(release.name, client.namespace, client.config.context, client.config.server)
    modules = [m for m in check_modules() if not only or m.__name__.rsplit(".", 1)[1] in only]

    def run_group(module: ModuleType) -> list[Result]:
        name = module.__name__.rsplit(".", 1)[1]
        try:
            return list(module.run(ctx))
        except LiveError as exc:
            return [Result(f"{name}-error", module.GROUP, FAIL, str(exc), "")]

    # the groups wait on the network: they run side by side, and are reported in CHECKS order
    with ThreadPoolExecutor(max_workers=len(modules) or 1) as pool:
        for results in pool.map(run_group, modules):
            report.results.extend(results)
    return report
