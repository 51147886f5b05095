"""transforms/gitops.py (transform gitops): the hub's tokens from the tenant's Secret, nothing random.

The expected results are written out by hand (objects from ``tests/manifests.py``, shaped as
the chart's). The same transform on the real chart, through helm 3 and 4: test_gitops_render.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from manifests import by_name, hub_secret, stream_of, workload

from jhub_ck8s.pipeline import run
from jhub_ck8s.settings import Settings
from jhub_ck8s.transforms import gitops
from jhub_ck8s.transforms.gitops import NoStableSource

TOKEN = "hub.config.ConfigurableHTTPProxy.auth_token"


def with_token(obj: dict[str, Any], secret: str = "hub") -> dict[str, Any]:
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [
        {"name": "OTHER", "value": "1"},
        {"name": "CONFIGPROXY_AUTH_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": TOKEN}}},
    ]
    return obj


def release(values: dict[str, Any]) -> list[dict[str, Any]]:
    secret = hub_secret(values)
    secret["data"].update({
        TOKEN: "cmFuZG9t", "hub.config.JupyterHub.cookie_secret": "cmFuZG9t",
        "hub.config.CryptKeeper.keys": "cmFuZG9t", "hub.services.m.apiToken": "cmFuZG9t", "hub.db.password": "eA==",
    })
    hub = with_token(workload("Deployment", "hub", "hub"))
    hub["spec"]["template"]["metadata"]["annotations"] = {"checksum/secret": "old"}
    hub["spec"]["template"]["spec"]["volumes"] = [
        {"name": "secret", "secret": {"secretName": "hub"}},
        {"name": "existing-secret", "secret": {"secretName": "tenant"}},
    ]
    proxy = with_token(workload("Deployment", "proxy", "proxy"))
    proxy["spec"]["template"]["metadata"]["annotations"] = {"checksum/auth-token": "0a1b", "keep": "me"}
    return [secret, hub, proxy]


VALUES = {"hub": {"existingSecret": "tenant", "services": {"m": {}}, "db": {"type": "sqlite-pvc"}}}


def test_gitops_points_both_deployments_at_the_tenants_secret_and_drops_the_random_tokens() -> None:
    stream = stream_of(*release(VALUES))
    findings = list(gitops.apply(stream, Settings(gitops=True)))
    secret = by_name(stream, "Secret", "hub")
    # hub.db.password is the tenant's own value, not generated: kept (the linter refuses it in values)
    assert sorted(secret["data"]) == ["hub.db.password", "values.yaml"]
    for name in ("hub", "proxy"):
        env = by_name(stream, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]["env"]
        assert env[1] == {"name": "CONFIGPROXY_AUTH_TOKEN", "valueFrom": {"secretKeyRef": {"name": "tenant", "key": TOKEN}}}
        assert env[0] == {"name": "OTHER", "value": "1"}
    proxy = by_name(stream, "Deployment", "proxy")["spec"]["template"]["metadata"]["annotations"]
    assert proxy == {"keep": "me"}
    volumes = by_name(stream, "Deployment", "hub")["spec"]["template"]["spec"]["volumes"]
    assert volumes[0] == {"name": "secret", "secret": {"secretName": "hub"}}
    assert volumes[1] == {"name": "existing-secret", "projected": {"sources": [{"secret": {"name": "tenant", "items": [
        {"key": "hub.config.JupyterHub.cookie_secret", "path": "hub.config.JupyterHub.cookie_secret"},
        {"key": "hub.config.CryptKeeper.keys", "path": "hub.config.CryptKeeper.keys"},
        {"key": "hub.services.m.apiToken", "path": "hub.services.m.apiToken"},
    ]}}]}}  # all required, as in the chart's volume of the whole Secret
    assert len(findings) == 4 + 2 + 1 + 1  # keys, env vars, checksum, volume
    assert all(f.severity == "change" for f in findings)
    assert all("cmFuZG9t" not in f.message for f in findings)
    assert list(gitops.apply(stream, Settings(gitops=True))) == []  # idempotent


def test_gitops_mounts_the_database_password_for_a_real_database_only_and_as_optional() -> None:
    # z2jh reads it with get_secret_value("hub.db.password", None): a database whose password is
    # in its URL has none, and a required item would keep the hub's pod from starting.
    values = {"hub": {"existingSecret": "tenant", "db": {"type": "postgres"}}}
    stream = stream_of(*release(values))
    findings = list(gitops.apply(stream, Settings(gitops=True)))
    sources = by_name(stream, "Deployment", "hub")["spec"]["template"]["spec"]["volumes"][1]["projected"]["sources"]
    assert [[i["key"] for i in s["secret"]["items"]] for s in sources] == [
        ["hub.config.JupyterHub.cookie_secret", "hub.config.CryptKeeper.keys"], ["hub.db.password"],
    ]
    assert [s["secret"].get("optional") for s in sources] == [None, True]
    assert any("and hub.db.password when there" in f.message for f in findings)


def test_gitops_keeps_the_volumes_own_settings_and_leaves_a_volume_with_items_alone() -> None:
    stream = stream_of(*release(VALUES))
    hub_spec = by_name(stream, "Deployment", "hub")["spec"]["template"]["spec"]
    hub_spec["volumes"][1]["secret"]["defaultMode"] = 0o400
    list(gitops.apply(stream, Settings(gitops=True)))
    assert hub_spec["volumes"][1]["projected"]["defaultMode"] == 0o400
    chosen = {"name": "existing-secret", "secret": {"secretName": "tenant", "items": [{"key": "a", "path": "a"}]}}
    stream = stream_of(*release(VALUES))
    by_name(stream, "Deployment", "hub")["spec"]["template"]["spec"]["volumes"][1] = dict(chosen)
    findings = list(gitops.apply(stream, Settings(gitops=True)))
    assert by_name(stream, "Deployment", "hub")["spec"]["template"]["spec"]["volumes"][1] == chosen
    assert not [f for f in findings if "mounts only" in f.message or f.severity == "warning"]
    # items chosen by hand that include values.yaml: left as they are, and said
    chosen["secret"]["items"] = [{"key": "values.yaml", "path": "values.yaml"}]
    stream = stream_of(*release(VALUES))
    by_name(stream, "Deployment", "hub")["spec"]["template"]["spec"]["volumes"][1] = chosen
    (warning,) = [f for f in gitops.apply(stream, Settings(gitops=True)) if f.severity == "warning"]
    assert (warning.rule, warning.where) == ("existing-secret", "volume existing-secret")
    assert "values.yaml" in warning.message and "values.yaml" in warning.fix


def test_gitops_off_changes_nothing() -> None:
    stream = stream_of(*release({"hub": {"services": {"m": {}}}}))
    assert list(gitops.apply(stream, Settings())) == []
    assert "hub.services.m.apiToken" in by_name(stream, "Secret", "hub")["data"]


@pytest.mark.parametrize("existing", [None, ""])
def test_gitops_refuses_tokens_with_no_stable_source(existing: str | None) -> None:
    values: dict[str, Any] = {"hub": {"services": {"m": {}, "a": {}}}}
    if existing is not None:
        values["hub"]["existingSecret"] = existing
    stream = stream_of(*release(values))
    with pytest.raises(NoStableSource) as caught:
        list(gitops.apply(stream, Settings(gitops=True)))
    message = str(caught.value)
    assert "\n" not in message
    assert "jupyterhub.hub.existingSecret" in message
    assert message.startswith("gitops (--gitops or ck8s.gitops): ")
    assert f"{TOKEN}, hub.config.JupyterHub.cookie_secret, hub.config.CryptKeeper.keys, hub.services.a.apiToken, hub.services.m.apiToken" in message


def test_through_the_pipeline_checksum_secret_is_the_hash_of_the_secret_as_written() -> None:
    import hashlib

    from manifests import text_of

    from jhub_ck8s.documents import read

    text = text_of(*release(VALUES))
    first = run(text, flag_layer={"gitops": True})
    assert first.exit_code == 0
    again = run(text, flag_layer={"gitops": True})
    assert first.output == again.output
    documents = read(first.output)
    secret = next(d for d in documents if d.kind == "Secret")
    hub = next(d for d in documents if d.kind == "Deployment" and d.name == "hub")
    digest = hashlib.sha256(secret.text().encode()).hexdigest()
    assert hub.obj["spec"]["template"]["metadata"]["annotations"]["checksum/secret"] == digest
    # warn mode does not let an unstable render through
    refused = run(text_of(*release({"hub": {}})), flag_layer={"gitops": True, "mode": "warn"})
    assert refused.exit_code == 2
    assert refused.output == ""
