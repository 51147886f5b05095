"""The registry world the mirror tests share: registries, images, a release stream, and how to run ``mirror``.

``start_world`` starts "upstream" (open) and "harbor" (htpasswd basic auth), builds the
test images offline with umoci (one multi-architecture index), pushes ``UPSTREAM_IMAGES``
and writes a release stream whose images all live in "upstream" (``tests/fixtures/
mirror-release.yaml``). conftest.py's ``world`` fixture holds it for the session.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from string import Template

from conftest import FIXTURES, REPO
from registry_fixtures import PASSWORD, USER, Layout, Registry, build_images, inspect_raw, push, start_registry

# repository:tag in "upstream" -> layout tag pushed there
UPSTREAM_IMAGES = {
    "jupyterhub/k8s-hub:4.4.0": "amd",
    "jupyterhub/configurable-http-proxy:5.2.0": "other",
    "jupyterhub/k8s-image-awaiter:4.4.0": "amd",
    "jupyterhub/k8s-network-tools:4.4.0": "other",
    "jupyterhub/k8s-singleuser-sample:4.4.0": "multi",
    "jupyter/scipy-notebook:2025-06-30": "amd",
    "jupyter/r-notebook:2025-06-30": "other",
    "example/user-sidecar:1.2.3": "arm",
    "library/pause:3.10.1": "amd",
}
MULTI = "jupyterhub/k8s-singleuser-sample:4.4.0"


@dataclass
class World:
    upstream: Registry
    harbor: Registry
    layout: Layout
    stream: Path
    folder: Path

    def project(self) -> str:
        """A fresh project path in "harbor": tests that write there do not meet."""
        return f"{self.harbor.host}/p{uuid.uuid4().hex[:10]}"

    def stop(self) -> None:
        self.upstream.stop()
        self.harbor.stop()


def start_world(folder: Path) -> World:
    """Everything started; on failure what was started is stopped again."""
    started: list[Registry] = []
    try:
        upstream = start_registry(folder / "upstream", "upstream")
        started.append(upstream)
        harbor = start_registry(folder / "harbor", "harbor", auth=(USER, PASSWORD))
        started.append(harbor)
        layout = build_images(folder / "images")
        for repository, tag in UPSTREAM_IMAGES.items():
            push(layout, tag, f"{upstream.host}/{repository}")
        hub_values = Template((FIXTURES / "mirror-hub-values.yaml").read_text()).substitute(upstream=upstream.host)
        stream = Template((FIXTURES / "mirror-release.yaml").read_text()).substitute(
            upstream=upstream.host, hub_values_b64=base64.b64encode(hub_values.encode()).decode()
        )
        path = folder / "release.yaml"
        path.write_text(stream)
        return World(upstream, harbor, layout, path, folder)
    except BaseException:
        for registry in started:
            registry.stop()
        raise


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Isolated from the user's own registry logins."""
    env = {**os.environ, "HOME": str(tmp_path), "REGISTRY_AUTH_FILE": str(tmp_path / "no-auth.json")}
    env.pop("JHUB_CK8S_SRC_CREDS", None)
    env.pop("JHUB_CK8S_DEST_CREDS", None)
    env.update(extra)
    return env


def mirror_args(world: World, target: str, lock: Path, *extra: str, stream: Path | None = None) -> list[str]:
    return [
        sys.executable, "-m", "jhub_ck8s.cli", "mirror",
        "--from", str(stream or world.stream), "--registry", target,
        "--src-tls-verify=false", "--dest-tls-verify=false", "--lock", str(lock), *extra,
    ]


def run_mirror(world: World, target: str, lock: Path, *extra: str, tmp_path: Path, stream: Path | None = None,
               env: dict[str, str] | None = None, creds: bool = True) -> subprocess.CompletedProcess:
    environment = env_for(tmp_path, **({"JHUB_CK8S_DEST_CREDS": f"{USER}:{PASSWORD}"} if creds else {}))
    environment.update(env or {})
    return subprocess.run(
        mirror_args(world, target, lock, *extra, stream=stream),
        capture_output=True, text=True, cwd=REPO, env=environment, check=False, timeout=300,
    )


def stream_of(folder: Path, *images: str) -> Path:
    """A Deployment with one container per image."""
    path = folder / f"stream-{uuid.uuid4().hex[:6]}.yaml"
    containers = "".join(f"        - name: c{i}\n          image: {image}\n" for i, image in enumerate(images))
    path.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n"
        "  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n"
        f"    spec:\n      containers:\n{containers}"
    )
    return path


def harbor_raw(reference: str) -> bytes | None:
    return inspect_raw(reference, creds=(USER, PASSWORD))


def upstream_digest(world: World, repository: str) -> str:
    return world.layout.digests[UPSTREAM_IMAGES[repository]]


