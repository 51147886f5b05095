"""The one kubeconform command line: strict, offline schemas, a pinned Kubernetes version.

``make setup`` installs kubeconform and the offline schemas under ``.tools/`` (or
``$JHUB_CK8S_TOOLS``) and writes the ``-schema-location`` template to
``schemas/LOCATION``. ``check --kubernetes-version`` and the tests build their call here.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UserError

TOOLS_ENV = "JHUB_CK8S_TOOLS"


def tools_dir() -> Path:
    """Where setup installs kubeconform and the offline schemas."""
    return Path(os.environ.get(TOOLS_ENV) or Path(__file__).resolve().parents[1] / ".tools")


def missing(tools: Path | None = None) -> str | None:
    """Why kubeconform cannot run (one line), or None when it and its schemas are installed."""
    tools = tools or tools_dir()
    if (tools / "bin" / "kubeconform").exists() and (tools / "schemas" / "LOCATION").exists():
        return None
    return (
        f"kubeconform and its offline schemas are not installed under {tools} "
        f"(bin/kubeconform, schemas/LOCATION): run make setup, or set ${TOOLS_ENV}"
    )


def command(kubernetes_version: str, *, output: str = "json", summary: bool = False, tools: Path | None = None) -> list[str]:
    """``kubeconform -strict`` for this Kubernetes version (X.Y.Z), reading documents from stdin."""
    tools = tools or tools_dir()
    problem = missing(tools)
    if problem:
        raise UserError(problem)
    location = (tools / "schemas" / "LOCATION").read_text(encoding="utf-8").strip()
    return [
        str(tools / "bin" / "kubeconform"), "-strict", *(["-summary"] if summary else []), "-output", output,
        "-kubernetes-version", kubernetes_version, "-schema-location", location, "-",
    ]
