"""Issue 18, done when: the platform guide's values file, as published, in one command.

The values block of the guide's section "Configuring JupyterHub" is extracted from the
published page (../shared/seeds/000_174cee56fac21b21.txt), never from a hand-edited copy:

* ``render`` with it exits 2 before helm runs, naming with key path and line every
  placeholder and example value, and says the file was imported in memory (upstream shape);
* with a second ``-f`` that fills them, the same single command renders with no finding
  (Helm 3 and Helm 4, the real upstream chart 4.4.0);
* ``deploy`` installs it as a tenant on the end-to-end tests' real API server, Helm 3 and
  Helm 4, with no ``import-values`` step.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, TOOLS, Z2JH, Z2JH_MISSING

# the end-to-end tests' tenant helm (both majors) and its plugin copy, reused as they are
# (REGISTRY: the test platform's trusted registry; the registry is not linted, it is checked where it is used)
from test_e2e_helm import REGISTRY, e2e_plugin, helm_errors, release_objects, tenant_helm  # noqa: F401

SEED = REPO.parent / "shared" / "seeds" / "000_174cee56fac21b21.txt"
ARCHIVE = Z2JH / "chart" / "jupyterhub-4.4.0.tgz"
DOMAIN = "northwind-lab.se"
HOST = f"jupyter.{DOMAIN}"
CLIENT_SECRET = "GOCSPX-4k9Qm2VbT7xZ1LrWn8Yc3HdP"

# What the second file fills in: a real-looking domain, client id and secret, e-mail addresses.
FILLED = {
    "hub": {"config": {
        "GoogleOAuthenticator": {
            "client_id": "123456789012-abcdefghijklmnop.apps.googleusercontent.com",
            "client_secret": CLIENT_SECRET,
            "oauth_callback_url": f"https://{HOST}/hub/oauth_callback",
            "hosted_domain": [DOMAIN],
        },
        "JupyterHub": {"admin_users": [f"ada.lovelace@{DOMAIN}"]},
    }},
    "proxy": {"https": {"hosts": [HOST], "letsencrypt": {"contactEmail": f"ops@{DOMAIN}"}}},
    "ingress": {"hosts": [HOST], "tls": [{"hosts": [HOST], "secretName": "jupyter-secret"}]},
}

# Hand-read from the published block: (line in the block, key path as written there).
EXPECTED = [
    (8, "hub.config.GoogleOAuthenticator.client_id"),
    (9, "hub.config.GoogleOAuthenticator.client_secret"),
    (10, "hub.config.GoogleOAuthenticator.oauth_callback_url"),
    (12, "hub.config.GoogleOAuthenticator.hosted_domain[0]"),
    (19, "hub.config.JupyterHub.admin_users[0]"),
    (57, "proxy.https.hosts[0]"),
    (108, "ingress.hosts[0]"),
    (111, "ingress.tls[0].hosts[0]"),
]


def guide_block() -> str:
    """The first ```yaml block of the section "Configuring JupyterHub", as published."""
    if not SEED.exists():
        pytest.skip(f"the platform guide's page is not at {SEED} (it lives beside the checkout)")
    page = SEED.read_text(encoding="utf-8")
    section = page.split("### Configuring JupyterHub", 1)[1].split("\n### ", 1)[0]
    match = re.search(r"^```yaml\n(.*?)^```", section, re.S | re.M)
    assert match, "no yaml block in the guide's section"
    return match.group(1)


@pytest.fixture
def guide_file(tmp_path: Path) -> Path:
    path = tmp_path / "values.yaml"
    path.write_text(guide_block(), encoding="utf-8")
    return path


@pytest.fixture
def filled_file(tmp_path: Path) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(FILLED), encoding="utf-8")
    return path


def plugin(*args: str, helm: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HELM_BIN": helm, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "jhub_ck8s.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, check=False, timeout=300)


def test_the_block_is_the_published_one() -> None:
    block = guide_block()
    assert "$PROJECT_DOMAIN" in block and "$YOUR_CLIENT_SECRET" in block and "name: k8s-hub" in block
    assert sorted(yaml.safe_load(block)) == ["hub", "imagePullSecrets", "ingress", "prePuller", "proxy", "scheduling", "singleuser"]


def test_render_refuses_the_published_file_before_helm_runs(guide_file: Path, tmp_path: Path) -> None:
    marker = tmp_path / "helm-ran"
    fake_helm = tmp_path / "helm"
    fake_helm.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    fake_helm.chmod(0o755)
    before = guide_file.read_text()
    result = plugin("render", "jhub", "-f", str(guide_file), "--chart-archive", str(ARCHIVE),
                    "--registry", REGISTRY, helm=str(fake_helm))
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert not marker.exists(), "helm was called"
    assert guide_file.read_text() == before  # never rewritten
    # section 1: the upstream shape is recognised and imported in memory, with the notes of import-values
    assert f"{guide_file}: values for the upstream chart, imported in memory" in result.stderr
    assert "removed hub.image.name 'k8s-hub'" in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ck8s-jupyter: error: ")]
    named = [(int(m.group(1)), m.group(2)) for m in
             (re.match(rf"ck8s-jupyter: error: {re.escape(str(guide_file))}:(\d+): (\S+): ", e) for e in errors) if m]
    assert named == EXPECTED, "\n".join(errors)
    # independently of that list: every line of the block with a $VARIABLE or an example.com
    # address in one of the keys of section 2 is named (email@email.com is not a reserved name:
    # docs/platform.md says so)
    lines = guide_block().splitlines()
    suspicious = {n for n, line in enumerate(lines, 1) if re.search(r"\$[A-Z_]+|example\.com", line.split("#")[0])}
    assert suspicious == {n for n, _ in EXPECTED}
    assert CLIENT_SECRET not in result.stderr and "YOUR_CLIENT_SECRET" not in result.stderr


def _helm(name: str) -> str:
    binary = TOOLS / "bin" / name
    if not binary.exists():
        pytest.skip(f"{binary} is not installed: run make setup")
    if not ARCHIVE.exists():
        pytest.skip(Z2JH_MISSING)
    return str(binary)


@pytest.mark.parametrize("helm_name", ["helm3", "helm4"])
def test_filled_by_a_second_file_the_same_command_renders(guide_file: Path, filled_file: Path, helm_name: str) -> None:
    helm = _helm(helm_name)
    result = plugin("render", "jhub", "-f", str(guide_file), "-f", str(filled_file), "--chart-archive", str(ARCHIVE),
                    "--registry", REGISTRY, helm=helm)
    assert result.returncode == 0, result.stderr
    assert "error:" not in result.stderr and "accepted on purpose" not in result.stderr
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    ingress = next(o for o in objects if o["kind"] == "Ingress")
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == [HOST]
    assert ingress["spec"]["tls"] == [{"hosts": [HOST], "secretName": "jupyter-secret"}]
    assert "$" not in yaml.safe_dump(ingress)
    images = {c["image"] for o in objects for c in (o.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or [])}
    assert images and all(image.startswith(REGISTRY + "/") for image in images), images


def test_deploy_installs_the_guide_file_as_a_tenant(cluster, tenant_helm, tenant_namespace, guide_file, filled_file) -> None:  # noqa: F811
    if not ARCHIVE.exists():
        pytest.skip(Z2JH_MISSING)
    helm, namespace = tenant_helm, tenant_namespace
    deploy = ["ck8s-jupyter", "deploy", "jhub", "-n", namespace, "--chart-archive", str(ARCHIVE),
              "-f", str(guide_file), "-f", str(filled_file), "--registry", REGISTRY,
              "--skip-preflight"]  # no Harbor here: preflight is tested in test_preflight.py
    if helm.name == "helm4":  # no workloads run here: Helm 4 (hook image-puller on) would wait for its Job
        deploy += ["--set", "jupyterhub.prePuller.hook.enabled=false"]
    installed = helm.run(*deploy)
    assert installed.returncode == 0, helm_errors(installed)
    assert "error:" not in installed.stderr.replace("0 errors", "")
    objects = release_objects(helm, "jhub", namespace)
    ingress = cluster.tenant_api.get("networking.k8s.io/v1", "Ingress", "jupyterhub", namespace)
    assert ingress.ok, ingress.describe()
    assert [rule["host"] for rule in ingress.body["spec"]["rules"]] == [HOST]
    kinds = {obj["kind"] for obj in objects}
    assert {"Deployment", "Secret", "Service", "Ingress", "NetworkPolicy"} <= kinds
    uninstalled = helm.run("uninstall", "jhub", "-n", namespace)
    assert uninstalled.returncode == 0, helm_errors(uninstalled)


def test_the_readme_quick_start_fills_every_placeholder(guide_file: Path, tmp_path: Path) -> None:
    """The README's second file, as printed there, makes the guide's file pass the linter."""
    from jhub_ck8s.values_layers import prepare

    readme = (REPO / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    mine = tmp_path / "mine.yaml"
    mine.write_text(re.search(r"^```yaml\n(.*?)^```", quick, re.S | re.M).group(1))
    assert "-f guide.yaml -f mine.yaml" in quick
    prepared = prepare([str(guide_file), str(mine)], [], [], tmp_path, wrapper_chart=True)
    assert [f.line() for f in prepared.findings] == []
    # and the guide's file alone does not
    assert prepare([str(guide_file)], [], [], tmp_path, wrapper_chart=True).findings
