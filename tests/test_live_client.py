"""jhub_ck8s.live.client: the kubeconfig as helm reads it, and calls to the real API server.

The first half needs no cluster (kubeconfig merging, flags, bad files). The second half
talks to the end-to-end control plane (tests/controlplane.py) as the tenant, whose rights
are those of the platform's application developers, and checks every call and every
error type against what the real API server answers; the cluster admin (tests/kubeapi.py,
an independent client) sets the stage and checks that dry runs stored nothing.
"""

from __future__ import annotations

import base64
import os
import socket
import uuid
from pathlib import Path

import pytest
import yaml

from jhub_ck8s.live import client as live
from jhub_ck8s.live.client import (
    BadRequest,
    ConfigError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
    Unreachable,
    load_config,
)

SECRET_VALUE = "pa55-W0rd-that-must-never-show"


def _config(path: Path, contexts: list[dict], *, current: str | None = None, clusters: list[dict] | None = None,
            users: list[dict] | None = None) -> Path:
    data = {"apiVersion": "v1", "kind": "Config", "contexts": contexts, "clusters": clusters or [],
            "users": users or []}
    if current:
        data["current-context"] = current
    path.write_text(yaml.safe_dump(data))
    return path


def _ctx(name: str, cluster: str, user: str, namespace: str | None = None) -> dict:
    body = {"cluster": cluster, "user": user}
    if namespace:
        body["namespace"] = namespace
    return {"name": name, "context": body}


# ------------------------------------------------------------------ no cluster needed


