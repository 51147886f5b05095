"""One audit: rendered stream in, ``Audit`` out. Reads, never changes, never prints.

Order of work: parse the stream (``jhub_ck8s.stream.parse``, documents read and checked) -> read the in-stream
``PostRenderSettings`` document, if any, for the trusted registry -> for each object,
the Pod Security rules (``pss``) when it carries a pod spec, and the platform
safeguards (``safeguards``) -> the pods the hub will spawn (``spawned_pods``), audited with
the same rules -> optionally ``kubeconform -strict`` on every document. Guarantees:

* every Pod Security violation is an error: the platform enforces ``restricted``;
  safeguards keep the platform's default severity (warning or error);
* the trusted registry comes from ``Options.registry``, else from the settings
  document (``registry`` and the ``registryMap`` destinations); with neither, the rule
  is skipped and a note says so;
* a stream without ``Secret/hub`` yields a note; kubespawner missing (or unable to
  build the pods) yields a *warning* ``spawned-user-pods-not-audited``, so the run fails
  only with ``--strict``;
* bad input (unparsable stream, two settings documents, bad settings, a bad version,
  kubeconform not installed when asked for) raises ``UserError`` (exit 2).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import hubconfig
from ..documents import Document, serialize
from ..errors import UserError
from ..platform import replicas
from ..podspec import pod_labels, pod_metadata, pod_spec
from ..settings import find_in_stream, read_layer
from ..stream import parse
from . import pss, safeguards, spawned_pods
from .model import ERROR, NOTE, WARNING, Audit, Finding, Subject

RULE_NOT_AUDITED = "spawned-user-pods-not-audited"
RULE_SCHEMA = "kubeconform-schema"


@dataclass(frozen=True)
class Options:
    """What the caller can ask of an audit."""

    registry: str | None = None  # HOST/PROJECT images must come from (wins over the stream)
    strict: bool = False  # warnings count as failures
    kubernetes_version: str | None = None  # X.Y.Z: PSS rules of that version + kubeconform
    user_pods: bool = True  # rebuild and audit the spawned user pods


# ------------------------------------------------------------------------- settings


def _trusted(options: Options, layer: Mapping[str, Any]) -> tuple[str, ...] | None:
    registry = layer.get("registry")
    if options.registry:
        registry = read_layer({"registry": options.registry}, "--registry")["registry"]
    prefixes = [registry] if registry else []
    prefixes += [dest for _, dest in layer.get("registry_map", ()) if dest not in prefixes]
    return tuple(prefixes) or None


# ---------------------------------------------------------------------------- rules


def _audit_pod(
    subject: Subject, kind: str, obj: Mapping[str, Any], metadata: Any, spec: Mapping[str, Any],
    labels: Mapping[str, Any] | None, ctx: safeguards.Context, version: pss.Version, *, spawned: bool = False,
) -> None:
    evaluation = pss.evaluate(metadata, spec, version)
    subject.pss_level = evaluation.level
    for rule in evaluation.checked:
        subject.check(rule.id)
    for rule, violation in evaluation.violations:
        subject.add(_with_hint(Finding(rule.id, ERROR, violation.message, violation.where, violation.fix), spawned))
    _audit_object(subject, safeguards.Target(kind, obj, spec, labels), ctx, spawned=spawned)


def _audit_object(subject: Subject, target: safeguards.Target, ctx: safeguards.Context, *, spawned: bool = False) -> None:
    for rule, finding, skipped in safeguards.evaluate(target, ctx):
        if skipped:
            subject.skipped[rule.id] = skipped
        elif finding is None:
            subject.check(rule.id)
        else:
            subject.add(_with_hint(finding, spawned))


def _with_hint(finding: Finding, spawned: bool) -> Finding:
    hint = spawned_pods.fix_hint(finding.rule, finding.where) if spawned else ""
    if not hint:
        return finding
    return Finding(finding.rule, finding.severity, finding.message, finding.where, f"{finding.fix}; in the values: {hint}")


def _context(documents: list[Document], trusted: tuple[str, ...] | None) -> safeguards.Context:
    selectors = tuple(
        (doc.obj.get("spec") or {}).get("podSelector") for doc in documents if doc.kind == "NetworkPolicy"
    )
    workloads = []
    for doc in documents:
        labels = pod_labels(doc.obj)
        if labels is not None:
            workloads.append(safeguards.Workload(doc.label, replicas(doc.obj), labels))
    return safeguards.Context(trusted, selectors, tuple(workloads))


# ------------------------------------------------------------------------ the audit


def audit(text: str, options: Options | None = None) -> Audit:
    """Audit one rendered stream (see the module docstring for what is guaranteed)."""
    options = options or Options()
    version = None
    if options.kubernetes_version:
        try:
            version = pss.parse_version(options.kubernetes_version)
        except ValueError as exc:
            raise UserError(f"--kubernetes-version: {exc}") from None
    documents = parse(text)
    layer, settings_doc = find_in_stream(documents)
    trusted = _trusted(options, layer)
    result = Audit(strict=options.strict)
    if settings_doc is not None:
        result.notes.append(
            f"{settings_doc.position}: PostRenderSettings read for the registry (the post-renderer removes it; "
            "the API server would reject it)"
        )
    if trusted is None:
        result.notes.append(
            "safeguard-trusted-registry not evaluated: no registry given (--registry HOST/PROJECT) and no "
            "PostRenderSettings document in the stream"
        )
    objects = [doc for doc in documents if doc is not settings_doc]
    result.documents = len(objects)
    ctx = _context(objects, trusted)

    for doc in objects:
        subject = Subject(doc.label, doc.kind, doc.name, doc.number, doc.source)
        spec = pod_spec(doc.obj)
        if spec is not None:
            _audit_pod(subject, doc.kind, doc.obj, pod_metadata(doc.obj), spec, pod_labels(doc.obj), ctx, version)
        else:
            _audit_object(subject, safeguards.Target(doc.kind, doc.obj), ctx)
        result.subjects.append(subject)

    if options.kubernetes_version:
        _kubeconform(objects, result, options.kubernetes_version)

    hub = hubconfig.find(objects)
    if hub is None:
        result.notes.append("no Secret/hub with values.yaml in the stream: no spawned user pods to audit")
    elif options.user_pods:
        _spawned(hub.values, result, ctx, version)
    return result


def _spawned(values: dict[str, Any], result: Audit, ctx: safeguards.Context, version: pss.Version) -> None:
    try:
        pods = spawned_pods.spawned_pods(values)
    except spawned_pods.SpawnUnavailable as exc:
        subject = Subject("spawned user pods", "Pod", "", None, spawned_pods.SOURCE)
        subject.add(Finding(RULE_NOT_AUDITED, WARNING, str(exc), "", "run make setup (installs jupyterhub-kubespawner)"))
        result.subjects.append(subject)
        return
    for spawned in pods:
        pod = spawned.pod
        metadata = pod.get("metadata") or {}
        subject = Subject(spawned.label, "Pod", str(metadata.get("name", "")), None, spawned_pods.SOURCE)
        labels = metadata.get("labels") if isinstance(metadata.get("labels"), dict) else {}
        _audit_pod(subject, "Pod", pod, metadata, pod.get("spec") or {}, labels, ctx, version, spawned=True)
        result.subjects.append(subject)
    result.spawned_pods = len(pods)


# ----------------------------------------------------------------------- kubeconform


def _kubeconform(objects: list[Document], result: Audit, kubernetes_version: str) -> None:
    from .. import kubeconform

    try:
        command = kubeconform.command(kubernetes_version)
    except UserError as exc:
        raise UserError(f"--kubernetes-version needs {exc}") from None
    text = serialize([doc for doc in objects if not doc.removed])
    try:
        run = subprocess.run(command, input=text.encode(), capture_output=True, check=False, timeout=300)
        report = json.loads(run.stdout.decode() or "{}")
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        raise UserError(f"kubeconform could not be run ({type(exc).__name__})") from None
    subjects = {(s.kind, s.name): s for s in result.subjects if s.document is not None}
    for subject in subjects.values():
        subject.check(RULE_SCHEMA)
    for item in report.get("resources") or []:
        if item.get("status") not in ("statusInvalid", "statusError"):
            continue
        message = str(item.get("msg", "")).replace("problem validating schema. Check JSON formatting: ", "")
        finding = Finding(
            RULE_SCHEMA, ERROR, f"not valid for Kubernetes {kubernetes_version}: {message}", "",
            "fix the field named above in the chart values (kubeconform -strict rejects unknown fields)",
        )
        found = subjects.get((str(item.get("kind", "")), str(item.get("name", ""))))
        if found is not None:
            found.add(finding)
        else:
            result.notes.append(f"kubeconform: {item.get('kind')}/{item.get('name')}: {message}")
    if run.returncode not in (0, 1):
        result.notes.append(f"kubeconform exited {run.returncode}: {run.stderr.decode(errors='replace').strip()[:300]}")


__all__ = ["NOTE", "Options", "audit"]
