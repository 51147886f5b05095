"""transforms/privileged_init.py: privileged/root/NET_ADMIN init containers go, main containers stay."""

from __future__ import annotations

import pytest
from conftest import Z2JH, Z2JH_MISSING

from jhub_ck8s.pipeline import run
from jhub_ck8s.podspec import containers, pod_spec
from jhub_ck8s.report import CHANGE, ERROR, INFO
from jhub_ck8s.settings import Settings, read_layer
from jhub_ck8s.stream import Stream, parse
from jhub_ck8s.transforms import REGISTRY, privileged_init

WORKLOAD = """\
# Source: chart/templates/web.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers:
      - name: block-metadata
        image: example.org/tools:1.0
        securityContext: {privileged: true, runAsUser: 0, capabilities: {add: [NET_ADMIN]}}
      - name: as-root
        image: example.org/tools:1.0
        securityContext: {runAsUser: 0}
      - name: raw-sockets
        image: example.org/tools:1.0
        securityContext: {capabilities: {add: [NET_RAW]}}
      - name: fetch
        image: example.org/tools:1.0
        securityContext: {runAsUser: 1000}
      containers:
      - name: web
        image: example.org/web:1.0
"""

PRIVILEGED_MAIN = """\
apiVersion: batch/v1
kind: Job
metadata: {name: tuner}
spec:
  template:
    spec:
      initContainers:
      - {name: only, image: example.org/t:1, securityContext: {privileged: true}}
      containers:
      - {name: tuner, image: example.org/t:1, securityContext: {privileged: true}}
"""


def _apply(text: str, settings: Settings | None = None) -> tuple[Stream, list]:
    stream = Stream(parse(text))
    return stream, list(privileged_init.apply(stream, settings or Settings()))


def _only(*transform_ids: str, **raw) -> dict:
    """Settings that run only these transforms (so other transforms' findings do not interfere)."""
    disable = [t for t in REGISTRY if t not in transform_ids]
    return read_layer({"disable": disable, **raw}, "test")


def test_removes_each_unsafe_init_container_with_its_reasons():
    stream, findings = _apply(WORKLOAD)
    spec = pod_spec(stream.documents[0].obj)
    assert [c["name"] for c in spec["initContainers"]] == ["fetch"]
    assert [c["name"] for c in spec["containers"]] == ["web"]
    changes = {f.container: f for f in findings}
    assert all(f.severity == CHANGE and f.document is stream.documents[0] for f in findings)
    assert set(changes) == {"block-metadata", "as-root", "raw-sockets"}
    assert "privileged" in changes["block-metadata"].message
    assert "uid 0" in changes["block-metadata"].message
    assert "NET_ADMIN" in changes["block-metadata"].message
    assert "uid 0" in changes["as-root"].message
    assert "NET_RAW" in changes["raw-sockets"].message
    assert changes["as-root"].where == "init container as-root"


def test_never_removes_a_privileged_main_container_it_is_an_error():
    stream, findings = _apply(PRIVILEGED_MAIN)
    spec = pod_spec(stream.documents[0].obj)
    assert [c["name"] for c in spec["containers"]] == ["tuner"]
    assert "initContainers" not in spec  # the list emptied: the key goes too
    (error,) = [f for f in findings if f.severity == ERROR]
    assert error.rule == "privileged" and error.container == "tuner"
    assert "securityContext.privileged" in error.message
    assert "securityContext.privileged to false" in error.fix
    assert "rule: privileged" in error.fix


def test_is_idempotent():
    stream, _ = _apply(WORKLOAD)
    again = list(privileged_init.apply(stream, Settings()))
    assert [f for f in again if f.severity == CHANGE] == []


def test_leaves_safe_pods_alone():
    text = WORKLOAD.split("      - name: block-metadata")[0] + (
        "      - {name: ok, image: a.b/c:1}\n      containers: [{name: c, image: a.b/c:1}]\n"
    )
    _, findings = _apply(text)
    assert findings == []


def test_enforce_fails_with_empty_output_warn_passes():
    enforce = run(PRIVILEGED_MAIN, flag_layer=_only("privileged-init"))
    assert enforce.exit_code == 1 and enforce.output == ""
    warn = run(PRIVILEGED_MAIN, flag_layer=_only("privileged-init", mode="warn"))
    assert warn.exit_code == 0
    assert "name: tuner" in warn.output and "name: only" not in warn.output


def test_allow_list_accepts_the_privileged_main_container():
    allow = [{"kind": "Job", "name": "tuner", "container": "tuner", "rule": "privileged"}]
    result = run(PRIVILEGED_MAIN, flag_layer=_only("privileged-init", allow=allow))
    assert result.exit_code == 0
    (accepted,) = [f for f in result.report.findings if f.rule == "privileged"]
    assert accepted.severity == INFO


def test_allow_list_for_another_container_does_not_accept_it():
    allow = [{"kind": "Job", "name": "tuner", "container": "other", "rule": "privileged"}]
    assert run(PRIVILEGED_MAIN, flag_layer=_only("privileged-init", allow=allow)).exit_code == 1


@pytest.mark.parametrize("render", ["helm4/default.yaml", "helm4/full.yaml", "helm3/guide.yaml"])
def test_z2jh_renders_have_nothing_to_remove(render):
    """The image pullers' image-pull-metadata-block runs as 65534 with drop ALL: it stays."""
    path = Z2JH / "post-render-input" / render
    if not path.exists():
        pytest.skip(Z2JH_MISSING)
    stream, findings = _apply(path.read_text())
    assert findings == []
    names = [c.name for d in stream.documents if (s := pod_spec(d.obj)) for c in containers(s)]
    if "guide" not in render:  # the guide switches the metadata block off, so no puller for it
        assert "image-pull-metadata-block" in names