def test_kubeconfig_list_merges_first_wins_and_paths_are_relative_to_their_file(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _config(tmp_path / "a" / "config", [_ctx("shared", "c1", "u1", "from-first")], current="shared",
                    clusters=[{"name": "c1", "cluster": {"server": "https://first.example:6443",
                                                         "certificate-authority": "ca.crt"}}],
                    users=[{"name": "u1", "user": {"token": "t1"}}])
    second = _config(tmp_path / "b" / "config", [_ctx("shared", "c2", "u2", "from-second"), _ctx("other", "c2", "u2")],
                     current="other",
                     clusters=[{"name": "c1", "cluster": {"server": "https://shadowed.example"}},
                               {"name": "c2", "cluster": {"server": "https://second.example/prefix/"}}],
                     users=[{"name": "u2", "user": {"tokenFile": "token"}}])
    env = {"KUBECONFIG": os.pathsep.join([str(first), str(tmp_path / "missing"), str(second)]), "HOME": str(tmp_path)}
    config = load_config(env=env)
    assert (config.context, config.server, config.namespace, config.namespace_source) == (
        "shared", "https://first.example:6443", "from-first", "context")
    assert config.ca_file == str(tmp_path / "a" / "ca.crt")
    assert config.files == (str(first), str(second))
    other = load_config(context="other", env=env)
    assert (other.server, other.namespace, other.namespace_source) == ("https://second.example/prefix", "default", "default")
    assert other.token_file == str(tmp_path / "b" / "token")
    # -n wins over the context's namespace, as in helm
    assert load_config(namespace="team-b", env=env).namespace == "team-b"
    assert load_config(namespace="team-b", env=env).namespace_source == "flag"
    # --kubeconfig alone: no merge
    only = load_config(kubeconfig=str(second), env=env)
    assert (only.context, only.namespace) == ("other", "default")


def test_a_token_file_that_is_not_utf8_is_one_config_error(tmp_path):
    """Not a traceback (exit 3): the file's bytes are never shown."""
    _config(tmp_path / "config", [_ctx("c", "c", "u", "ns")], current="c",
            clusters=[{"name": "c", "cluster": {"server": "https://h.example"}}],
            users=[{"name": "u", "user": {"tokenFile": "token"}}])
    (tmp_path / "token").write_bytes(b"\xffsecret-bytes\xfe")
    client = live.Client(load_config(kubeconfig=str(tmp_path / "config")))
    with pytest.raises(ConfigError) as caught:
        client.version()
    assert str(caught.value) == f"cannot read tokenFile {tmp_path / 'token'} of user 'u': not UTF-8 text"


def test_default_kubeconfig_is_in_home(tmp_path):
    (tmp_path / ".kube").mkdir()
    _config(tmp_path / ".kube" / "config", [_ctx("c", "c", "u", "ns")], current="c",
            clusters=[{"name": "c", "cluster": {"server": "https://h.example"}}], users=[{"name": "u", "user": {}}])
    assert load_config(env={"HOME": str(tmp_path)}).namespace == "ns"


@pytest.mark.parametrize("case, expected", [
    ("missing-file", "does not exist"),
    ("no-context", "no current context"),
    ("unknown-context", "'nope' is not in"),
    ("unknown-cluster", "names cluster 'gone'"),
    ("bad-yaml", "is not valid YAML (line"),
    ("auth-provider", "auth-provider 'oidc'"),
    ("bad-base64", "not valid base64"),
])
def test_bad_kubeconfig_is_one_line_without_its_secrets(tmp_path, case, expected):
    path = tmp_path / "config"
    kwargs: dict = {"kubeconfig": str(path)}
    cluster = [{"name": "c", "cluster": {"server": "https://h.example"}}]
    user = [{"name": "u", "user": {"token": SECRET_VALUE}}]
    if case == "no-context":
        _config(path, [_ctx("c", "c", "u")], clusters=cluster, users=user)
    elif case == "unknown-context":
        _config(path, [_ctx("c", "c", "u")], current="c", clusters=cluster, users=user)
        kwargs["context"] = "nope"
    elif case == "unknown-cluster":
        _config(path, [_ctx("c", "gone", "u")], current="c", clusters=cluster, users=user)
    elif case == "bad-yaml":
        path.write_text(f"users:\n- name: u\n  user: {{token: {SECRET_VALUE}\n  : ][\n")
    elif case == "auth-provider":
        _config(path, [_ctx("c", "c", "u")], current="c", clusters=cluster,
                users=[{"name": "u", "user": {"auth-provider": {"name": "oidc", "config": {"id-token": SECRET_VALUE}}}}])
    elif case == "bad-base64":
        _config(path, [_ctx("c", "c", "u")], current="c", clusters=cluster,
                users=[{"name": "u", "user": {"client-key-data": SECRET_VALUE + "!!"}}])
    with pytest.raises(ConfigError) as caught:
        load_config(**kwargs, env={"HOME": str(tmp_path)})
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message and SECRET_VALUE not in message


def test_redact_removes_raw_and_decoded_values():
    secret = {"kind": "Secret", "data": {"p": base64.b64encode(SECRET_VALUE.encode()).decode()},
              "stringData": {"q": "another-value"}}
    text = f"refused {SECRET_VALUE} and {secret['data']['p']} and another-value"
    assert live.redact(text, secret) == "refused <redacted> and <redacted> and <redacted>"
    assert live.redact(text, {"kind": "ConfigMap", "data": {"p": SECRET_VALUE}}) == text


def test_unreachable_server_is_one_line(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # nothing listens on the port any more
    path = _config(tmp_path / "config", [_ctx("c", "c", "u")], current="c",
                   clusters=[{"name": "c", "cluster": {"server": f"https://127.0.0.1:{port}",
                                                      "insecure-skip-tls-verify": True}}],
                   users=[{"name": "u", "user": {"token": SECRET_VALUE}}])
    client = live.Client(load_config(kubeconfig=str(path)), timeout=5)
    with pytest.raises(Unreachable) as caught:
        client.version()
    assert "cannot reach the API server" in str(caught.value) and SECRET_VALUE not in str(caught.value)


def test_silent_server_times_out(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the connection, never says a word
        port = listener.getsockname()[1]
        path = _config(tmp_path / "config", [_ctx("c", "c", "u")], current="c",
                       clusters=[{"name": "c", "cluster": {"server": f"https://127.0.0.1:{port}",
                                                          "insecure-skip-tls-verify": True}}],
                       users=[{"name": "u", "user": {}}])
        client = live.Client(load_config(kubeconfig=str(path)), timeout=0.5)
        with pytest.raises(Unreachable, match=r"did not answer within 0.5s"):
            client.version()


# ---------------------------------------------------------------- the real API server


def _tenant(cluster, **kwargs) -> live.Client:
    return live.Client(load_config(kubeconfig=str(cluster.tenant.kubeconfig), **kwargs))


def _inline_kubeconfig(cluster, path: Path, *, user: dict | None = None, cluster_extra: dict | None = None,
                       ca: bool = True) -> Path:
    tenant = cluster.tenant
    original = yaml.safe_load(tenant.kubeconfig.read_text())
    ca_file = original["clusters"][0]["cluster"]["certificate-authority"]
    body: dict = {"server": cluster.server, **(cluster_extra or {})}
    if ca:
        body["certificate-authority-data"] = base64.b64encode(Path(ca_file).read_bytes()).decode()
    if user is None:
        user = {"client-certificate-data": base64.b64encode(tenant.cert.read_bytes()).decode(),
                "client-key-data": base64.b64encode(tenant.key.read_bytes()).decode()}
    return _config(path, [_ctx("inline", "c", "u", cluster.namespace)], current="inline",
                   clusters=[{"name": "c", "cluster": body}], users=[{"name": "u", "user": user}])


@pytest.mark.preflight
def test_reads_as_the_tenant(cluster):
    client = _tenant(cluster)
    assert client.namespace == cluster.namespace  # from the context
    assert client.version()["gitVersion"].startswith("v1.")
    deployment = client.resource("apps/v1", "Deployment")
    assert (deployment.plural, deployment.namespaced, "create" in deployment.verbs) == ("deployments", True, True)
    assert client.resource("v1", "Namespace").namespaced is False
    account = client.get("v1", "ServiceAccount", "default")
    assert account["metadata"]["namespace"] == cluster.namespace
    listed = client.list("v1", "ServiceAccount")
    assert "default" in {item["metadata"]["name"] for item in listed}
    assert {item["kind"] for item in listed} == {"ServiceAccount"}
    with pytest.raises(NotFound) as caught:
        client.get("v1", "ConfigMap", "no-such-thing")
    assert str(caught.value).startswith(f"get ConfigMap/no-such-thing in namespace {cluster.namespace}: ")
    with pytest.raises(NotFound, match=r"serves no Issuer in cert-manager\.io/v1"):
        client.resource("cert-manager.io/v1", "Issuer")


@pytest.mark.preflight
def test_cluster_scoped_reads_are_forbidden_and_access_reviews_say_so(cluster):
    client = _tenant(cluster)
    with pytest.raises(Forbidden) as caught:
        client.list("networking.k8s.io/v1", "IngressClass")
    assert caught.value.status == 403 and "cannot list resource" in str(caught.value)
    with pytest.raises(Forbidden):
        client.get("v1", "Namespace", "kube-system")
    # its own namespace it may read (the RoleBinding there grants get on it)
    assert client.get("v1", "Namespace", cluster.namespace)["metadata"]["name"] == cluster.namespace
    reviews = client.can_i_all([("create", "networkpolicies", "networking.k8s.io"), ("list", "pods", ""),
                                ("create", "clusterroles", "rbac.authorization.k8s.io")])
    assert [r.allowed for r in reviews] == [True, True, False]
    assert reviews[0].what == "create networkpolicies.networking.k8s.io"
    assert not client.can_i("list", "namespaces", cluster=True).allowed
    assert not client.can_i("create", "pods", namespace="kube-system").allowed
    admin = live.Client(load_config(kubeconfig=str(cluster.admin.kubeconfig)))
    assert admin.can_i("list", "namespaces", cluster=True).allowed


@pytest.mark.preflight
def test_dry_runs_are_judged_and_store_nothing(cluster):
    client = _tenant(cluster)
    name = f"dry-{uuid.uuid4().hex[:6]}"
    made = client.dry_run_create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                                  "data": {"k": "v"}})
    assert made.object["metadata"]["namespace"] == cluster.namespace
    assert cluster.admin_api.get("v1", "ConfigMap", name, cluster.namespace).status == 404
    # Pod Security judges a dry run: a privileged pod is refused with the server's own words
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": [{"name": "c", "image": "registry.example/x:1",
                                    "securityContext": {"privileged": True}}]}}
    with pytest.raises(Forbidden) as caught:
        client.dry_run_create(pod)
    assert 'violates PodSecurity "restricted:latest"' in caught.value.server_message
    # unknown fields are refused (Strict), as helm's validation would
    with pytest.raises(BadRequest, match="unknown field"):
        client.dry_run_create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "bogus": 1})
    # update and patch of a live object, nothing stored
    live_sa = client.get("v1", "ServiceAccount", "default")
    live_sa["metadata"].setdefault("labels", {})["dry"] = "run"
    updated = client.dry_run_update(live_sa)
    assert updated.object["metadata"]["labels"]["dry"] == "run"
    patched = client.dry_run_patch("v1", "ServiceAccount", "default", {"metadata": {"labels": {"patched": "yes"}}})
    assert patched.object["metadata"]["labels"]["patched"] == "yes"
    applied = client.dry_run_patch("v1", "ConfigMap", name, {"apiVersion": "v1", "kind": "ConfigMap",
                                                            "metadata": {"name": name}, "data": {"a": "b"}},
                                   patch_type="apply", force=True)
    assert applied.object["data"] == {"a": "b"}
    again = cluster.admin_api.get("v1", "ServiceAccount", "default", cluster.namespace).body
    assert "dry" not in (again["metadata"].get("labels") or {}) and "patched" not in (again["metadata"].get("labels") or {})
    assert cluster.admin_api.get("v1", "ConfigMap", name, cluster.namespace).status == 404


