"""transforms/security_context.py: restricted contexts filled, explicit violations reported.

Whether a pod is admitted is judged by the independent audit (``restricted.restricted_problems``:
``jhub_ck8s.check.pss`` and the platform's Localhost-seccomp safeguard), never by
``jhub_ck8s.hardening``, the rule set the transform itself fills and reports with.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import Z2JH, Z2JH_MISSING
from restricted import restricted_problems

from jhub_ck8s.documents import load_yaml
from jhub_ck8s.pipeline import run
from jhub_ck8s.podspec import pod_spec
from jhub_ck8s.report import CHANGE, ERROR, INFO, WARNING
from jhub_ck8s.settings import Settings, read_layer
from jhub_ck8s.stream import Stream, parse
from jhub_ck8s.transforms import REGISTRY, security_context

BARE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers:
      - {name: init, image: example.org/web:1.0}
      containers:
      - name: web
        image: example.org/web:1.0
        securityContext: {runAsUser: 1000, capabilities: {drop: [NET_RAW]}}
      ephemeralContainers:
      - {name: debug, image: example.org/debug:1.0}
"""


def _apply(text: str, settings: Settings | None = None) -> tuple[Stream, list]:
    stream = Stream(parse(text))
    return stream, list(security_context.apply(stream, settings or Settings()))


def _spec(stream: Stream) -> dict[str, Any]:
    spec = pod_spec(stream.documents[0].obj)
    assert spec is not None
    return spec


def _only(*transform_ids: str, **raw: Any) -> dict:
    disable = [t for t in REGISTRY if t not in transform_ids]
    return read_layer({"disable": disable, **raw}, "test")


def _workload(pod: dict[str, Any] | None = None, container: dict[str, Any] | None = None) -> str:
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": "example.org/app:1.0", **(container or {})}]}
    spec.update(pod or {})
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
           "spec": {"template": {"spec": spec}}}
    from jhub_ck8s.documents import dump_yaml

    return dump_yaml(obj)


