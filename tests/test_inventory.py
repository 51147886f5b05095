"""``images`` and the inventory library: offline, on hand-written fixtures and the z2jh renders."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest
import yaml
from conftest import FIXTURES, REPO, Z2JH, Z2JH_MISSING

from jhub_ck8s import inventory
from jhub_ck8s.errors import InputError
from jhub_ck8s.imageref import parse as parse_ref
from jhub_ck8s.stream import parse

FIXTURE = FIXTURES / "inventory-release.yaml"
SECRETS = ("INVENTORY-SECRET-COOKIE", "INVENTORY-SECRET-PROXY-TOKEN", "SU5WRU5UT1JZLVNFQ1JFVC1BVVRILVRPS0VO", "INVENTORY-SECRET-AUTH-TOKEN")


def images_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jhub_ck8s.cli", "images", *args],
        input=stdin, capture_output=True, text=True, cwd=REPO, check=False,
    )


def collect(text: str, flags: dict | None = None, file_layer: dict | None = None) -> inventory.Inventory:
    documents = parse(text)
    return inventory.collect(documents, inventory.settings_for(documents, file_layer, flags))


def by_source(inv: inventory.Inventory) -> dict[str, inventory.InventoryImage]:
    return {image.source.normalized: image for image in inv.images}


def test_fixture_secret_matches_its_plain_text():
    documents = parse(FIXTURE.read_text())
    secret = next(d for d in documents if d.kind == "Secret")
    decoded = base64.b64decode(secret.obj["data"]["values.yaml"]).decode()
    assert decoded == (FIXTURES / "inventory-hub-values.yaml").read_text()


def test_every_image_once_with_all_usages_and_in_stream_settings():
    inv = collect(FIXTURE.read_text())
    images = by_source(inv)
    assert sorted(images) == [
        "docker.io/library/alpine:3.20",
        "docker.io/library/traefik:v3.6.12",
        "ghcr.io/example/r-notebook:1.0",
        "harbor.example.com/jupyterhub/jupyterhub/k8s-hub:4.4.0",
        "quay.io/jupyter/minimal-notebook:2025-06-30",
        "quay.io/jupyterhub/k8s-image-awaiter:4.4.0",
        "quay.io/jupyterhub/k8s-secret-sync:4.4.0",
        "quay.io/jupyterhub/k8s-singleuser-sample:4.4.0",
        "registry.internal.example/tools/backup:2.0",
        "registry.k8s.io/pause:3.10.1@sha256:" + "a" * 64,
    ]
    # network-tools is absent: the metadata block is off in this hub config
    assert not any("network-tools" in source for source in images)
    sync = images["quay.io/jupyterhub/k8s-secret-sync:4.4.0"]
    assert [u.text for u in sync.usages] == [
        "Deployment/autohttps init container load-acme",
        "Deployment/autohttps container secret-sync",
    ]
    awaiter = images["quay.io/jupyterhub/k8s-image-awaiter:4.4.0"].usages[0]
    assert awaiter.hook and awaiter.text.endswith("(hook)")
    choice = images["ghcr.io/example/r-notebook:1.0"].usages[0]
    assert choice.runtime
    assert choice.hub_key == "hub.config.KubeSpawner.profile_list[0].profile_options.flavour.choices.r.kubespawner_override.image"
    assert images["quay.io/jupyter/minimal-notebook:2025-06-30"].usages[0].hub_key == "hub.config.KubeSpawner.image"
    assert images["docker.io/library/alpine:3.20"].usages[0].hub_key == "singleuser.initContainers[0].image"


def test_destinations_follow_the_post_renderer_mapping():
    inv = collect(FIXTURE.read_text())
    images = by_source(inv)
    traefik = images["docker.io/library/traefik:v3.6.12"]
    assert traefik.status == inventory.MOVE
    assert traefik.destination.normalized == "harbor.example.com/jupyterhub/library/traefik:v3.6.12"
    hub = images["harbor.example.com/jupyterhub/jupyterhub/k8s-hub:4.4.0"]
    assert hub.status == inventory.IN_TARGET and hub.destination == hub.source and not hub.needs_copy
    kept = images["registry.internal.example/tools/backup:2.0"]
    assert kept.status == inventory.KEPT and kept.destination == kept.source
    pause = images["registry.k8s.io/pause:3.10.1@sha256:" + "a" * 64]
    assert pause.destination.normalized == "harbor.example.com/jupyterhub/pause:3.10.1@sha256:" + "a" * 64
    # one code path: the Relocator the post-renderer uses gives the same answer
    relocator = inv.settings.relocator()
    for image in inv.images:
        if image.status == inventory.MOVE:
            assert relocator.relocate(image.source).destination == image.destination


def test_flags_win_over_config_over_the_stream():
    text = FIXTURE.read_text()
    from_config = collect(text, file_layer={"registry": "config.example.com/p"})
    assert by_source(from_config)["docker.io/library/traefik:v3.6.12"].destination.registry == "config.example.com"
    from_flags = collect(text, flags={"registry": "flag.example.com/p"}, file_layer={"registry": "config.example.com/p"})
    assert by_source(from_flags)["docker.io/library/traefik:v3.6.12"].destination.normalized == "flag.example.com/p/library/traefik:v3.6.12"


def test_without_a_target_registry_destinations_are_unknown():
    text = FIXTURE.read_text().replace("registry: harbor.example.com/jupyterhub\n", "")
    inv = collect(text)
    assert {image.status for image in inv.images} == {inventory.UNMAPPED, inventory.KEPT}
    assert all(image.destination is None for image in inv.images if image.status == inventory.UNMAPPED)


def test_network_tools_listed_when_the_metadata_block_is_on():
    text = FIXTURE.read_text()
    documents = parse(text)
    secret = next(d for d in documents if d.kind == "Secret")
    values = yaml.safe_load((FIXTURES / "inventory-hub-values.yaml").read_text())
    values["singleuser"]["cloudMetadata"]["blockWithIptables"] = True
    secret.obj["data"]["values.yaml"] = base64.b64encode(yaml.safe_dump(values).encode()).decode()
    inv = inventory.collect(documents, inventory.settings_for(documents))
    tools = by_source(inv)["quay.io/jupyterhub/k8s-network-tools-not-used:4.4.0"]
    assert tools.usages[0].hub_key == "singleuser.networkTools.image"
    # and the chart default (key absent) counts as on
    del values["singleuser"]["cloudMetadata"]
    secret.obj["data"]["values.yaml"] = base64.b64encode(yaml.safe_dump(values).encode()).decode()
    assert "quay.io/jupyterhub/k8s-network-tools-not-used:4.4.0" in by_source(inventory.collect(documents, inventory.settings_for(documents)))


def test_unreadable_runtime_reference_named_by_key_path_only():
    documents = parse(FIXTURE.read_text())
    secret = next(d for d in documents if d.kind == "Secret")
    values = yaml.safe_load((FIXTURES / "inventory-hub-values.yaml").read_text())
    values["singleuser"]["initContainers"][0]["image"] = "Bad Image With SECRETVALUE"
    secret.obj["data"]["values.yaml"] = base64.b64encode(yaml.safe_dump(values).encode()).decode()
    with pytest.raises(InputError) as caught:
        inventory.collect(documents, inventory.settings_for(documents))
    assert "singleuser.initContainers[0].image" in str(caught.value)
    assert "SECRETVALUE" not in str(caught.value)


def test_cli_table_json_and_no_secret_content():
    table = images_cli("--from", str(FIXTURE))
    assert table.returncode == 0, table.stderr
    assert "harbor.example.com/jupyterhub/library/traefik:v3.6.12" in table.stdout
    assert "(already there)" in table.stdout and "(kept)" in table.stdout
    as_json = images_cli("--from", "-", "--output", "json", "--registry", "flag.example.com/team", stdin=FIXTURE.read_text())
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["kind"] == "ImageInventory" and data["registry"] == "flag.example.com/team"
    row = next(i for i in data["images"] if i["source"] == "quay.io/jupyterhub/k8s-singleuser-sample:4.4.0")
    assert row["destination"] == "flag.example.com/team/jupyterhub/k8s-singleuser-sample:4.4.0"
    assert row["usages"] == [{"object": "Secret/hub", "hubKey": "singleuser.image", "runtime": True}]
    for output in (table.stdout + table.stderr, as_json.stdout + as_json.stderr):
        for secret in SECRETS:
            assert secret not in output


def test_cli_user_errors_are_one_line():
    missing = images_cli("--from", "/nonexistent/release.yaml")
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0
    assert "cannot read it" in missing.stderr
    both = images_cli("--from", str(FIXTURE), "-f", "values.yaml")
    assert both.returncode == 2 and "cannot be combined with -f" in both.stderr
    bad_registry = images_cli("--from", str(FIXTURE), "--registry", "https://harbor.example.com/p")
    assert bad_registry.returncode == 2 and "--registry" in bad_registry.stderr


def test_lock_output_without_skopeo_says_so(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "jhub_ck8s.cli", "images", "--from", str(FIXTURE), "--output", "lock"],
        capture_output=True, text=True, cwd=REPO, check=False,
        env={"PATH": str(tmp_path), "HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "skopeo not found" in result.stderr


# --- the recorded z2jh renders ----------------------------------------------------------------

QUAY = "quay.io/jupyterhub/"
BASE = {
    QUAY + "k8s-hub:4.4.0",
    QUAY + "configurable-http-proxy:5.2.0",
    QUAY + "k8s-image-awaiter:4.4.0",
    QUAY + "k8s-singleuser-sample:4.4.0",
    "registry.k8s.io/pause:3.10.1",
}
# The README lists default and guide together. The guide's own values switch off what
# two of those need: scheduling.userScheduler (kube-scheduler) and the metadata block
# (network-tools, which only the pullers' metadata-block init container and the spawned
# pods' block-cloud-metadata use). So the guide render names neither, anywhere.
EXPECTED = {
    "default": BASE | {QUAY + "k8s-network-tools:4.4.0", "registry.k8s.io/kube-scheduler:v1.30.14"},
    "guide": BASE,
    "full": BASE
    | {
        QUAY + "k8s-network-tools:4.4.0",
        "registry.k8s.io/kube-scheduler:v1.30.14",
        "docker.io/library/traefik:v3.6.12",
        QUAY + "k8s-secret-sync:4.4.0",
        "docker.io/library/alpine:3.20",
        "ghcr.io/example/user-sidecar:1.2.3",
        "docker.io/library/busybox:1.36.1",
        "quay.io/jupyter/scipy-notebook:2025-06-30",
        "quay.io/jupyter/r-notebook:2025-06-30",
    },
}
RUNTIME = {
    "default": {"singleuser.image": QUAY + "k8s-singleuser-sample:4.4.0", "singleuser.networkTools.image": QUAY + "k8s-network-tools:4.4.0"},
    "guide": {"singleuser.image": QUAY + "k8s-singleuser-sample:4.4.0"},
    "full": {
        "singleuser.image": QUAY + "k8s-singleuser-sample:4.4.0",
        "singleuser.networkTools.image": QUAY + "k8s-network-tools:4.4.0",
        "singleuser.initContainers[0].image": "docker.io/library/alpine:3.20",
        "singleuser.extraContainers[0].image": "ghcr.io/example/user-sidecar:1.2.3",
        "singleuser.profileList[0].kubespawner_override.image": "quay.io/jupyter/scipy-notebook:2025-06-30",
        "singleuser.profileList[1].kubespawner_override.image": "quay.io/jupyter/r-notebook:2025-06-30",
    },
}


def _z2jh(name: str):
    path = Z2JH / "template" / f"{name}.yaml"
    if not path.exists():
        pytest.skip(Z2JH_MISSING)
    return path


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_z2jh_renders_list_exactly_the_readme_images(name):
    path = _z2jh(name)
    result = images_cli("--from", str(path), "--output", "json", "--registry", "harbor.example.com/jupyterhub")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {row["source"] for row in data["images"]} == EXPECTED[name]
    runtime = {u["hubKey"]: row["source"] for row in data["images"] for u in row["usages"] if u.get("runtime")}
    assert runtime == RUNTIME[name]
    for row in data["images"]:
        source = parse_ref(row["source"])
        assert row["destination"] == f"harbor.example.com/jupyterhub/{source.repository}:{source.tag}"
    # the hook's images are listed (template output includes hooks)
    hooks = {row["source"] for row in data["images"] for u in row["usages"] if u.get("hook")}
    assert QUAY + "k8s-image-awaiter:4.4.0" in hooks
    # nothing of Secret/hub other than image references reaches the output
    secret_values = [v for v in yaml.safe_load(_secret_plain(path)).get("hub", {}).get("config", {}).get("JupyterHub", {}).values() if isinstance(v, str) and len(v) > 16]
    for value in secret_values:
        assert value not in result.stdout


def _secret_plain(path) -> str:
    documents = parse(path.read_text())
    secret = next(d for d in documents if d.kind == "Secret" and d.name == "hub")
    return base64.b64decode(secret.obj["data"]["values.yaml"]).decode()


# --- rendering the wrapper chart (real helm, the stand-in upstream chart) ---------------------


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    from conftest import TOOLS
    from standin_chart import package_standin_chart

    helm3 = TOOLS / "bin" / "helm3"
    if not helm3.exists():
        pytest.skip(f"{helm3} is not installed: run make setup")
    home = tmp_path_factory.mktemp("inventory-helm")
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "HELM_DATA_HOME": str(home / "d"), "HELM_CONFIG_HOME": str(home / "c"), "HELM_CACHE_HOME": str(home / "k")}
    return package_standin_chart(str(helm3), tmp_path_factory.mktemp("inventory-standin"), env), env


@pytest.mark.parametrize("helm", ["helm3", "helm4"])
def test_images_renders_the_wrapper_chart_with_hooks(standin, helm, tmp_path):
    from conftest import TOOLS

    archive, env = standin
    binary = TOOLS / "bin" / helm
    if not binary.exists():
        pytest.skip(f"{binary} is not installed: run make setup")
    values = tmp_path / "values.yaml"
    # the wrapper's defaults switch off the hook puller and the metadata block: switch them on
    values.write_text(
        "ck8s:\n  registry: harbor.example.com/from-values\n"
        "jupyterhub:\n  prePuller: {hook: {enabled: true}}\n  singleuser: {cloudMetadata: {blockWithIptables: true}}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "jhub_ck8s.cli", "images", "-f", str(values), "--chart-archive", str(archive), "--output", "json"],
        capture_output=True, text=True, cwd=REPO, check=False, env={**env, "HELM_BIN": str(binary)},
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    rows = {row["source"]: row for row in data["images"]}
    assert set(rows) == {
        "quay.io/jupyterhub/k8s-hub:4.4.0",
        "quay.io/jupyterhub/k8s-singleuser-sample:4.4.0",
        "quay.io/jupyterhub/k8s-network-tools:4.4.0",
        "docker.io/library/traefik:v3.6.12",  # the hook Job: listed on Helm 3 too
    }
    assert rows["docker.io/library/traefik:v3.6.12"]["usages"][0]["hook"] is True
    # the in-stream settings document (from ck8s.registry) decides the destination
    assert rows["quay.io/jupyterhub/k8s-hub:4.4.0"]["destination"] == "harbor.example.com/from-values/jupyterhub/k8s-hub:4.4.0"