@pytest.mark.preflight
def test_secret_is_returned_but_never_in_a_message(cluster, tenant_namespace):
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "leaky"}, "type": "Opaque",
              "data": {"password": encoded}}
    assert cluster.admin_api.create(secret, tenant_namespace).ok
    client = _tenant(cluster, namespace=tenant_namespace)
    assert client.get("v1", "Secret", "leaky")["data"]["password"] == encoded  # the caller gets it
    with pytest.raises(Conflict) as exists:
        client.dry_run_create(secret)
    # a policy whose message quotes the Secret's data: the server says it, we never repeat it
    policy = f"leak-{tenant_namespace}"
    objects = [
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
         "metadata": {"name": policy},
         "spec": {"failurePolicy": "Fail",
                  "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                          "operations": ["CREATE"], "resources": ["secrets"]}]},
                  "validations": [{"expression": "false",
                                   "messageExpression": "'refused, password is ' + string(object.data['password'])"}]}},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
         "metadata": {"name": policy},
         "spec": {"policyName": policy, "validationActions": ["Deny"],
                  "matchResources": {"namespaceSelector": {"matchLabels": {
                      "kubernetes.io/metadata.name": tenant_namespace}}}}},
    ]
    for obj in objects:
        assert cluster.admin_api.create(obj, None).ok
    try:
        fresh = {**secret, "metadata": {"name": "fresh"}}
        raw = None
        for _ in range(200):  # policies load asynchronously: until the server refuses (and says the value)
            raw = cluster.admin_api.create(fresh, tenant_namespace, dry_run=True)
            if raw.status != 201:
                break
        # the negative control: the server's own message carries the value (CEL shows it base64-encoded)
        assert raw is not None and (SECRET_VALUE in raw.message or encoded in raw.message), raw.describe()
        with pytest.raises((Forbidden, Invalid)) as refused:
            client.dry_run_create(fresh)
        message = str(refused.value)
        assert "refused, password is <redacted>" in message, message
        for value in (SECRET_VALUE, encoded):
            assert value not in message and value not in refused.value.server_message
            assert value not in str(exists.value)
    finally:
        for obj in reversed(objects):
            cluster.admin_api.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"])


