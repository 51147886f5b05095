"""Shared by the GitOps tests: the real chart archive, helm 3 and 4, and a tenant's values.

Plain module (no fixtures): the tests skip, saying why, when the archive or a helm is absent.
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml
from paths import REPO, TOOLS, Z2JH

ARCHIVE = Z2JH / "chart" / "jupyterhub-4.4.0.tgz"
ARCHIVE_MISSING = f"the real chart archive is not at {ARCHIVE} (../shared beside the checkout, as CI has it)"
HELMS = ("helm3", "helm4")
REGISTRY = "harbor.acme.se/jupyterhub"
EXISTING = "jhub-secrets"

# A tenant's GitOps values: the tokens live in the Secret they manage (hub.existingSecret).
# No secret of theirs is written here; a service makes the chart generate one more token.
VALUES = f"""\
ck8s:
  registry: {REGISTRY}
  pullSecret: pull-secret
jupyterhub:
  imagePullSecrets: [pull-secret]
  hub:
    existingSecret: {EXISTING}
    config:
      JupyterHub: {{authenticator_class: dummy, admin_users: [ada]}}
      Authenticator: {{allowed_users: [ada]}}
    services:
      monitor: {{admin: false}}
  ingress:
    hosts: [jupyter.acme.se]
"""


def helm_path(name: str) -> Path:
    return TOOLS / "bin" / name


def missing(name: str) -> str | None:
    """Why a test with this helm cannot run, or None."""
    if not ARCHIVE.is_file():
        return ARCHIVE_MISSING
    if not os.access(helm_path(name), os.X_OK):
        return f"{helm_path(name)} is missing: run make setup"
    return None


def ck8s_jupyter(helm: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``helm ck8s-jupyter ARGS`` as the plugin runs inside ``helm``: HELM_BIN names that helm."""
    env = {**os.environ, "HELM_BIN": str(helm_path(helm))}
    return subprocess.run(
        [str(REPO / "bin" / "ck8s-jupyter"), *args], capture_output=True, text=True, env=env, cwd=cwd, check=False,
    )


def render(helm: str, values: Path, *extra: str) -> subprocess.CompletedProcess:
    return ck8s_jupyter(
        helm, "render", "jhub", "-n", "jhub", "-f", str(values), "--chart-archive", str(ARCHIVE), *extra,
    )


def objects(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def by_label(text: str) -> dict[str, dict[str, Any]]:
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in objects(text)}


def token_refs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The secretKeyRef of every CONFIGPROXY_AUTH_TOKEN in a Deployment's containers."""
    spec = obj["spec"]["template"]["spec"]
    return [
        e["valueFrom"]["secretKeyRef"]
        for c in spec.get("containers", []) + spec.get("initContainers", [])
        for e in c.get("env", [])
        if e.get("name") == "CONFIGPROXY_AUTH_TOKEN"
    ]


def hub_values(secret: dict[str, Any]) -> dict[str, Any]:
    return dict(yaml.safe_load(base64.b64decode(secret["data"]["values.yaml"])))
