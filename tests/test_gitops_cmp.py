"""The Argo CD plugin (argocd/) against the real argocd-cmp-server, called as the repo server calls it.

``make argocd`` builds Argo CD v3.6.2's ``argocd-cmp-server`` and our ``cmp-call``
(tools/argocd/cmd/cmp-call: Argo CD's own discovery, ``cmpserver/apiclient`` and
``util/cmp.SendRepoStream``; hooks classified by gitops-engine's ``pkg/sync/hook``). The
plugin is installed with ``argocd/install.sh``, the script the sidecar image runs, with the
real helm v4 and the real chart archive (../shared); the server reads ``argocd/plugin.yaml``
unchanged. What is shown:

* the plugin's objects equal ``helm ck8s-jupyter render --gitops``'s, object for object;
* two generations are byte-identical;
* a placeholder, a render the post-renderer refuses, or tokens with no stable source make
  ``GenerateManifest`` fail with our one line, never with an empty list;
* hooks come out with the annotations Argo CD maps to its own hooks (PreSync), post-rendered;
* Argo CD's parameters reach the render (release name, values files, registry, mode,
  KUBE_VERSION, KUBE_API_VERSIONS).

The server is started once for the module and stopped after (SIGTERM, then, once it has removed
its socket, SIGKILL: v3.6.2 never leaves its gRPC loop on a signal).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, TOOLS
from gitops_world import ARCHIVE, EXISTING, VALUES, missing, objects, render

pytestmark = pytest.mark.gitops

SERVER = TOOLS / "bin" / "argocd-cmp-server"
CLIENT = TOOLS / "bin" / "cmp-call"
SOCKET = "ck8s-jupyter-v1.sock"
KUBE_VERSION = "v1.34.4"
API_VERSIONS = "apps/v1,batch/v1,policy/v1,networking.k8s.io/v1,v1"


@pytest.fixture(scope="module")
def plugin_home(tmp_path_factory) -> Path:
    why = missing("helm4")
    if why:
        pytest.skip(why)
    for binary in (SERVER, CLIENT):
        if not os.access(binary, os.X_OK):
            pytest.skip(f"{binary} is missing: run make argocd (part of make setup)")
    wheels = tmp_path_factory.mktemp("wheels")
    fetched = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "-d", str(wheels),
         "-r", str(REPO / "requirements-plugin.txt")],
        capture_output=True, text=True, check=False,
    )
    if fetched.returncode != 0:
        pytest.skip(f"cannot fetch the plugin's wheels: {fetched.stderr.strip()[-300:]}")
    home = tmp_path_factory.mktemp("plugin-home") / "opt"
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home.parent),
        "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "JHUB_CK8S_PYTHON": sys.executable,
        "TMPDIR": str(home.parent),
    }
    installed = subprocess.run(
        ["bash", str(REPO / "argocd" / "install.sh"), str(home), str(TOOLS / "bin" / "helm4"), str(ARCHIVE)],
        capture_output=True, text=True, env=env, check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "installed helm v4" in installed.stdout
    return home


@pytest.fixture(scope="module")
def server(plugin_home, tmp_path_factory):
    base = tmp_path_factory.mktemp("cmp")
    config, sockets, work = base / "config", base / "sock", base / "work"
    for folder in (config, sockets, work):
        folder.mkdir()
    (config / "plugin.yaml").write_bytes((REPO / "argocd" / "plugin.yaml").read_bytes())
    # the sidecar's environment: only what the image sets (argocd/Containerfile)
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(base), "TMPDIR": str(base), "JHUB_CK8S_HOME": str(plugin_home),
        "ARGOCD_PLUGINSOCKFILEPATH": str(sockets), "ARGOCD_CMP_WORKDIR": str(work),
    }
    log = (base / "server.log").open("w")
    process = subprocess.Popen([str(SERVER), "--config-dir-path", str(config)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        # handshake: the server creates its socket once it serves
        while not (sockets / SOCKET).exists():
            assert process.poll() is None, (base / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "argocd-cmp-server did not create its socket within 60 s"
            time.sleep(0.05)
        yield sockets
    finally:
        # v3.6.2 answers SIGTERM by removing its socket (no new calls) but never returns from
        # serving (in a pod the kubelet kills it after the grace period): wait for that, then kill
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        while (sockets / SOCKET).exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.kill()
        process.wait()
        log.close()


def repository(tmp_path: Path, values: str = VALUES, **files: str) -> Path:
    """A git checkout as Argo CD hands it over: the app's folder holds ck8s-jupyter.yaml."""
    app = tmp_path / "repo" / "apps" / "jhub"
    app.mkdir(parents=True)
    (app / "ck8s-jupyter.yaml").write_text(values)
    (tmp_path / "repo" / "README.md").write_text("other apps live here too\n")
    for name, text in files.items():
        (app / name).write_text(text)
    return tmp_path / "repo"


