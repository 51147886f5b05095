"""Conformance over the real z2jh renders (../shared/fixtures): what the post-renderer promises.

Skipped, saying why, where the shared fixtures are absent.
"""

from __future__ import annotations

import pytest
from conftest import KUBERNETES_VERSIONS, kubeconform, z2jh_streams

from jhub_ck8s.documents import load_yaml
from jhub_ck8s.hubconfig import find, image_slots
from jhub_ck8s.imageref import parse as parse_ref
from jhub_ck8s.pipeline import run
from jhub_ck8s.podspec import containers, pod_spec
from jhub_ck8s.settings import read_layer
from jhub_ck8s.stream import parse
from jhub_ck8s.transforms import REGISTRY as TRANSFORMS

TARGET = "harbor.example.com/jupyterhub"
IMAGES_ONLY = read_layer({"registry": TARGET, "disable": [t for t in TRANSFORMS if t not in ("images", "pull-secret")]}, "test")
# Everything on, warn mode: the cluster-scoped objects of default/full are warnings here.
ALL_WARN = read_layer({"registry": TARGET, "mode": "warn", "pullSecret": "pull-secret"}, "test")


def _all_images(text: str) -> list[tuple[str, str]]:
    docs = parse(text)
    found = [(d.label + " " + c.where, c.container.get("image")) for d in docs if (s := pod_spec(d.obj)) for c in containers(s)]
    hub = find(docs)
    if hub:
        found += [(slot.path, slot.get()) for slot in image_slots(hub.values)]
    return found


def _identity(text: str) -> list[tuple[str, str]]:
    return [(d.kind, d.name) for d in parse(text)]


@pytest.mark.parametrize("path", z2jh_streams())
def test_images_only_every_image_moves_and_every_document_stays(path):
    text = path.read_text()
    result = run(text, flag_layer=IMAGES_ONLY)
    assert result.exit_code == 0, result.report.table()
    outside = [(where, image) for where, image in _all_images(result.output) if not image.startswith(TARGET + "/")]
    assert outside == []
    assert _identity(result.output) == _identity(text)
    # what moved is exactly what was outside before, and tags survive
    before = dict(_all_images(text))
    after = dict(_all_images(result.output))
    assert before.keys() == after.keys()
    for where, image in before.items():
        assert parse_ref(after[where]).tag == parse_ref(image).tag, where


@pytest.mark.parametrize("path", z2jh_streams())
def test_full_pipeline_is_idempotent_and_records_every_change(path):
    text = path.read_text()
    first = run(text, flag_layer=ALL_WARN)
    assert first.exit_code == 0, first.report.table()
    # every in-memory change was recorded, so the emitted text is what the transforms built
    for doc in first.stream.live():
        assert load_yaml(doc.text().split("\n", len(doc.comments))[-1]) == doc.obj, doc.label
    second = run(first.output, flag_layer=ALL_WARN)
    assert second.exit_code == 0
    assert second.output == first.output
    assert [f.line() for f in second.report.findings if f.severity == "change"] == []
    assert [(d, i) for d, i in _all_images(first.output) if not i.startswith(TARGET + "/")] == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", z2jh_streams())
def test_output_is_valid_under_kubeconform_strict(path, version):
    result = run(path.read_text(), flag_layer=ALL_WARN)
    assert result.exit_code == 0, result.report.table()
    checked = kubeconform(result.output, version)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
    summary = checked.stdout.decode()
    assert "Invalid: 0, Errors: 0" in summary and "Skipped: 0" in summary, summary
