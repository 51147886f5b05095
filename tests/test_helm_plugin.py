"""The Helm integration, with real helm v3 and v4 binaries (from make setup).

Each test gets its own HELM_DATA_HOME, HELM_CONFIG_HOME, HELM_CACHE_HOME and HELM_PLUGINS;
no helm on the machine's PATH and none of the user's helm folders are used. The plugin is
installed from a copy of the checkout, so its install hook's virtualenv stays out of it;
the hook installs from a local wheelhouse (PIP_NO_INDEX + PIP_FIND_LINKS), which is the
air-gapped path.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO, TOOLS
from standin_chart import package_standin_chart

from jhub_ck8s.stream import parse

REGISTRY = "harbor.example.com/jupyterhub"
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", ".tools", "build", "dist", ".plugin-venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "*.egg-info", ".mypy_cache")


@dataclass
class HelmEnv:
    name: str  # helm3 | helm4
    binary: str
    env: dict[str, str]
    home: Path

    @property
    def major(self) -> int:
        return int(self.name[-1])

    def run(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([self.binary, *args], env={**self.env, **(env or {})}, capture_output=True, text=True, check=False,
                              cwd=cwd, timeout=600)


@pytest.fixture(scope="session")
def plugin_source(tmp_path_factory) -> Path:
    """A copy of the checkout as `helm plugin install` would get it."""
    target = tmp_path_factory.mktemp("plugin") / "jhub-ck8s"
    shutil.copytree(REPO, target, ignore=COPY_IGNORE)
    return target


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory) -> Path:
    """The plugin's pinned runtime wheels, fetched once, for offline plugin installs."""
    target = tmp_path_factory.mktemp("wheels")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "-d", str(target), "-r", str(REPO / "requirements-plugin.txt")],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot fetch the plugin's wheels for the offline install: {result.stderr.strip()[-300:]}")
    return target


@pytest.fixture(scope="session")
def standin_archive(tmp_path_factory) -> Path:
    helm = TOOLS / "bin" / "helm3"
    if not helm.exists():
        pytest.skip(f"{helm} is not installed: run make setup")
    home = tmp_path_factory.mktemp("standin-helm")
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "HELM_DATA_HOME": str(home / "d"), "HELM_CONFIG_HOME": str(home / "c"), "HELM_CACHE_HOME": str(home / "k")}
    return package_standin_chart(str(helm), tmp_path_factory.mktemp("standin"), env)


def _helm_env(name: str, tmp_path: Path, wheelhouse: Path) -> HelmEnv:
    binary = TOOLS / "bin" / name
    if not binary.exists():
        pytest.skip(f"{binary} is not installed: run make setup")
    home = tmp_path / f"{name}-home"
    data = home / "data"
    (data / "plugins").mkdir(parents=True)
    # Only our own folders and the basic system tools: no helm from PATH can sneak in.
    fake_bin = home / "bin"
    fake_bin.mkdir()
    (fake_bin / "helm").symlink_to(binary)
    env = {
        "PATH": f"{fake_bin}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "HELM_DATA_HOME": str(data),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_CACHE_HOME": str(home / "cache"),
        # Helm 4.1-4.3 install into $HELM_DATA_HOME/plugins whatever HELM_PLUGINS says.
        "HELM_PLUGINS": str(data / "plugins"),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "JHUB_CK8S_PYTHON": sys.executable,
    }
    return HelmEnv(name, str(binary), env, home)


@pytest.fixture(params=["helm3", "helm4"])
def helm(request, tmp_path, wheelhouse) -> HelmEnv:
    return _helm_env(request.param, tmp_path, wheelhouse)


@pytest.fixture
def installed(helm, plugin_source) -> HelmEnv:
    result = helm.run("plugin", "install", str(plugin_source))
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "ck8s-jupyter: made " in output  # the hook says what it did
    # the wheelhouse holds only the required wheels: the optional checker extra says it is missing
    assert "warning: could not install jupyterhub-kubespawner" in output
    return helm


def test_plugin_installs_and_shows_help(installed, plugin_source):
    assert (plugin_source / ".plugin-venv" / "bin" / "python").exists()
    listed = installed.run("plugin", "list")
    assert "ck8s-jupyter" in listed.stdout
    helped = installed.run("ck8s-jupyter", "--help")
    assert helped.returncode == 0, helped.stderr
    for command in ("deploy", "render", "init", "import-values", "setup"):
        assert command in helped.stdout


