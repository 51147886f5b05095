"""``render --gitops`` and ``render --output-dir``: stable renders that keep secrets out of git.

Against the real upstream chart archive (../shared) with the real helm v3 and v4: two
renders of the same inputs are byte-identical (and, as a control, two plain renders are
not: the chart's random tokens); ``Secret/hub`` carries no generated token; the hub and
the proxy take CONFIGPROXY_AUTH_TOKEN from the same key of the tenant's Secret;
``checksum/secret`` follows the real inputs only; a render with no stable source for the
tokens, or with a secret in the values, is refused with nothing on stdout. ``--output-dir``
is judged by the real ``kustomize build``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import TOOLS, Z2JH, run_postrender
from controlplane import POLICY_REGISTRY
from gitops_world import (
    EXISTING,
    HELMS,
    VALUES,
    by_label,
    hub_values,
    missing,
    objects,
    render,
    token_refs,
)

from jhub_ck8s import hydrate
from jhub_ck8s.errors import UserError
from jhub_ck8s.values_layers import prepare

pytestmark = pytest.mark.gitops

GENERATED = {
    "hub.config.ConfigurableHTTPProxy.auth_token",
    "hub.config.JupyterHub.cookie_secret",
    "hub.config.CryptKeeper.keys",
    "hub.services.monitor.apiToken",
}


@pytest.fixture(params=HELMS)
def helm(request):
    why = missing(request.param)
    if why:
        pytest.skip(why)
    return request.param


@pytest.fixture
def values(tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text(VALUES)
    return path


def test_two_gitops_renders_are_byte_identical_and_two_plain_ones_are_not(helm, values):
    first, second = render(helm, values, "--gitops"), render(helm, values, "--gitops")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert first.stdout == second.stdout
    assert len(objects(first.stdout)) >= 15
    # the control: without --gitops the chart's random tokens differ from one render to the next
    plain = [render(helm, values) for _ in range(2)]
    assert all(result.returncode == 0 for result in plain), plain[0].stderr
    assert plain[0].stdout != plain[1].stdout


def test_secret_hub_carries_no_generated_token(helm, values):
    result = render(helm, values, "--gitops")
    assert result.returncode == 0, result.stderr
    secret = by_label(result.stdout)["Secret/hub"]
    assert set(secret.get("data", {})) == {"values.yaml"}
    assert "stringData" not in secret
    config = hub_values(secret)
    assert config["hub"]["existingSecret"] == EXISTING
    # the plain render has them all: what --gitops removed is what the chart generated
    plain = by_label(render(helm, values).stdout)["Secret/hub"]
    assert set(plain["data"]) >= GENERATED
    # and the report says so, naming keys only
    for key in GENERATED:
        assert f"removed the generated key {key}" in result.stderr


def test_hub_and_proxy_get_the_same_token_from_the_tenants_secret(helm, values):
    result = render(helm, values, "--gitops")
    assert result.returncode == 0, result.stderr
    objs = by_label(result.stdout)
    hub, proxy = token_refs(objs["Deployment/hub"]), token_refs(objs["Deployment/proxy"])
    assert hub and proxy
    assert hub == proxy == [{"name": EXISTING, "key": "hub.config.ConfigurableHTTPProxy.auth_token"}]
    assert "CONFIGPROXY_AUTH_TOKEN now comes from Secret/jhub-secrets" in result.stderr
    # the plain render points both at the chart's own Secret, whose token is random
    plain = by_label(render(helm, values).stdout)
    assert token_refs(plain["Deployment/proxy"])[0]["name"] == "hub"


def test_checksums_change_only_with_their_real_inputs(helm, values, tmp_path):
    first = by_label(render(helm, values, "--gitops").stdout)
    again = by_label(render(helm, values, "--gitops").stdout)
    annotations = first["Deployment/hub"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["checksum/secret"] == again["Deployment/hub"]["spec"]["template"]["metadata"]["annotations"]["checksum/secret"]
    proxy_annotations = first["Deployment/proxy"]["spec"]["template"]["metadata"]["annotations"]
    assert "checksum/auth-token" not in proxy_annotations
    # a real input of Secret/hub changes: the checksum follows, and the hub will restart
    changed = tmp_path / "more.yaml"
    changed.write_text("jupyterhub:\n  hub:\n    config:\n      Authenticator: {allowed_users: [ada, grace]}\n")
    result = render(helm, values, "--gitops", "-f", str(changed))
    assert result.returncode == 0, result.stderr
    other = by_label(result.stdout)["Deployment/hub"]["spec"]["template"]["metadata"]["annotations"]
    assert other["checksum/secret"] != annotations["checksum/secret"]
    assert other["checksum/config-map"] == annotations["checksum/config-map"]


def test_the_gitops_render_is_admitted_by_the_real_api_server_as_the_tenant(helm, values, cluster, tenant_namespace):
    """What the gitops transform writes (the projected volume of the tenant's Secret, the
    repointed token) read by its real reader: every object created, in the render's order
    (a RoleBinding needs its Role), as the tenant, under Pod Security restricted and the
    platform's policies, without a warning. The namespace goes with the test."""
    # the registry the control plane's trusted-registry policy names
    result = render(helm, values, "--gitops", "--registry", POLICY_REGISTRY.rstrip("/"))
    assert result.returncode == 0, result.stderr
    rendered = objects(result.stdout)
    hub = next(o for o in rendered if o["kind"] == "Deployment" and o["metadata"]["name"] == "hub")
    assert any("projected" in v for v in hub["spec"]["template"]["spec"]["volumes"])
    for obj in rendered:
        obj["metadata"].pop("namespace", None)
        answer = cluster.tenant_api.create(obj, tenant_namespace)
        assert answer.ok and not answer.warnings, f"{obj['kind']}/{obj['metadata']['name']}: {answer.describe()}"


