"""helm ck8s-jupyter preflight against the end-to-end control plane and a real registry.

The world (once per module): the real z2jh 4.4.0 chart through the wrapper chart and the
post-renderer, its images moved to a real registry (Debian's docker-registry with an
htpasswd robot account) where the test pushed a small umoci image under every name the
rendered release uses (found by the test's own walk of the render, not by the code under
test); an IngressClass ``nginx`` and a cert-manager ``ClusterIssuer letsencrypt-prod``
(its CRD) that is Ready. Each test gets a fresh tenant namespace (Pod Security
restricted, the platform's safeguard policies, the tenant bound to ``admin``) with the
pull secret, a generous ResourceQuota and a LimitRange.

The positive run passes every check, except the cluster-scoped reads the tenant may not
make, which skip. Each negative control makes its check fail; where the API server would
refuse the same thing at admission, the admission check fails too and the test says both.
Preflight runs as users run it: ``python -m jhub_ck8s.cli preflight`` with helm 3 as
``$HELM_BIN`` (``deploy`` through the installed plugin with Helm 3 and Helm 4).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, TOOLS, Z2JH, Z2JH_MISSING
from controlplane import POLICIES, SAFEGUARDS_LABEL, TENANT_USER
from registry_fixtures import PASSWORD, USER, build_images, delete_manifest, push, skip_reason, start_registry

# the plugin installed in a private Helm 3 and Helm 4 home, as the e2e tests install it (fixtures)
from test_e2e_helm import e2e_plugin, helm_errors, tenant_helm  # noqa: F401

pytestmark = pytest.mark.preflight

CHART = Z2JH / "chart" / "jupyterhub-4.4.0.tgz"
RBAC = "rbac.authorization.k8s.io/v1"
READER = "jhub-ck8s-preflight-cluster-reader"


# ------------------------------------------------------------------------------ the world


def _values(registry: str) -> dict[str, Any]:
    values = yaml.safe_load((REPO / "examples" / "values.yaml").read_text())
    values["ck8s"]["registry"] = f"{registry}/jupyterhub"
    return values


def _write(path: Path, values: dict[str, Any]) -> Path:
    path.write_text(json.dumps(values))  # JSON: every string quoted, as helm should read it
    return path


def _env(home: Path, kubeconfig: Path, helm_name: str = "helm3") -> dict[str, str]:
    helm = TOOLS / "bin" / helm_name
    return {"PATH": os.environ["PATH"], "HOME": str(home), "HELM_BIN": str(helm), "KUBECONFIG": str(kubeconfig),
            "HELM_DATA_HOME": str(home / "d"), "HELM_CONFIG_HOME": str(home / "c"), "HELM_CACHE_HOME": str(home / "k")}


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "jhub_ck8s.cli", *args], env=env, cwd=REPO,
                            capture_output=True, text=True, check=False, timeout=300)
    print(f"$ helm ck8s-jupyter {' '.join(args)}\n-> exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def _images_in(text: str, host: str) -> set[str]:
    """Every image reference at ``host`` in the render: pod specs, and any ``image`` in Secret/hub's values."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "image" and isinstance(value, str):
                    found.add(value)
                elif key == "image" and isinstance(value, dict) and value.get("name"):
                    found.add(f"{value['name']}:{value.get('tag') or 'latest'}")
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for doc in yaml.safe_load_all(text):
        if not isinstance(doc, dict):
            continue
        walk(doc)
        if doc.get("kind") == "Secret" and "values.yaml" in (doc.get("data") or {}):
            walk(yaml.safe_load(base64.b64decode(doc["data"]["values.yaml"])))
    return {ref.split("@")[0] for ref in found if ref.startswith(host + "/")}


def _pod_images(text: str, host: str) -> set[str]:
    """The images of the render's containers (not Secret/hub)."""
    return _images_in("\n---\n".join(yaml.safe_dump(d) for d in yaml.safe_load_all(text)
                                      if isinstance(d, dict) and d.get("kind") != "Secret"), host)


