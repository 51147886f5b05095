"""transforms/network_policy.py (transform network-policy): pods no NetworkPolicy selects get one.

The expected results are written out by hand (objects from ``tests/manifests.py``).
"""

from __future__ import annotations

from typing import Any

from conftest import kubeconform
from manifests import (
    RELEASE,
    by_name,
    changes,
    lb_service,
    netpol,
    service,
    stream_of,
    text_of,
    workload,
)

from jhub_ck8s.pipeline import run
from jhub_ck8s.podspec import selects
from jhub_ck8s.report import CHANGE, WARNING
from jhub_ck8s.settings import Settings
from jhub_ck8s.stream import Stream, parse
from jhub_ck8s.transforms import load_balancer, network_policy


def covered_stream(*extra: dict[str, Any]) -> Stream:
    return stream_of(
        netpol("hub", {"matchLabels": {"component": "hub", **RELEASE}}),
        service("hub", "hub"),
        workload("Deployment", "hub", "hub"),
        workload("DaemonSet", "continuous-image-puller", "continuous-image-puller", None),
        workload("StatefulSet", "user-placeholder", "user-placeholder", 0),
        *extra,
    )


def selected(stream: Stream, obj: dict[str, Any]) -> list[str]:
    labels = obj["spec"]["template"]["metadata"]["labels"]
    return [d.name for d in stream.live()
            if d.kind == "NetworkPolicy" and selects(d.obj["spec"]["podSelector"], labels)]


def test_network_policy_covers_exactly_the_unselected_pods() -> None:
    stream = covered_stream()
    (finding,) = network_policy.apply(stream, Settings())
    assert finding.severity == CHANGE
    added = finding.document
    assert added is not None and added.name == network_policy.POLICY_NAME
    assert stream.documents.index(added) == 1  # right after the chart's NetworkPolicy
    assert added.obj["spec"] == {
        "podSelector": {
            "matchLabels": RELEASE,
            "matchExpressions": [{"key": "component", "operator": "In",
                                  "values": ["continuous-image-puller", "user-placeholder"]}],
        },
        "policyTypes": ["Ingress"],
    }
    assert selected(stream, by_name(stream, "Deployment", "hub")) == ["hub"]
    for kind, name in (("DaemonSet", "continuous-image-puller"), ("StatefulSet", "user-placeholder")):
        assert selected(stream, by_name(stream, kind, name)) == [network_policy.POLICY_NAME]
    assert list(network_policy.apply(stream, Settings())) == []  # idempotent


def test_network_policy_does_not_deny_a_pod_a_service_targets() -> None:
    stream = stream_of(service("hub", "hub"), workload("Deployment", "hub", "hub"),
                       service("proxy-api", "proxy"), workload("Deployment", "proxy", "proxy"),
                       workload("Deployment", "user-scheduler", "user-scheduler", 2))
    findings = list(network_policy.apply(stream, Settings()))
    warnings = {f.document.name: f for f in findings if f.severity == WARNING and f.document}
    assert set(warnings) == {"hub", "proxy"}
    assert warnings["hub"].rule == "network-policy-unselected"
    assert "hub.networkPolicy.enabled: true" in warnings["hub"].fix
    assert "proxy.chp.networkPolicy.enabled: true" in warnings["proxy"].fix
    (added,) = changes(findings)
    assert added.document is not None
    assert added.document.obj["spec"]["podSelector"]["matchExpressions"][0]["values"] == [
        "user-scheduler"
    ]


def test_network_policy_selector_excludes_other_releases() -> None:
    other = workload("Deployment", "user-scheduler-2", "user-scheduler", 2)
    for labels in (other["spec"]["selector"]["matchLabels"],
                   other["spec"]["template"]["metadata"]["labels"]):
        labels["release"] = "other"
    policy = netpol("other", {"matchLabels": {"release": "other"}})
    stream = stream_of(policy, other, workload("Deployment", "user-scheduler", "user-scheduler", 2))
    (finding,) = network_policy.apply(stream, Settings())
    assert finding.document is not None
    assert finding.document.obj["spec"]["podSelector"]["matchLabels"]["release"] == "jhub"
    assert selected(stream, other) == ["other"]


def test_network_policy_warns_when_no_selector_singles_the_pods_out() -> None:
    a = workload("Deployment", "a", "same")
    b = workload("Deployment", "b", "same")
    b["spec"]["template"]["metadata"]["labels"]["extra"] = "yes"
    stream = stream_of(netpol("b-only", {"matchLabels": {"extra": "yes"}}), a, b)
    # a's labels are a subset of b's: any selector for a also selects b
    (finding,) = network_policy.apply(stream, Settings())
    assert finding.severity == WARNING and finding.document is stream.documents[1]
    assert len(stream.documents) == 3


def test_network_policy_updates_its_own_policy_when_coverage_changes() -> None:
    stream = covered_stream()
    list(network_policy.apply(stream, Settings()))
    grown = Stream(parse(text_of(*(d.obj for d in stream.live()),
                                 workload("Deployment", "user-scheduler", "user-scheduler", 2))))
    (finding,) = network_policy.apply(grown, Settings())
    assert finding.document is not None and finding.document.name == network_policy.POLICY_NAME
    assert "user-scheduler" in finding.document.obj["spec"]["podSelector"]["matchExpressions"][0]["values"]
    assert sum(1 for d in grown.live() if d.kind == "NetworkPolicy") == 2


def test_network_policy_can_be_turned_off() -> None:
    stream = covered_stream()
    assert list(network_policy.apply(stream, Settings(network_policy=False))) == []
    result = run(text_of(*(d.obj for d in covered_stream().live())), flag_layer={"network_policy": False})
    assert network_policy.POLICY_NAME not in result.output


def test_network_policy_output_is_valid_for_kubeconform() -> None:
    stream = covered_stream()
    list(network_policy.apply(stream, Settings()))
    added = next(d for d in stream.live() if d.name == network_policy.POLICY_NAME)
    svc = stream_of(lb_service())
    list(load_balancer.apply(svc, Settings()))
    text = "---\n" + added.text() + "---\n" + svc.documents[0].text()
    checked = kubeconform(text, "1.32.0")
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
