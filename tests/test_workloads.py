"""The real chart, deployed by the plugin where workloads run (pytest marker ``workloads``).

The control plane is the sandbox's (tools/sandbox/controlplane.py with ``workloads``):
kube-scheduler, the workload controllers, kwok's nodes that make pods Running and Ready and
Job pods Succeeded, a volume provisioner, and a tenant namespace with the platform's
admission (Pod Security restricted, the safeguard policies), a ResourceQuota and a
LimitRange. The chart is the wrapper over the REAL upstream chart
(``../shared/fixtures/z2jh-4.4.0/chart/jupyterhub-4.4.0.tgz``). On Helm 3 and Helm 4:

* ``helm ck8s-jupyter deploy --wait --atomic`` ends with every Deployment, StatefulSet and
  DaemonSet ready and the hub's database claim bound; on Helm 4 (which post-renders hooks)
  the hook image-puller is on, as upstream has it, and its Job completes; on Helm 3 it is
  off (hooks bypass a Helm 3 post-renderer);
* the namespace's ResourceQuota counts what the release runs;
* an upgrade with a pod the platform refuses (``--mode warn`` lets a privileged hub
  through the post-renderer) makes ``--atomic`` roll back, and the API server's refusal
  is named in the ReplicaSet's events.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import TOOLS, Z2JH
from test_e2e_helm import (  # noqa: F401 (e2e_plugin: a fixture)
    SKIP_PREFLIGHT,
    TenantHelm,
    e2e_plugin,
    helm_errors,
    values_file,
)

pytestmark = pytest.mark.workloads

CHART_ARCHIVE = Z2JH / "chart" / "jupyterhub-4.4.0.tgz"
REGISTRY = "harbor.example.com/jupyterhub"  # the registry the platform policies trust
VALUES: dict[str, Any] = {"ck8s": {"registry": REGISTRY, "clusterScoped": "drop"}}
DEPLOY_TIMEOUT = "150s"


@pytest.fixture(scope="module", params=["helm3", "helm4"])
def workload_helm(request, workload_plane, e2e_plugin, tmp_path_factory) -> TenantHelm:  # noqa: F811
    """One helm major as the tenant of the workloads control plane, the plugin installed."""
    binary = TOOLS / "bin" / request.param
    if not binary.exists():
        pytest.skip(f"{binary} is not installed: run make setup")
    home = tmp_path_factory.mktemp(f"{request.param}-workloads")
    plugins = home / "data" / "plugins"
    plugins.mkdir(parents=True)
    (home / "bin").mkdir()
    (home / "bin" / "helm").symlink_to(binary)
    env = {
        "PATH": f"{home / 'bin'}:/usr/bin:/bin", "HOME": str(home),
        "HELM_DATA_HOME": str(home / "data"), "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_CACHE_HOME": str(home / "cache"), "HELM_PLUGINS": str(plugins),
        "KUBECONFIG": str(workload_plane.tenant.kubeconfig),
    }
    if request.param == "helm4":
        env["HELM_DEBUG"] = "true"  # Helm 4.3 prints the API server's warnings only with --debug (test_e2e_helm.py)
    (plugins / "ck8s-jupyter").symlink_to(e2e_plugin)
    return TenantHelm(request.param, binary, env, e2e_plugin, home / "userbin")


@pytest.fixture(scope="module")
def release(workload_plane, workload_helm, tmp_path_factory):
    """The real chart deployed with --wait --atomic into a fresh tenant namespace: (helm, namespace, result)."""
    if not CHART_ARCHIVE.exists():
        pytest.skip(f"the real upstream chart is not at {CHART_ARCHIVE} (shared fixtures live beside the checkout)")
    namespace = workload_plane.make_tenant_namespace(f"wl-{workload_helm.name}-{uuid.uuid4().hex[:6]}")
    values = values_file(tmp_path_factory.mktemp("workloads-values"), VALUES)
    started = time.monotonic()
    result = workload_helm.run("ck8s-jupyter", "deploy", "jhub", "-n", namespace, "--chart-archive", str(CHART_ARCHIVE),
                               "-f", str(values), "--wait", "--atomic", "--timeout", DEPLOY_TIMEOUT,
                               SKIP_PREFLIGHT)  # preflight would look for the images at harbor.example.com
    print(f"deploy took {time.monotonic() - started:.1f}s\n{result.stdout[-3000:]}")
    yield workload_helm, namespace, result, values
    workload_plane.delete_namespace(namespace)


def items(plane, api_version: str, kind: str, namespace: str) -> list[dict[str, Any]]:
    """The objects of a kind (a list's items carry no kind: it is set here)."""
    return [{**item, "kind": kind} for item in plane.admin_api.list(api_version, kind, namespace)]


def not_ready(obj: dict[str, Any]) -> str | None:
    """Why a workload is not ready (as kubectl rollout status judges), or None."""
    spec, status = obj["spec"], obj.get("status", {})
    name = f"{obj['kind']}/{obj['metadata']['name']}"
    if status.get("observedGeneration", 0) < obj["metadata"]["generation"]:
        return f"{name}: generation not observed"
    if obj["kind"] == "DaemonSet":
        want, ready = status.get("desiredNumberScheduled", 0), status.get("numberReady", 0)
        if want == 0 or ready != want:
            return f"{name}: {ready}/{want} ready"
        return None
    want = spec.get("replicas", 1)
    ready = status.get("readyReplicas", 0)
    return None if ready == want and status.get("updatedReplicas", 0) == want else f"{name}: {ready}/{want} ready"


def events(plane, namespace: str) -> list[dict[str, Any]]:
    return items(plane, "v1", "Event", namespace)


def test_deploy_wait_atomic_makes_every_workload_ready(workload_plane, release):
    _helm, namespace, result, _ = release
    assert result.returncode == 0, helm_errors(result)
    workloads = [w for kind in ("Deployment", "StatefulSet", "DaemonSet") for w in items(workload_plane, "apps/v1", kind, namespace)]
    names = {f"{w['kind']}/{w['metadata']['name']}" for w in workloads}
    # the chart's own workloads (user-scheduler's RBAC is cluster-scoped and dropped, so it is not here)
    assert {"Deployment/hub", "Deployment/proxy", "DaemonSet/continuous-image-puller"} <= names, names
    assert [problem for w in workloads if (problem := not_ready(w))] == []
    pods = items(workload_plane, "v1", "Pod", namespace)
    running = [p for p in pods if p["status"].get("phase") == "Running"]
    assert running and all(p["status"].get("podIP", "").startswith("127.") for p in running)
    # the hub's sqlite-pvc claim, bound by the sandbox's provisioner through the binder
    claim = workload_plane.admin_api.get("v1", "PersistentVolumeClaim", "hub-db-dir", namespace)
    assert claim.ok and claim.body["status"]["phase"] == "Bound", claim.describe()


def test_hooks_on_helm4_and_off_on_helm3(workload_plane, release):
    helm, namespace, result, _ = release
    assert result.returncode == 0, helm_errors(result)
    hooks = helm.run("get", "hooks", "jhub", "-n", namespace)
    assert hooks.returncode == 0, helm_errors(hooks)
    completed = [e for e in events(workload_plane, namespace)
                 if e["involvedObject"]["kind"] == "Job" and e["involvedObject"]["name"] == "hook-image-awaiter"
                 and e.get("reason") == "Completed"]
    if helm.major == 3:
        assert "hook-image-awaiter" not in hooks.stdout
        assert "does not post-render hooks" in result.stdout + result.stderr
        assert completed == []
    else:
        hook_objects = {f"{d['kind']}/{d['metadata']['name']}": d for d in yaml.safe_load_all(hooks.stdout) if d}
        assert {"Job/hook-image-awaiter", "DaemonSet/hook-image-puller"} <= set(hook_objects), sorted(hook_objects)
        images = [c["image"] for d in hook_objects.values() if d["kind"] in ("Job", "DaemonSet")
                  for field in ("containers", "initContainers") for c in d["spec"]["template"]["spec"].get(field, [])]
        assert images and all(image.startswith(f"{REGISTRY}/") for image in images), images  # post-rendered
        # the Job is deleted once it succeeded (hook-delete-policy); its event stays
        assert completed, "the hook image-awaiter Job never completed"


def test_resource_quota_counts_the_release(workload_plane, release):
    _helm, namespace, result, _ = release
    assert result.returncode == 0, helm_errors(result)

    def millicores(value: str) -> int:
        return int(value[:-1]) if value.endswith("m") else int(float(value) * 1000)

    def counted() -> list[dict[str, Any]]:
        """The pods a quota counts: not finished, not being deleted (the hook's pods go away after it)."""
        return [p for p in items(workload_plane, "v1", "Pod", namespace)
                if p["status"].get("phase") not in ("Succeeded", "Failed") and "deletionTimestamp" not in p["metadata"]]

    deadline = time.monotonic() + 45  # the sandbox's controller recounts every 10 s
    while True:  # the controller recomputes usage after pods come and go: wait until it has caught up
        pods = counted()
        quota = workload_plane.admin_api.get("v1", "ResourceQuota", "tenant-quota", namespace).body
        used = quota.get("status", {}).get("used", {})
        if used.get("pods") == str(len(pods)) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    print(json.dumps(quota.get("status"), indent=1))
    want_cpu = sum(millicores(c["resources"]["requests"]["cpu"]) for p in pods for c in p["spec"]["containers"])
    assert len(pods) >= 4 and used.get("pods") == str(len(pods))  # hub, proxy, a puller per node
    # init containers run before the others, so a pod's requests are at least its containers'
    assert millicores(used["requests.cpu"]) >= want_cpu > 0
    assert used.get("persistentvolumeclaims") == "1"


def test_a_refused_pod_rolls_the_upgrade_back(workload_plane, release, tmp_path):
    helm, namespace, result, values = release
    assert result.returncode == 0, helm_errors(result)
    hub_before = workload_plane.admin_api.get("apps/v1", "Deployment", "hub", namespace).body
    # warn mode: the post-renderer reports the privileged container and lets it through,
    # so the Deployment is admitted (Pod Security only warns on workloads) and its pod is not
    privileged = "jupyterhub.hub.containerSecurityContext.privileged=true"
    escalation = "jupyterhub.hub.containerSecurityContext.allowPrivilegeEscalation=true"  # else invalid
    refused = helm.run("ck8s-jupyter", "deploy", "jhub", "-n", namespace, "--chart-archive", str(CHART_ARCHIVE),
                       "-f", str(values), "--mode", "warn", "--set", privileged, "--set", escalation,
                       "--wait", "--atomic", "--timeout", "10s", SKIP_PREFLIGHT)
    assert refused.returncode != 0, "a release whose hub pod is refused was deployed"
    output = refused.stdout + refused.stderr
    # named twice before helm waits: by the post-renderer (warn mode), and by the API server's
    # warning on the Deployment; the pod itself is refused by the ReplicaSet (below)
    assert "Deployment/hub, container hub: securityContext.privileged is true" in output
    unquoted = output.replace('\\"', '"')  # Helm 4 logs the warning as a quoted string
    assert 'would violate PodSecurity "restricted:latest": privileged (container "hub"' in unquoted
    history = helm.run("history", "jhub", "-n", namespace, "-o", "json")
    statuses = [(r["revision"], r["status"]) for r in json.loads(history.stdout)]
    assert statuses[-1][1] == "deployed" and statuses[-2][1] == "failed", statuses
    hub_after = workload_plane.admin_api.get("apps/v1", "Deployment", "hub", namespace).body
    container = hub_after["spec"]["template"]["spec"]["containers"][0]
    assert not container.get("securityContext", {}).get("privileged")
    assert hub_after["spec"]["template"] == hub_before["spec"]["template"]
    refusals = [e["message"] for e in events(workload_plane, namespace)
                if e["involvedObject"]["kind"] == "ReplicaSet" and e.get("reason") == "FailedCreate"]
    print("\n".join(refusals))
    assert any('violates PodSecurity "restricted:latest"' in m and "privileged" in m for m in refusals), refusals


def registry_missing() -> list[str]:
    import controlplane  # noqa: F401 (puts tools/ on sys.path)
    from sandbox.registry import missing_tools

    return missing_tools()


def assert_harbor_serves_the_release(kubeconfig: Path, output: str) -> None:
    """The stand-in Harbor holds the hub's image under its release name; the tenant's pull secret reads it."""
    import base64
    import re

    from kubeapi import KubeAPI

    found = re.search(r"Harbor stand-in at (\S+) .*: (\d+) stand-in images", output)
    assert found, output
    project, count = found.group(1), int(found.group(2))
    assert count >= 5, output  # hub, proxy, singleuser, network tools, pause, awaiter ...
    secret = KubeAPI.from_kubeconfig(kubeconfig).get("v1", "Secret", "pull-secret", "team-a")
    assert secret.ok and secret.body["type"] == "kubernetes.io/dockerconfigjson", secret.status
    auths = json.loads(base64.b64decode(secret.body["data"][".dockerconfigjson"]))["auths"]
    host = project.split("/")[0]
    creds = base64.b64decode(auths[host]["auth"]).decode()
    image = f"{project}/jupyterhub/k8s-hub:4.4.0"
    pulled = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", creds, f"docker://{image}"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert pulled.returncode == 0, f"{image}: {pulled.stderr[-300:]}"
    assert json.loads(pulled.stdout)["schemaVersion"] == 2
    denied = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{image}"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert denied.returncode != 0 and "unauthorized" in denied.stderr  # a robot account is needed


@pytest.mark.parametrize("how", ["sandbox-stop", "ctrl-c"])
def test_the_sandbox_stops_whole(tmp_path, how):
    """``python tools/sandbox start`` (what make sandbox runs) until ready, then ``stop`` (make
    sandbox-stop) or Ctrl-C: no process and no file left. The first also fills its Harbor
    stand-in from the real chart and pulls a manifest with the tenant's pull secret."""
    import os
    import signal
    import sys

    from conftest import REPO
    from controlplane import find_binaries

    if isinstance(reason := find_binaries(TOOLS, workloads=True), str):
        pytest.skip(reason)
    state = tmp_path / "sandbox-state"
    env = {**os.environ, "JHUB_CK8S_SANDBOX_DIR": str(state), "JHUB_CK8S_TOOLS": str(TOOLS)}
    env.pop("JUPYTERHUB_CHART", None)
    harbor = how == "sandbox-stop" and CHART_ARCHIVE.exists() and not registry_missing()
    if harbor:
        env["JUPYTERHUB_CHART"] = str(CHART_ARCHIVE)
    sandbox = [sys.executable, str(REPO / "tools" / "sandbox")]
    process = subprocess.Popen([*sandbox, "start"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    lines = []
    assert process.stdout is not None
    try:
        for line in process.stdout:  # handshake: the sandbox says it is ready
            lines.append(line)
            if line.startswith("export KUBECONFIG="):
                break
        assert lines and lines[-1].startswith("export KUBECONFIG="), "".join(lines)
        kubeconfig = Path(lines[-1].strip().split("=", 1)[1])
        assert kubeconfig.is_file() and kubeconfig.is_relative_to(state)
        recorded = json.loads((state / "processes.json").read_text())
        names = [entry["name"] for entry in recorded["processes"]]
        assert {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "provisioner"} <= set(names)
        print("".join(lines))
        if harbor:
            assert_harbor_serves_the_release(kubeconfig, "".join(lines))
        again = subprocess.run([*sandbox, "start"], env=env, capture_output=True, text=True, timeout=30, check=False)
        assert again.returncode == 2 and "already running" in again.stderr
        if how == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)  # what the terminal sends its foreground group
        else:
            stopped = subprocess.run([*sandbox, "stop"], env=env, capture_output=True, text=True, timeout=90, check=False)
            assert stopped.returncode == 0, stopped.stderr
        rest, _ = process.communicate(timeout=60)
        assert process.returncode == 0, rest
        assert "nothing left" in rest
    finally:
        if process.poll() is None:  # the test failed or was interrupted: stop it as a person would
            subprocess.run([*sandbox, "stop"], env=env, capture_output=True, timeout=90, check=False)
            process.kill()
            process.wait()
    for entry in recorded["processes"]:
        assert not Path(f"/proc/{entry['pid']}").exists(), f"{entry['name']} (pid {entry['pid']}) is left"
    assert not state.exists(), sorted(map(str, state.rglob("*")))
    assert not Path(recorded["etcd_data"]).exists()
