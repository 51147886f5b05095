"""The one report: every change and finding of a run, as a table for people and JSON for tools.

Transforms never print. They return ``Finding`` objects; the pipeline collects them
here. Findings about ``Secret/hub`` name key paths only, never values: the Secret
holds tokens, and nothing of it may reach stderr, a report file or an error message.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import os

    from .documents import Document
    from .podspec import ContainerRef

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
        return ReportedFinding.from_json(self.to_json()).line()

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
        return SavedReport.from_json(self.to_json()).summary_line()

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

    def table(self, *, changes: bool = True) -> str:
        return SavedReport.from_json(self.to_json()).table(changes=changes)


# --- the JSON form read back, and the text forms made from it -------------------------------
#
# ``helm ck8s-jupyter`` reads the report file its child post-renderer wrote (Helm 4 throws a
# post-renderer's stderr away): the file is parsed here, in one place, into typed records,
# and the post-renderer prints its own report through the same records, so both look alike.


class ReportFormatError(ValueError):
    """A report file that is not a report of this version (cut short, or not ours)."""


def _field(data: Mapping[str, Any], key: str, kind: type, default: Any = None) -> Any:
    value = data.get(key, default)
    if value is not None and (not isinstance(value, kind) or (isinstance(value, bool) and kind is int)):
        raise ReportFormatError(f"report: {key!r} is {type(value).__name__}")
    return value


class ReportedFinding(NamedTuple):
    """One finding as the JSON report holds it (``Finding.to_json``)."""

    transform: str
    severity: str
    message: str
    rule: str | None = None
    document: int | None = None  # 1-based; 0 for a document the run added
    item: int | None = None  # 0-based item of a List
    source: str | None = None  # the chart template
    kind: str | None = None
    name: str | None = None
    where: str | None = None
    container: str | None = None
    fix: str | None = None

    @classmethod
    def from_json(cls, data: object) -> ReportedFinding:
        if not isinstance(data, Mapping):
            raise ReportFormatError("report: a finding is not a mapping")
        texts = {key: _field(data, key, str) for key in ("rule", "source", "kind", "name", "where", "container", "fix")}
        required = {key: _field(data, key, str) for key in ("transform", "severity", "message")}
        if None in required.values():
            raise ReportFormatError("report: a finding without transform, severity or message")
        return cls(**required, **texts, document=_field(data, "document", int), item=_field(data, "item", int))

    @property
    def location(self) -> str:
        """``document 12 (jupyterhub/templates/hub/deployment.yaml) Deployment/hub, container hub``."""
        parts = []
        if self.document is not None:
            text = f"document {self.document}" if self.document else "new document"
            if self.item is not None:
                text += f" item {self.item + 1}"
            if self.source:
                text += f" ({self.source})"
            parts.append(text)
            parts.append(f"{self.kind}/{self.name}")
        text = " ".join(parts)
        if self.where:
            text = f"{text}, {self.where}" if text else self.where
        return text

    def line(self) -> str:
        text = f"{self.severity}: {self.location}: {self.message}"
        if self.fix:
            text += f"; fix: {self.fix}"
        return text


class SavedReport(NamedTuple):
    """A post-renderer's report as read from its JSON form (``Report.to_json``)."""

    mode: str = "enforce"
    exit_code: int = 0
    fatal: str | None = None  # the one-line reason when the run stopped
    counts: Mapping[str, int] = MappingProxyType({})  # severity -> number of findings
    findings: tuple[ReportedFinding, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> SavedReport:
        """ReportFormatError when ``data`` does not have the shape of a report."""
        if not isinstance(data, Mapping):
            raise ReportFormatError("report: not a mapping")
        counts = _field(data, "summary", Mapping, {})
        if not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in counts.items()):
            raise ReportFormatError("report: summary is not a count per severity")
        findings = _field(data, "findings", list, [])
        return cls(
            mode=_field(data, "mode", str) or "enforce",
            exit_code=_field(data, "exitCode", int) or 0,
            fatal=_field(data, "fatal", str) or None,
            counts=dict(counts),
            findings=tuple(ReportedFinding.from_json(finding) for finding in findings),
        )

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> SavedReport | None:
        """The report in ``path``; None when there is none or it is not a whole report."""
        import json

        try:
            with open(path, encoding="utf-8") as handle:
                return cls.from_json(json.load(handle))
        except (OSError, ValueError):  # missing, cut short (not JSON), or not a report
            return None

    def summary_line(self) -> str:
        parts = ", ".join(
            f"{self.counts.get(s, 0)} {s}{'' if self.counts.get(s, 0) == 1 else 's'}" for s in (CHANGE, WARNING, ERROR)
        )
        return f"jhub-ck8s: {parts} (mode {self.mode})"

    def table(self, *, changes: bool = True) -> str:
        """Changes as an aligned table, then warnings and errors one per line, then a summary."""
        if self.fatal:
            # The run stopped: its partial findings and a "0 errors" summary would only mislead.
            return self.fatal + "\n"
        rows = [f for f in self.findings if f.severity in (CHANGE, INFO)] if changes else []
        lines: list[str] = []
        if rows:
            header = ("DOC", "OBJECT", "WHERE", "TRANSFORM")
            cells = []
            for f in rows:
                doc = "-" if f.document is None else str(f.document or "new")
                if f.item is not None:
                    doc += f" item {f.item + 1}"
                label = f"{f.kind}/{f.name}" if f.kind else "-"
                cells.append((doc, label, f.where or "-", f.transform, f.message))
            widths = [max(len(r[i]) for r in [header, *cells]) for i in range(4)]
            for row in [(*header, "WHAT"), *cells]:
                lines.append("  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
        lines += [f.line() for f in self.findings if f.severity in (WARNING, ERROR)]
        lines.append(self.summary_line())
        return "\n".join(lines) + "\n"
