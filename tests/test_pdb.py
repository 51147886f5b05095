"""transforms/pdb.py (transform pdb): PodDisruptionBudgets that would block every eviction are removed.

The expected results are written out by hand (objects from ``tests/manifests.py``).
"""

from __future__ import annotations

from typing import Any

import pytest
from manifests import (
    RELEASE,
    budget,
    stream_of,
    text_of,
    workload,
)

from jhub_ck8s.pipeline import run
from jhub_ck8s.podspec import selects
from jhub_ck8s.report import CHANGE, INFO
from jhub_ck8s.settings import Settings
from jhub_ck8s.transforms import pdb

SEL = {"matchLabels": {"component": "user-placeholder", **RELEASE}}


@pytest.mark.parametrize(
    ("spec", "replicas", "removed"),
    [
        ({"minAvailable": 0}, 0, True),  # z2jh's user-placeholder default: 0 >= 0
        ({"minAvailable": 0}, 2, False),  # z2jh full render
        ({"minAvailable": 1}, 2, False),
        ({"minAvailable": 2}, 2, True),
        ({"minAvailable": 1}, None, True),  # missing replicas = 1
        ({"minAvailable": "100%"}, 5, True),
        ({"minAvailable": "50%"}, 1, True),  # rounds up to 1 of 1
        ({"minAvailable": "50%"}, 4, False),
        ({"maxUnavailable": 0}, 3, True),
        ({"maxUnavailable": "0%"}, 3, True),
        ({"maxUnavailable": 1}, 1, False),
        ({"maxUnavailable": "10%"}, 1, False),
    ],
)
def test_pdb_blocking_every_eviction_is_removed(spec: dict[str, Any], replicas: int | None,
                                                removed: bool) -> None:
    stream = stream_of(budget("user-placeholder", SEL, **spec),
                       workload("StatefulSet", "user-placeholder", "user-placeholder", replicas))
    findings = list(pdb.apply(stream, Settings()))
    assert stream.documents[0].removed is removed
    assert [f.severity for f in findings] == ([CHANGE] if removed else [])
    if removed:
        assert findings[0].document is stream.documents[0]
        assert "blocks every eviction" in findings[0].message
        assert list(pdb.apply(stream, Settings())) == []  # idempotent


def test_pdb_match_expressions_select_workloads() -> None:
    selector = {"matchExpressions": [{"key": "component", "operator": "In", "values": ["hub"]}]}
    stream = stream_of(budget("hub", selector, minAvailable=1), workload("Deployment", "hub", "hub"),
                       workload("Deployment", "proxy", "proxy", replicas=3))
    (finding,) = pdb.apply(stream, Settings())
    assert "Deployment/hub" in finding.message and stream.documents[0].removed
    assert "hub.pdb.enabled: false" in finding.message


def test_pdb_without_its_workload_is_left_alone_with_info() -> None:
    stream = stream_of(budget("other", {"matchLabels": {"component": "elsewhere"}}, minAvailable=5),
                       workload("Deployment", "hub", "hub"))
    (finding,) = pdb.apply(stream, Settings())
    assert finding.severity == INFO
    assert not stream.documents[0].removed


def test_selects_follows_label_selector_semantics() -> None:
    labels = {"component": "hub", "app": "jupyterhub"}
    assert selects({}, labels)
    assert not selects(None, labels)
    assert selects({"matchLabels": {"component": "hub"}}, labels)
    assert not selects({"matchLabels": {"missing": "None"}}, labels)
    for operator, values, expected in [
        ("In", ["hub", "proxy"], True), ("NotIn", ["hub"], False), ("NotIn", ["proxy"], True),
        ("Exists", None, True), ("DoesNotExist", None, False), ("Bogus", None, False),
    ]:
        expression: dict[str, Any] = {"key": "component", "operator": operator}
        if values is not None:
            expression["values"] = values
        assert selects({"matchExpressions": [expression]}, labels) is expected, operator


def test_pdb_through_the_pipeline() -> None:
    text = text_of(budget("user-placeholder", SEL, minAvailable=0),
                   workload("StatefulSet", "user-placeholder", "user-placeholder", 0))
    result = run(text)
    assert result.exit_code == 0, result.report.table()
    assert "PodDisruptionBudget" not in result.output
    again = run(result.output)
    assert again.output == result.output
