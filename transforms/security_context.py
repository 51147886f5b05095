"""Give every pod and container the security context Pod Security "restricted" needs.

Guarantees, on every pod spec (hooks included) and every container, init container
and ephemeral container in it:

* the pod has ``runAsNonRoot: true`` and ``seccompProfile: {type: RuntimeDefault}``
  unless it sets them itself;
* every container has ``allowPrivilegeEscalation: false`` and ``ALL`` in
  ``capabilities.drop`` (added to an existing drop list), and ``runAsNonRoot`` /
  ``seccompProfile`` where neither it nor its pod sets them;
* an explicit value is never changed. What restricted (or the platform's
  Gatekeeper) rejects is an error, one per field, with a stable rule id:
  ``privileged``, ``run-as-root``, ``run-as-non-root-false``, ``capabilities-add``,
  ``host-network``, ``host-pid``, ``host-ipc``, ``host-path``, ``host-port``,
  ``proc-mount``, ``seccomp-unconfined``, ``seccomp-localhost``,
  ``allow-privilege-escalation``, ``security-context-malformed``. A privileged main
  container is reported by ``privileged-init`` when that transform runs, so it is
  not reported twice.

The rules live in ``jhub_ck8s.hardening``, shared with the hub runtime transform.

Before::

    spec:
      containers: [{name: hub, securityContext: {runAsUser: 1000}}]

After::

    spec:
      containers:
      - name: hub
        securityContext:
          runAsUser: 1000
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from jhub_ck8s import hardening
from jhub_ck8s.podspec import containers, pod_spec
from jhub_ck8s.report import CHANGE, ERROR, Finding

if TYPE_CHECKING:
    from jhub_ck8s.documents import Document
    from jhub_ck8s.hardening import Violation
    from jhub_ck8s.podspec import ContainerRef
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "security-context"
PRIVILEGED_INIT_ID = "privileged-init"  # reports privileged main containers itself


def _fix(violation: Violation, doc: Document, container: str) -> str:
    target = "this container" if container else "this pod"
    allow = f"kind: {doc.kind}, name: {doc.name}, " + (f"container: {container}, " if container else "")
    return (
        f"{violation.action} in the chart values for {target}, "
        f"or allow it with allow: [{{{allow}rule: {violation.rule}}}]"
    )


def _container_findings(doc: Document, ref: ContainerRef, skip_privileged: bool) -> Iterator[Finding]:
    for violation in hardening.container_violations(ref.container):
        if skip_privileged and violation.rule == hardening.PRIVILEGED:
            continue
        yield Finding.on_container(
            ID,
            ERROR,
            violation.message(),
            doc,
            ref,
            fix=_fix(violation, doc, ref.name),
            rule=violation.rule,
        )


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    privileged_init_reports = PRIVILEGED_INIT_ID not in settings.disable
    for doc in stream.live():
        spec = pod_spec(doc.obj)
        if spec is None:
            continue
        for violation in hardening.pod_violations(spec):
            yield Finding(
                ID,
                ERROR,
                violation.message(),
                doc,
                "pod spec",
                _fix(violation, doc, ""),
                violation.rule,
            )
        pod_context = hardening.ensure_context(spec, "securityContext")
        if pod_context is not None:
            filled = hardening.fill_pod_security_context(pod_context)
            if filled:
                yield Finding(
                    ID,
                    CHANGE,
                    "set " + hardening.describe_filled(filled),
                    doc,
                    "pod securityContext",
                )
        for ref in containers(spec):
            yield from _container_findings(doc, ref, privileged_init_reports and ref.is_main)
            context = hardening.ensure_context(ref.container, "securityContext")
            if context is None:
                continue  # not a mapping: reported above as security-context-malformed
            filled = hardening.fill_container_security_context(context, pod_context)
            if filled:
                yield Finding.on_container(
                    ID, CHANGE, "set securityContext " + hardening.describe_filled(filled), doc, ref
                )
