"""Settings: sources, precedence, and one clear line for every mistake."""

from __future__ import annotations

import pytest

from jhub_ck8s.errors import SettingsError
from jhub_ck8s.settings import Settings, load_file, merge, read_layer


def test_defaults():
    s = Settings()
    assert s.mode == "enforce" and s.registry is None
    assert s.resources.requests.cpu == "10m" and s.resources.limits.memory == "1Gi"


def test_precedence_flags_over_file_over_stream_and_registry_map_merges():
    stream = read_layer({"registry": "s.example/p", "mode": "warn", "registryMap": {"docker.io": "s.example/hub"}}, "stream")
    file = read_layer({"registry": "f.example/p", "registryMap": {"quay.io": "f.example/quay"}}, "file")
    flags = read_layer({"registry": "flag.example/p"}, "flags")
    s = merge(stream, file, flags)
    assert s.registry == "flag.example/p"
    assert s.mode == "warn"  # only the stream set it
    assert dict(s.registry_map) == {"docker.io": "s.example/hub", "quay.io": "f.example/quay"}


def test_nulls_mean_unset():
    assert read_layer({"registry": None, "pullSecret": None}, "x") == {}


def test_resources_merge_with_defaults():
    s = merge(read_layer({"resources": {"limits": {"memory": "2Gi"}}}, "file"))
    assert s.resources.limits.memory == "2Gi" and s.resources.limits.cpu == "1"
    assert s.resources.requests.cpu == "10m"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"registy": "x"}, r"unknown setting 'registy' \(allowed: registry, "),
        ({"registry": 5}, r"setting 'registry': expected a non-empty string, got 5"),
        ({"registry": "https://h.example/x"}, r"setting 'registry': .*scheme"),
        ({"registry": "project-only"}, r"setting 'registry': .*registry host"),
        ({"mode": "strict"}, r"setting 'mode': expected one of enforce, warn, got 'strict'"),
        ({"pullSecret": "Pull_Secret"}, r"setting 'pullSecret': expected a Kubernetes object name"),
        ({"registryMap": {"docker.io/library": "h.example/p"}}, r"registryMap.docker.io/library: the source must be a registry host"),
        ({"registryMap": ["x"]}, r"setting 'registryMap': expected a mapping"),
        ({"keepImages": {"a": 1}}, r"setting 'keepImages': expected a list of strings, got dict"),
        ({"resources": {"requests": {"cpu": "lots"}}}, r"setting 'resources.requests.cpu': expected a Kubernetes quantity"),
        ({"resources": {"requests": {"gpu": "1"}}}, r"setting resources.requests.gpu: unknown key \(allowed: cpu, memory\)"),
        ({"allow": [{"kind": "Pod", "colour": "x"}]}, r"setting allow\[0\].colour: unknown key"),
        ({"patches": [{"target": {"kind": "Service"}}]}, r"patches\[0\]: needs both 'target' and 'patch'"),
        ({"patches": [{"target": {"kind": "S"}, "patch": [{"op": "frob", "path": "/x"}]}]}, r"patches\[0\].patch\[0\].op: 'frob' is not an RFC 6902 operation; use one of add, "),
        ({"patches": [{"target": {"kind": "S"}, "patch": [{"path": "/x"}]}]}, r"patches\[0\].patch\[0\]: needs 'op'"),
        ({"minimumReplicasAnnotation": "yes"}, r"expected true or false"),
        ({"userResources": {"cpu": {"limit": -1}}}, r"userResources.cpu.limit': expected a non-negative number"),
    ],
)
def test_bad_settings_give_one_line(raw, message):
    with pytest.raises(SettingsError, match=message) as info:
        read_layer(raw, "file")
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("file: ")


def test_settings_document_may_carry_api_version_and_kind():
    layer = read_layer({"apiVersion": "jhub-ck8s.io/v1alpha1", "kind": "PostRenderSettings", "mode": "warn"}, "s", document=True)
    assert layer == {"mode": "warn"}
    with pytest.raises(SettingsError, match="unknown setting 'kind'"):
        read_layer({"kind": "PostRenderSettings"}, "file")


def test_load_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("registry: harbor.example.com/team\nkeepImages: [quay.io/x/*]\n")
    assert load_file(str(path)) == {"registry": "harbor.example.com/team", "keep_images": ("quay.io/x/*",)}
    path.write_text("registry: [\n")
    with pytest.raises(SettingsError, match=r"--config .*s.yaml: not valid YAML at line"):
        load_file(str(path))
    with pytest.raises(SettingsError, match="cannot read it"):
        load_file(str(tmp_path / "missing.yaml"))


@pytest.mark.parametrize("quantity", ["100u", "5n", "0.5", "1e3", "512Mi"])
def test_setting_quantities_use_the_kubernetes_grammar(quantity):
    layer = read_layer({"resources": {"requests": {"cpu": quantity}}}, "test")
    assert layer["resources"].requests.cpu == quantity


@pytest.mark.parametrize(("quantity", "message"), [("1e999999999", "out of range"), ("lots", "quantity"), ("-1", "not negative")])
def test_setting_quantities_refused_in_one_line(quantity, message):
    with pytest.raises(SettingsError, match=message):
        read_layer({"resources": {"requests": {"cpu": quantity}}}, "test")


def test_disable_holds_names_and_the_pipeline_knows_which_exist():
    """The settings take names; the pipeline, which holds the registry, refuses unknown ones."""
    from jhub_ck8s.pipeline import run

    assert read_layer({"disable": ["nope"]}, "test")["disable"] == ("nope",)
    result = run("---\nkind: ConfigMap\nmetadata: {name: a}\n", flag_layer=read_layer({"disable": ["nope"]}, "--config s.yaml"))
    assert result.exit_code == 2
    assert result.report.fatal.startswith("error: --config s.yaml: setting 'disable': unknown transform 'nope' (known: images, ")
