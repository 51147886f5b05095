"""The three forms of an audit: a report for people, JSON and JUnit XML for tools.

Guarantees:

* all three carry the same findings (rule id, severity, object, where, message, fix);
* ``text``: grouped by object (findings in stream order, spawned user pods last),
  each pod-bearing object with the highest Pod Security level it satisfies, then the
  notes, then one summary line (``summary``) that starts with ``admissible`` or
  ``NOT admissible``; ``quiet`` leaves out objects without findings;
* ``to_json``: one object, ``{"version": 1, "admissible", "exitCode", "summary",
  "notes", "objects": [...]}``; each object lists ``rulesChecked`` and its findings;
* ``to_junit``: a ``<testsuite>`` per object, a ``<testcase>`` per rule checked (named
  by rule id), a ``<failure>`` per rule broken holding every finding of that rule;
  warnings are failures only with ``--strict`` (else ``<system-out>``); rules not
  evaluated are ``<skipped>``. Built with ``xml.etree``, so it is always well-formed.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any

from .model import ERROR, LEVELS, WARNING, Audit, Finding, Subject

JSON_VERSION = 1
FORMATS = ("text", "json", "junit")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def summary(audit: Audit) -> str:
    """The one-line verdict."""
    verdict = "admissible" if audit.admissible else "NOT admissible"
    counts = f"{_plural(audit.count(ERROR), 'error')}, {_plural(audit.count(WARNING), 'warning')}"
    if audit.strict and audit.count(WARNING):
        counts += " (--strict: warnings count as failures)"
    scope = f"{_plural(audit.documents, 'document')}, {_plural(audit.spawned_pods, 'spawned user pod')}"
    levels = Counter(s.pss_level for s in audit.pods())
    pss = ", ".join(f"{levels[level]} {level}" for level in reversed(LEVELS) if levels[level])
    return f"{verdict}: {counts} in {scope}" + (f"; Pod Security levels: {pss}" if pss else "")


def _heading(subject: Subject) -> str:
    where = []
    if subject.document is not None:
        where.append(f"document {subject.document}")
    if subject.source:
        where.append(subject.source)
    text = subject.label + (f" ({', '.join(where)})" if where else "")
    if subject.pss_level:
        text += f"  [Pod Security: {subject.pss_level}]"
    return text


def _finding_line(finding: Finding) -> str:
    where = f"{finding.where}: " if finding.where else ""
    return f"{finding.severity}: {finding.rule}: {where}{finding.message}"


def text(audit: Audit, *, quiet: bool = False) -> str:
    """The report for people (see the module docstring)."""
    lines: list[str] = []
    for subject in audit.subjects:
        if not subject.findings and (quiet or not subject.is_pod):
            continue
        lines.append(_heading(subject))
        if not subject.findings:
            lines.append("  ok")
        for finding in subject.findings:
            lines.append("  " + _finding_line(finding))
            if finding.fix:
                lines.append(f"      fix: {finding.fix}")
        lines.append("")
    lines += [f"note: {note}" for note in audit.notes]
    lines.append(summary(audit))
    return "\n".join(lines) + "\n"


def to_json(audit: Audit) -> dict[str, Any]:
    """The audit as one JSON-ready object."""
    levels = Counter(s.pss_level for s in audit.pods())
    return {
        "version": JSON_VERSION,
        "admissible": audit.admissible,
        "exitCode": audit.exit_code,
        "strict": audit.strict,
        "summary": {
            "errors": audit.count(ERROR),
            "warnings": audit.count(WARNING),
            "documents": audit.documents,
            "spawnedPods": audit.spawned_pods,
            "podSecurityLevels": {level: levels[level] for level in LEVELS},
            "line": summary(audit),
        },
        "notes": list(audit.notes),
        "objects": [s.to_json() for s in audit.subjects],
    }


def json_text(audit: Audit) -> str:
    return json.dumps(to_json(audit), indent=2) + "\n"


def _testsuite(subject: Subject, strict: bool) -> ET.Element:
    suite = ET.Element("testsuite", name=subject.label)
    props = ET.SubElement(suite, "properties")
    for name, value in (("kind", subject.kind), ("name", subject.name), ("document", subject.document),
                        ("source", subject.source), ("podSecurityLevel", subject.pss_level)):
        if value not in (None, ""):
            ET.SubElement(props, "property", name=name, value=str(value))
    tests = failures = skipped = 0
    for rule in [*subject.checked, *(r for r in subject.skipped if r not in subject.checked)]:
        tests += 1
        case = ET.SubElement(suite, "testcase", classname=subject.label, name=rule)
        if rule in subject.skipped and rule not in subject.checked:
            skipped += 1
            ET.SubElement(case, "skipped", message=subject.skipped[rule])
            continue
        found = [f for f in subject.findings if f.rule == rule]
        failing = [f for f in found if f.severity == ERROR or (strict and f.severity == WARNING)]
        body = "\n".join(_finding_line(f) + (f"\n  fix: {f.fix}" if f.fix else "") for f in found)
        if failing:
            failures += 1
            kind = ERROR if any(f.severity == ERROR for f in failing) else WARNING
            failure = ET.SubElement(case, "failure", type=kind, message=failing[0].message)
            failure.text = body
        elif found:
            out = ET.SubElement(case, "system-out")
            out.text = body
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    return suite


def to_junit(audit: Audit) -> ET.Element:
    """The audit as a JUnit ``<testsuites>`` element."""
    root = ET.Element("testsuites", name="ck8s-jupyter check")
    totals: Counter[str] = Counter()
    for subject in audit.subjects:
        suite = _testsuite(subject, audit.strict)
        for key in ("tests", "failures", "skipped"):
            totals[key] += int(suite.get(key, "0"))
        root.append(suite)
    if audit.notes:
        notes = ET.SubElement(root, "testsuite", name="notes", tests="0", failures="0", errors="0", skipped="0")
        out = ET.SubElement(notes, "system-out")
        out.text = "\n".join(audit.notes)
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "0")
    root.set("skipped", str(totals["skipped"]))
    return root


def junit_text(audit: Audit) -> str:
    root = to_junit(audit)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render(audit: Audit, fmt: str, *, quiet: bool = False) -> str:
    """The audit in one of ``FORMATS``."""
    if fmt == "json":
        return json_text(audit)
    if fmt == "junit":
        return junit_text(audit)
    return text(audit, quiet=quiet)
