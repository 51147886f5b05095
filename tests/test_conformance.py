"""Conformance over the real z2jh renders (../shared/fixtures): what the post-renderer promises.

Skipped, saying why, where the shared fixtures are absent.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from conftest import KUBERNETES_VERSIONS, kubeconform, z2jh_streams

from jhub_ck8s.documents import load_yaml
from jhub_ck8s.pipeline import run
from jhub_ck8s.settings import read_layer
from jhub_ck8s.stream import parse
from jhub_ck8s.transforms import REGISTRY as TRANSFORMS

TARGET = "harbor.example.com/jupyterhub"
IMAGES_ONLY = read_layer({"registry": TARGET, "disable": [t for t in TRANSFORMS if t not in ("images", "pull-secret")]}, "test")
# Everything on, warn mode: the cluster-scoped objects of default/full are warnings here.
ALL_WARN = read_layer({"registry": TARGET, "mode": "warn", "pullSecret": "pull-secret"}, "test")


# --- an independent image finder: every `image` key anywhere, no table of where pods live ----------

def _image_keys(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, reference) of every ``image`` key under ``node``: a string, or a chart's {name, tag}."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if key == "image" and isinstance(value, str):
                yield here, value
            elif key == "image" and isinstance(value, dict) and isinstance(value.get("name"), str):
                tag = value.get("tag")
                yield here, f"{value['name']}:{tag}" if tag not in (None, "") else value["name"]
            yield from _image_keys(value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _image_keys(value, f"{path}[{index}]")


def _secret_texts(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(key, text) of a Secret's entries, base64 decoded where they are ``data``."""
    for part in ("data", "stringData"):
        for key, value in (obj.get(part) or {}).items():
            if isinstance(value, str):
                yield key, base64.b64decode(value).decode("utf-8", "replace") if part == "data" else value


def _all_images(text: str) -> list[tuple[str, str]]:
    """Every image in a stream, read with PyYAML: in every object, and in every YAML a Secret carries
    (the hub's runtime config, values.yaml, names the images of the pods it spawns)."""
    found = []
    for index, obj in enumerate(yaml.safe_load_all(text)):
        if not isinstance(obj, dict):
            continue
        name = f"{index}:{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
        found += _image_keys(obj, name)
        if obj.get("kind") == "Secret":
            for key, entry in _secret_texts(obj):
                try:
                    inner = yaml.safe_load(entry)
                except yaml.YAMLError:
                    continue
                found += _image_keys(inner, f"{name}[{key}]")
    return found


# Keys of the hub's runtime config that the hub never reads: they describe the chart's own pods,
# which Helm renders as pod specs (where the images move). Written out here, by hand, from
# z2jh's jupyterhub_config.py, which reads only singleuser.* and hub.config for what it spawns.
INERT_IN_HUB_CONFIG = {
    "hub.image", "hub.extraContainers[*].image", "prePuller.hook.image", "prePuller.pause.image",
    "proxy.chp.image", "proxy.secretSync.image", "proxy.traefik.image",
    "scheduling.userPlaceholder.image", "scheduling.userScheduler.image",
}


def _outside_target(text: str) -> list[tuple[str, str]]:
    """Images not in the target registry, but for the hub config's inert copies."""
    found = []
    for where, image in _all_images(text):
        key = re.sub(r"\[\d+\]", "[*]", where.split("[values.yaml].", 1)[1]) if "Secret/hub[values.yaml]." in where else None
        if not image.startswith(TARGET + "/") and key not in INERT_IN_HUB_CONFIG:
            found.append((where, image))
    return found


def _tag(reference: str) -> str | None:
    """The tag of an image reference: after the last ':' that follows the last '/', before any digest."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def _identity(text: str) -> list[tuple[str, str]]:
    return [(d.kind, d.name) for d in parse(text)]


@pytest.mark.parametrize("path", z2jh_streams())
def test_images_only_every_image_moves_and_every_document_stays(path):
    text = path.read_text()
    result = run(text, flag_layer=IMAGES_ONLY)
    assert result.exit_code == 0, result.report.table()
    before = dict(_all_images(text))
    assert [image for image in before.values() if not image.startswith(TARGET + "/")], "nothing to move: the test would prove nothing"
    assert _outside_target(result.output) == []
    assert _identity(result.output) == _identity(text)
    # every image is still where it was, and its tag survives
    after = dict(_all_images(result.output))
    assert before.keys() == after.keys()
    for where, image in before.items():
        assert _tag(after[where]) == _tag(image), where


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
    assert _outside_target(first.output) == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", z2jh_streams())
def test_output_is_valid_under_kubeconform_strict(path, version):
    result = run(path.read_text(), flag_layer=ALL_WARN)
    assert result.exit_code == 0, result.report.table()
    checked = kubeconform(result.output, version)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
    summary = checked.stdout.decode()
    assert "Invalid: 0, Errors: 0" in summary and "Skipped: 0" in summary, summary