def test_install_hook_fails_clearly_offline_without_wheels(helm, plugin_source, tmp_path):
    source = tmp_path / "plugin-copy"
    shutil.copytree(plugin_source, source, ignore=COPY_IGNORE)
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    result = helm.run("plugin", "install", str(source), env={"PIP_FIND_LINKS": str(empty)})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "could not install the pinned packages" in output and "PIP_FIND_LINKS" in output
    assert "Traceback" not in output


def test_install_hook_rejects_old_python(helm, plugin_source, tmp_path):
    old = tmp_path / "python3.8"
    old.write_text("#!/bin/sh\necho 'Python 3.8.10'\nexit 1\n")
    old.chmod(old.stat().st_mode | stat.S_IEXEC)
    source = tmp_path / "plugin-copy"
    shutil.copytree(plugin_source, source, ignore=COPY_IGNORE)
    result = helm.run("plugin", "install", str(source), env={"JHUB_CK8S_PYTHON": str(old)})
    assert result.returncode != 0
    assert "Python 3.10 or newer is needed, found Python 3.8.10" in result.stdout + result.stderr


def _standin_release_checks(stream: str, *, hooks_post_rendered: bool) -> None:
    docs = parse(stream)
    kinds = [d.kind for d in docs]
    assert "PostRenderSettings" not in kinds
    images = [c["image"] for d in docs for c in (d.obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []))]
    hub = next(d for d in docs if d.label == "Deployment/hub")
    assert hub.obj["spec"]["template"]["spec"]["containers"][0]["image"] == f"{REGISTRY}/jupyterhub/k8s-hub:4.4.0"
    service = next(d for d in docs if d.kind == "Service")
    assert service.obj["spec"]["type"] == "ClusterIP"
    hook = [d for d in docs if d.label == "Job/hook-image-awaiter"]
    if hooks_post_rendered:
        assert hook and hook[0].obj["spec"]["template"]["spec"]["containers"][0]["image"] == f"{REGISTRY}/library/traefik:v3.6.12"
    else:
        assert hook == []  # switched off on Helm 3, where hooks bypass the post-renderer
    assert all(i.startswith(REGISTRY + "/") for i in images), images


def test_render_through_the_wrapper_chart(installed, standin_archive, tmp_path):
    report = tmp_path / "report.json"
    result = installed.run(
        "ck8s-jupyter", "render", "jhub", "--chart-archive", str(standin_archive),
        "--set", f"ck8s.registry={REGISTRY}", "--mode", "warn", "--report", str(report),
        # asked for; on Helm 3 the plugin still switches it off (hooks bypass post-renderers)
        "--set", "jupyterhub.prePuller.hook.enabled=true",
    )
    assert result.returncode == 0, result.stderr
    _standin_release_checks(result.stdout, hooks_post_rendered=installed.major == 4)
    # the report is printed after helm finishes, on both majors
    assert "jhub-ck8s: " in result.stderr and "(mode warn)" in result.stderr
    assert "traefik" not in result.stderr or installed.major == 4
    data = json.loads(report.read_text())
    assert data["exitCode"] == 0
    if installed.major == 3:
        assert "does not post-render hooks, so jupyterhub.prePuller.hook.enabled=false" in result.stderr


def test_render_with_an_unpacked_upstream_chart_folder(installed, standin_archive, tmp_path):
    unpacked = tmp_path / "unpacked"
    shutil.unpack_archive(standin_archive, unpacked)
    result = installed.run("ck8s-jupyter", "render", "--chart-archive", str(unpacked / "jupyterhub"), "--set", f"ck8s.registry={REGISTRY}")
    assert result.returncode == 0, result.stderr
    assert f"image: {REGISTRY}/jupyterhub/k8s-hub:4.4.0" in result.stdout
    wrong = installed.run("ck8s-jupyter", "render", "--chart-archive", str(tmp_path))
    assert wrong.returncode == 2 and "not a Helm chart folder" in wrong.stderr