@pytest.mark.preflight
def test_inline_credentials_tls_options_and_a_refused_token(cluster, tmp_path):
    inline = live.Client(load_config(kubeconfig=str(_inline_kubeconfig(cluster, tmp_path / "inline"))))
    assert inline.get("v1", "ServiceAccount", "default")["metadata"]["name"] == "default"
    # no CA, but insecure-skip-tls-verify
    insecure = _inline_kubeconfig(cluster, tmp_path / "insecure", ca=False,
                                  cluster_extra={"insecure-skip-tls-verify": True})
    assert live.Client(load_config(kubeconfig=str(insecure))).version()
    # no CA and no skip: the server is not trusted
    untrusted = _inline_kubeconfig(cluster, tmp_path / "untrusted", ca=False)
    with pytest.raises(Unreachable, match="is not trusted"):
        live.Client(load_config(kubeconfig=str(untrusted))).version()
    # tls-server-name: checked against that name, not the address
    named = _inline_kubeconfig(cluster, tmp_path / "named", cluster_extra={"tls-server-name": "kubernetes"})
    assert live.Client(load_config(kubeconfig=str(named))).version()
    wrong = _inline_kubeconfig(cluster, tmp_path / "wrong", cluster_extra={"tls-server-name": "not-the-server.example"})
    with pytest.raises(Unreachable, match="is not trusted"):
        live.Client(load_config(kubeconfig=str(wrong))).version()
    # a token the server does not know: 401, one line, no token
    token = _inline_kubeconfig(cluster, tmp_path / "token", user={"token": SECRET_VALUE})
    with pytest.raises(Unauthorized) as caught:
        live.Client(load_config(kubeconfig=str(token))).list("v1", "ConfigMap")
    assert "refused the credentials" in str(caught.value) and SECRET_VALUE not in str(caught.value)
    # a tokenFile is read, and the exec plugin's token too (both refused the same way: proof they were sent)
    (tmp_path / "token.txt").write_text(SECRET_VALUE + "\n")
    from_file = _inline_kubeconfig(cluster, tmp_path / "tokenfile", user={"tokenFile": "token.txt"})
    with pytest.raises(Unauthorized):
        live.Client(load_config(kubeconfig=str(from_file))).version()
    plugin = tmp_path / "plugin.sh"
    plugin.write_text("#!/bin/sh\nprintf '%s' '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                      "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"" + SECRET_VALUE + "\"}}'\n")
    plugin.chmod(0o755)
    execs = _inline_kubeconfig(cluster, tmp_path / "exec", user={"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": "./plugin.sh", "interactiveMode": "Never"}})
    with pytest.raises(Unauthorized):
        live.Client(load_config(kubeconfig=str(execs))).version()
    # the exec plugin can also hand over a client certificate: then it works
    cert = base64.b64encode(cluster.tenant.cert.read_bytes()).decode()
    key = base64.b64encode(cluster.tenant.key.read_bytes()).decode()
    import json
    credential = json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                             "status": {"clientCertificateData": base64.b64decode(cert).decode(),
                                        "clientKeyData": base64.b64decode(key).decode()}})
    (tmp_path / "cred.json").write_text(credential)
    certplugin = tmp_path / "certplugin.sh"
    certplugin.write_text(f"#!/bin/sh\ncat {tmp_path / 'cred.json'}\n")
    certplugin.chmod(0o755)
    execcert = _inline_kubeconfig(cluster, tmp_path / "execcert", user={"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": str(certplugin)}})
    assert live.Client(load_config(kubeconfig=str(execcert))).get("v1", "ServiceAccount", "default")