def generate(sockets: Path, repo: Path, *plugin_env: str, kube_version: str = KUBE_VERSION,
             api_versions: str = API_VERSIONS, app_name: str = "jhub") -> subprocess.CompletedProcess:
    args = [str(CLIENT), "--repo", str(repo), "--path", "apps/jhub", "--app-name", app_name, "--app-namespace", "jhub",
            "--kube-version", kube_version, "--api-versions", api_versions]
    for entry in plugin_env:
        args += ["--plugin-env", entry]
    return subprocess.run(
        args, capture_output=True, text=True, env={"ARGOCD_PLUGINSOCKFILEPATH": str(sockets), "PATH": "/usr/bin:/bin"},
        check=False, timeout=180,
    )


def answer(result: subprocess.CompletedProcess) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def manifests(result: subprocess.CompletedProcess) -> list[dict[str, Any]]:
    return [json.loads(m) if isinstance(m, str) else m for m in answer(result)["manifests"]]


def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
    return (obj["apiVersion"], obj["kind"], obj["metadata"]["name"])


def test_the_plugin_gives_render_gitops_objects_object_for_object(server, tmp_path):
    repo = repository(tmp_path)
    from_argocd = manifests(generate(server, repo))
    rendered = render("helm4", repo / "apps" / "jhub" / "ck8s-jupyter.yaml", "--gitops", "--kube-version", KUBE_VERSION,
                      "--api-versions", API_VERSIONS)
    assert rendered.returncode == 0, rendered.stderr
    expected = objects(rendered.stdout)
    assert len(from_argocd) == len(expected) >= 20
    assert [_key(o) for o in from_argocd] == [_key(o) for o in expected]
    assert from_argocd == expected
    secret = next(o for o in from_argocd if _key(o) == ("v1", "Secret", "hub"))
    assert set(secret["data"]) == {"values.yaml"}


def test_two_generations_are_byte_identical(server, tmp_path):
    repo = repository(tmp_path)
    first, second = generate(server, repo), generate(server, repo)
    assert answer(first)["manifests"] == answer(second)["manifests"]
    assert first.stdout == second.stdout


def _refused(result: subprocess.CompletedProcess) -> str:
    """GenerateManifest failed: nothing on stdout (no list, not even an empty one), the error on stderr."""
    assert result.returncode == 1
    assert result.stdout == ""
    assert "plugin sidecar failed" in result.stderr
    assert result.stderr.count("\n") == 1  # one line
    return result.stderr


def test_a_placeholder_fails_generate_with_our_line(server, tmp_path):
    repo = repository(tmp_path, VALUES.replace("jupyter.acme.se", "$PROJECT_DOMAIN"))
    error = _refused(generate(server, repo))
    assert 'ck8s-jupyter argocd: error: ck8s-jupyter.yaml:14: jupyterhub.ingress.hosts[0]: "$PROJECT_DOMAIN" is a placeholder' in error
    assert "nothing was rendered" in error


def test_a_render_the_post_renderer_refuses_fails_generate(server, tmp_path):
    # a LoadBalancer Service with loadBalancer: error is a policy error in enforce mode
    values = VALUES.replace("  pullSecret: pull-secret\n", "  pullSecret: pull-secret\n  loadBalancer: error\n")
    values += "  proxy:\n    service:\n      type: LoadBalancer\n"
    error = _refused(generate(server, repository(tmp_path, values)))
    assert "ck8s-jupyter argocd: error" in error
    assert "LoadBalancer" in error
    # the same values in warn mode (the MODE parameter) render, with the warning left in the server's log
    assert manifests(generate(server, repository(tmp_path / "warn", values), "MODE=warn"))


def test_tokens_with_no_stable_source_are_refused(server, tmp_path):
    repo = repository(tmp_path, VALUES.replace(f"    existingSecret: {EXISTING}\n", ""))
    error = _refused(generate(server, repo))
    assert "jupyterhub.hub.existingSecret: is not set" in error
    assert "hub.config.JupyterHub.cookie_secret" in error and "no stable source" in error


def test_hooks_carry_the_annotations_argo_cd_maps_to_its_own_hooks(server, tmp_path):
    result = answer(generate(server, repository(tmp_path)))
    objs = [json.loads(m) if isinstance(m, str) else m for m in result["manifests"]]
    helm_hooks = {
        (o["kind"], o["metadata"]["name"]): o for o in objs
        if "helm.sh/hook" in (o["metadata"].get("annotations") or {})
    }
    assert ("Job", "hook-image-awaiter") in helm_hooks and ("DaemonSet", "hook-image-puller") in helm_hooks
    seen = {(h["kind"], h["name"]): h for h in result["hooks"]}
    assert set(seen) == set(helm_hooks)  # what Argo CD treats as hooks is exactly the chart's Helm hooks
    for key, hook in seen.items():
        assert set(hook["types"]) == {"PreSync"}, key  # pre-install,pre-upgrade
        assert "BeforeHookCreation" in hook["deletePolicies"], key
    # and they were post-rendered: Harbor images, restricted contexts
    puller = helm_hooks[("DaemonSet", "hook-image-puller")]["spec"]["template"]["spec"]
    images = [c["image"] for c in puller.get("initContainers", []) + puller["containers"]]
    assert images and all(image.startswith("harbor.acme.se/jupyterhub/") for image in images)