class World:
    def __init__(self, cluster, registry, layout, home: Path, values: dict[str, Any]) -> None:
        self.cluster, self.registry, self.layout, self.home, self.values = cluster, registry, layout, home, values

    @property
    def host(self) -> str:
        return str(self.registry.host)

    def env(self, kubeconfig: Path | None = None, helm_name: str = "helm3") -> dict[str, str]:
        return _env(self.home, kubeconfig or self.cluster.tenant.kubeconfig, helm_name)

    def values_file(self, tmp_path: Path, change=None) -> Path:
        values = json.loads(json.dumps(self.values))
        if change:
            change(values)
        return _write(tmp_path / "values.json", values)

    def render(self, values: Path, namespace: str, helm_name: str = "helm3") -> str:
        result = _cli(self.env(helm_name=helm_name), "render", "jhub", "-n", namespace, "--chart-archive", str(CHART), "-f", str(values))
        assert result.returncode == 0, result.stderr
        return result.stdout

    def push_all(self, text: str) -> set[str]:
        images = _images_in(text, self.host)
        for image in sorted(images):
            push(self.layout, "amd", image, creds=(USER, PASSWORD))
        return images

    def preflight(self, namespace: str, values: Path, *extra: str, kubeconfig: Path | None = None) -> tuple[int, dict]:
        result = _cli(self.env(kubeconfig), "preflight", "jhub", "-n", namespace, "--chart-archive", str(CHART),
                      "-f", str(values), "-o", "json", *extra)
        assert result.returncode in (0, 1), result.stderr
        report = json.loads(result.stdout)
        assert report["exitCode"] == result.returncode
        return result.returncode, report

    def stage(self, namespace: str) -> None:
        """What a platform gives a team: the pull secret, a ResourceQuota and a LimitRange."""
        api = self.cluster.admin_api
        auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        config = {"auths": {self.host: {"username": USER, "password": PASSWORD, "auth": auth}}}
        objects = [
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pull-secret"},
             "type": "kubernetes.io/dockerconfigjson",
             "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}},
            {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "team-quota"},
             "spec": {"hard": {"requests.cpu": "20", "requests.memory": "64Gi", "limits.cpu": "40",
                               "limits.memory": "128Gi", "pods": "100"}}},
            {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "team-limits"},
             "spec": {"limits": [{"type": "Container", "max": {"cpu": "4", "memory": "8Gi"},
                                  "default": {"cpu": "500m", "memory": "512Mi"},
                                  "defaultRequest": {"cpu": "10m", "memory": "64Mi"}}]}},
        ]
        for obj in objects:
            answer = api.create_or_replace(obj, namespace)
            assert answer.ok, answer.describe()


def _crd(kind: str, plural: str, scope: str) -> dict[str, Any]:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.cert-manager.io"},
            "spec": {"group": "cert-manager.io", "scope": scope,
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                                   "schema": {"openAPIV3Schema": {"type": "object",
                                                                  "x-kubernetes-preserve-unknown-fields": True}}}]}}


PLATFORM = "preflight"  # the value of SAFEGUARDS_LABEL that binds the copies below


def _platform_copies(registry: str) -> list[dict[str, Any]]:
    """The platform's safeguard policies bound to namespaces labelled ``PLATFORM``, with the
    trusted registry being this test's registry (the session's policies trust harbor.example.com)."""
    copies = []
    for obj in yaml.safe_load_all(POLICIES.read_text()):
        if not obj:
            continue
        name = obj["metadata"]["name"]
        if obj["kind"] == "ValidatingAdmissionPolicy":
            if name != "platform-trusted-registry":
                continue
            policy = json.loads(json.dumps(obj))
            policy["metadata"] = {"name": f"preflight-{name}"}
            for variable in policy["spec"]["variables"]:
                if variable["name"] == "registry":
                    variable["expression"] = f"'{registry}/jupyterhub/'"
            copies.append(policy)
        else:
            binding = json.loads(json.dumps(obj))
            binding["metadata"] = {"name": f"preflight-{name}"}
            if binding["spec"]["policyName"] == "platform-trusted-registry":
                binding["spec"]["policyName"] = "preflight-platform-trusted-registry"
            binding["spec"]["matchResources"] = {"namespaceSelector": {"matchLabels": {SAFEGUARDS_LABEL: PLATFORM}}}
            copies.append(binding)
    return copies


