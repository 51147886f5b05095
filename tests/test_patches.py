"""User patches: applied last, targeted by kind/name globs, errors name the patch and document."""

from __future__ import annotations

from jhub_ck8s.pipeline import run
from jhub_ck8s.settings import read_layer
from jhub_ck8s.stream import parse
from jhub_ck8s.transforms import REGISTRY

STREAM = """---
# Source: t/svc.yaml
apiVersion: v1
kind: Service
metadata: {name: proxy-public}
spec:
  type: ClusterIP
  ports: [{name: http, port: 80}]
---
# Source: t/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: hub}
data: {a: "1"}
"""
ONLY_PATCHES = [t for t in REGISTRY if t != "patches"]


def _run(patches, text=STREAM, **extra):
    return run(text, flag_layer=read_layer({"patches": patches, "disable": ONLY_PATCHES, **extra}, "test"))


def test_patch_applies_to_matching_objects_only_and_is_idempotent():
    patch = [{"name": "port", "target": {"kind": "Service", "name": "proxy-*"}, "patch": [{"op": "replace", "path": "/spec/ports/0/port", "value": 8080}]}]
    result = _run(patch)
    assert result.exit_code == 0, result.report.table()
    docs = parse(result.output)
    assert docs[0].obj["spec"]["ports"][0]["port"] == 8080
    assert "# Source: t/svc.yaml" in result.output
    assert [f.message for f in result.report.findings if f.severity == "change"] == ["applied patch port"]
    again = _run(patch, result.output)
    assert again.output == result.output
    assert [f for f in again.report.findings if f.severity == "change"] == []


def test_patches_apply_in_order():
    patch = [
        {"target": {"kind": "ConfigMap"}, "patch": [{"op": "add", "path": "/data/b", "value": "2"}]},
        {"target": {"kind": "ConfigMap"}, "patch": [{"op": "test", "path": "/data/b", "value": "2"}, {"op": "remove", "path": "/data/a"}]},
    ]
    result = _run(patch)
    assert parse(result.output)[1].obj["data"] == {"b": "2"}


def test_patch_that_does_not_apply_is_an_error_naming_patch_and_document():
    patch = [{"name": "bad", "target": {"kind": "ConfigMap", "name": "hub"}, "patch": [{"op": "remove", "path": "/spec/nothing"}]}]
    result = _run(patch)
    assert result.exit_code == 1 and result.output == ""
    (error,) = [f for f in result.report.findings if f.severity == "error"]
    assert error.line().startswith("error: document 2 (t/cm.yaml) ConfigMap/hub: patch bad does not apply: ")
    assert error.rule == "patch-failed"
    assert _run(patch, mode="warn").exit_code == 0


def test_patch_without_target_warns():
    result = _run([{"name": "ghost", "target": {"kind": "Ingress"}, "patch": [{"op": "add", "path": "/x", "value": 1}]}])
    assert result.exit_code == 0
    assert any(f.rule == "patch-no-target" and "ghost" in f.message for f in result.report.findings)