def test_argo_cd_parameters_reach_the_render(server, tmp_path):
    more = "jupyterhub:\n  hub:\n    config:\n      Authenticator: {allowed_users: [ada, grace]}\n"
    repo = repository(tmp_path, **{"more.yaml": more})
    objs = manifests(generate(
        server, repo, "RELEASE_NAME=science", "VALUES=more.yaml", "REGISTRY=harbor.other.se/team",
    ))
    hub = next(o for o in objs if _key(o) == ("apps/v1", "Deployment", "hub"))
    assert hub["metadata"]["labels"]["release"] == "science"
    images = [c["image"] for c in hub["spec"]["template"]["spec"]["containers"]]
    assert all(image.startswith("harbor.other.se/team/") for image in images)
    import base64

    import yaml

    secret = next(o for o in objs if _key(o) == ("v1", "Secret", "hub"))
    config = yaml.safe_load(base64.b64decode(secret["data"]["values.yaml"]))
    assert config["hub"]["config"]["Authenticator"]["allowed_users"] == ["ada", "grace"]
    # (KUBE_VERSION and KUBE_API_VERSIONS change nothing the chart renders: their mapping is shown by the
    # next two tests, on the generate script as bash runs it and on the helm command render builds)
    # a values file outside the application folder is refused
    assert "is not a path inside the application folder" in _refused(generate(server, repo, "VALUES=../../secrets.yaml"))


def test_generate_hands_argo_cd_s_parameters_to_render(plugin_home, tmp_path):
    """The mapping, as bash runs it (xtrace): every Argo CD variable becomes its render flag."""
    app = repository(tmp_path) / "apps" / "jhub"
    (app / "more.yaml").write_text("{}\n")
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(tmp_path), "JHUB_CK8S_HOME": str(plugin_home),
        "ARGOCD_APP_NAME": "jhub", "ARGOCD_APP_NAMESPACE": "team-a", "ARGOCD_ENV_VALUES": " more.yaml ,",
        "ARGOCD_ENV_REGISTRY": "harbor.acme.se/x", "ARGOCD_ENV_MODE": "warn", "KUBE_VERSION": "1.34.4",
        "KUBE_API_VERSIONS": "apps/v1,policy/v1",
    }
    result = subprocess.run(["bash", "-x", str(plugin_home / "argocd" / "generate")], cwd=app, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(x for x in result.stderr.splitlines() if x.startswith("+ helm ck8s-jupyter render"))
    assert line == (
        "+ helm ck8s-jupyter render jhub --gitops -q -f ck8s-jupyter.yaml -f more.yaml -n team-a "
        "--registry harbor.acme.se/x --mode warn --kube-version 1.34.4 --api-versions apps/v1,policy/v1"
    )


def test_render_passes_kube_version_and_api_versions_to_helm_template(tmp_path):
    from jhub_ck8s.cli import main_parser
    from jhub_ck8s.commands.chart_flags import chart_request
    from jhub_ck8s.helm import HelmVersion
    from jhub_ck8s.release import _helm_args

    args = main_parser().parse_args(
        ["render", "jhub", "--kube-version", "1.34.4", "--api-versions", "apps/v1,policy/v1", "--api-versions", "x/v1"],
    )
    request = chart_request(args, env={})
    assert request.kube_version == "1.34.4"
    assert request.api_versions == ("apps/v1", "policy/v1", "x/v1")
    command, _ = _helm_args(request, tmp_path, HelmVersion("v4.3.1"), False, tmp_path)
    assert command[-8:] == ["--kube-version", "1.34.4", "--api-versions", "apps/v1", "--api-versions", "policy/v1",
                            "--api-versions", "x/v1"]


def test_the_sidecar_image_follows_argo_cd_conventions_and_installs_with_the_tested_script():
    """No container runtime here: the Containerfile is read, and its install step is the script above."""
    text = (REPO / "argocd" / "Containerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert "USER 999" in lines
    assert 'ENTRYPOINT ["/var/run/argocd/argocd-cmp-server"]' in lines
    assert "ENV JHUB_CK8S_HOME=/opt/ck8s-jupyter" in lines
    assert any("bash /src/argocd/install.sh /opt/ck8s-jupyter" in line for line in lines)
    assert any("/home/argocd/cmp-server/config/plugin.yaml" in line for line in lines)
    # the plugin's default home is the image's
    assert "${JHUB_CK8S_HOME:-/opt/ck8s-jupyter}" in (REPO / "argocd" / "plugin.yaml").read_text()