def _wait(what: str, ready, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = ready()
        if last is True:
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: {last}")


@pytest.fixture(scope="module")
def world(control_plane, tmp_path_factory):
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    if not CHART.exists():
        pytest.skip(Z2JH_MISSING)
    if not (TOOLS / "bin" / "helm3").exists():
        pytest.skip(f"{TOOLS / 'bin' / 'helm3'} is not installed: run make setup")
    folder = tmp_path_factory.mktemp("preflight")
    registry = start_registry(folder / "registry", "harbor", auth=(USER, PASSWORD))
    api = control_plane.admin_api
    cluster_objects = [
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"},
         "spec": {"controller": "k8s.io/ingress-nginx"}},
        _crd("ClusterIssuer", "clusterissuers", "Cluster"),
        _crd("Issuer", "issuers", "Namespaced"),
        *_platform_copies(registry.host),
    ]
    try:
        for obj in cluster_objects:
            answer = api.create_or_replace(obj)
            assert answer.ok, answer.describe()
        _wait("the cert-manager CRDs", lambda: api.request("GET", "/apis/cert-manager.io/v1/clusterissuers").ok or "not yet")
        api._resources = None  # discovery again: the CRDs are new
        issuer = {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "letsencrypt-prod"},
                  "spec": {"acme": {"server": "https://acme.invalid/directory"}}}
        created = api.create_or_replace(issuer)
        assert created.ok, created.describe()
        status = {**created.body, "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "ACMEAccountRegistered"}]}}
        answer = api.request("PUT", "/apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod/status", status)
        assert answer.ok, answer.describe()
        layout = build_images(folder / "images")
        home = folder / "home"
        home.mkdir()
        made = World(control_plane, registry, layout, home, _values(registry.host))
        text = made.render(made.values_file(folder), control_plane.namespace)
        # Helm 4 renders the hook image-puller too (Helm 3 cannot post-render hooks): its image as well
        helm4_text = made.render(made.values_file(folder), control_plane.namespace, "helm4")
        made.images = made.push_all(text) | made.push_all(helm4_text)  # type: ignore[attr-defined]
        made.pod_images = _pod_images(text, registry.host)  # type: ignore[attr-defined]
        assert len(made.pod_images) >= 4 and made.pod_images <= made.images, made.images  # type: ignore[attr-defined]
        yield made
    finally:
        registry.stop()
        for obj in reversed(cluster_objects):
            api.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"])
        api._resources = None


@pytest.fixture
def namespace(world, tenant_namespace) -> str:
    """A tenant namespace under the platform's safeguards, trusting this test's registry, staged."""
    api = world.cluster.admin_api
    assert api.patch_merge("v1", "Namespace", tenant_namespace, {"metadata": {"labels": {SAFEGUARDS_LABEL: PLATFORM}}}).ok
    elsewhere = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "policy-probe"},
                 "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {
                     "containers": [{"name": "c", "image": "elsewhere.example/x:1",
                                     "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}}]}}}}
    _wait("the trusted-registry copy to judge the namespace", lambda: (
        f"{world.host}/jupyterhub/" in api.create(elsewhere, tenant_namespace, dry_run=True).message) or "not yet")
    world.stage(tenant_namespace)
    return tenant_namespace


@pytest.fixture
def cluster_reader(world):
    """Let the tenant read IngressClasses, StorageClasses, ClusterIssuers and Namespaces (as some platforms do)."""
    api = world.cluster.admin_api
    role = {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": READER},
            "rules": [{"apiGroups": ["networking.k8s.io"], "resources": ["ingressclasses"], "verbs": ["get", "list"]},
                      {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": ["get", "list"]},
                      {"apiGroups": ["cert-manager.io"], "resources": ["clusterissuers"], "verbs": ["get", "list"]},
                      {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}]}
    binding = {"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": READER},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": READER},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": TENANT_USER}]}
    for obj in (role, binding):
        assert api.create_or_replace(obj).ok
    _wait("the tenant's cluster reads", lambda: world.cluster.tenant_api.request(
        "GET", "/apis/storage.k8s.io/v1/storageclasses").ok or "not yet")
    yield
    for obj in (binding, role):
        api.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"])
    _wait("the tenant's cluster reads to end", lambda: world.cluster.tenant_api.request(
        "GET", "/apis/storage.k8s.io/v1/storageclasses").status == 403 or "still allowed")


