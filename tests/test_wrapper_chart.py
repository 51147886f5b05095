"""The wrapper chart (wrapper-chart/) and the starter values file.

What is checked without any tool: chart metadata (one pinned dependency, nothing vendored),
the values against the chart's own schema and (where the shared fixtures are) against the
upstream chart's schema merged over its defaults, the platform defaults themselves, and
that ck8s: mirrors the post-renderer's settings keys exactly.

With helm 3 and helm 4 (from `make setup`, in $JHUB_CK8S_TOOLS/bin) the chart is rendered
with a STAND-IN subchart built in a temporary directory (the real chart cannot be
downloaded here and must never be committed): it echoes what it receives, so the tests
see the values that reach the subchart. Where the shared fixtures exist, a second stand-in
carries the upstream chart's real values.schema.json and default values, so Helm itself
validates the jupyterhub: values exactly as it would with the real chart.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, TOOLS, Z2JH, Z2JH_MISSING

from jhub_ck8s.settings import SETTING_KEYS, read_layer
from jhub_ck8s.starter import (
    StarterError,
    StarterExistsError,
    StarterValues,
    render_starter_values,
    write_starter_values,
)

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is needed to check values against schemas")

CHART = REPO / "wrapper-chart"
SCHEMA = json.loads((CHART / "values.schema.json").read_text())
VALUES = yaml.safe_load((CHART / "values.yaml").read_text())
UPSTREAM_SCHEMA_FILE = Z2JH / "values.schema.json"
RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
# values path -> (resources path, security-context path) of every component the chart runs
COMPONENTS = {
    "hub": ("hub.resources", "hub.containerSecurityContext"),
    "proxy.chp": ("proxy.chp.resources", "proxy.chp.containerSecurityContext"),
    "proxy.traefik": ("proxy.traefik.resources", "proxy.traefik.containerSecurityContext"),
    "proxy.secretSync": ("proxy.secretSync.resources", "proxy.secretSync.containerSecurityContext"),
    "singleuser.networkTools": ("singleuser.networkTools.resources", None),
    "scheduling.userScheduler": (
        "scheduling.userScheduler.resources", "scheduling.userScheduler.containerSecurityContext"
    ),
    "scheduling.userPlaceholder": (
        "scheduling.userPlaceholder.resources", "scheduling.userPlaceholder.containerSecurityContext"
    ),
    "prePuller": ("prePuller.resources", "prePuller.containerSecurityContext"),
    "prePuller.hook": ("prePuller.hook.resources", "prePuller.hook.containerSecurityContext"),
    "prePuller.pause": (None, "prePuller.pause.containerSecurityContext"),
}


# --- helpers ------------------------------------------------------------------------------


def dig(values: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        values = values[part]
    return values


def helm_merge(base: Any, override: Any) -> Any:
    """Helm's coalescing of a values file over chart defaults: maps merge, null deletes."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    result = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = helm_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def upstream_defaults() -> dict[str, Any]:
    """The upstream chart's default values, from Secret/hub of the recorded default render."""
    render = Z2JH / "template" / "default.yaml"
    if not render.exists():
        pytest.skip(Z2JH_MISSING)
    for doc in yaml.safe_load_all(render.read_text()):
        if doc and doc.get("kind") == "Secret" and doc["metadata"]["name"] == "hub":
            values = yaml.safe_load(base64.b64decode(doc["data"]["values.yaml"]))
            values.pop("Chart", None)
            values.pop("Release", None)
            return values
    raise AssertionError("no Secret/hub in the recorded default render")


def upstream_errors(jupyterhub_values: dict[str, Any]) -> list[str]:
    """Schema errors of the upstream chart for these values merged over its defaults."""
    if not UPSTREAM_SCHEMA_FILE.exists():
        pytest.skip(Z2JH_MISSING)
    schema = json.loads(UPSTREAM_SCHEMA_FILE.read_text())
    merged = helm_merge(upstream_defaults(), jupyterhub_values)
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(merged)]


def wrapper_errors(values: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(values)]