def test_render_policy_error_shows_its_reason(installed, standin_archive):
    result = installed.run(
        "ck8s-jupyter", "render", "--chart-archive", str(standin_archive),
        "--set", f"ck8s.registry={REGISTRY}", "--set", "jupyterhub.hub.image.tag=latest", "--mode", "enforce",
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Deployment/hub, container hub: image 'quay.io/jupyterhub/k8s-hub:latest' uses the tag latest" in result.stderr


def test_render_bad_settings_in_values(installed, standin_archive):
    # caught by the wrapper chart's values.schema.json, before anything renders
    result = installed.run("ck8s-jupyter", "render", "--chart-archive", str(standin_archive), "--set", "ck8s.registry=https://harbor.example.com")
    assert result.returncode != 0 and result.stdout == ""
    assert "ck8s/registry" in result.stderr or "ck8s.registry" in result.stderr
    # caught by the post-renderer: one line naming the setting, exit 2
    result = installed.run("ck8s-jupyter", "render", "--chart-archive", str(standin_archive), "--set", "ck8s.disable={nope}")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "error: in-stream settings" in result.stderr and "unknown transform 'nope'" in result.stderr


def test_render_says_what_the_post_renderer_said_when_it_stops(installed, standin_archive, tmp_path):
    """A post-renderer that stops on bad input (once an internal error) is reported as itself, on both majors."""
    config = tmp_path / "settings.yaml"
    config.write_bytes(b"registry: \xff\n")
    result = installed.run(
        "ck8s-jupyter", "render", "--chart-archive", str(standin_archive), "--set", f"ck8s.registry={REGISTRY}",
        "--config", str(config),
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "not UTF-8 text" in result.stderr
    assert "helm failed before the post-renderer ran" not in result.stderr


def test_render_offline_without_archive_says_how_to_provide_it(installed):
    result = installed.run("ck8s-jupyter", "render", env={"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"})
    assert result.returncode == 2
    assert "the upstream chart jupyterhub 4.4.0 is not available" in result.stderr
    assert "--chart-archive FILE or set JUPYTERHUB_CHART=FILE" in result.stderr


def test_deploy_dry_run_builds_the_right_command(installed, plugin_source, standin_archive, tmp_path):
    """Run as helm runs the plugin, with HELM_BIN a wrapper that records its arguments."""
    record = tmp_path / "args.txt"
    fake = tmp_path / "recording-helm"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {record}\necho ---- >> {record}\nexec {installed.binary} "$@"\n')
    fake.chmod(0o755)
    result = subprocess.run(
        [str(plugin_source / "bin" / "ck8s-jupyter"), "deploy", "jhub", "--chart-archive", str(standin_archive),
         "--dry-run", "--atomic" if installed.major == 3 else "--rollback-on-failure", "--set", f"ck8s.registry={REGISTRY}",
         "--wait", "--timeout", "7m",
         # no cluster here (KUBECONFIG names no file): the test is about the helm command line, not preflight
         "--skip-preflight"],
        # what helm hands a plugin instead of -n / --kube-context
        env={**installed.env, "HELM_BIN": str(fake), "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
             "HELM_NAMESPACE": "jhub", "HELM_KUBECONTEXT": "team-a"},
        capture_output=True, text=True, check=False,
    )
    calls = [c.strip().split("\n") for c in record.read_text().split("----") if c.strip()]
    upgrade = next(c for c in calls if c[:2] == ["upgrade", "--install"])
    assert "running helm upgrade --install jhub" in result.stderr
    assert "--post-renderer" in upgrade
    assert upgrade[upgrade.index("--namespace") + 1] == "jhub"
    assert upgrade[upgrade.index("--kube-context") + 1] == "team-a"
    assert "--wait" in upgrade and upgrade[upgrade.index("--timeout") + 1] == "7m"
    if installed.major == 3:
        assert "--dry-run" in upgrade and "--atomic" in upgrade
        assert "jupyterhub.prePuller.hook.enabled=false" in upgrade
        assert upgrade[upgrade.index("--post-renderer") + 1].endswith("/bin/jhub-ck8s")
    else:
        assert "--dry-run=client" in upgrade and "--rollback-on-failure" in upgrade
        assert "jupyterhub.prePuller.hook.enabled=false" not in upgrade
        assert upgrade[upgrade.index("--post-renderer") + 1] == "jhub-ck8s-private"


def test_helm4_postrenderer_plugin_by_name(tmp_path, wheelhouse, plugin_source, standin_archive):
    helm = _helm_env("helm4", tmp_path, wheelhouse)
    assert helm.run("plugin", "install", str(plugin_source)).returncode == 0
    result = helm.run("plugin", "install", str(plugin_source / "helm-postrenderer"))
    assert result.returncode == 0, result.stderr
    chart = tmp_path / "standin"
    shutil.unpack_archive(standin_archive, chart)
    result = helm.run("template", "jhub", str(chart / "jupyterhub"), "--post-renderer", "jhub-ck8s",
                      "--post-renderer-args", f"--registry={REGISTRY}", "--post-renderer-args", "--mode=warn")
    assert result.returncode == 0, result.stderr
    docs = parse(result.stdout)
    assert next(d for d in docs if d.label == "Job/hook-image-awaiter").obj["spec"]["template"]["spec"]["containers"][0]["image"] == f"{REGISTRY}/library/traefik:v3.6.12"


def test_helm3_post_renderer_executable_on_path(tmp_path, wheelhouse, plugin_source, standin_archive):
    helm = _helm_env("helm3", tmp_path, wheelhouse)
    assert helm.run("plugin", "install", str(plugin_source)).returncode == 0
    bin_dir = tmp_path / "userbin"
    setup = helm.run("ck8s-jupyter", "setup", "--bin-dir", str(bin_dir))
    assert setup.returncode == 0, setup.stderr
    assert f"linked {bin_dir}/jhub-ck8s" in setup.stderr
    chart = tmp_path / "standin"
    shutil.unpack_archive(standin_archive, chart)
    env = {"PATH": f"{bin_dir}:{helm.env['PATH']}"}
    result = helm.run("template", "jhub", str(chart / "jupyterhub"), "--post-renderer", "jhub-ck8s",
                      "--post-renderer-args", f"--registry={REGISTRY}", "--post-renderer-args", "--mode=warn", env=env)
    assert result.returncode == 0, result.stderr
    assert f"image: {REGISTRY}/jupyterhub/k8s-hub:4.4.0" in result.stdout
    # hooks bypass post-renderers on Helm 3: the hook Job keeps its upstream image
    assert "image: traefik:v3.6.12" in result.stdout


def test_no_v1_manifest_where_helm3_reads(helm, plugin_source):
    """The postrenderer/v1 manifest lives only in helm-postrenderer/, never at the root."""
    for line in (plugin_source / "plugin.yaml").read_text().splitlines():
        assert not line.startswith("apiVersion:")
    assert "type: postrenderer/v1" in (plugin_source / "helm-postrenderer" / "plugin.yaml").read_text()


@pytest.mark.parametrize("major", ["helm3", "helm4"])
def test_make_demo_end_to_end_with_a_local_archive(major, standin_archive, tmp_path, wheelhouse):
    """The README's first command, with the stand-in as the offline archive."""
    helm = _helm_env(major, tmp_path, wheelhouse)
    env = {**helm.env, "DEMO_PYTHON": sys.executable, "DEMO_HELM": major, "JUPYTERHUB_CHART": str(standin_archive)}
    env.pop("HELM_PLUGINS")
    result = subprocess.run(["bash", str(REPO / "tools" / "demo.sh")], env=env, capture_output=True, text=True, check=False, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Invalid: 0, Errors: 0, Skipped: 0") == 3 or result.stdout.count("Invalid: 0, Errors: 0, Skipped: 0") == 3
    assert "jhub-ck8s: " in result.stderr and "0 errors" in result.stderr


def test_make_demo_offline_without_archive_is_one_line(tmp_path, wheelhouse):
    helm = _helm_env("helm4", tmp_path, wheelhouse)
    env = {**helm.env, "DEMO_PYTHON": sys.executable, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    env.pop("JUPYTERHUB_CHART", None)
    result = subprocess.run(["bash", str(REPO / "tools" / "demo.sh")], env=env, capture_output=True, text=True, check=False,
                            cwd=REPO, timeout=300)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "pass --chart-archive FILE or set JUPYTERHUB_CHART=FILE" in errors[0]


def test_wheel_carries_every_package_and_both_console_scripts(tmp_path):
    """``pip install .`` is the Helm 3 route to ``--post-renderer jhub-ck8s``."""
    import zipfile

    # Built from a clean copy: a build/ folder left in the checkout would leak old files in.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=COPY_IGNORE, symlinks=True)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0 and "setuptools" in result.stderr:
        pytest.skip(f"setuptools is not in this interpreter: {result.stderr.strip()[-200:]}")
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("jhub_ck8s-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for module in ("postrender.py", "jhub_ck8s/cli.py", "jhub_ck8s/check/runner.py", "jhub_ck8s/commands/mirror.py", "jhub_ck8s/transforms/images.py"):
        assert module in names, module
    # installed as jhub_ck8s.transforms: no top-level package of that name (one exists on PyPI)
    assert not [name for name in names if name.startswith("transforms/")]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "jhub-ck8s = jhub_ck8s.cli:postrender_entry" in text and "ck8s-jupyter = jhub_ck8s.cli:main_entry" in text
