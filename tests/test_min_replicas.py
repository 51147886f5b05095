"""transforms/min_replicas.py (transform min-replicas): single-replica workloads are annotated as intended.

The expected results are written out by hand (objects from ``tests/manifests.py``).
"""

from __future__ import annotations

from typing import Any

from manifests import (
    IGNORE_MINIMUM_REPLICAS,
    by_name,
    stream_of,
    workload,
)

from jhub_ck8s.settings import Settings
from jhub_ck8s.transforms import min_replicas


def annotations(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["metadata"].get("annotations") or {}


def test_min_replicas_annotates_single_replica_objects() -> None:
    stream = stream_of(
        workload("Deployment", "hub", "hub", 1),
        workload("Deployment", "proxy", "proxy", None),
        workload("StatefulSet", "user-placeholder", "user-placeholder", 0),
        workload("Deployment", "user-scheduler", "user-scheduler", 2),
        workload("DaemonSet", "puller", "puller", None),
    )
    findings = list(min_replicas.apply(stream, Settings()))
    assert [f.document.name for f in findings if f.document] == ["hub", "proxy", "user-placeholder"]
    for name in ("hub", "proxy"):
        assert annotations(by_name(stream, "Deployment", name)) == {IGNORE_MINIMUM_REPLICAS: "true"}
    assert annotations(by_name(stream, "Deployment", "user-scheduler")) == {}
    assert annotations(by_name(stream, "DaemonSet", "puller")) == {}
    assert list(min_replicas.apply(stream, Settings())) == []  # idempotent


def test_min_replicas_keeps_an_existing_annotation_and_can_be_turned_off() -> None:
    obj = workload("Deployment", "hub", "hub", 1)
    obj["metadata"]["annotations"] = {IGNORE_MINIMUM_REPLICAS: "false", "keep": "me"}
    stream = stream_of(obj, workload("Deployment", "proxy", "proxy", 1))
    off = Settings(minimum_replicas_annotation=False)
    assert list(min_replicas.apply(stream, off)) == []
    (finding,) = min_replicas.apply(stream, Settings())
    assert finding.document is stream.documents[1]
    assert annotations(by_name(stream, "Deployment", "hub")) == {
        IGNORE_MINIMUM_REPLICAS: "false", "keep": "me"
    }
