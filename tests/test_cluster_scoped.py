"""transforms/cluster_scoped.py (transform cluster-scoped): objects a tenant cannot create are errors, or dropped.

The expected results are written out by hand (objects from ``tests/manifests.py``).
"""

from __future__ import annotations

from typing import Any

from manifests import (
    by_name,
    changes,
    cluster_object,
    hub_secret,
    stream_of,
    text_of,
    workload,
)

from jhub_ck8s.hubconfig import find as find_hub
from jhub_ck8s.pipeline import run
from jhub_ck8s.podspec import pod_spec
from jhub_ck8s.report import CHANGE, ERROR, WARNING
from jhub_ck8s.settings import Settings
from jhub_ck8s.stream import parse
from jhub_ck8s.transforms import cluster_scoped


def z2jh_cluster_objects() -> list[tuple[str, dict[str, Any]]]:
    return [
        cluster_object("ClusterRole", "jhub-user-scheduler", "user-scheduler",
                       "jupyterhub/templates/scheduling/user-scheduler/rbac.yaml"),
        cluster_object("ClusterRoleBinding", "jhub-user-scheduler", "user-scheduler",
                       "jupyterhub/templates/scheduling/user-scheduler/rbac.yaml"),
        cluster_object("PriorityClass", "jhub-default-priority", "default-priority",
                       "jupyterhub/templates/scheduling/priorityclass.yaml"),
        cluster_object("PriorityClass", "jhub-user-placeholder-priority", "user-placeholder",
                       "jupyterhub/templates/scheduling/user-placeholder/priorityclass.yaml"),
        cluster_object("PriorityClass", "jhub-image-puller-priority", "image-puller",
                       "jupyterhub/templates/image-puller/priorityclass.yaml"),
    ]


def test_cluster_scoped_objects_are_errors_naming_the_chart_value() -> None:
    stream = stream_of(*z2jh_cluster_objects())
    findings = list(cluster_scoped.apply(stream, Settings()))
    assert [f.severity for f in findings] == [ERROR] * 5
    assert {f.rule for f in findings} == {"cluster-scoped"}
    fixes = {f.document.label: f.fix for f in findings if f.document}
    assert "scheduling.userScheduler.enabled: false" in fixes["ClusterRole/jhub-user-scheduler"]
    assert "scheduling.userScheduler.enabled: false" in fixes["ClusterRoleBinding/jhub-user-scheduler"]
    for name in ("default", "user-placeholder", "image-puller"):
        assert "scheduling.podPriority.enabled: false" in fixes[f"PriorityClass/jhub-{name}-priority"]
    assert not any(d.removed for d in stream.documents)


def test_cluster_scoped_without_source_uses_the_component_label() -> None:
    _, obj = cluster_object("PriorityClass", "jhub-default-priority", "default-priority", "")
    (finding,) = cluster_scoped.apply(stream_of(obj), Settings())
    assert "scheduling.podPriority.enabled: false" in finding.fix
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "things.example.com"}}
    (finding,) = cluster_scoped.apply(stream_of(crd), Settings())
    assert finding.severity == ERROR and "clusterScoped: drop" in finding.fix


def test_cluster_scoped_drop_removes_objects_and_what_names_them() -> None:
    values = {"scheduling": {"podPriority": {"enabled": True}, "userScheduler": {"enabled": True}}}
    stream = stream_of(
        *z2jh_cluster_objects(),
        hub_secret(values),
        workload("Deployment", "hub", "hub", priority="jhub-default-priority"),
        workload("StatefulSet", "user-placeholder", "user-placeholder",
                 priority="jhub-user-placeholder-priority"),
        workload("Deployment", "other", "other", priority="someone-elses-class"),
    )
    settings = Settings(cluster_scoped="drop")
    findings = list(cluster_scoped.apply(stream, settings))
    assert all(d.removed for d in stream.documents[:5])
    assert [f.document.removed for f in findings[:5] if f.document] == [True] * 5
    assert "priorityClassName" not in (pod_spec(by_name(stream, "Deployment", "hub")) or {})
    assert "priorityClassName" not in (pod_spec(by_name(stream, "StatefulSet", "user-placeholder")) or {})
    other = pod_spec(by_name(stream, "Deployment", "other")) or {}
    assert other["priorityClassName"] == "someone-elses-class"
    hub = stream.hub()
    assert hub.get("scheduling.podPriority.enabled") is False
    (runtime,) = [f for f in findings if f.hub_key]
    assert runtime.hub_key == "scheduling.podPriority.enabled" and runtime.severity == CHANGE
    (warning,) = [f for f in findings if f.severity == WARNING]
    assert warning.rule == "cluster-scoped-user-scheduler"
    assert "scheduling.userScheduler.enabled: false" in warning.fix
    assert len(changes(findings)) == 5 + 2 + 1
    assert list(cluster_scoped.apply(stream, settings)) == []  # idempotent


def test_cluster_scoped_through_the_pipeline() -> None:
    values = {"scheduling": {"podPriority": {"enabled": True}}}
    text = text_of(z2jh_cluster_objects()[2], hub_secret(values),
                   workload("Deployment", "hub", "hub", priority="jhub-default-priority"))
    enforced = run(text)
    assert (enforced.exit_code, enforced.output) == (1, "")
    assert any(f.rule == "cluster-scoped" for f in enforced.report.findings)
    assert run(text, flag_layer={"mode": "warn"}).exit_code == 0
    dropped = run(text, flag_layer={"cluster_scoped": "drop"})
    assert dropped.exit_code == 0, dropped.report.table()
    assert "PriorityClass" not in dropped.output and "priorityClassName" not in dropped.output
    docs = parse(dropped.output)
    hub = find_hub(docs)
    assert hub is not None and hub.get("scheduling.podPriority.enabled") is False
    assert run(dropped.output, flag_layer={"cluster_scoped": "drop"}).output == dropped.output