@pytest.fixture
def default_storage_class(world):
    api = world.cluster.admin_api
    storage_class = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                     "metadata": {"name": "preflight-default",
                                  "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
                     "provisioner": "example.com/none"}
    assert api.create_or_replace(storage_class).ok
    yield "preflight-default"
    api.delete("storage.k8s.io/v1", "StorageClass", "preflight-default")


def outcomes(report: dict, check: str) -> list[str]:
    return [r["outcome"] for r in report["results"] if r["id"] == check]


def results(report: dict, check: str, outcome: str) -> list[dict]:
    return [r for r in report["results"] if r["id"] == check and r["outcome"] == outcome]


# --------------------------------------------------------------------------------- tests


def test_positive_run_passes_every_check_except_forbidden_cluster_reads(world, namespace, tmp_path):
    code, report = world.preflight(namespace, world.values_file(tmp_path))
    by_outcome = {o: [r for r in report["results"] if r["outcome"] == o] for o in ("pass", "warn", "fail", "skip")}
    assert code == 0 and not by_outcome["fail"] and not by_outcome["warn"], report
    passed = {r["id"] for r in by_outcome["pass"]}
    assert {"access-release-kinds", "access-role-grantable", "admission-object", "admission-user-pods",
            "images-pull-secret", "images-pull", "capacity-quota", "capacity-limit-range",
            "namespace-pod-security", "namespace-network-policy"} <= passed, passed
    # the skips: cluster-scoped reads the tenant may not make (each says what to ask), and storage
    # (no dynamic user storage, no PVC in these values)
    for skip in by_outcome["skip"]:
        assert skip["id"] in ("ingress-class", "ingress-issuer", "storage-class"), skip
        if skip["id"] != "storage-class":
            assert "may not read" in skip["message"] and skip["fix"].startswith("ask the platform administrator"), skip
    assert {s["id"] for s in by_outcome["skip"]} >= {"ingress-class", "ingress-issuer"}
    # every image of a pod spec was looked up and found; the runtime ones the test's walk found
    # in Secret/hub may be more (network-tools is not used with the metadata block off)
    found = {r["subject"] for r in results(report, "images-pull", "pass")}
    assert world.pod_images <= found <= world.images, (found, world.images)
    assert any("k8s-singleuser-sample" in image for image in found)
    quota = results(report, "capacity-quota", "pass")[0]
    assert "concurrent users fit" in quota["message"]
    # text output, for people: grouped, and never the robot's password
    text = _cli(world.env(), "preflight", "jhub", "-n", namespace, "--chart-archive", str(CHART),
                "-f", str(world.values_file(tmp_path)))
    assert text.returncode == 0
    for group in ("Access", "Admission", "Images", "Capacity", "Ingress and TLS", "Namespace", "Storage"):
        assert f"\n{group}\n" in text.stdout
    assert PASSWORD not in text.stdout + text.stderr and PASSWORD not in json.dumps(report)


