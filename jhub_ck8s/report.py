"""The one report: every change and finding of a run, as a table for people and JSON for tools.

Transforms never print. They return ``Finding`` objects; the pipeline collects them
here. Findings about ``Secret/hub`` name key paths only, never values: the Secret
holds tokens, and nothing of it may reach stderr, a report file or an error message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .podspec import ContainerRef
    from .stream import Document

CHANGE = "change"
INFO = "info"
WARNING = "warning"
ERROR = "error"
SEVERITIES = (ERROR, WARNING, CHANGE, INFO)

REPORT_VERSION = 1


@dataclass
class Finding:
    """One thing a transform did or found, with everything needed to locate and fix it."""

    transform: str  # the transform's ID
    severity: str  # change | info | warning | error
    message: str  # what was done or is wrong, and why
    document: Document | None = field(default=None, repr=False, compare=False)
    where: str = ""  # "container hub", "init container x", or a hub config key path
    fix: str = ""  # for errors and warnings: which value to set
    rule: str = ""  # stable id of the rule broken (for allow-lists and `check`)
    hub_key: str = ""  # set when the change is to the hub's runtime config (Secret/hub values.yaml)
    container: str = ""  # the container's name, for allow-lists

    @classmethod
    def on_container(
        cls, transform: str, severity: str, message: str, document: Document, container: ContainerRef,
        *, fix: str = "", rule: str = "",
    ) -> Finding:
        """A finding about one container of a pod spec."""
        return cls(
            transform, severity, message, document, container.where, fix, rule, container=container.name
        )

    def location(self) -> str:
        """``document 12 (jupyterhub/templates/hub/deployment.yaml) Deployment/hub, container hub``."""
        parts = []
        if self.document is not None:
            source = self.document.source
            parts.append(self.document.position + (f" ({source})" if source else ""))
            parts.append(self.document.label)
        text = " ".join(parts)
        if self.where:
            text = f"{text}, {self.where}" if text else self.where
        return text

    def line(self) -> str:
        """The one-line form used for errors and warnings."""
        text = f"{self.severity}: {self.location()}: {self.message}"
        if self.fix:
            text += f"; fix: {self.fix}"
        return text

    def to_json(self) -> dict[str, Any]:
        doc = self.document
        return {
            "transform": self.transform,
            "severity": self.severity,
            "rule": self.rule or None,
            "document": doc.number if doc else None,
            "item": doc.item if doc else None,
            "source": doc.source if doc else None,
            "kind": doc.kind if doc else None,
            "name": doc.name if doc else None,
            "where": self.where or None,
            "container": self.container or None,
            "message": self.message,
            "fix": self.fix or None,
        }


@dataclass
class Report:
    mode: str = "enforce"
    findings: list[Finding] = field(default_factory=list)
    exit_code: int = 0
    fatal: str = ""  # the one-line reason when the run stopped on bad input or settings

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def summary(self) -> str:
        counts = ", ".join(
            f"{self.count(s)} {s}{'s' if self.count(s) != 1 else ''}" for s in (CHANGE, WARNING, ERROR)
        )
        return f"jhub-ck8s: {counts} (mode {self.mode})"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "mode": self.mode,
            "exitCode": self.exit_code,
            "fatal": self.fatal or None,
            "summary": {s: self.count(s) for s in SEVERITIES},
            "findings": [f.to_json() for f in self.findings],
        }

    def write_json(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.to_json(), handle, indent=2, sort_keys=False)
            handle.write("\n")

    def table(self) -> str:
        """Changes as an aligned table, then warnings and errors one per line, then a summary."""
        rows = [f for f in self.findings if f.severity in (CHANGE, INFO)]
        lines: list[str] = []
        if rows:
            header = ("DOC", "OBJECT", "WHERE", "TRANSFORM", "WHAT")
            cells = [
                (
                    f.document.position.removeprefix("document ") if f.document else "-",
                    f.document.label if f.document else "-",
                    f.where or "-",
                    f.transform,
                    f.message,
                )
                for f in rows
            ]
            widths = [max(len(r[i]) for r in [header, *cells]) for i in range(4)]
            for row in [header, *cells]:
                lines.append("  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
        lines += [f.line() for f in self.findings if f.severity in (WARNING, ERROR)]
        if self.fatal:
            lines.append(self.fatal)
        lines.append(self.summary())
        return "\n".join(lines) + "\n"
