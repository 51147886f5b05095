"""The one report: every change and finding of a run, as a table for people and JSON for tools.

Transforms never print. They return ``Finding`` objects; the pipeline collects them
here. Findings about ``Secret/hub`` name key paths only, never values: the Secret
holds tokens, and nothing of it may reach stderr, a report file or an error message.
"""

from __future__ import annotations

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
# Where the post-renderer also writes its JSON report; helm ck8s-jupyter sets it for the
# child helm and reads the file back (Helm 4 discards a post-renderer's stderr).
REPORT_ENV = "JHUB_CK8S_REPORT"


class Finding:
    """One thing a transform did or found, with everything needed to locate and fix it.

    Compared by everything but its document. A plain class, not a dataclass: see
    ``stream.Document`` for why.
    """

    __slots__ = ("container", "document", "fix", "hub_key", "message", "rule", "severity", "transform", "where")

    def __init__(
        self, transform: str, severity: str, message: str, document: Document | None = None, where: str = "",
        fix: str = "", rule: str = "", hub_key: str = "", container: str = "",
    ) -> None:
        self.transform = transform  # the transform's ID
        self.severity = severity  # change | info | warning | error
        self.message = message  # what was done or is wrong, and why
        self.document = document
        self.where = where  # "container hub", "init container x", or a hub config key path
        self.fix = fix  # for errors and warnings: which value to set
        self.rule = rule  # stable id of the rule broken (for allow-lists and `check`)
        self.hub_key = hub_key  # set when the change is to the hub's runtime config (Secret/hub values.yaml)
        self.container = container  # the container's name, for allow-lists

    def _key(self) -> tuple[str, ...]:
        return (self.transform, self.severity, self.message, self.where, self.fix, self.rule, self.hub_key, self.container)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Finding) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable (the pipeline settles severities)

    def __repr__(self) -> str:
        return f"Finding({self.transform!r}, {self.severity!r}, {self.message!r}, where={self.where!r})"

    @classmethod
    def on_container(
        cls, transform: str, severity: str, message: str, document: Document, container: ContainerRef,
        *, fix: str = "", rule: str = "",
    ) -> Finding:
        """A finding about one container of a pod spec."""
        return cls(
            transform, severity, message, document, container.where, fix, rule, container=container.name
        )

    def line(self) -> str:
        """The one-line form used for errors and warnings."""
        return finding_line(self.to_json())

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


class Report:
    """Every finding of a run, the mode, the exit code and, for a run that stopped, why."""

    __slots__ = ("exit_code", "fatal", "findings", "mode")

    def __init__(
        self, mode: str = "enforce", findings: list[Finding] | None = None, exit_code: int = 0, fatal: str = ""
    ) -> None:
        self.mode = mode
        self.findings = findings if findings is not None else []
        self.exit_code = exit_code
        self.fatal = fatal  # the one-line reason when the run stopped on bad input or settings

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def summary(self) -> str:
        return summary_line(self.to_json())

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
        import json

        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.to_json(), handle, indent=2, sort_keys=False)
            handle.write("\n")

    def table(self) -> str:
        return table(self.to_json())


# --- text forms, from the JSON form so the plugin prints a post-renderer's report the same way


def location(finding: dict[str, Any]) -> str:
    """``document 12 (jupyterhub/templates/hub/deployment.yaml) Deployment/hub, container hub``."""
    parts = []
    if finding.get("document") is not None:
        number = finding["document"]
        text = f"document {number}" if number else "new document"
        if finding.get("item") is not None:
            text += f" item {finding['item'] + 1}"
        if finding.get("source"):
            text += f" ({finding['source']})"
        parts.append(text)
        parts.append(f"{finding.get('kind')}/{finding.get('name')}")
    text = " ".join(parts)
    if finding.get("where"):
        text = f"{text}, {finding['where']}" if text else finding["where"]
    return text


def finding_line(finding: dict[str, Any]) -> str:
    text = f"{finding['severity']}: {location(finding)}: {finding['message']}"
    if finding.get("fix"):
        text += f"; fix: {finding['fix']}"
    return text


def summary_line(report: dict[str, Any]) -> str:
    counts = report.get("summary", {})
    parts = ", ".join(
        f"{counts.get(s, 0)} {s}{'' if counts.get(s, 0) == 1 else 's'}" for s in (CHANGE, WARNING, ERROR)
    )
    return f"jhub-ck8s: {parts} (mode {report.get('mode', 'enforce')})"


def table(report: dict[str, Any], *, changes: bool = True) -> str:
    """Changes as an aligned table, then warnings and errors one per line, then a summary."""
    if report.get("fatal"):
        # The run stopped: its partial findings and a "0 errors" summary would only mislead.
        return report["fatal"] + "\n"
    findings = report.get("findings", [])
    rows = [f for f in findings if f["severity"] in (CHANGE, INFO)] if changes else []
    lines: list[str] = []
    if rows:
        header = ("DOC", "OBJECT", "WHERE", "TRANSFORM")
        cells = []
        for f in rows:
            doc = "-" if f.get("document") is None else str(f["document"] or "new")
            if f.get("item") is not None:
                doc += f" item {f['item'] + 1}"
            label = f"{f['kind']}/{f['name']}" if f.get("kind") else "-"
            cells.append((doc, label, f.get("where") or "-", f["transform"], f["message"]))
        widths = [max(len(r[i]) for r in [header, *cells]) for i in range(4)]
        for row in [(*header, "WHAT"), *cells]:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
    lines += [finding_line(f) for f in findings if f["severity"] in (WARNING, ERROR)]
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
