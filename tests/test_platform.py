"""The platform rules shared by the post-renderer and the checker."""

from __future__ import annotations

import pytest

from jhub_ck8s.platform import CLUSTER_SCOPED_KINDS, blocking_pdb, replicas


@pytest.mark.parametrize(
    ("spec", "workloads", "blocked"),
    [
        ({"maxUnavailable": 0}, [], "spec.maxUnavailable"),
        ({"maxUnavailable": "0%"}, [], "spec.maxUnavailable"),
        ({"maxUnavailable": 1}, [], None),
        ({"maxUnavailable": "10%"}, [], None),
        ({"minAvailable": "100%"}, [], "spec.minAvailable"),
        ({"minAvailable": 0}, [("StatefulSet/user-placeholder", 0)], "spec.minAvailable"),  # z2jh's default
        ({"minAvailable": 1}, [("Deployment/hub", 1)], "spec.minAvailable"),
        ({"minAvailable": 1}, [("Deployment/web", 2)], None),
        ({"minAvailable": "50%"}, [("Deployment/web", 2)], None),
        ({"minAvailable": "51%"}, [("Deployment/web", 2)], "spec.minAvailable"),  # rounds up to 2
        ({"minAvailable": 1}, [], None),  # no workload in the stream: cannot tell
        ("not a mapping", [], None),
    ],
)
def test_blocking_pdb(spec, workloads, blocked):
    result = blocking_pdb(spec, workloads)
    assert (result[0] if result else None) == blocked
    if result and workloads:
        assert workloads[0][0] in result[1]


@pytest.mark.parametrize(
    ("obj", "count"),
    [
        ({"kind": "Deployment", "spec": {}}, 1),
        ({"kind": "StatefulSet", "spec": {"replicas": None}}, 1),
        ({"kind": "StatefulSet", "spec": {"replicas": 0}}, 0),
        ({"kind": "Deployment", "spec": {"replicas": "2"}}, None),
        ({"kind": "DaemonSet", "spec": {}}, None),
    ],
)
def test_replicas(obj, count):
    assert replicas(obj) == count


def test_tenant_cannot_create_cluster_scoped_rbac_and_priority_classes():
    assert {"ClusterRole", "ClusterRoleBinding", "PriorityClass"} <= CLUSTER_SCOPED_KINDS
    assert "Role" not in CLUSTER_SCOPED_KINDS
