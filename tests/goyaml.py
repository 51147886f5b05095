"""The Go YAML oracle: read a stream exactly as Helm 3 or Helm 4 reads it (tools/yamlread).

``make setup`` builds ``.tools/bin/yamlread-helm3`` and ``yamlread-helm4`` from the
project's own Go module, pinned to the ``sigs.k8s.io/yaml`` and ``k8s.io/apimachinery``
versions inside each pinned helm binary. ``go_read`` returns one JSON value per
document, as Helm's Kubernetes client sees it; ``meant`` is the JSON of what the
Python side intended to write, for comparison.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import TOOLS

HELMS = ("helm3", "helm4")


class GoReadError(AssertionError):
    """Go refused the stream; the message is Go's own."""


def oracle(helm: str) -> Path:
    binary = TOOLS / "bin" / f"yamlread-{helm}"
    if not binary.exists():
        pytest.skip(f"the Go YAML oracle {binary} is not built: run make setup (target yamlread)")
    return binary


def go_read(text: str, helm: str = "helm4", *, strict: bool = False) -> list[Any]:
    """Every non-empty document of ``text`` as Go reads it (JSON-decoded); GoReadError if Go refuses."""
    command = [str(oracle(helm)), *(["-strict"] if strict else [])]
    done = subprocess.run(command, input=text.encode("utf-8"), capture_output=True, check=False, timeout=120)
    if done.returncode != 0:
        raise GoReadError(f"{helm}'s YAML reader refused the stream: {done.stderr.decode(errors='replace').strip()}")
    return [json.loads(line) for line in done.stdout.decode("utf-8").split("\n") if line]


def meant(obj: Any) -> Any:
    """The JSON form of a Python object (what we meant Helm to read)."""
    return json.loads(json.dumps(obj, allow_nan=False))
