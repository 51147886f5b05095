"""What is pinned is defined once, and every copy that must exist is tied to it here.

* The upstream chart: ``wrapper-chart/Chart.yaml`` (where Helm reads it) and
  ``jhub_ck8s.chart`` (what ``--chart-archive`` must be); the Chart.yaml's words and the
  shared fixtures' folder name say the same version.
* The supported Kubernetes versions: ``K8S_SCHEMA_VERSIONS`` in ``tools/versions.mk``
  (the schemas ``make setup`` installs); the tests read it (``conftest``), and the demo,
  ``tools/kubeconform.sh`` and the README say the same.
"""

from __future__ import annotations

import re

import yaml
from conftest import KUBERNETES_VERSIONS, REPO, Z2JH, _make_variable

from jhub_ck8s import chart


def test_the_upstream_chart_pin_is_the_same_in_chart_yaml_and_chart_py():
    wrapper = yaml.safe_load((REPO / "wrapper-chart" / "Chart.yaml").read_text())
    (dependency,) = wrapper["dependencies"]
    assert (dependency["name"], dependency["version"], dependency["repository"]) == (
        chart.UPSTREAM_NAME, chart.UPSTREAM_VERSION, chart.UPSTREAM_REPOSITORY
    )


def test_every_mention_of_the_upstream_version_agrees():
    text = (REPO / "wrapper-chart" / "Chart.yaml").read_text()
    mentioned = set(re.findall(r"z2jh (\d+\.\d+\.\d+)", text))
    assert mentioned == {chart.UPSTREAM_VERSION}
    assert Z2JH.name == f"z2jh-{chart.UPSTREAM_VERSION}"


def test_the_supported_kubernetes_versions_are_read_from_versions_mk():
    assert tuple(_make_variable("K8S_SCHEMA_VERSIONS").split()) == KUBERNETES_VERSIONS
    assert len(KUBERNETES_VERSIONS) >= 2 and all(re.fullmatch(r"1\.\d+\.0", v) for v in KUBERNETES_VERSIONS)


def test_the_copies_of_the_kubernetes_versions_agree():
    versions = " ".join(KUBERNETES_VERSIONS)
    assert f"for version in {versions}; do" in (REPO / "tools" / "demo.sh").read_text()
    script = (REPO / "tools" / "kubeconform.sh").read_text()
    assert f"# Installed versions: {versions} " in script
    assert f"-kubernetes-version {KUBERNETES_VERSIONS[0]}" in script  # the default: the oldest supported
    minors = [v.rsplit(".", 1)[0] for v in KUBERNETES_VERSIONS]
    readme = " ".join((REPO / "README.md").read_text().split())
    assert f"Kubernetes {minors[0]}\u2013{minors[-1]} " in readme


def test_the_api_version_the_chart_renders_is_the_one_the_code_reads_and_writes():
    import jhub_ck8s
    from jhub_ck8s import lock, settings
    from jhub_ck8s.inventory import Inventory

    template = (REPO / "wrapper-chart" / "templates" / "settings.yaml").read_text()
    assert f"\napiVersion: {jhub_ck8s.API_VERSION}\n" in template
    assert settings.SETTINGS_API_VERSION == lock.LOCK_API_VERSION == jhub_ck8s.API_VERSION
    assert Inventory(()).to_json()["apiVersion"] == jhub_ck8s.API_VERSION
    for doc in ("README.md", "wrapper-chart/README.md"):
        assert set(re.findall(r"jhub-ck8s\.io/v\w+", (REPO / doc).read_text())) <= {jhub_ck8s.API_VERSION}