def test_fills_a_bare_pod_until_restricted_accepts_it():
    before = pod_spec(load_yaml(BARE))
    assert before is not None and restricted_problems(before)  # control: the judge rejects the input
    stream, findings = _apply(BARE)
    spec = _spec(stream)
    assert restricted_problems(spec) == []
    assert spec["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    web = spec["containers"][0]["securityContext"]
    assert web == {"runAsUser": 1000, "capabilities": {"drop": ["NET_RAW", "ALL"]}, "allowPrivilegeEscalation": False}
    assert spec["ephemeralContainers"][0]["securityContext"]["allowPrivilegeEscalation"] is False
    assert all(f.severity == CHANGE and f.document is stream.documents[0] for f in findings)
    assert {f.where for f in findings} == {
        "pod securityContext", "init container init", "container web", "ephemeral container debug"
    }


def test_is_idempotent():
    stream, _ = _apply(BARE)
    snapshot = copy.deepcopy(stream.documents[0].obj)
    again = list(security_context.apply(stream, Settings()))
    assert again == [] and stream.documents[0].obj == snapshot


def test_never_overwrites_explicit_fields():
    explicit_pod = {"securityContext": {"runAsNonRoot": False, "seccompProfile": {"type": "Localhost"}}}
    explicit_container = {"securityContext": {"allowPrivilegeEscalation": True, "capabilities": {"drop": ["ALL"], "add": ["SYS_TIME"]}}}
    stream, _ = _apply(_workload(explicit_pod, explicit_container))
    spec = _spec(stream)
    assert spec["securityContext"] == explicit_pod["securityContext"]
    assert spec["containers"][0]["securityContext"] == explicit_container["securityContext"]


VIOLATIONS = [
    ({}, {"securityContext": {"runAsUser": 0}}, "run-as-root", "securityContext.runAsUser"),
    ({}, {"securityContext": {"runAsNonRoot": False}}, "run-as-non-root-false", "securityContext.runAsNonRoot"),
    ({}, {"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}, "capabilities-add", "securityContext.capabilities.add"),
    ({}, {"securityContext": {"procMount": "Unmasked"}}, "proc-mount", "securityContext.procMount"),
    ({}, {"securityContext": {"seccompProfile": {"type": "Unconfined"}}}, "seccomp-unconfined", "securityContext.seccompProfile.type"),
    ({}, {"securityContext": {"seccompProfile": {"type": "Localhost"}}}, "seccomp-localhost", "securityContext.seccompProfile.type"),
    ({}, {"securityContext": {"allowPrivilegeEscalation": True}}, "allow-privilege-escalation", "securityContext.allowPrivilegeEscalation"),
    ({}, {"ports": [{"containerPort": 80, "hostPort": 80}]}, "host-port", "ports[0].hostPort"),
    ({"hostNetwork": True}, {}, "host-network", "hostNetwork"),
    ({"hostPID": True}, {}, "host-pid", "hostPID"),
    ({"hostIPC": True}, {}, "host-ipc", "hostIPC"),
    ({"volumes": [{"name": "h", "hostPath": {"path": "/var/run"}}]}, {}, "host-path", "volumes[0].hostPath"),
    ({"securityContext": {"runAsUser": 0}}, {}, "run-as-root", "securityContext.runAsUser"),
    ({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}, {}, "seccomp-unconfined", "securityContext.seccompProfile.type"),
]


@pytest.mark.parametrize(("pod", "container", "rule", "field"), VIOLATIONS, ids=[f"{v[2]}-{v[3]}" for v in VIOLATIONS])
def test_each_explicit_violation_is_one_error(pod, container, rule, field):
    stream, findings = _apply(_workload(pod, container))
    # the independent audit rejects what is left: reported, not hidden by the fill around it
    assert restricted_problems(_spec(stream)), rule
    errors = [f for f in findings if f.severity == ERROR]
    assert [e.rule for e in errors] == [rule]
    (error,) = errors
    assert field in error.message
    assert field in error.fix and f"rule: {rule}" in error.fix and "kind: Deployment, name: app" in error.fix
    assert error.container == ("app" if container else "")


def test_privileged_main_container_is_reported_once():
    text = _workload(container={"securityContext": {"privileged": True}})
    _, findings = _apply(text)
    assert [f for f in findings if f.severity == ERROR] == []  # privileged-init reports it
    _, findings = _apply(text, Settings(disable=("privileged-init",)))
    assert [f.rule for f in findings if f.severity == ERROR] == ["privileged"]
    result = run(text, flag_layer=_only("privileged-init", "security-context", mode="warn"))
    assert [f.rule for f in result.report.findings if f.severity == WARNING] == ["privileged"]


def test_enforce_fails_with_empty_output_and_warn_passes():
    text = _workload({"hostNetwork": True})
    enforce = run(text, flag_layer=_only("security-context"))
    assert enforce.exit_code == 1 and enforce.output == ""
    warn = run(text, flag_layer=_only("security-context", mode="warn"))
    assert warn.exit_code == 0
    spec = pod_spec(load_yaml(warn.output.split("---\n", 1)[1]))
    assert spec["hostNetwork"] is True  # reported, never silently changed
    assert spec["securityContext"]["runAsNonRoot"] is True


def test_allow_list_accepts_exactly_the_named_rule():
    text = _workload({"hostNetwork": True}, {"securityContext": {"runAsUser": 0}})
    allow_both = [{"kind": "Deployment", "name": "app", "rule": "host-network"},
                  {"kind": "Deployment", "container": "app", "rule": "run-as-root"}]
    result = run(text, flag_layer=_only("security-context", allow=allow_both))
    assert result.exit_code == 0
    assert {f.rule: f.severity for f in result.report.findings if f.rule} == {
        "host-network": INFO, "run-as-root": INFO
    }
    allow_one = [{"kind": "Deployment", "name": "app", "rule": "host-network"}]
    assert run(text, flag_layer=_only("security-context", allow=allow_one)).exit_code == 1


def test_clean_manifest_passes_in_enforce_mode():
    result = run(BARE, flag_layer=_only("privileged-init", "security-context"))
    assert result.exit_code == 0
    spec = pod_spec(load_yaml(result.output.split("---\n", 1)[1]))
    assert restricted_problems(spec) == []


@pytest.mark.parametrize(
    "render", ["helm3/default.yaml", "helm3/guide.yaml", "helm3/full.yaml", "helm4/default.yaml", "helm4/full.yaml"]
)
def test_z2jh_renders_become_restricted_without_errors(render):
    path = Z2JH / "post-render-input" / render
    if not path.exists():
        pytest.skip(Z2JH_MISSING)
    text = path.read_text()
    result = run(text, flag_layer=_only("privileged-init", "security-context"))
    assert result.exit_code == 0, result.report.table()
    docs = parse(result.output)
    specs = [(d.label, s) for d in docs if (s := pod_spec(d.obj)) is not None]
    assert specs
    for label, spec in specs:
        assert restricted_problems(spec) == [], label
    # the chart's own explicit values survive (the hub pod's fsGroup, the pullers' uid)
    before = {d.label: pod_spec(d.obj) for d in parse(text) if pod_spec(d.obj) is not None}
    after = dict(specs)
    assert after["Deployment/hub"]["securityContext"]["fsGroup"] == before["Deployment/hub"]["securityContext"]["fsGroup"]
    again = run(result.output, flag_layer=_only("privileged-init", "security-context"))
    assert [f for f in again.report.findings if f.severity == CHANGE] == []
    assert again.output == result.output
