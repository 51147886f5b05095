"""`helm ck8s-jupyter check`: would the platform admit this release and every user pod it spawns?

An independent auditor of a rendered stream (post-rendered or not): it evaluates,
it never fixes, and it shares no logic with the post-renderer's transforms.

* ``pss`` -- Pod Security Standards baseline + restricted, one registry entry per rule;
* ``safeguards`` -- the platform's Gatekeeper safeguards and the tenant RBAC limit;
* ``spawned_pods`` -- the pods KubeSpawner will create, rebuilt from ``Secret/hub``
  by ``pod_rebuild`` with the real kubespawner library;
* ``runner`` -- ``audit(text, Options) -> Audit``: the whole run, no printing;
* ``output`` -- the text report, JSON and JUnit XML;
* ``model`` -- ``Finding``, ``Subject``, ``Audit`` and the exit code;
* ``twins`` -- which audit rules judge what each post-renderer rule reports (rule ids
  only: the two rule sets stay apart).

Every rule id, in one place: ``rule_ids()``.
"""

from __future__ import annotations

from .model import Audit, Finding, Subject
from .runner import Options, audit


def rule_ids() -> list[str]:
    """Every rule id the checker can report, Pod Security first."""
    from . import pss, runner, safeguards

    return [*pss.RULES, *safeguards.SAFEGUARDS, runner.RULE_NOT_AUDITED, runner.RULE_SCHEMA]


__all__ = ["Audit", "Finding", "Options", "Subject", "audit", "rule_ids"]
