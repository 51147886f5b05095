"""The test platform itself, against the real API server: the tenant's limits and each
policy standing in for a platform safeguard (tools/sandbox/platform-policies.yaml).

Every policy is shown refusing a bad object and admitting a good one, with the API
server's own message printed. The good objects pass every policy and Pod Security
"restricted", so a refusal can only come from the one change each bad object makes.
Objects are submitted by the tenant with a server-side dry run (nothing is stored).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

REGISTRY = "harbor.example.com/jupyterhub"
GOOD_IMAGE = f"{REGISTRY}/jupyterhub/k8s-hub:4.4.0"


def good_pod_spec() -> dict[str, Any]:
    return {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "main",
            "image": GOOD_IMAGE,
            "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        }],
    }


def workload(kind: str, spec: dict[str, Any], name: str = "probe") -> dict[str, Any]:
    """``spec`` as the pod spec of a ``kind`` (replicated kinds with 2 replicas)."""
    labels = {"app": name}
    template = {"metadata": {"labels": labels}, "spec": spec}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}
    if kind in ("Job", "CronJob"):
        job = {"template": {"metadata": {"labels": labels}, "spec": {**spec, "restartPolicy": "Never"}}}
        if kind == "Job":
            return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": job}
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
                "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": job}}}
    if kind == "ReplicationController":
        return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name},
                "spec": {"replicas": 2, "selector": labels, "template": template}}
    body: dict[str, Any] = {"selector": {"matchLabels": labels}, "template": template}
    if kind != "DaemonSet":
        body["replicas"] = 2
    if kind == "StatefulSet":
        body["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": body}


POD_BEARING = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController"]


def submit(cluster, obj: dict[str, Any]):
    answer = cluster.tenant_api.create(obj, cluster.namespace, dry_run=True)
    print(f"{obj['kind']}/{obj['metadata']['name']}: {answer.describe()}")
    return answer


def assert_admitted(cluster, obj: dict[str, Any]) -> None:
    answer = submit(cluster, obj)
    assert answer.ok, answer.describe()
    assert not answer.warnings, answer.describe()


def assert_refused(cluster, obj: dict[str, Any], policy: str) -> str:
    answer = submit(cluster, obj)
    assert answer.status in (403, 422), answer.describe()
    assert f"ValidatingAdmissionPolicy '{policy}'" in answer.message, answer.describe()
    return answer.message


def changed(mutate) -> dict[str, Any]:
    spec = good_pod_spec()
    mutate(spec)
    return spec


# --- the tenant ------------------------------------------------------------------------


def test_tenant_is_namespaced_admin_only(cluster):
    api = cluster.tenant_api
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "probe"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}
    assert api.create(role, cluster.namespace, dry_run=True).ok
    cluster_role = {**role, "kind": "ClusterRole"}
    refused = api.create(cluster_role, None, dry_run=True)
    print(refused.describe())
    assert refused.status == 403 and "cannot create resource \"clusterroles\"" in refused.message
    priority = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "probe"}, "value": 1}
    assert api.create(priority, None, dry_run=True).status == 403
    elsewhere = api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe"}}, "default", dry_run=True)
    assert elsewhere.status == 403 and 'in the namespace "default"' in elsewhere.message
    namespace = api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "probe"}}, None, dry_run=True)
    assert namespace.status == 403


def test_control_plane_has_what_the_platform_has(cluster):
    admin_role = cluster.admin_api.get("rbac.authorization.k8s.io/v1", "ClusterRole", "admin")
    assert admin_role.body["rules"], "the admin ClusterRole is aggregated by the controller-manager"
    assert cluster.tenant_api.get("v1", "ServiceAccount", "default", cluster.namespace).ok
    version = cluster.admin_api.request("GET", "/version").body
    assert version["gitVersion"].startswith("v1.34."), version
    labels = cluster.admin_api.get("v1", "Namespace", cluster.namespace).body["metadata"]["labels"]
    for mode in ("enforce", "warn", "audit"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


# --- Pod Security "restricted" (enforce + warn + audit) ---------------------------------


def test_pod_security_refuses_pods_and_warns_on_workloads(cluster):
    def unrestricted(spec):
        del spec["containers"][0]["securityContext"]

    refused = submit(cluster, workload("Pod", changed(unrestricted)))
    assert refused.status == 403 and 'violates PodSecurity "restricted:latest"' in refused.message
    # enforce judges Pods only; warn makes the API server say it for the workload
    warned = submit(cluster, workload("Deployment", changed(unrestricted)))
    assert warned.ok
    assert any('would violate PodSecurity "restricted:latest"' in w for w in warned.warnings), warned.describe()


@pytest.mark.parametrize("kind", POD_BEARING)
def test_good_pod_spec_is_admitted_in_every_pod_bearing_kind(cluster, kind):
    assert_admitted(cluster, workload(kind, good_pod_spec()))


# --- one test per policy: refuses the bad, admits the good ----------------------------------


@pytest.mark.parametrize("kind", POD_BEARING)
def test_trusted_registry(cluster, kind):
    def upstream(spec):
        spec["containers"][0]["image"] = "quay.io/jupyterhub/k8s-hub:4.4.0"

    message = assert_refused(cluster, workload(kind, changed(upstream)), "platform-trusted-registry")
    assert "container main uses quay.io/jupyterhub/k8s-hub:4.4.0" in message


def test_trusted_registry_covers_init_containers_and_a_lookalike_host(cluster):
    def init_upstream(spec):
        spec["initContainers"] = [{**copy.deepcopy(spec["containers"][0]), "name": "init", "image": "docker.io/library/busybox:1.36"}]

    assert_refused(cluster, workload("Pod", changed(init_upstream)), "platform-trusted-registry")

    def lookalike(spec):
        spec["containers"][0]["image"] = "harbor.example.com/jupyterhub-evil/k8s-hub:4.4.0"

    assert_refused(cluster, workload("Pod", changed(lookalike)), "platform-trusted-registry")

    def good_init(spec):
        spec["initContainers"] = [{**copy.deepcopy(spec["containers"][0]), "name": "init"}]

    assert_admitted(cluster, workload("Pod", changed(good_init)))


@pytest.mark.parametrize("image", [f"{REGISTRY}/library/busybox:latest", f"{REGISTRY}/library/busybox"])
def test_disallowed_tags(cluster, image):
    def bad(spec):
        spec["containers"][0]["image"] = image

    message = assert_refused(cluster, workload("Deployment", changed(bad)), "platform-disallowed-tags")
    assert image in message
    assert_admitted(cluster, workload("Deployment", changed(lambda s: s["containers"][0].update(image=f"{REGISTRY}/library/busybox:1.36"))))
    digest = f"{REGISTRY}/library/busybox@sha256:" + "a" * 64
    assert_admitted(cluster, workload("Deployment", changed(lambda s: s["containers"][0].update(image=digest))))


@pytest.mark.parametrize("missing", ["cpu", "memory"])
def test_resource_requests(cluster, missing):
    def bad(spec):
        del spec["containers"][0]["resources"]["requests"][missing]

    assert_refused(cluster, workload("Pod", changed(bad)), "platform-resource-requests")
    assert_refused(cluster, workload("Deployment", changed(bad)), "platform-resource-requests")

    def init_without_requests(spec):
        init = copy.deepcopy(spec["containers"][0])
        init.update(name="init", resources={})
        spec["initContainers"] = [init]

    # containers[] only, as on the platform: an init container without requests is admitted
    assert_admitted(cluster, workload("Pod", changed(init_without_requests)))


def test_no_load_balancer(cluster):
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "proxy-public"},
               "spec": {"type": "LoadBalancer", "selector": {"app": "probe"}, "ports": [{"port": 80}]}}
    assert_refused(cluster, service, "platform-no-load-balancer")
    assert_admitted(cluster, {**service, "spec": {**service["spec"], "type": "ClusterIP"}})
    assert_admitted(cluster, {**service, "spec": {"selector": {"app": "probe"}, "ports": [{"port": 80}]}})


@pytest.mark.parametrize("budget", [{"maxUnavailable": 0}, {"maxUnavailable": "0%"}, {"minAvailable": "100%"}])
def test_pdb_that_blocks_every_eviction(cluster, budget):
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "hub"},
           "spec": {**budget, "selector": {"matchLabels": {"app": "hub"}}}}
    assert_refused(cluster, pdb, "platform-pdb-allows-eviction")


@pytest.mark.parametrize("budget", [{"maxUnavailable": 1}, {"maxUnavailable": "50%"}, {"minAvailable": 1}, {"minAvailable": "50%"}])
def test_pdb_that_allows_eviction(cluster, budget):
    # minAvailable >= replicas of the selected workload is NOT covered (see the policy file)
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "hub"},
           "spec": {**budget, "selector": {"matchLabels": {"app": "hub"}}}}
    assert_admitted(cluster, pdb)


def test_localhost_seccomp(cluster):
    # Pod Security "restricted" allows Localhost; the platform's safeguard does not.
    def pod_level(spec):
        spec["securityContext"]["seccompProfile"] = {"type": "Localhost", "localhostProfile": "profiles/audit.json"}

    assert_refused(cluster, workload("Pod", changed(pod_level)), "platform-localhost-seccomp")

    def container_level(spec):
        spec["containers"][0]["securityContext"]["seccompProfile"] = {"type": "Localhost", "localhostProfile": "p.json"}

    message = assert_refused(cluster, workload("StatefulSet", changed(container_level)), "platform-localhost-seccomp")
    assert "container main" in message

    def container_runtime_default(spec):
        spec["containers"][0]["securityContext"]["seccompProfile"] = {"type": "RuntimeDefault"}

    assert_admitted(cluster, workload("Pod", changed(container_runtime_default)))


def test_minimum_replicas_warns(cluster):
    single = workload("Deployment", good_pod_spec())
    single["spec"]["replicas"] = 1
    answer = submit(cluster, single)
    assert answer.ok
    assert any("platform-minimum-replicas" in w for w in answer.warnings), answer.describe()
    single["metadata"]["annotations"] = {"elastisys.io/ignore-minimum-replicas": "true"}
    assert_admitted(cluster, single)