def test_cluster_reads_allowed_pass_ingress_issuer_and_storage(world, namespace, tmp_path, cluster_reader,
                                                               default_storage_class):
    code, report = world.preflight(namespace, world.values_file(tmp_path))
    assert code == 0, report
    assert outcomes(report, "ingress-class") == ["pass"]
    assert outcomes(report, "ingress-issuer") == ["pass"]
    assert outcomes(report, "storage-class") == ["pass"]  # the hub database's PVC: the default class
    assert outcomes(report, "namespace-pod-security") == ["pass"]  # read from the labels this time


def test_pull_secret_deleted(world, namespace, tmp_path):
    assert world.cluster.admin_api.delete("v1", "Secret", "pull-secret", namespace).ok
    code, report = world.preflight(namespace, world.values_file(tmp_path))
    assert code == 1
    missing = results(report, "images-pull-secret", "fail")
    assert missing and "does not exist" in missing[0]["message"], report
    pulls = results(report, "images-pull", "fail")
    assert len(pulls) >= len(world.pod_images) and outcomes(report, "images-pull") == ["fail"] * len(pulls)
    assert all("wants credentials (401), and no pull secret has an entry" in r["message"] for r in pulls), pulls


def test_wrong_password_in_pull_secret(world, namespace, tmp_path):
    wrong = "not-the-robot-password"
    config = {"auths": {world.host: {"auth": base64.b64encode(f"{USER}:{wrong}".encode()).decode()}}}
    patch = {"data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}}
    assert world.cluster.admin_api.patch_merge("v1", "Secret", "pull-secret", patch, namespace).ok
    code, report = world.preflight(namespace, world.values_file(tmp_path))
    assert code == 1
    assert outcomes(report, "images-pull-secret") == ["pass"]  # it exists and names the host
    pulls = results(report, "images-pull", "fail")
    assert len(pulls) >= len(world.pod_images) and outcomes(report, "images-pull") == ["fail"] * len(pulls)
    assert all("refused the credentials of pull secret pull-secret (401)" in r["message"] for r in pulls)
    assert wrong not in json.dumps(report)


def test_image_deleted_from_registry(world, namespace, tmp_path):
    def extra(values):
        values["jupyterhub"].setdefault("singleuser", {})["image"] = {"name": "quay.io/jupyterhub/k8s-singleuser-deleted", "tag": "4.4.0"}
    values = world.values_file(tmp_path, extra)
    pushed = sorted(i for i in world.push_all(world.render(values, namespace)) if "deleted" in i)
    assert len(pushed) == 1, pushed
    code, report = world.preflight(namespace, values)
    assert code == 0, report  # control: there, it passes
    repository = pushed[0].split("/", 1)[1].rsplit(":", 1)[0]
    delete_manifest(world.registry, repository, world.layout.digests["amd"])
    code, report = world.preflight(namespace, values)
    assert code == 1
    failed = results(report, "images-pull", "fail")
    assert [r["subject"] for r in failed] == pushed, report
    assert "never mirrored" in failed[0]["message"] and "mirror" in failed[0]["fix"]


def test_quota_of_one_cpu(world, namespace, tmp_path):
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "team-quota"},
             "spec": {"hard": {"requests.cpu": "1", "limits.cpu": "1"}}}
    assert world.cluster.admin_api.create_or_replace(quota, namespace).ok
    code, report = world.preflight(namespace, world.values_file(tmp_path), "--users", "3")
    assert code == 1
    failed = results(report, "capacity-quota", "fail")
    assert len(failed) == 1 and "limits.cpu: needs" in failed[0]["message"], report
    assert "0 concurrent users fit" in failed[0]["message"]