def test_a_values_yaml_in_the_tenants_secret_never_reaches_the_hub(helm, values):
    result = render(helm, values, "--gitops")
    assert result.returncode == 0, result.stderr
    spec = by_label(result.stdout)["Deployment/hub"]["spec"]["template"]["spec"]
    volume = next(v for v in spec["volumes"] if v["name"] == "existing-secret")
    (source,) = volume["projected"]["sources"]  # sqlite: no database password
    keys = [item["key"] for item in source["secret"]["items"]]
    assert "values.yaml" not in keys
    assert keys == ["hub.config.JupyterHub.cookie_secret", "hub.config.CryptKeeper.keys", "hub.services.monitor.apiToken"]
    assert all(item["path"] == item["key"] for item in source["secret"]["items"])
    assert "secret" not in volume and "optional" not in source["secret"]
    # nothing in the hub's config the user pods come from says existingSecret is a blind spot any more
    assert "existing-secret)" not in result.stderr


def test_no_stable_source_is_refused_with_one_line_naming_the_values(helm, tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text(VALUES.replace(f"    existingSecret: {EXISTING}\n", ""))
    result = render(helm, path, "--gitops")
    assert result.returncode == 2
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert any(
        "jupyterhub.hub.existingSecret" in line and "hub.config.JupyterHub.cookie_secret" in line
        and "hub.services.monitor.apiToken" in line and "no stable source" in line
        for line in errors
    ), result.stderr


def test_the_post_renderer_itself_refuses_an_unstable_render_even_in_warn_mode():
    path = Z2JH / "post-render-input" / "helm4" / "guide.yaml"
    if not path.is_file():
        pytest.skip(f"{path} is missing (../shared beside the checkout)")
    for mode in ("enforce", "warn"):
        result = run_postrender(["--gitops=true", f"--mode={mode}", "--registry=harbor.acme.se/jupyterhub"], path.read_text())
        assert result.returncode == 2
        assert result.stdout == b""
        assert b"set jupyterhub.hub.existingSecret" in result.stderr
    # without --gitops the same input renders
    assert run_postrender(["--registry=harbor.acme.se/jupyterhub"], path.read_text()).returncode == 0


def test_a_secret_in_a_values_file_is_refused_naming_its_key_path_never_its_value(helm, values, tmp_path):
    oauth = tmp_path / "oauth.yaml"
    oauth.write_text(
        "jupyterhub:\n  hub:\n    config:\n      GenericOAuthenticator:\n"
        "        client_id: jhub\n        client_secret: s3cr3t-Value-Nobody-Sees\n"
        "        token_url: https://login.acme.se/token\n"
    )
    result = render(helm, values, "--gitops", "-f", str(oauth))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "s3cr3t-Value-Nobody-Sees" not in result.stderr
    assert f"{oauth}:6: jupyterhub.hub.config.GenericOAuthenticator.client_secret: is a secret" in result.stderr
    assert "token_url" not in result.stderr  # a URL, not a secret
    # the same file without --gitops is a normal render: the refusal is this mode's
    assert render(helm, values, "-f", str(oauth)).returncode == 0


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("jupyterhub:\n  hub:\n    config:\n      CryptKeeper:\n        keys: [abc]\n", ["jupyterhub.hub.config.CryptKeeper.keys[0]"]),
        ("jupyterhub:\n  proxy:\n    secretToken: abc\n", ["jupyterhub.proxy.secretToken"]),
        ("jupyterhub:\n  hub:\n    services:\n      m:\n        apiToken: abc\n", ["jupyterhub.hub.services.m.apiToken"]),
        ("ck8s:\n  pullSecretCredentials:\n    password: abc\n", ["ck8s.pullSecretCredentials.password"]),
        ("jupyterhub:\n  hub:\n    db:\n      password: abc\n", ["jupyterhub.hub.db.password"]),
        # references to Secrets, and names of Secrets, are not secrets
        ("jupyterhub:\n  hub:\n    extraEnv:\n      OAUTH_CLIENT_SECRET:\n        valueFrom:\n          secretKeyRef:\n"
         "            name: jhub-secrets\n            key: oauth-client-secret\n", []),
        ("jupyterhub:\n  hub:\n    config:\n      GenericOAuthenticator:\n        token_url: https://x.acme.se/t\n", []),
        ("ck8s:\n  pullSecret: pull-secret\n", []),
    ],
)
def test_what_the_gitops_linter_calls_a_secret(tmp_path, text, refused):
    data = yaml.safe_load(text)
    data.setdefault("jupyterhub", {}).setdefault("hub", {})["existingSecret"] = EXISTING
    given = tmp_path / "v.yaml"
    given.write_text(yaml.safe_dump(data))
    prepared = prepare([str(given)], [], [], tmp_path, wrapper_chart=True, gitops=True)
    assert sorted(f.key for f in prepared.findings if f.rule == "secret-in-values") == refused
    assert all(f.rule != "no-stable-source" for f in prepared.findings)
    plain = prepare([str(given)], [], [], tmp_path, wrapper_chart=True)
    assert all(f.rule != "secret-in-values" for f in plain.findings)


