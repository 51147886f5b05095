"""The tests' judge of "would the platform admit this pod": the independent audit, never the code under test.

``restricted_problems`` asks ``jhub_ck8s.check.pss`` (Pod Security "restricted" as the
admission controller checks it, every rule) and the platform's Localhost-seccomp
safeguard (``jhub_ck8s.check.safeguards``: Pod Security allows Localhost, the platform's
Gatekeeper does not). The post-renderer fills and reports with its own rule set
(``jhub_ck8s.hardening``); the audit shares none of that logic, so a test that judges
the transforms with it is not judging them by their own rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jhub_ck8s.check import pss, safeguards

LOCALHOST_SECCOMP = safeguards.get("safeguard-localhost-seccomp")


def restricted_problems(spec: Mapping[str, Any], metadata: Mapping[str, Any] | None = None) -> list[str]:
    """What Pod Security restricted (latest) plus the platform's no-Localhost rule reject in a PodSpec.

    One line per violation, ``rule-id where: message``; empty when the pod is admitted.
    """
    evaluation = pss.evaluate(metadata or {}, spec)
    problems = [f"{rule.id} {violation.where}: {violation.message}" for rule, violation in evaluation.violations]
    target = safeguards.Target("Pod", {"kind": "Pod", "metadata": dict(metadata or {}), "spec": spec}, spec)
    problems += [f"{f.rule} {f.where}: {f.message}" for f in LOCALHOST_SECCOMP.check(target, safeguards.Context())]
    return problems