def test_limit_range_max_below_user_limit(world, namespace, tmp_path):
    limits = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "team-limits"},
              "spec": {"limits": [{"type": "Container", "max": {"cpu": "500m"},
                                   "default": {"cpu": "100m"}, "defaultRequest": {"cpu": "10m"}}]}}
    assert world.cluster.admin_api.create_or_replace(limits, namespace).ok
    code, report = world.preflight(namespace, world.values_file(tmp_path))
    assert code == 1
    failed = results(report, "capacity-limit-range", "fail")
    assert failed and "cpu limit 1 > max 500m" in failed[0]["message"], report
    # the API server refuses the same user pod at admission (LimitRanger): both checks say so
    refused = results(report, "admission-user-pods", "fail")
    assert refused and "maximum cpu usage per Container is 500m" in refused[0]["message"], report


def test_tenant_role_without_network_policies(world, namespace, tmp_path):
    api = world.cluster.admin_api
    admin_rules = api.get(RBAC, "ClusterRole", "admin").body["rules"]
    rules = []
    for rule in admin_rules:
        resources = [r for r in rule.get("resources", []) if r != "networkpolicies"]
        if resources:
            rules.append({**rule, "resources": resources})
    role = {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "tenant-no-netpol"}, "rules": rules}
    binding = {"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": "tenant-no-netpol"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant-no-netpol"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": TENANT_USER}]}
    assert api.create_or_replace(role, namespace).ok and api.create_or_replace(binding, namespace).ok
    assert api.delete(RBAC, "RoleBinding", "tenant-admin", namespace).ok
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"namespace": namespace, "verb": "create", "group": "networking.k8s.io",
                                              "resource": "networkpolicies"}}}
    _wait("the tenant to lose networkpolicies", lambda: world.cluster.tenant_api.request(
        "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review).body["status"].get("allowed") is not True
        or "still allowed")
    code, report = world.preflight(namespace, world.values_file(tmp_path))
    assert code == 1
    access = results(report, "access-release-kinds", "fail")
    assert access and "create networkpolicies.networking.k8s.io" in access[0]["message"], report
    # the API server refuses the same at admission (RBAC): the dry run of each NetworkPolicy fails too
    refused = [r for r in results(report, "admission-object", "fail") if r["subject"].startswith("NetworkPolicy/")]
    assert refused and all("networkpolicies.networking.k8s.io" in r["message"] for r in refused), report


def test_admission_policy_refusing_one_object(world, namespace, tmp_path):
    api = world.cluster.admin_api
    name = f"preflight-refuse-{namespace}"
    objects = [
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": name},
         "spec": {"failurePolicy": "Fail",
                  "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                          "operations": ["CREATE", "UPDATE"], "resources": ["services"]}]},
                  "validations": [{"expression": "object.metadata.name != 'proxy-api'",
                                   "message": "[e2e-no-proxy-api] this platform refuses Service/proxy-api"}]}},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
         "metadata": {"name": name},
         "spec": {"policyName": name, "validationActions": ["Deny"],
                  "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}}},
    ]
    for obj in objects:
        assert api.create_or_replace(obj).ok
    try:
        probe = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "proxy-api"}, "spec": {"ports": [{"port": 1}]}}
        _wait("the policy", lambda: "e2e-no-proxy-api" in api.create(probe, namespace, dry_run=True).message or "not yet")
        code, report = world.preflight(namespace, world.values_file(tmp_path))
        assert code == 1
        failed = results(report, "admission-object", "fail")
        assert [r["subject"] for r in failed] == ["Service/proxy-api"], report
        assert "[e2e-no-proxy-api] this platform refuses Service/proxy-api" in failed[0]["message"]
    finally:
        for obj in reversed(objects):
            api.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"])


