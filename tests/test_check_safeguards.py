"""Platform safeguards of `check`, and the verdict on the recorded z2jh 4.4.0 renders."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, Z2JH, Z2JH_MISSING
from platform_judge import objections

from jhub_ck8s.check import Options, audit, safeguards
from jhub_ck8s.check.model import ERROR, WARNING, Audit
from jhub_ck8s.pipeline import run as post_render
from jhub_ck8s.settings import read_layer
from jhub_ck8s.stream import parse

EXPECT = "test.jhub-ck8s.io/expect"
REGISTRY = "harbor.example.com/jupyterhub"
needs_z2jh = pytest.mark.skipif(not (Z2JH / "template").is_dir(), reason=Z2JH_MISSING)


def _by_object(result: Audit, severities: tuple[str, ...] = (ERROR, WARNING)) -> dict[str, set[str]]:
    return {
        s.label: {f.rule for f in s.findings if f.severity in severities}
        for s in result.subjects
        if any(f.severity in severities for f in s.findings)
    }


def test_safeguard_corpus_each_object_breaks_exactly_its_rule() -> None:
    text = (FIXTURES / "check-safeguards.yaml").read_text()
    result = audit(text, Options(registry=REGISTRY, user_pods=False))
    expected = {
        f"{doc.kind}/{doc.name}": doc.obj["metadata"]["annotations"][EXPECT] for doc in parse(text)
    }
    for subject in result.subjects:
        rules = {f.rule for f in subject.findings}
        want = expected[subject.label]
        assert rules == (set() if want == "none" else {want}), (subject.label, subject.findings)
        for finding in subject.findings:
            assert finding.severity == safeguards.get(finding.rule).severity
            assert finding.fix
    assert set(safeguards.SAFEGUARDS) <= set(expected.values())


# The audit's rule ids for the safeguards the independent judge (tests/platform_judge.py) knows.
JUDGED = {
    "safeguard-load-balancer": "load-balancer", "safeguard-pdb": "pdb", "safeguard-minimum-replicas": "min-replicas",
    "safeguard-network-policy": "network-policy", "tenant-cluster-scoped": "cluster-scoped",
}


def _audit_verdict(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for subject in audit(text, Options(user_pods=False)).subjects:
        for rule in sorted({f.rule for f in subject.findings if f.rule in JUDGED}):
            found.setdefault(JUDGED[rule], []).append(subject.label)
    return {rule: sorted(labels) for rule, labels in found.items()}


def _sorted(verdict: dict[str, list[str]]) -> dict[str, list[str]]:
    return {rule: sorted(labels) for rule, labels in verdict.items()}


def test_audit_agrees_with_the_independent_judge_on_the_corpus() -> None:
    """The audit shares jhub_ck8s.platform with the transforms: a judge that shares nothing checks it."""
    text = (FIXTURES / "check-safeguards.yaml").read_text()
    assert _audit_verdict(text) == _sorted(objections(text))


@needs_z2jh
@pytest.mark.parametrize("name", ["default", "guide", "full"])
def test_audit_agrees_with_the_independent_judge_on_the_renders(name: str) -> None:
    text = _template(name)
    verdict = _sorted(objections(text))
    assert verdict, "control: the upstream render breaks some safeguard"
    assert _audit_verdict(text) == verdict


def test_safeguard_messages_name_the_problem() -> None:
    result = audit((FIXTURES / "check-safeguards.yaml").read_text(), Options(registry=REGISTRY, user_pods=False))
    messages = {s.label: [f"{f.where}: {f.message}" for f in s.findings] for s in result.subjects}
    assert messages["Deployment/untrusted-init"] == [
        f"init container init: image docker.io/library/busybox:1.36.1 is not in the trusted registry {REGISTRY}"
    ]
    assert messages["Deployment/no-tag"] == ["container app: image harbor.example.com/jupyterhub/app has no tag"]
    assert messages["PodDisruptionBudget/min-all"] == [
        "spec.minAvailable: minAvailable 2 >= replicas 2 of Deployment/good: no pod may be evicted"
    ]


def test_trusted_registry_is_skipped_with_a_note_when_no_registry_is_known() -> None:
    result = audit((FIXTURES / "check-safeguards.yaml").read_text(), Options(user_pods=False))
    assert not any(f.rule == "safeguard-trusted-registry" for s in result.subjects for f in s.findings)
    hub = next(s for s in result.subjects if s.label == "Deployment/untrusted")
    assert "safeguard-trusted-registry" in hub.skipped
    assert any("safeguard-trusted-registry not evaluated" in note for note in result.notes)


def test_registry_from_the_in_stream_settings_document() -> None:
    result = audit((FIXTURES / "check-settings-stream.yaml").read_text(), Options(user_pods=False))
    assert _by_object(result) == {"Deployment/untrusted": {"safeguard-trusted-registry"}}
    assert result.documents == 3  # the settings document is read, not audited
    assert any("PostRenderSettings" in note for note in result.notes)
    # the flag wins over the document
    result = audit((FIXTURES / "check-settings-stream.yaml").read_text(), Options(registry="quay.io/jupyterhub", user_pods=False))
    assert _by_object(result) == {"Deployment/trusted": {"safeguard-trusted-registry"}}


def test_warnings_fail_only_with_strict() -> None:
    text = (FIXTURES / "check-settings-stream.yaml").read_text()
    assert audit(text, Options(user_pods=False)).exit_code == 0
    assert audit(text, Options(user_pods=False, strict=True)).exit_code == 1


# ------------------------------------------------------------------ z2jh 4.4.0 renders


def _template(name: str) -> str:
    return (Z2JH / "template" / f"{name}.yaml").read_text()


def _post_rendered(name: str, mode: str | None = None) -> str:
    flags = {"registry": REGISTRY, **({"mode": mode} if mode else {})}
    result = post_render(_template(name), flag_layer=read_layer(flags, "test"))
    assert result.exit_code == 0, [f.line() for f in result.report.findings if f.severity == "error"]
    return result.output


UPSTREAM_IMAGES = {
    "DaemonSet/continuous-image-puller", "Deployment/hub", "Deployment/proxy", "StatefulSet/user-placeholder",
    "DaemonSet/hook-image-puller", "Job/hook-image-awaiter", "spawned user pod (default)",
}


@needs_z2jh
def test_guide_before_post_rendering_fails_with_exactly_the_known_violations() -> None:
    result = audit(_template("guide"), Options(registry=REGISTRY))
    assert result.exit_code == 1
    errors = {(s.label, f.rule, f.where) for s in result.subjects for f in s.findings if f.severity == ERROR}
    assert errors == {
        ("PodDisruptionBudget/user-placeholder", "safeguard-pdb", "spec.minAvailable"),
        ("spawned user pod (default)", "pss-restricted-run-as-non-root", "container notebook"),
        ("spawned user pod (default)", "pss-restricted-capabilities", "container notebook"),
        ("spawned user pod (default)", "pss-restricted-seccomp", "container notebook"),
    }
    registry = {s.label for s in result.subjects for f in s.findings if f.rule == "safeguard-trusted-registry"}
    assert registry == UPSTREAM_IMAGES
    # the other warnings the platform gives an upstream render: single replicas, pods no policy selects
    assert _by_object(result, (WARNING,)) == {
        "DaemonSet/continuous-image-puller": {"safeguard-trusted-registry", "safeguard-network-policy"},
        "Deployment/hub": {"safeguard-trusted-registry", "safeguard-minimum-replicas"},
        "Deployment/proxy": {"safeguard-trusted-registry", "safeguard-minimum-replicas"},
        "StatefulSet/user-placeholder": {
            "safeguard-trusted-registry", "safeguard-network-policy", "safeguard-minimum-replicas",
        },
        "DaemonSet/hook-image-puller": {"safeguard-trusted-registry", "safeguard-network-policy"},
        "Job/hook-image-awaiter": {"safeguard-trusted-registry", "safeguard-network-policy"},
        "spawned user pod (default)": {"safeguard-trusted-registry"},
    }
    levels = {s.label: s.pss_level for s in result.pods()}
    assert levels.pop("spawned user pod (default)") == "baseline"
    assert set(levels.values()) == {"restricted"}


@needs_z2jh
@pytest.mark.parametrize("name", ["default", "full"])
def test_default_and_full_before_post_rendering_fail(name: str) -> None:
    result = audit(_template(name), Options(registry=REGISTRY))
    assert result.exit_code == 1
    rules = {f.rule for s in result.subjects for f in s.findings if f.severity == ERROR}
    # docs/platform.md, "What the upstream chart breaks as it comes": empty resources, LoadBalancer
    # proxy, cluster-scoped user-scheduler RBAC, and the privileged block-cloud-metadata init
    # container in every user pod
    assert {
        "safeguard-resource-requests", "safeguard-load-balancer", "tenant-cluster-scoped",
        "pss-baseline-privileged", "pss-baseline-capabilities", "pss-restricted-run-as-non-root",
    } <= rules
    spawned = [s for s in result.subjects if s.label.startswith("spawned user pod")]
    assert spawned and all(s.pss_level == "privileged" for s in spawned)
    if name == "full":
        assert [s.label for s in spawned] == [
            "spawned user pod (default)",
            "spawned user pod (profile 0: data-science-scipy)",
            "spawned user pod (profile 1: r-environment)",
        ]
        kinds = {s.label for s in result.subjects for f in s.findings if f.rule == "tenant-cluster-scoped"}
        assert {k.split("/")[0] for k in kinds} == {"PriorityClass", "ClusterRole", "ClusterRoleBinding"}


@needs_z2jh
def test_guide_after_post_rendering_passes() -> None:
    output = _post_rendered("guide")
    assert objections(output) == {}  # the independent judge
    result = audit(output, Options(registry=REGISTRY))
    assert [(s.label, f.rule, f.message) for s in result.subjects for f in s.findings] == []
    assert result.exit_code == 0
    assert {s.pss_level for s in result.pods()} == {"restricted"}
    assert result.spawned_pods == 1


@needs_z2jh
@pytest.mark.parametrize("name", ["default", "full"])
def test_default_and_full_after_post_rendering_fail_only_on_cluster_scoped_objects(name: str) -> None:
    """In warn mode the post-renderer keeps the cluster-scoped objects: only they stay."""
    output = _post_rendered(name, mode="warn")
    assert set(objections(output)) == {"cluster-scoped"}  # the independent judge
    result = audit(output, Options(registry=REGISTRY))
    rules = {f.rule for s in result.subjects for f in s.findings if f.severity in (ERROR, WARNING)}
    assert rules == {"tenant-cluster-scoped"}
    assert {s.pss_level for s in result.pods()} == {"restricted"}


def _recorded_label(path: Path) -> str:
    key = path.stem.removeprefix("userpod-")
    if key == "default":
        return "spawned user pod (default)"
    _, index, slug = key.split("-", 2)
    return f"spawned user pod (profile {index}: {slug})"


@needs_z2jh
@pytest.mark.parametrize("name", ["default", "guide", "full"])
def test_rebuilt_user_pods_get_the_verdict_of_the_recorded_ones(name: str) -> None:
    """The pods KubeSpawner 7.0.0 built in the hub (runtime-user-pods/) and ours get the same findings."""
    text = _template(name)
    rebuilt = {s.label: s for s in audit(text, Options(registry=REGISTRY)).subjects if s.document is None}
    policies = "".join("---\n" + yaml.safe_dump(d.obj) for d in parse(text) if d.kind == "NetworkPolicy")
    for path in sorted((Z2JH / "runtime-user-pods" / name).glob("userpod-*.yaml")):
        recorded = audit(policies + "---\n" + path.read_text(), Options(registry=REGISTRY, user_pods=False))
        pod = next(s for s in recorded.subjects if s.kind == "Pod")
        mine = rebuilt[_recorded_label(path)]
        assert pod.pss_level == mine.pss_level
        assert [(f.rule, f.where, f.message) for f in pod.findings] == [
            (f.rule, f.where, f.message) for f in mine.findings
        ]
