"""transforms/load_balancer.py (transform load-balancer): a LoadBalancer Service becomes ClusterIP, or an error.

The expected results are written out by hand (objects from ``tests/manifests.py``).
"""

from __future__ import annotations

import yaml
from manifests import (
    RELEASE,
    by_name,
    lb_service,
    service,
    stream_of,
    text_of,
)

from jhub_ck8s.pipeline import run
from jhub_ck8s.report import CHANGE, ERROR
from jhub_ck8s.settings import Settings
from jhub_ck8s.transforms import load_balancer


def test_load_balancer_becomes_cluster_ip_and_drops_external_only_fields() -> None:
    stream = stream_of(lb_service(), service("hub", "hub"))
    findings = list(load_balancer.apply(stream, Settings()))
    assert len(findings) == 1 and findings[0].severity == CHANGE
    assert findings[0].document is stream.documents[0]
    assert "proxy.service.type: ClusterIP" in findings[0].message
    spec = by_name(stream, "Service", "proxy-public")["spec"]
    assert spec == {
        "selector": {"component": "proxy", **RELEASE},
        "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        "type": "ClusterIP",
        "ipFamilyPolicy": "PreferDualStack",
    }
    assert list(load_balancer.apply(stream, Settings())) == []  # idempotent


def test_load_balancer_error_mode_names_the_value() -> None:
    stream = stream_of(lb_service())
    (finding,) = load_balancer.apply(stream, Settings(load_balancer="error"))
    assert finding.severity == ERROR
    assert finding.rule == "load-balancer"
    assert "proxy.service.type: ClusterIP" in finding.fix
    assert by_name(stream, "Service", "proxy-public")["spec"]["type"] == "LoadBalancer"


def test_load_balancer_through_the_pipeline() -> None:
    text = text_of(lb_service())
    enforced = run(text, flag_layer={"load_balancer": "error"})
    assert (enforced.exit_code, enforced.output) == (1, "")
    warned = run(text, flag_layer={"load_balancer": "error", "mode": "warn"})
    assert warned.exit_code == 0
    assert yaml.safe_load(warned.output)["spec"]["type"] == "LoadBalancer"
    converted = run(text)
    assert converted.exit_code == 0, converted.report.table()
    assert yaml.safe_load(converted.output)["spec"]["type"] == "ClusterIP"