def test_pod_security_labels_removed_is_a_warning(world, namespace, tmp_path):
    labels = {f"pod-security.kubernetes.io/{m}{s}": None for m in ("enforce", "warn", "audit") for s in ("", "-version")}
    assert world.cluster.admin_api.patch_merge("v1", "Namespace", namespace, {"metadata": {"labels": labels}}).ok
    values = world.values_file(tmp_path)
    code, report = world.preflight(namespace, values)
    assert code == 0 and outcomes(report, "namespace-pod-security") == ["warn"], report
    assert "enforce=(missing), warn=(missing), audit=(missing)" in results(report, "namespace-pod-security", "warn")[0]["message"]
    code, report = world.preflight(namespace, values, "--fail-on", "warn")
    assert code == 1 and report["exitCode"] == 1


def test_no_ingress_class(world, namespace, tmp_path, cluster_reader):
    def other_class(values):
        values["jupyterhub"]["ingress"] = {**values["jupyterhub"].get("ingress", {}), "ingressClassName": "traefik"}
    code, report = world.preflight(namespace, world.values_file(tmp_path, other_class))
    assert code == 1
    failed = results(report, "ingress-class", "fail")
    assert failed and "IngressClass traefik does not exist" in failed[0]["message"], report


def test_dynamic_storage_without_storage_class(world, namespace, tmp_path, cluster_reader, request):
    """The negative control; its positive is test_cluster_reads_allowed_... (a default class: pass)."""
    def dynamic(values):
        values["jupyterhub"].setdefault("singleuser", {})["storage"] = {"type": "dynamic", "capacity": "1Gi"}
    values = world.values_file(tmp_path, dynamic)
    code, report = world.preflight(namespace, values)
    assert code == 1
    failed = results(report, "storage-class", "fail")
    assert failed and "no default one" in failed[0]["message"], report
    subjects = {r["subject"] for r in failed}
    assert "user storage (singleuser.storage)" in subjects, report
    # control: with a default StorageClass, both the users' and the hub's volumes have a class
    request.getfixturevalue("default_storage_class")
    code, report = world.preflight(namespace, values)
    assert outcomes(report, "storage-class") == ["pass", "pass"], report


def test_quota_counts_user_volumes_with_dynamic_storage(world, namespace, tmp_path):
    def dynamic(values):
        values["jupyterhub"].setdefault("singleuser", {})["storage"] = {"type": "dynamic", "capacity": "1Gi"}
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "volumes"},
             "spec": {"hard": {"persistentvolumeclaims": "3", "requests.storage": "100Gi"}}}
    assert world.cluster.admin_api.create_or_replace(quota, namespace).ok
    values = world.values_file(tmp_path, dynamic)
    code, report = world.preflight(namespace, values, "--users", "2")
    assert outcomes(report, "capacity-quota") == ["pass", "pass"], report
    assert "ResourceQuota/volumes holds the release and 2 users; 2 concurrent users fit (limited by persistentvolumeclaims)" in [
        r["message"] for r in results(report, "capacity-quota", "pass")]
    code, report = world.preflight(namespace, values, "--users", "3")
    failed = results(report, "capacity-quota", "fail")
    assert code == 1 and len(failed) == 1 and "persistentvolumeclaims: needs 4 (release 1 + 3 x 1), 3 left" in failed[0]["message"], report


def test_cluster_scoped_reads_forbidden_skip_not_fail(world, namespace, tmp_path):
    def other_class(values):
        values["jupyterhub"]["ingress"] = {**values["jupyterhub"].get("ingress", {}), "ingressClassName": "traefik"}
    # the same values that fail when the tenant may read IngressClasses (test_no_ingress_class)
    code, report = world.preflight(namespace, world.values_file(tmp_path, other_class))
    assert code == 0, report
    skipped = results(report, "ingress-class", "skip")
    assert skipped and "may not read IngressClasses" in skipped[0]["message"]
    assert skipped[0]["fix"] == "ask the platform administrator to confirm that IngressClass traefik exists"