# --- render --output-dir --------------------------------------------------------------------


def kustomize_build(directory: Path) -> str:
    binary = TOOLS / "bin" / "kustomize"
    if not os.access(binary, os.X_OK):
        pytest.skip(f"{binary} is missing: run make setup")
    result = subprocess.run([str(binary), "build", str(directory)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _without_nulls(node):
    """As the API server reads an object: a field set to null is a field not set (kustomize drops them)."""
    if isinstance(node, dict):
        return {k: _without_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_without_nulls(v) for v in node]
    return node


def _key(obj):
    return (obj["apiVersion"], obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


def test_output_dir_gives_kustomize_the_same_objects_as_render(helm, values, tmp_path):
    streamed = render(helm, values, "--gitops")
    assert streamed.returncode == 0, streamed.stderr
    out = tmp_path / "hydrated"
    result = render(helm, values, "--gitops", "--output-dir", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    rendered = [_without_nulls(o) for o in objects(streamed.stdout)]
    built = [_without_nulls(o) for o in objects(kustomize_build(out))]
    assert len(built) == len(rendered)
    assert {_key(o): o for o in built} == {_key(o): o for o in rendered}
    files = sorted(p.name for p in out.iterdir())
    assert "kustomization.yaml" in files and "deployment-hub.yaml" in files and "secret-hub.yaml" in files
    assert len(files) == len(rendered) + 1
    # stable names and contents: a second render into the same folder changes no byte
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert render(helm, values, "--gitops", "--output-dir", str(out)).returncode == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_output_dir_replaces_its_own_files_and_refuses_a_foreign_folder(tmp_path):
    out = tmp_path / "out"
    one = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
    assert hydrate.write(one, out) == ["configmap-a.yaml", "configmap-b.yaml"]
    only_b = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
    assert hydrate.write(only_b, out) == ["configmap-b.yaml"]
    assert sorted(p.name for p in out.iterdir()) == ["configmap-b.yaml", "kustomization.yaml"]
    (out / "mine.txt").write_text("x")
    with pytest.raises(UserError, match=r"mine\.txt"):
        hydrate.write(one, out)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.md").write_text("x")
    with pytest.raises(UserError, match="not written by render --output-dir"):
        hydrate.write(one, foreign)
    assert (foreign / "notes.md").read_text() == "x"
    binary = tmp_path / "binary"
    binary.mkdir()
    (binary / "kustomization.yaml").write_bytes(b"\xff\xfe")
    with pytest.raises(UserError, match=r"kustomization\.yaml: not UTF-8 text \(byte 0\)"):
        hydrate.write(one, binary)  # one line, not a traceback
    same = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: o}\n"
    assert hydrate.write(same, tmp_path / "dup") == ["secret-x.yaml", "secret-x-2.yaml"]


def test_the_readmes_way_of_moving_client_secret_out_of_the_values_passes_the_gitops_linter(tmp_path):
    import re

    from conftest import REPO

    readme = (REPO / "README.md").read_text()
    section = readme.split("**Moving the OAuth `client_secret` out of the values**", 1)[1]
    block = re.search(r"^```yaml\n(.*?)^```", section, re.S | re.M).group(1)
    data = yaml.safe_load(block)
    data["jupyterhub"]["hub"]["config"] = {
        "JupyterHub": {"authenticator_class": "google", "admin_users": ["ada@acme.se"]},
        "GoogleOAuthenticator": {"client_id": "123-abc.apps.googleusercontent.com",
                                 "oauth_callback_url": "https://jupyter.acme.se/hub/oauth_callback"},
    }
    given = tmp_path / "values.yaml"
    given.write_text(yaml.safe_dump(data))
    assert [f.line() for f in prepare([str(given)], [], [], tmp_path, wrapper_chart=True, gitops=True).findings] == []
    # and with the secret left in the file, it is refused
    data["jupyterhub"]["hub"]["config"]["GoogleOAuthenticator"]["client_secret"] = "GOCSPX-x"
    given.write_text(yaml.safe_dump(data))
    refused = prepare([str(given)], [], [], tmp_path, wrapper_chart=True, gitops=True).findings
    assert [f.key for f in refused] == ["jupyterhub.hub.config.GoogleOAuthenticator.client_secret"]
