"""preflight's pull-secret checks: a Secret of the wrong type, and one with no entry for the registry.

Same world as tests/test_preflight.py (its fixtures). Only host names may be printed.
"""

from __future__ import annotations

import base64
import json

import pytest
from registry_fixtures import PASSWORD, USER
from test_preflight import namespace, outcomes, results, world  # noqa: F401

pytestmark = pytest.mark.preflight


def _replace_secret(the_world, name: str, secret_type: str, config: dict) -> None:
    api = the_world.cluster.admin_api
    assert api.delete("v1", "Secret", "pull-secret", name).ok
    key = ".dockerconfigjson" if secret_type == "kubernetes.io/dockerconfigjson" else "config"
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pull-secret"}, "type": secret_type,
              "data": {key: base64.b64encode(json.dumps(config).encode()).decode()}}
    answer = api.create(secret, name)
    assert answer.ok, answer.describe()


def test_pull_secret_of_the_wrong_type(world, namespace, tmp_path):  # noqa: F811
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    _replace_secret(world, namespace, "Opaque", {"auths": {world.host: {"auth": auth}}})
    code, report = world.preflight(namespace, world.values_file(tmp_path))
    assert code == 1
    failed = results(report, "images-pull-secret", "fail")
    assert len(failed) == 1 and "is of type 'Opaque', not kubernetes.io/dockerconfigjson" in failed[0]["message"], report
    assert "kubectl create secret docker-registry pull-secret" in failed[0]["fix"]
    assert PASSWORD not in json.dumps(report) and auth not in json.dumps(report)


def test_pull_secret_without_an_entry_for_the_registry(world, namespace, tmp_path):  # noqa: F811
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    _replace_secret(world, namespace, "kubernetes.io/dockerconfigjson", {"auths": {"harbor.example.com": {"auth": auth}}})
    code, report = world.preflight(namespace, world.values_file(tmp_path))
    assert code == 1
    assert results(report, "images-pull-secret", "pass")[0]["message"].endswith("has credentials for: harbor.example.com")
    failed = results(report, "images-pull-secret", "fail")
    assert [r["subject"] for r in failed] == [world.host], report
    assert f"no pull secret (pull-secret) has an entry for {world.host}" in failed[0]["message"]
    assert set(outcomes(report, "images-pull")) == {"fail"}  # the registry wants credentials for every image
    assert PASSWORD not in json.dumps(report) and auth not in json.dumps(report)