def test_bad_input_is_one_line_exit_2(world, namespace, tmp_path):
    values = world.values_file(tmp_path)
    # no cluster: a kubeconfig whose server does not answer
    config = yaml.safe_load(world.cluster.tenant.kubeconfig.read_text())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    dead = tmp_path / "dead.kubeconfig"
    dead.write_text(yaml.safe_dump(config))
    broken = tmp_path / "broken.kubeconfig"
    broken.write_text("users: [\n")
    cases = {
        "unreachable": (dead, namespace, "cannot reach the API server https://127.0.0.1:1"),
        "unreadable": (broken, namespace, "is not valid YAML"),
        "missing": (tmp_path / "none", namespace, "does not exist"),
        "other-namespace": (world.cluster.tenant.kubeconfig, "kube-system", "may do nothing in namespace kube-system"),
    }
    for case, (kubeconfig, ns, expected) in cases.items():
        result = _cli(world.env(), "preflight", "jhub", "-n", ns, "--chart-archive", str(CHART), "-f", str(values),
                      "--kubeconfig", str(kubeconfig))
        assert result.returncode == 2, case
        assert result.stdout == "", case
        # the example values examples/values.yaml accepts on purpose are noted first, one line each
        lines = [line for line in result.stderr.strip().splitlines() if ": accepted on purpose: " not in line]
        assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr, (case, result.stderr)


def test_silent_registry_is_a_failed_image_check_after_the_timeout(world, namespace, tmp_path):
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # accepts, never answers
        silent = f"127.0.0.1:{listener.getsockname()[1]}"

        def there(values):
            values["jupyterhub"].setdefault("singleuser", {})["image"] = {"name": f"{silent}/jupyterhub/silent", "tag": "1"}
            values["ck8s"]["keepImages"] = [f"{silent}/*"]
        started = time.monotonic()
        code, report = world.preflight(namespace, world.values_file(tmp_path, there), "--registry-timeout", "1")
        elapsed = time.monotonic() - started
    assert code == 1
    failed = results(report, "images-pull", "fail")
    assert [r["subject"] for r in failed] == [f"{silent}/jupyterhub/silent:1"], report
    assert "did not answer within 1s" in failed[0]["message"]
    print(f"preflight with a silent registry took {elapsed:.1f}s")


# ------------------------------------------------------------------ deploy, Helm 3 and 4


def test_deploy_stops_on_a_failed_preflight(world, namespace, tenant_helm, tmp_path):  # noqa: F811
    helm = tenant_helm
    deploy = ["ck8s-jupyter", "deploy", "jhub", "-n", namespace, "--chart-archive", str(CHART),
              "-f", str(world.values_file(tmp_path)),
              # no workloads run here: Helm 4 (which deploys the hook image-puller) would wait for its Job
              "--set", "jupyterhub.prePuller.hook.enabled=false"]
    assert world.cluster.admin_api.delete("v1", "Secret", "pull-secret", namespace).ok
    stopped = helm.run(*deploy)
    assert stopped.returncode == 1, stopped.stderr
    assert "preflight failed: nothing was deployed" in stopped.stderr
    assert "images-pull-secret: pull secret pull-secret does not exist" in stopped.stderr
    assert "running helm upgrade" not in stopped.stderr
    assert "jhub" not in helm.releases(namespace)
    assert world.cluster.tenant_api.get("apps/v1", "Deployment", "hub", namespace).status == 404
    # control: the pull secret back, preflight passes and the release is installed
    world.stage(namespace)
    installed = helm.run(*deploy)
    try:
        assert installed.returncode == 0, helm_errors(installed)
        assert "running helm upgrade --install jhub" in installed.stderr
        assert world.cluster.tenant_api.get("apps/v1", "Deployment", "hub", namespace).ok
        # an upgrade: every live object is judged by a dry-run apply, and it still passes
        code, report = world.preflight(namespace, world.values_file(tmp_path))
        assert code == 0, report
    finally:
        helm.run("uninstall", "jhub", "-n", namespace)
