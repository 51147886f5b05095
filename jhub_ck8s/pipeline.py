"""stdin -> parse -> settings -> transforms -> report -> serialise: one run of the post-renderer.

The pipeline owns what every transform shares, so no transform re-implements it:
it refuses objects Kubernetes could never decode before any transform runs
(``wellformed``), marks the documents a change touched (only those are re-emitted),
turns errors into warnings in warn mode and into info where the allow-list accepts
them, writes the hub's runtime config back into ``Secret/hub`` once (before the
transforms that ask to see it written, ``patches``, and at the end), points
``checksum/secret`` at the Secret as written, and never returns partial output: on
any error the output is empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

from . import hubconfig
from .documents import Document, serialize
from .errors import EXIT_INPUT, EXIT_OK, EXIT_POLICY, SettingsError, UserError
from .report import CHANGE, ERROR, INFO, WARNING, Finding, Report
from .settings import Settings, find_in_stream, merge
from .stream import Stream, parse

PIPELINE_ID = "pipeline"


class Result(NamedTuple):
    """What a run produced: the output stream (empty unless exit code 0) and its report."""

    output: str  # the post-rendered stream; empty unless exit_code is 0
    report: Report
    settings: Settings | None = None
    stream: Stream | None = None

    @property
    def exit_code(self) -> int:
        return self.report.exit_code


def _in_stream_settings(stream: Stream, report: Report) -> dict[str, Any]:
    layer, doc = find_in_stream(stream.documents)
    if doc is not None:
        doc.removed = True
        report.findings.append(
            Finding(PIPELINE_ID, INFO, "read the settings document and removed it from the output", doc)
        )
    return layer


def _allowed(finding: Finding, settings: Settings) -> bool:
    doc = finding.document
    return any(
        fnmatchcase(doc.kind if doc else "", rule.kind)
        and fnmatchcase(doc.name if doc else "", rule.name)
        and fnmatchcase(finding.container, rule.container)
        and fnmatchcase(finding.rule, rule.rule)
        for rule in settings.allow
    )


def _settle(finding: Finding, settings: Settings, stream: Stream) -> Finding:
    """Apply allow-list and mode to an error; mark what a change touched."""
    if finding.severity == ERROR:
        if _allowed(finding, settings):
            finding.severity = INFO
            finding.message += " (accepted by the allow-list)"
        elif not settings.enforce:
            finding.severity = WARNING
            finding.message += " (an error in enforce mode)"
    elif finding.severity == CHANGE:
        if finding.document is not None:
            finding.document.mark_changed()
        hub = stream.hub() if finding.hub_key else None
        if hub is not None:
            hub.changed = True
    return finding


def _check_disabled(registry: Mapping[str, Any], layers: tuple[Mapping[str, Any], ...]) -> None:
    """Every ID in ``disable`` names a transform of the registry (the settings only know names).

    ``layers`` strongest first; the message names the source as the settings' own do.
    """
    for layer in layers:
        unknown = [name for name in layer.get("disable", ()) if name not in registry]
        if unknown:
            origin = getattr(layer, "origin", "") or "settings"
            reason = f"unknown transform {unknown[0]!r} (known: {', '.join(registry)})"
            raise SettingsError(f"{origin}: setting 'disable': {reason}", key="disable", reason=reason, origin=origin)


def _write_back(stream: Stream) -> None:
    """The hub's runtime config into Secret/hub, if a transform changed it (once)."""
    hub = stream.decoded_hub
    if hub is not None:
        hubconfig.store(hub)


def _config_missing(secret: Document) -> Finding:
    return Finding(
        PIPELINE_ID,
        WARNING,
        f"has no {hubconfig.VALUES_KEY}, so the hub's runtime config (the user pods it spawns) cannot be "
        "checked or hardened",
        secret,
        fix="render the upstream jupyterhub chart's Secret/hub unchanged",
        rule="hub-config-missing",
    )


def run(
    text: str,
    *,
    file_layer: Mapping[str, Any] | None = None,
    flag_layer: Mapping[str, Any] | None = None,
) -> Result:
    """Post-render one stream. Bad input or settings give exit 2 and ``report.fatal``."""
    from .transforms import REGISTRY

    report = Report()
    try:
        stream = Stream(parse(text))
        # The documents keep what they need of it; a large stream is not held twice (peak memory).
        del text
        stream_layer = _in_stream_settings(stream, report)
        settings = merge(stream_layer, file_layer or {}, flag_layer or {})
        _check_disabled(REGISTRY, (flag_layer or {}, file_layer or {}, stream_layer))
        report.mode = settings.mode
        missing = hubconfig.secret_without_config(stream.documents)
        if missing is not None:
            report.findings.append(_config_missing(missing))
        for transform_id, module in REGISTRY.items():
            if transform_id in settings.disable:
                continue
            if getattr(module, "AFTER_HUB_WRITE_BACK", False):
                _write_back(stream)
            report.findings.extend(_settle(f, settings, stream) for f in module.apply(stream, settings))
        _write_back(stream)
        secret = hubconfig.secret_document(stream.documents)
        for doc in hubconfig.refresh_checksums(secret, stream.documents) if secret else ():
            report.findings.append(
                Finding(
                    PIPELINE_ID,
                    CHANGE,
                    "updated checksum/secret so the hub restarts and reads the changed config",
                    doc,
                    where="pod template annotations",
                )
            )
    except UserError as exc:
        report.fatal = f"error: {exc}"
        report.exit_code = EXIT_INPUT
        return Result("", report)
    if report.count(ERROR):
        report.exit_code = EXIT_POLICY
        return Result("", report, settings, stream)
    report.exit_code = EXIT_OK
    return Result(serialize(stream.documents), report, settings, stream)
