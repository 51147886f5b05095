"""The tests' control plane is the sandbox's: tools/sandbox/controlplane.py (``make sandbox``
starts the same code), so what the tests prove is what people try."""

from __future__ import annotations

import sys

from paths import REPO

if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))

from sandbox.controlplane import (
    POLICIES,
    POLICY_REGISTRY,
    SAFEGUARDS_LABEL,
    TENANT_USER,
    Binaries,
    ControlPlane,
    ControlPlaneError,
    Identity,
    find_binaries,
)

__all__ = [
    "POLICIES", "POLICY_REGISTRY", "SAFEGUARDS_LABEL", "TENANT_USER", "Binaries", "ControlPlane", "ControlPlaneError", "Identity",
    "find_binaries",
]