def chart_values(user: dict[str, Any] | None = None) -> dict[str, Any]:
    """The wrapper chart's values as Helm merges them with a user's values file."""
    return helm_merge(VALUES, user or {})


# --- chart metadata and values (no tools needed) --------------------------------------------


def test_chart_pins_exactly_the_upstream_chart():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert (chart["name"], chart["version"]) == ("jupyterhub-ck8s", "0.1.0")
    assert chart["dependencies"] == [
        {"name": "jupyterhub", "version": "4.4.0", "repository": "https://hub.jupyter.org/helm-chart/"}
    ]


def test_upstream_chart_is_never_vendored():
    assert "charts/" in (CHART / ".gitignore").read_text().split()
    tracked = subprocess.run(
        ["git", "ls-files", "wrapper-chart/charts"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert tracked.stdout.strip() == ""


def test_values_validate_against_the_wrapper_schema():
    assert wrapper_errors(VALUES) == []


def test_jupyterhub_defaults_validate_against_the_upstream_schema():
    assert upstream_errors(VALUES["jupyterhub"]) == []


def test_platform_defaults():
    jh = VALUES["jupyterhub"]
    assert jh["imagePullSecrets"] == ["pull-secret"] == [VALUES["ck8s"]["pullSecret"]]
    assert jh["proxy"]["service"]["type"] == "ClusterIP"
    assert jh["proxy"]["https"]["enabled"] is False
    assert jh["scheduling"]["userScheduler"]["enabled"] is False
    assert jh["scheduling"]["podPriority"]["enabled"] is False
    assert jh["scheduling"]["userPlaceholder"]["enabled"] is False
    assert jh["prePuller"]["hook"]["enabled"] is False
    assert jh["singleuser"]["cloudMetadata"]["blockWithIptables"] is False
    assert jh["singleuser"]["storage"]["type"] == "none"
    assert jh["singleuser"]["cpu"] == {"guarantee": 0.1, "limit": 1}
    assert jh["singleuser"]["memory"] == {"guarantee": "1G", "limit": "2G"}
    assert jh["ingress"]["enabled"] is True
    assert jh["ingress"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}
    spawner = jh["hub"]["config"]["KubeSpawner"]
    assert spawner["container_security_context"] == RESTRICTED
    assert spawner["pod_security_context"] == {
        "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}, "fsGroup": 100
    }
    # KubeSpawner copies these dicts into the pod spec verbatim: keys must be camelCase.
    for context in spawner.values():
        assert all("_" not in key for key in context)


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_every_component_has_requests_limits_and_a_restricted_context(component):
    resources_path, context_path = COMPONENTS[component]
    jh = VALUES["jupyterhub"]
    if resources_path:
        resources = dig(jh, resources_path)
        for part in ("requests", "limits"):
            assert set(resources[part]) == {"cpu", "memory"}, f"{resources_path}.{part}"
    if context_path:
        assert dig(jh, context_path) == RESTRICTED


def test_every_default_says_why():
    """Each setting under jupyterhub: (two levels down) has a comment in or just before it."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    start = lines.index("jupyterhub:")
    missing = []
    for i in range(start + 1, len(lines)):
        match = re.match(r"( {2}| {4})([A-Za-z][\w.-]*):", lines[i])
        if not match:
            continue
        indent = len(match.group(1))
        before = i
        while before > start + 1 and lines[before - 1].strip().startswith("#"):
            before -= 1
        end = i + 1
        while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent):
            end += 1
        block = lines[before:end]
        parent_comment = indent == 4 and any("#" in line for line in lines[before:i])
        if not any("#" in line for line in block) and not parent_comment:
            missing.append(lines[i].strip())
    # Grouping keys (hub:, proxy:, ...) are explained by the comments of what they contain.
    assert [m for m in missing if not m.endswith(":")] == []


def test_ck8s_mirrors_the_post_renderer_settings():
    ck8s_schema = SCHEMA["properties"]["ck8s"]
    assert ck8s_schema["additionalProperties"] is False
    assert list(ck8s_schema["properties"]) == [*SETTING_KEYS, "pullSecretCredentials", "allowExamples"]
    assert list(VALUES["ck8s"]) == [*SETTING_KEYS, "pullSecretCredentials", "allowExamples"]
    helpers = (CHART / "templates" / "_helpers.tpl").read_text()
    keys = re.search(r'define "jupyterhub-ck8s.settingKeys" -}}\n(.*)\n', helpers).group(1).split()
    assert keys == list(SETTING_KEYS)
    # Defaults: null, so the post-renderer's own defaults apply; pullSecret is the convention.
    assert {k: v for k, v in VALUES["ck8s"].items() if v is not None and k != "pullSecretCredentials"} == {
        "pullSecret": "pull-secret"
    }
    assert read_layer({k: VALUES["ck8s"][k] for k in SETTING_KEYS}, "values.yaml") == {
        "pull_secret": "pull-secret"
    }


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"ck8s": {"mode": "strict"}}, "mode"),
        ({"ck8s": {"loadBalancer": "nodeport"}}, "loadBalancer"),
        ({"ck8s": {"clusterScoped": True}}, "clusterScoped"),
        ({"ck8s": {"registry": "https://harbor.example.com/jh"}}, "registry"),
        ({"ck8s": {"pullSecret": "Pull_Secret"}}, "pullSecret"),
        ({"ck8s": {"keepImages": "quay.io/*"}}, "keepImages"),
        ({"ck8s": {"registy": "harbor.example.com/jh"}}, "registy"),
        ({"ck8s": {"allow": [{"rule": "x", "reason": "y"}]}}, "reason"),
        ({"ck8s": {"patches": [{"target": {"kind": "Service"}, "patch": [{"op": "nope", "path": "/x"}]}]}}, "op"),
        ({"ck8s": {"pullSecretCredentials": {"create": True, "username": "", "password": "x"}}}, "username"),
        ({"hub": {"resources": {}}}, "hub"),
    ],
)
def test_schema_rejects(values, fragment):
    errors = wrapper_errors(chart_values(values))
    assert errors, f"accepted {values}"
    assert any(fragment in error for error in errors), errors


def test_schema_accepts_every_setting():
    full = {
        "registry": "harbor.example.com/jupyterhub",
        "registryMap": {"docker.io": "harbor.example.com/dockerhub-proxy"},
        "keepImages": ["registry.internal.example/*"],
        "pullSecret": "harbor-pull",
        "mode": "warn",
        "disable": ["pdb"],
        "allow": [{"kind": "Deployment", "name": "hub", "container": "*", "rule": "minimum-replicas"}],
        "resources": {"requests": {"cpu": "20m", "memory": "64Mi"}, "limits": {"cpu": 1, "memory": "1Gi"}},
        "resourceOverrides": [{"kind": "Deployment", "name": "hub", "requests": {"cpu": "100m"}}],
        "userResources": {"cpu": {"guarantee": 0.5, "limit": 2}, "memory": {"guarantee": "2G", "limit": "4G"}},
        "loadBalancer": "error",
        "clusterScoped": "drop",
        "minimumReplicasAnnotation": False,
        "networkPolicy": True,
        "patches": [{"name": "x", "target": {"kind": "Service", "name": "hub"},
                     "patch": [{"op": "add", "path": "/metadata/labels/a", "value": "b"}]}],
        "report": "/tmp/report.json",
    }
    assert wrapper_errors(chart_values({"ck8s": full})) == []
    assert read_layer(full, "test")  # and the post-renderer accepts the same values


def test_user_pod_from_the_defaults_is_restricted():
    """The pod the hub's KubeSpawner 7.0.0 builds at spawn time from these defaults."""
    pytest.importorskip("kubespawner", reason="jupyterhub-kubespawner is not installed: run make setup")
    from jhub_ck8s.check.pod_rebuild import build_user_pods

    values = helm_merge(upstream_defaults(), VALUES["jupyterhub"])
    values["Chart"] = {"Name": "jupyterhub", "Version": "4.4.0", "AppVersion": "5.5.0"}
    values["Release"] = {"Name": "jhub", "Namespace": "jhub", "Service": "Helm"}
    (pod,) = build_user_pods(values)
    spec = pod.pod["spec"]
    assert not spec.get("initContainers"), "no privileged block-cloud-metadata init container"
    assert spec["securityContext"] == {
        "fsGroup": 100, "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}
    }
    (notebook,) = spec["containers"]
    assert {k: v for k, v in notebook["securityContext"].items() if k != "runAsUser"} == RESTRICTED
    assert set(notebook["resources"]["requests"]) == {"cpu", "memory"}


# --- rendering with a real helm and a stand-in subchart ------------------------------------

STANDIN_TEMPLATE = """\
# STAND-IN for the upstream jupyterhub chart, built by tests/test_wrapper_chart.py.
# It only echoes the values it receives; it is not the real chart.
apiVersion: v1
kind: ConfigMap
metadata:
  name: standin-jupyterhub
data:
  singleuserImage: {{ .Values.singleuser.image.name | quote }}
---
apiVersion: v1
kind: Secret
metadata:
  name: hub
data:
  values.yaml: {{ toYaml .Values | b64enc | quote }}
"""
STANDIN_VALUES = {"singleuser": {"image": {"name": "quay.io/jupyterhub/k8s-singleuser-sample", "tag": "4.4.0"}}}


@pytest.fixture(params=["helm3", "helm4"])
def helm(request, tmp_path):
    """Run one helm binary with every helm directory inside tmp_path."""
    binary = TOOLS / "bin" / request.param
    if not binary.exists():
        pytest.skip(f"{binary} is not installed: run make setup (or set JHUB_CK8S_TOOLS)")
    data = tmp_path / "helm-data"
    env = {
        **os.environ,
        "HELM_DATA_HOME": str(data),
        "HELM_CONFIG_HOME": str(tmp_path / "helm-config"),
        "HELM_CACHE_HOME": str(tmp_path / "helm-cache"),
        "HELM_PLUGINS": str(data / "plugins"),
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(binary), *args], capture_output=True, text=True, env=env, check=False)

    run.name = request.param  # type: ignore[attr-defined]
    return run


def build_chart(tmp_path: Path, *, real_schema: bool = False) -> Path:
    """A copy of wrapper-chart/ with a stand-in charts/jupyterhub/ (never the real chart)."""
    chart = tmp_path / "jupyterhub-ck8s"
    shutil.copytree(CHART, chart, ignore=shutil.ignore_patterns("charts", "*.tgz"))
    standin = chart / "charts" / "jupyterhub"
    (standin / "templates").mkdir(parents=True)
    (standin / "Chart.yaml").write_text(
        "apiVersion: v2\nname: jupyterhub\nversion: 4.4.0\n"
        "description: STAND-IN for the upstream jupyterhub chart (tests only)\n"
    )
    (standin / "templates" / "standin.yaml").write_text(STANDIN_TEMPLATE)
    defaults = STANDIN_VALUES
    if real_schema:
        defaults = upstream_defaults()
        shutil.copy(UPSTREAM_SCHEMA_FILE, standin / "values.schema.json")
    (standin / "values.yaml").write_text(yaml.safe_dump(defaults))
    return chart


def write_values(tmp_path: Path, values: dict[str, Any], name: str = "user-values.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(values))
    return str(path)


def render(helm, chart: Path, *args: str) -> dict[tuple[str, str], dict[str, Any]]:
    result = helm("template", "jhub", str(chart), "-n", "jhub", *args)
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def settings_document(docs) -> dict[str, Any]:
    found = [d for (kind, _), d in docs.items() if kind == "PostRenderSettings"]
    assert len(found) == 1
    assert found[0]["apiVersion"] == "jhub-ck8s.io/v1alpha1"
    return found[0]


def subchart_values(docs) -> dict[str, Any]:
    return yaml.safe_load(base64.b64decode(docs[("Secret", "hub")]["data"]["values.yaml"]))


def test_default_render(helm, tmp_path):
    docs = render(helm, build_chart(tmp_path))
    settings = settings_document(docs)
    assert {k: v for k, v in settings.items() if k not in ("apiVersion", "kind", "metadata")} == {
        "pullSecret": "pull-secret"
    }
    assert not [key for key in docs if key[0] == "Secret" and key[1] != "hub"], "no pull secret by default"
    received = subchart_values(docs)
    assert received["proxy"]["service"]["type"] == "ClusterIP"
    assert received["hub"]["config"]["KubeSpawner"]["container_security_context"] == RESTRICTED
    assert received["scheduling"]["userPlaceholder"]["enabled"] is False
    assert "ck8s" not in received


def test_settings_document_carries_the_ck8s_values(helm, tmp_path):
    ck8s = {
        "registry": "harbor.example.com/jupyterhub",
        "registryMap": {"docker.io": "harbor.example.com/dockerhub-proxy"},
        "keepImages": ["registry.internal.example/*"],
        "mode": "warn",
        "userResources": {"cpu": {"guarantee": 0.5, "limit": 2}, "memory": {"guarantee": "2G", "limit": "4G"}},
        "allow": [{"kind": "Deployment", "name": "hub", "rule": "minimum-replicas"}],
        "report": "/tmp/jhub-report.json",
        "pullSecretCredentials": {"create": False, "registry": "", "username": "", "password": ""},
    }
    docs = render(helm, build_chart(tmp_path), "-f", write_values(tmp_path, {"ck8s": ck8s}))
    settings = settings_document(docs)
    body = {k: v for k, v in settings.items() if k not in ("apiVersion", "kind", "metadata")}
    expected = {k: v for k, v in ck8s.items() if k != "pullSecretCredentials"}
    assert body == {**expected, "pullSecret": "pull-secret"}
    # The post-renderer's own reader accepts the document as rendered.
    layer = read_layer(settings, "in-stream settings", document=True)
    assert layer["registry"] == "harbor.example.com/jupyterhub"
    assert layer["mode"] == "warn"


def test_null_settings_are_left_out(helm, tmp_path):
    docs = render(helm, build_chart(tmp_path), "--set", "ck8s.pullSecret=null")
    body = {k for k in settings_document(docs) if k not in ("apiVersion", "kind", "metadata")}
    assert body == set()


def test_values_flow_to_the_subchart(helm, tmp_path):
    user = {"jupyterhub": {"singleuser": {"image": {"name": "quay.io/jupyter/scipy-notebook"}},
                           "hub": {"resources": {"requests": {"cpu": "200m"}}}}}
    docs = render(helm, build_chart(tmp_path), "-f", write_values(tmp_path, user))
    assert docs[("ConfigMap", "standin-jupyterhub")]["data"]["singleuserImage"] == "quay.io/jupyter/scipy-notebook"
    received = subchart_values(docs)
    # maps merge with the wrapper's defaults, as in any Helm chart
    assert received["hub"]["resources"]["requests"] == {"cpu": "200m", "memory": "512Mi"}


def test_lint(helm, tmp_path):
    result = helm("lint", "--strict", str(build_chart(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_rejects_a_bad_mode_clearly(helm, tmp_path):
    result = helm("template", "jhub", str(build_chart(tmp_path)), "--set", "ck8s.mode=strict")
    assert result.returncode != 0
    message = result.stderr
    assert "jupyterhub-ck8s" in message and "mode" in message and "enforce" in message, message


def test_schema_rejects_values_left_at_the_top_level(helm, tmp_path):
    result = helm("template", "jhub", str(build_chart(tmp_path)), "--set", "singleuser.cpu.limit=2")
    assert result.returncode != 0
    assert "singleuser" in result.stderr, result.stderr


def pull_secret_values(**creds: Any) -> dict[str, Any]:
    return {"ck8s": {"registry": "harbor.example.com/jupyterhub",
                     "pullSecretCredentials": {"create": True, **creds}}}


def test_pull_secret_renders_when_asked(helm, tmp_path):
    values = pull_secret_values(username="robot$jupyterhub+pull", password="s3cr3t:x")
    docs = render(helm, build_chart(tmp_path), "-f", write_values(tmp_path, values))
    secret = docs[("Secret", "pull-secret")]
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert list(config["auths"]) == ["harbor.example.com"]
    entry = config["auths"]["harbor.example.com"]
    assert entry["username"] == "robot$jupyterhub+pull"
    assert entry["password"] == "s3cr3t:x"
    assert base64.b64decode(entry["auth"]).decode() == "robot$jupyterhub+pull:s3cr3t:x"
    # not a post-renderer setting: never in the settings document
    assert "pullSecretCredentials" not in settings_document(docs)


def test_pull_secret_name_and_registry_can_be_given(helm, tmp_path):
    values = pull_secret_values(username="robot", password="pw", registry="https://harbor.other.example/")
    values["ck8s"]["pullSecret"] = "harbor-robot"
    docs = render(helm, build_chart(tmp_path), "-f", write_values(tmp_path, values))
    config = json.loads(base64.b64decode(docs[("Secret", "harbor-robot")]["data"][".dockerconfigjson"]))
    assert list(config["auths"]) == ["harbor.other.example"]
    assert settings_document(docs)["pullSecret"] == "harbor-robot"


def test_pull_secret_needs_credentials(helm, tmp_path):
    values = pull_secret_values(password="pw")
    result = helm("template", "jhub", str(build_chart(tmp_path)), "-f", write_values(tmp_path, values))
    assert result.returncode != 0
    assert "username" in result.stderr, result.stderr


def test_notes_explain_the_report(helm, tmp_path):
    chart = build_chart(tmp_path)
    # `helm template` never renders NOTES.txt and Helm 3's `install --dry-run` needs a
    # cluster: render the same text through tpl from a test-only template in the copy.
    shutil.copy(chart / "templates" / "NOTES.txt", chart / "notes-under-test.txt")
    (chart / "templates" / "notes-under-test.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-under-test\n"
        'data:\n  notes: {{ tpl (.Files.Get "notes-under-test.txt") . | quote }}\n'
    )
    notes = render(helm, chart)[("ConfigMap", "notes-under-test")]["data"]["notes"]
    assert "ck8s.report" in notes and "JHUB_CK8S_REPORT" in notes
    assert "ck8s.registry is not set" in notes
    assert "kubectl -n jhub create secret docker-registry pull-secret" in notes
    assert "port-forward" in notes
    user = {"ck8s": {"registry": "harbor.example.com/jh", "report": "/tmp/r.json"},
            "jupyterhub": {"ingress": {"hosts": ["jupyter.example.com"]}}}
    notes = render(helm, chart, "-f", write_values(tmp_path, user))[("ConfigMap", "notes-under-test")]
    text = notes["data"]["notes"]
    assert "ck8s.registry is not set" not in text
    assert "This release wrote it to: /tmp/r.json" in text
    assert "https://jupyter.example.com/" in text
    if helm.name == "helm4":  # Helm 4 renders NOTES in a client-side dry run without a cluster
        result = helm("install", "jhub", str(build_chart(tmp_path / "real")), "-n", "jhub", "--dry-run=client")
        assert result.returncode == 0, result.stderr
        assert "NOTES:" in result.stdout and "JHUB_CK8S_REPORT" in result.stdout


def test_real_upstream_schema_accepts_the_defaults(helm, tmp_path):
    if not UPSTREAM_SCHEMA_FILE.exists():
        pytest.skip(Z2JH_MISSING)
    chart = build_chart(tmp_path, real_schema=True)
    render(helm, chart)
    bad = helm("template", "jhub", str(chart), "--set", "jupyterhub.singleuser.cpu.limit=lots")
    assert bad.returncode != 0
    assert "singleuser" in bad.stderr and "cpu" in bad.stderr, bad.stderr


def test_imported_guide_values_render(helm, tmp_path):
    from jhub_ck8s.values_import import import_values

    sample = REPO / "tests" / "fixtures" / "import-guide-sample.yaml"
    path = tmp_path / "imported.yaml"
    path.write_text(import_values(sample.read_text()).text)
    chart = build_chart(tmp_path, real_schema=UPSTREAM_SCHEMA_FILE.exists())
    docs = render(helm, chart, "-f", str(path))
    assert settings_document(docs)["registry"] == "harbor.example.com/jupyterhub"
    received = subchart_values(docs)
    assert received["proxy"]["chp"]["resources"]["requests"] == {"cpu": "10m", "memory": "512Mi"}
    assert received["hub"]["config"]["GoogleOAuthenticator"]["login_service"] == "Google"


# --- starter values -----------------------------------------------------------------------


def test_starter_is_written_once(tmp_path):
    path = tmp_path / "values.yaml"
    text = write_starter_values(path, registry="harbor.example.com/jupyterhub", host="jupyter.example.com")
    assert path.read_text() == text
    with pytest.raises(StarterExistsError, match="force"):
        write_starter_values(path)
    assert path.read_text() == text
    again = write_starter_values(path, pull_secret="robot-pull", force=True)
    assert path.read_text() == again != text


def test_starter_content_and_comments():
    text = render_starter_values(
        StarterValues("harbor.example.com/jupyterhub", "robot-pull", "jupyter.example.com", dummy_password="pw")
    )
    values = yaml.safe_load(text)
    assert values["ck8s"] == {"registry": "harbor.example.com/jupyterhub", "pullSecret": "robot-pull"}
    jh = values["jupyterhub"]
    assert jh["imagePullSecrets"] == ["robot-pull"]
    assert jh["ingress"]["hosts"] == ["jupyter.example.com"]
    assert jh["ingress"]["tls"] == [{"hosts": ["jupyter.example.com"], "secretName": "jupyterhub-tls"}]
    assert jh["hub"]["config"]["DummyAuthenticator"]["password"] == "pw"
    assert "#   GoogleOAuthenticator:" in text
    assert "oauth_callback_url: https://jupyter.example.com/hub/oauth_callback" in text
    assert text.startswith("# Starter values for the jupyterhub-ck8s chart")


def test_starter_without_arguments_is_still_valid():
    values = yaml.safe_load(render_starter_values(StarterValues()))
    assert values["ck8s"]["registry"] is None
    assert wrapper_errors(chart_values(values)) == []
    first = render_starter_values(StarterValues())
    assert yaml.safe_load(first)["jupyterhub"]["hub"]["config"]["DummyAuthenticator"]["password"]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"registry": "https://harbor.example.com/x"}, "registry"),
        ({"registry": "jupyterhub"}, "registry"),
        ({"pull_secret": "Pull_Secret"}, "pull_secret"),
        ({"host": "https://jupyter.example.com"}, "host"),
    ],
)
def test_starter_rejects_bad_arguments(tmp_path, kwargs, fragment):
    with pytest.raises(StarterError, match=fragment) as caught:
        write_starter_values(tmp_path / "values.yaml", **kwargs)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "values.yaml").exists()


def test_starter_validates_against_both_schemas():
    values = yaml.safe_load(
        render_starter_values(StarterValues("harbor.example.com/jupyterhub", host="jupyter.example.com"))
    )
    merged = chart_values(values)
    assert wrapper_errors(merged) == []
    assert upstream_errors(merged["jupyterhub"]) == []


def test_starter_renders(helm, tmp_path):
    path = tmp_path / "starter.yaml"
    write_starter_values(path, registry="harbor.example.com/jupyterhub", host="jupyter.example.com")
    chart = build_chart(tmp_path, real_schema=UPSTREAM_SCHEMA_FILE.exists())
    docs = render(helm, chart, "-f", str(path))
    assert settings_document(docs)["registry"] == "harbor.example.com/jupyterhub"
    assert subchart_values(docs)["ingress"]["hosts"] == ["jupyter.example.com"]
