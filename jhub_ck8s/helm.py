"""Everything that runs ``helm`` lives here, behind one small class that tests can fake.

Helm 3 and Helm 4 differ exactly where a post-renderer plugs in (see the README's
"Helm 3 vs Helm 4"): Helm 3 takes ``--post-renderer PATH``; Helm 4 takes only the
name of an installed ``postrenderer/v1`` plugin. ``post_renderer_for`` hides that:
on Helm 4 it registers a private plugin in a temporary folder seen only by the
child helm (``HELM_PLUGINS=<tmp>:<the user's plugins>``), so nothing is written to
the user's helm folders and no v1 manifest ever sits where a Helm 3 could read it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError

PRIVATE_PLUGIN_NAME = "jhub-ck8s-private"

Runner = Callable[..., subprocess.CompletedProcess]


@dataclass(frozen=True)
class HelmVersion:
    text: str  # "v3.17.2"

    @property
    def major(self) -> int:
        try:
            return int(self.text.lstrip("v").split(".")[0])
        except ValueError:
            raise UserError(f"cannot tell the Helm version from {self.text!r}") from None


@dataclass
class Helm:
    """One helm binary and the environment its children get."""

    binary: str
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    runner: Runner = subprocess.run

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Helm:
        """The helm that called the plugin (``$HELM_BIN``), or ``helm`` on PATH."""
        env = dict(os.environ if env is None else env)
        binary = env.get("HELM_BIN") or shutil.which("helm", path=env.get("PATH"))
        if not binary:
            raise UserError("helm not found: put helm on PATH or set HELM_BIN to its path")
        return cls(binary, env)

    def run(
        self, args: Sequence[str], *, extra_env: Mapping[str, str] | None = None, capture: bool = False
    ) -> subprocess.CompletedProcess:
        try:
            return self.runner(
                [self.binary, *args],
                env={**self.env, **(extra_env or {})},
                stdout=subprocess.PIPE if capture else None,
                stderr=subprocess.PIPE if capture else None,
                text=True,
                check=False,
            )
        except OSError as exc:
            raise UserError(f"cannot run {self.binary}: {exc.strerror}") from None

    def version(self) -> HelmVersion:
        result = self.run(["version", "--template", "{{.Version}}"], capture=True)
        if result.returncode != 0:
            raise UserError(f"{self.binary} version failed: {(result.stderr or '').strip().splitlines()[-1:]}")
        return HelmVersion(result.stdout.strip())

    def plugins_path(self) -> str:
        """Where this helm looks for plugins (``helm env HELM_PLUGINS``)."""
        if self.env.get("HELM_PLUGINS"):
            return self.env["HELM_PLUGINS"]
        result = self.run(["env", "HELM_PLUGINS"], capture=True)
        return result.stdout.strip() if result.returncode == 0 else ""


@dataclass(frozen=True)
class PostRenderer:
    """The flags and environment that make one helm run our post-renderer."""

    args: tuple[str, ...]
    env: Mapping[str, str]


POSTRENDERER_MANIFEST = """\
# Written by helm ck8s-jupyter for one helm call; never installed anywhere.
apiVersion: v1
type: postrenderer/v1
name: {name}
version: 0.1.0
runtime: subprocess
runtimeConfig:
  platformCommand:
    - command: "{command}"
"""


def post_renderer_for(
    helm: Helm, version: HelmVersion, executable: Path, workdir: Path, args: Sequence[str] = ()
) -> PostRenderer:
    """How to pass ``executable`` (bin/jhub-ck8s) as the post-renderer on this helm."""
    extra = tuple(a for arg in args for a in ("--post-renderer-args", arg))
    if version.major < 4:
        return PostRenderer(("--post-renderer", str(executable), *extra), {})
    plugin_dir = workdir / "plugins" / PRIVATE_PLUGIN_NAME
    plugin_dir.mkdir(parents=True, exist_ok=True)
    (plugin_dir / "plugin.yaml").write_text(
        POSTRENDERER_MANIFEST.format(name=PRIVATE_PLUGIN_NAME, command=executable), encoding="utf-8"
    )
    existing = helm.plugins_path()
    plugins = str(workdir / "plugins") + (os.pathsep + existing if existing else "")
    return PostRenderer(("--post-renderer", PRIVATE_PLUGIN_NAME, *extra), {"HELM_PLUGINS": plugins})


def dry_run_flag(version: HelmVersion) -> str:
    """Helm 4 made --dry-run take a value; client-side is what Helm 3's bare flag did."""
    return "--dry-run" if version.major < 4 else "--dry-run=client"


def atomic_flag(version: HelmVersion) -> str:
    return "--atomic" if version.major < 4 else "--rollback-on-failure"


def server_dry_run_flag(version: HelmVersion) -> str:
    """The dry run Helm itself does for an upgrade with the cluster: ``lookup`` reads the live
    objects (the release's generated tokens are kept) and the API server validates.
    The same spelling on Helm 3 (3.13+) and Helm 4."""
    return "--dry-run=server"


def get_manifest(helm: Helm, release: str, namespace: str | None, kube_context: str | None) -> str | None:
    """``helm get manifest``: the last deployed release's objects, or None if there is no such release.

    A helm failure for any other reason (no cluster, a bad kubeconfig, no access) is a
    UserError with helm's own last line.
    """
    args = ["get", "manifest", release]
    if namespace:
        args += ["--namespace", namespace]
    if kube_context:
        args += ["--kube-context", kube_context]
    result = helm.run(args, capture=True)
    if result.returncode == 0:
        return result.stdout or ""
    lines = [line.strip() for line in (result.stderr or "").splitlines() if line.strip()]
    last = lines[-1] if lines else f"exit {result.returncode}"
    if "release: not found" in last:
        return None
    raise UserError(f"helm get manifest {release} failed: {last.removeprefix('Error: ')}")
