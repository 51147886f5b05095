"""What an audit produces: findings grouped by the object they are about, and the verdict.

Guarantees:

* a ``Finding`` names its rule id, severity (``error``, ``warning`` or ``note``), what
  is wrong (``message``), where inside the object (``where``) and the value that fixes
  it (``fix``); it never carries a value of ``Secret/hub`` other than an image reference
  of a spawned user pod;
* a ``Subject`` is one object of the stream or one spawned user pod, with every rule
  that was evaluated on it (``checked``), the rules that could not be (``skipped``, with
  the reason) and, for pods, the highest Pod Security level it satisfies;
* ``Audit.exit_code`` is 0 when the release is admissible (no error; with ``strict`` no
  warning either) and 1 when it is not. Bad input never reaches this point: it raises
  ``jhub_ck8s.errors.UserError`` (exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import EXIT_OK, EXIT_POLICY

ERROR = "error"
WARNING = "warning"
NOTE = "note"
SEVERITIES = (ERROR, WARNING, NOTE)

PRIVILEGED = "privileged"
BASELINE = "baseline"
RESTRICTED = "restricted"
LEVELS = (PRIVILEGED, BASELINE, RESTRICTED)


@dataclass(frozen=True)
class Finding:
    """One rule broken (or a note) on one object."""

    rule: str
    severity: str
    message: str
    where: str = ""  # "pod", "container hub", "init container x", "spec.type", ...
    fix: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "where": self.where or None,
            "message": self.message,
            "fix": self.fix or None,
        }


@dataclass
class Subject:
    """One audited object: a document of the stream, or a spawned user pod."""

    label: str  # how the report names it: "Deployment/hub", "spawned user pod (default)"
    kind: str
    name: str
    document: int | None = None  # 1-based position in the stream; None for spawned pods
    source: str | None = None  # chart template, or "Secret/hub values.yaml" for spawned pods
    pss_level: str | None = None  # for pod-bearing objects: privileged | baseline | restricted
    checked: list[str] = field(default_factory=list)  # rule ids evaluated, in order
    skipped: dict[str, str] = field(default_factory=dict)  # rule id -> why it was not evaluated
    findings: list[Finding] = field(default_factory=list)

    def check(self, rule: str) -> None:
        """Record that ``rule`` was evaluated on this subject."""
        if rule not in self.checked:
            self.checked.append(rule)

    def add(self, finding: Finding) -> None:
        self.check(finding.rule)
        self.findings.append(finding)

    @property
    def is_pod(self) -> bool:
        return self.pss_level is not None

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def to_json(self) -> dict[str, Any]:
        return {
            "object": self.label,
            "kind": self.kind,
            "name": self.name,
            "document": self.document,
            "source": self.source,
            "pssLevel": self.pss_level,
            "rulesChecked": list(self.checked),
            "rulesSkipped": dict(self.skipped),
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass
class Audit:
    """The whole verdict: every subject, notes about the run, and how warnings count."""

    subjects: list[Subject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    strict: bool = False
    documents: int = 0
    spawned_pods: int = 0

    def count(self, severity: str) -> int:
        return sum(s.count(severity) for s in self.subjects)

    @property
    def failures(self) -> int:
        """Findings that make the release inadmissible (warnings count with ``strict``)."""
        return self.count(ERROR) + (self.count(WARNING) if self.strict else 0)

    @property
    def admissible(self) -> bool:
        return self.failures == 0

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.admissible else EXIT_POLICY

    def pods(self) -> list[Subject]:
        return [s for s in self.subjects if s.is_pod]
