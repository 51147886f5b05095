"""The sandbox's stand-in for the platform's Harbor: Debian's docker-registry on 127.0.0.1.

* ``Harbor`` prepares a registry folder (config, htpasswd with a robot account and a
  random password), and says how to start it (the control plane runs it as one of its
  processes) and what the tenant's pull secret holds;
* ``standin_image`` builds one small OCI image offline with ``umoci`` (a text file, no
  program: kwok runs no containers), ``push`` copies it under each of the release's image
  names with ``skopeo``;
* ``release_images`` asks the plugin itself (``helm ck8s-jupyter images``) for the
  release's image names in the registry, so the list follows the chart.

Everything is plain HTTP on loopback (the registry listens on 127.0.0.1 only).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY_BINARY = "/usr/bin/docker-registry"
NEEDED = {"docker-registry": REGISTRY_BINARY, "skopeo": "skopeo", "umoci": "umoci", "htpasswd": "htpasswd"}
ROBOT = "robot$sandbox"  # Harbor's robot account naming
PROJECT = "jupyterhub"


def missing_tools() -> list[str]:
    return [name for name, binary in NEEDED.items()
            if not (os.access(binary, os.X_OK) if binary.startswith("/") else shutil.which(binary))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Harbor:
    folder: Path
    port: int
    password: str

    @classmethod
    def prepare(cls, folder: Path) -> Harbor:
        folder.mkdir(parents=True)
        harbor = cls(folder, _free_port(), secrets.token_hex(16))
        htpasswd = subprocess.run(["htpasswd", "-Bbn", ROBOT, harbor.password], capture_output=True, text=True,
                                  check=True).stdout
        (folder / "htpasswd").write_text(htpasswd)
        (folder / "htpasswd").chmod(0o600)
        (folder / "config.yml").write_text("\n".join([
            "version: 0.1",
            "log: {level: warn}",
            "storage:",
            f"  filesystem: {{rootdirectory: {folder / 'data'}}}",
            "http:",
            f"  addr: 127.0.0.1:{harbor.port}",
            "auth:",
            "  htpasswd:",
            "    realm: sandbox-harbor",
            f"    path: {folder / 'htpasswd'}",
        ]) + "\n")
        return harbor

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def project(self) -> str:
        """``HOST/PROJECT``: what ``ck8s.registry`` is set to."""
        return f"{self.host}/{PROJECT}"

    def command(self) -> list[str]:
        return [REGISTRY_BINARY, "serve", str(self.folder / "config.yml")]

    def dockerconfigjson(self) -> bytes:
        auth = base64.b64encode(f"{ROBOT}:{self.password}".encode()).decode()
        return json.dumps({"auths": {self.host: {"username": ROBOT, "password": self.password, "auth": auth}}}).encode()

    def ready(self) -> bool | str:
        try:
            urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1)
        except urllib.error.HTTPError as exc:
            return True if exc.code == 401 else f"HTTP {exc.code}"
        except OSError as exc:
            return str(exc)
        return "answered without asking for credentials"

    def push(self, layout: Path, tag: str, destination: str) -> None:
        subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", f"{ROBOT}:{self.password}",
                        f"oci:{layout}:{tag}", f"docker://{destination}"], check=True, capture_output=True, timeout=120)


def standin_image(folder: Path) -> tuple[Path, str]:
    """One small image (linux/amd64, a text file saying what it is): (OCI layout, tag)."""
    layout, tag = folder / "oci", "standin"
    folder.mkdir(parents=True, exist_ok=True)
    note = folder / "STANDIN.txt"
    note.write_text("A stand-in image of the jhub-ck8s sandbox: kwok runs no containers.\n")

    def umoci(*args: str) -> None:
        subprocess.run(["umoci", *args], check=True, capture_output=True, timeout=60)

    umoci("init", "--layout", str(layout))
    umoci("new", "--image", f"{layout}:{tag}")
    umoci("insert", "--rootless", "--image", f"{layout}:{tag}", str(note), "/STANDIN.txt")
    umoci("config", "--image", f"{layout}:{tag}", "--architecture", "amd64", "--os", "linux")
    return layout, tag


def release_images(chart_archive: Path, registry: str, helm: Path, workdir: Path) -> list[str]:
    """The release's image names in ``registry``, from ``helm ck8s-jupyter images`` (the wrapper chart's defaults)."""
    home = workdir / "helm-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "HELM_BIN": str(helm),
           "HELM_CACHE_HOME": str(home / "cache"), "HELM_CONFIG_HOME": str(home / "config"),
           "HELM_DATA_HOME": str(home / "data")}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "jhub_ck8s.cli", "images", "--chart-archive", str(chart_archive),
                             "--registry", registry, "--output", "json"], env=env, capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=180, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"helm ck8s-jupyter images failed after {time.monotonic() - started:.0f}s: {result.stderr.strip()[-800:]}")
    return sorted({image["destination"] for image in json.loads(result.stdout)["images"] if image.get("destination")})
