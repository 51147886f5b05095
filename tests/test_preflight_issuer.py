"""preflight's cert-manager check: a ClusterIssuer that exists but is not Ready fails.

Same world as tests/test_preflight.py (its fixtures; the tenant may read cluster-scoped
classes and issuers here, as on some platforms).
"""

from __future__ import annotations

import pytest
from test_preflight import cluster_reader, namespace, outcomes, results, world  # noqa: F401

pytestmark = pytest.mark.preflight
ISSUERS = "/apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod"


def _set_ready(api, status: str, reason: str) -> None:
    issuer = api.request("GET", ISSUERS).body
    issuer["status"] = {"conditions": [{"type": "Ready", "status": status, "reason": reason}]}
    answer = api.request("PUT", ISSUERS + "/status", issuer)
    assert answer.ok, answer.describe()


def test_cluster_issuer_not_ready(world, namespace, tmp_path, cluster_reader):  # noqa: F811
    api = world.cluster.admin_api
    _set_ready(api, "False", "ErrRegisterACMEAccount")
    try:
        code, report = world.preflight(namespace, world.values_file(tmp_path))
        assert code == 1
        failed = results(report, "ingress-issuer", "fail")
        assert failed and failed[0]["message"] == "ClusterIssuer letsencrypt-prod is not Ready: ErrRegisterACMEAccount", report
        assert outcomes(report, "ingress-class") == ["pass"]
    finally:
        _set_ready(api, "True", "ACMEAccountRegistered")
