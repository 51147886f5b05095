"""The tests' Kubernetes client is the sandbox's: tools/sandbox/kubeapi.py (one definition)."""

from __future__ import annotations

import sys

from paths import REPO

if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))

from sandbox.kubeapi import Answer, KubeAPI, Resource, UnknownKind

__all__ = ["Answer", "KubeAPI", "Resource", "UnknownKind"]
