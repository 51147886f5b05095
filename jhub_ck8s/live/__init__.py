"""What reads the live cluster: one small client (``client.py``) and the checks over it.

``client`` reads the kubeconfig the way helm and kubectl do and talks to the API server
with the standard library only. Its writes are server-side dry runs and nothing else.
Every failure is a ``LiveError`` with one line for a person, never Secret data.

Used by ``helm ck8s-jupyter preflight`` (the checks in this package) and ``diff``.
"""

from __future__ import annotations

from .client import (
    AccessReview,
    ApiError,
    BadRequest,
    Client,
    ConfigError,
    Conflict,
    DryRun,
    Forbidden,
    Invalid,
    KubeConfig,
    LiveError,
    NotFound,
    Resource,
    Unauthorized,
    Unreachable,
    load_config,
)

__all__ = [
    "AccessReview",
    "ApiError",
    "BadRequest",
    "Client",
    "ConfigError",
    "Conflict",
    "DryRun",
    "Forbidden",
    "Invalid",
    "KubeConfig",
    "LiveError",
    "NotFound",
    "Resource",
    "Unauthorized",
    "Unreachable",
    "load_config",
]
