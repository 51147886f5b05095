"""End to end against a real Kubernetes API server, with real helm v3 and v4 acting as the tenant.

The control plane (tests/controlplane.py: etcd, kube-apiserver, a controller-manager
with only the controllers a tenant needs) is started once per session. Each test gets a
fresh tenant namespace: Pod Security "restricted" (enforce, warn, audit), the platform's
safeguards as ValidatingAdmissionPolicies, and a tenant who is only namespaced ``admin``.

The release is the wrapper chart over the STAND-IN upstream chart (tests/standin_chart.py),
with values that switch on everything the post-renderer must fix: cluster-scoped objects
(the user-scheduler's RBAC), a PodDisruptionBudget that blocks every eviction,
a LoadBalancer Service, the privileged metadata-blocking init container of user pods, and
profiles with their own (upstream) images. What the tests prove, on both Helm majors:

* ``helm ck8s-jupyter deploy`` installs, upgrades, rolls back and uninstalls cleanly: no
  Pod Security (or policy) warning in helm's output, every object live, nothing left;
* the same with plain ``helm upgrade --install --post-renderer jhub-ck8s``;
* every pod the release would run (pod templates, and the user pods rebuilt from the
  installed ``Secret/hub``) is admitted by a server-side dry run;
* strings that look like numbers survive an install and read back unchanged;
* negative controls: the same release WITHOUT the post-renderer is refused (RBAC, Pod
  Security, the registry and PDB policies), with the API server's messages printed;
* ``helm ck8s-jupyter check`` gives the same verdict as the API server for every object
  and pod, on the raw and the post-rendered release (and on the recorded z2jh renders).

No controllers run workloads and there are no nodes: Deployments never get pods, so pods
are judged by submitting them (dry run); hook Jobs would never complete, so the release
turns the hook image-puller off (tests/test_workloads.py runs workloads).

Helm's environment is private (HOME, HELM_* folders, PATH); the plugin is installed by
linking a copy of the checkout into the plugins folder (what ``helm plugin install DIR``
does, without the install hook: the plugin runs on the test's own virtualenv, which has
jupyterhub-kubespawner for ``check``; the install hook is tested in test_helm_plugin.py).
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, TOOLS, Z2JH, Z2JH_MISSING, run_postrender
from kubeapi import Answer
from standin_chart import package_standin_chart

REGISTRY = "harbor.example.com/jupyterhub"
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", ".tools", ".plugin-venv", "__pycache__", ".pytest_cache",
                                     ".ruff_cache", ".hypothesis", "*.egg-info", ".mypy_cache", "bench")

# The tenant's values: everything the post-renderer has to fix is switched on.
RELEASE_VALUES: dict[str, Any] = {
    "ck8s": {"registry": REGISTRY, "clusterScoped": "drop"},
    "jupyterhub": {
        "proxy": {"service": {"type": "LoadBalancer"}},
        # this control plane runs no workloads: a hook Job would never complete, and Helm 4
        # deploys would wait for it (deploy turns the hook puller on there; test_workloads.py
        # runs it where Jobs complete)
        "prePuller": {"hook": {"enabled": False}},
        "hub": {"pdb": {"enabled": True, "maxUnavailable": 0}},
        "scheduling": {"userScheduler": {"enabled": True}},
        "singleuser": {
            "cloudMetadata": {"blockWithIptables": True},
            "profileList": [
                {"display_name": "Data science", "slug": "scipy", "default": True,
                 "kubespawner_override": {"image": "quay.io/jupyter/scipy-notebook:2025-06-30"}},
                {"display_name": "R", "slug": "r",
                 "kubespawner_override": {"image": "quay.io/jupyter/r-notebook:2025-06-30"},
                 "profile_options": {"version": {"display_name": "R version", "choices": {
                     "r43": {"display_name": "R 4.3", "kubespawner_override": {"image": "quay.io/jupyter/r-notebook:r-4.3.1"}},
                     "r44": {"display_name": "R 4.4", "default": True,
                             "kubespawner_override": {"image": "quay.io/jupyter/r-notebook:r-4.4.1"}},
                 }}}},
            ],
        },
    },
}

# These releases' images are at harbor.example.com, which no registry serves here: preflight's
# image check would stop every deploy. Preflight itself is tested in tests/test_preflight.py
# (with a real registry); these tests are about what helm and the API server do.
SKIP_PREFLIGHT = "--skip-preflight"

# Strings Go's YAML reader takes for numbers or booleans when written plain (docs/platform.md,
# "YAML as Kubernetes reads it").
NUMBER_LIKE = ["0921", "3e19", "0o17", "1e3", "true", "0x1F", "1_000", "09.5"]


# --- helm as the tenant ---------------------------------------------------------------------


@dataclass
class TenantHelm:
    """One helm major with a private home, the plugin installed, and the tenant's kubeconfig."""

    name: str  # helm3 | helm4
    binary: Path
    env: dict[str, str]
    plugin: Path  # the plugin's folder (a copy of the checkout)
    bin_dir: Path  # Helm 3: where `helm ck8s-jupyter setup` linked the jhub-ck8s executable

    @property
    def major(self) -> int:
        return int(self.name[-1])

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        # cwd: not the checkout, so `python -m jhub_ck8s.cli` cannot import it instead of the plugin's copy
        result = subprocess.run([str(self.binary), *args], env={**self.env, **(env or {})}, cwd=self.env["HOME"],
                                capture_output=True, text=True, check=False, timeout=300)
        print(f"$ {self.name} {' '.join(args)}\n-> exit {result.returncode}\n{result.stderr}")
        return result

    def releases(self, namespace: str) -> list[str]:
        """Every release in ``namespace``, in any state (Helm 3 needs ``-a``; Helm 4 lists all and has no ``-a``)."""
        listed = self.run("list", "-q", "-n", namespace, *(["-a"] if self.major == 3 else []))
        assert listed.returncode == 0, listed.stderr
        return listed.stdout.split()


def helm_errors(result: subprocess.CompletedProcess) -> str:
    """helm's error lines (its message can be far from the end, before the post-renderer's report)."""
    lines = result.stderr.splitlines()
    picked = [i for i, line in enumerate(lines) if "Error" in line or "error:" in line]
    return "\n".join(lines[i] + ("\n" + lines[i + 1] if i + 1 < len(lines) else "") for i in picked) or result.stderr[-2000:]


@pytest.fixture(scope="session")
def e2e_plugin(tmp_path_factory) -> Path:
    """A copy of the checkout as a plugin folder, running on the test's virtualenv."""
    target = tmp_path_factory.mktemp("e2e-plugin") / "jhub-ck8s"
    shutil.copytree(REPO, target, ignore=COPY_IGNORE)
    # bin/_python's developer fallback: <plugin>/.venv/bin/python
    (target / ".venv").symlink_to(Path(sys.prefix))
    return target


@pytest.fixture(scope="session")
def e2e_archive(tmp_path_factory) -> Path:
    helm = TOOLS / "bin" / "helm3"
    if not helm.exists():
        pytest.skip(f"{helm} is not installed: run make setup")
    home = tmp_path_factory.mktemp("e2e-standin-helm")
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "HELM_DATA_HOME": str(home / "d"),
           "HELM_CONFIG_HOME": str(home / "c"), "HELM_CACHE_HOME": str(home / "k")}
    return package_standin_chart(str(helm), tmp_path_factory.mktemp("e2e-standin"), env)


@pytest.fixture(scope="session", params=["helm3", "helm4"])
def tenant_helm(request, control_plane, e2e_plugin, tmp_path_factory) -> TenantHelm:
    binary = TOOLS / "bin" / request.param
    if not binary.exists():
        pytest.skip(f"{binary} is not installed: run make setup")
    home = tmp_path_factory.mktemp(f"{request.param}-tenant")
    plugins = home / "data" / "plugins"
    plugins.mkdir(parents=True)
    fake_bin = home / "bin"
    fake_bin.mkdir()
    (fake_bin / "helm").symlink_to(binary)
    bin_dir = home / "userbin"
    env = {
        "PATH": f"{bin_dir}:{fake_bin}:/usr/bin:/bin",
        "HOME": str(home),
        "HELM_DATA_HOME": str(home / "data"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_PLUGINS": str(plugins),
        "KUBECONFIG": str(control_plane.tenant.kubeconfig),
    }
    if request.param == "helm4":
        # Helm 4.3 prints the API server's warnings ("would violate PodSecurity ...") only
        # with --debug; Helm 3 always does. Without this the no-warning checks would be blind
        # on Helm 4 (test_helm_shows_the_api_servers_warnings proves they are not).
        env["HELM_DEBUG"] = "true"
    (plugins / "ck8s-jupyter").symlink_to(e2e_plugin)
    helm = TenantHelm(request.param, binary, env, e2e_plugin, bin_dir)
    if helm.major == 3:
        # the README's Helm 3 route to `--post-renderer jhub-ck8s`: an executable on PATH
        result = helm.run("ck8s-jupyter", "setup", "--bin-dir", str(bin_dir))
        assert result.returncode == 0, helm_errors(result)
    else:
        # Helm 4: the postrenderer/v1 plugin, installed by name
        result = helm.run("plugin", "install", str(e2e_plugin / "helm-postrenderer"))
        assert result.returncode == 0, helm_errors(result)
    return helm


# --- what the API server and helm say -------------------------------------------------------


def documents(text: str) -> list[dict[str, Any]]:
    """The objects of a YAML stream (structure only; the API server is the judge of values)."""
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind")]


def label(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def pod_template(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template of a workload (written here from the Kubernetes API, not the project's table)."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"):
        return spec.get("template")
    if kind == "CronJob":
        return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    return None


def pod_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The Pod a workload's controller would create from its template (None for other kinds)."""
    if obj.get("kind") == "Pod":
        return copy.deepcopy(obj)
    template = pod_template(obj)
    if template is None:
        return None
    metadata = copy.deepcopy(template.get("metadata") or {})
    metadata["name"] = f"{obj['kind'].lower()}-{obj['metadata']['name']}-pod"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": copy.deepcopy(template["spec"])}


def hub_values(obj: dict[str, Any]) -> dict[str, Any]:
    """The hub's runtime config: values.yaml of Secret/hub."""
    data = obj.get("data") or {}
    if "values.yaml" in data:
        return yaml.safe_load(base64.b64decode(data["values.yaml"]))
    return yaml.safe_load((obj.get("stringData") or {})["values.yaml"])


def user_pods(values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The pods KubeSpawner will create from this hub config (jhub_ck8s.check.pod_rebuild, real kubespawner)."""
    import warnings

    from jhub_ck8s.check.pod_rebuild import build_user_pods

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [(f"user pod {p.label}", p.pod) for p in build_user_pods(values)]


def admission_warnings(output: str) -> list[str]:
    """Lines of helm's output that carry an API server warning about Pod Security or a policy."""
    return [line for line in output.splitlines()
            if "PodSecurity" in line or "[platform-" in line or "would violate" in line]


def values_file(tmp_path: Path, values: dict[str, Any], name: str = "values.yaml") -> Path:
    """A values file helm reads exactly as meant: JSON (every string quoted). PyYAML would write
    "0921" plain, which helm's Go reader takes for the number 921 (docs/platform.md, "YAML as
    Kubernetes reads it")."""
    path = tmp_path / name
    path.write_text(json.dumps(values, indent=2))
    return path


def wrapper_with_dependency(tmp_path: Path, archive: Path) -> Path:
    """The wrapper chart with the stand-in vendored, for plain helm (as `helm dependency build` would)."""
    chart = tmp_path / "jupyterhub-ck8s"
    shutil.copytree(REPO / "wrapper-chart", chart)
    (chart / "charts").mkdir(exist_ok=True)
    shutil.copy(archive, chart / "charts" / archive.name)
    return chart


def release_objects(helm: TenantHelm, release: str, namespace: str) -> list[dict[str, Any]]:
    result = helm.run("get", "manifest", release, "-n", namespace)
    assert result.returncode == 0, helm_errors(result)
    return documents(result.stdout)


def assert_all_live(cluster, objects: list[dict[str, Any]], namespace: str) -> None:
    for obj in objects:
        answer = cluster.tenant_api.get(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], namespace)
        assert answer.ok, f"{label(obj)} is not on the API server: {answer.describe()}"


def assert_nothing_left(cluster, helm: TenantHelm, objects: list[dict[str, Any]], release: str, namespace: str,
                        before: set[tuple[str, str]]) -> None:
    for obj in objects:
        answer = cluster.tenant_api.get(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], namespace)
        assert answer.status == 404, f"{label(obj)} is left after uninstall: {answer.describe()}"
    after = set(cluster.tenant_api.namespaced_objects(namespace))
    assert after == before, f"left behind: {sorted(after - before)}; gone: {sorted(before - after)}"
    assert release not in helm.releases(namespace)


def assert_pods_admitted(cluster, objects: list[dict[str, Any]], namespace: str) -> int:
    """Every pod of the release's templates and every user pod from its Secret/hub: admitted, no warnings."""
    pods = [(label(obj), pod) for obj in objects if (pod := pod_of(obj)) is not None]
    hub = [obj for obj in objects if obj["kind"] == "Secret" and obj["metadata"]["name"] == "hub"]
    assert len(hub) == 1, "the release has no Secret/hub"
    live_secret = cluster.tenant_api.get("v1", "Secret", "hub", namespace)
    assert live_secret.ok, live_secret.describe()
    spawned = user_pods(hub_values(live_secret.body))
    assert len(spawned) == 5, [name for name, _ in spawned]  # default, 2 profiles, 2 choices
    problems = []
    for name, pod in [*pods, *spawned]:
        answer = cluster.tenant_api.create(pod, namespace, dry_run=True)
        print(f"pod of {name}: {answer.describe()}")
        if not answer.ok or answer.warnings:
            problems.append(f"{name}: {answer.describe()}")
    assert not problems, "\n".join(problems)
    return len(pods) + len(spawned)


def deployment_annotations(cluster, namespace: str) -> dict[str, str]:
    answer = cluster.tenant_api.get("apps/v1", "Deployment", "hub", namespace)
    assert answer.ok, answer.describe()
    return answer.body["spec"]["template"]["metadata"].get("annotations") or {}


# --- the release, installed by the plugin and by plain helm ---------------------------------------


def test_deploy_install_upgrade_rollback_uninstall(cluster, tenant_helm, tenant_namespace, e2e_archive, tmp_path):
    helm, namespace, release = tenant_helm, tenant_namespace, "jhub"
    before = set(cluster.tenant_api.namespaced_objects(namespace))
    values = values_file(tmp_path, RELEASE_VALUES)
    deploy = ["ck8s-jupyter", "deploy", release, "-n", namespace, "--chart-archive", str(e2e_archive), "-f", str(values),
              SKIP_PREFLIGHT]

    installed = helm.run(*deploy)
    assert installed.returncode == 0, helm_errors(installed)
    assert admission_warnings(installed.stdout + installed.stderr) == []
    objects = release_objects(helm, release, namespace)
    kinds = {obj["kind"] for obj in objects}
    assert {"Deployment", "Secret", "Service", "NetworkPolicy"} <= kinds
    assert not kinds & {"ClusterRole", "ClusterRoleBinding", "PodDisruptionBudget"}
    assert_all_live(cluster, objects, namespace)
    service = cluster.tenant_api.get("v1", "Service", "proxy-public", namespace)
    assert service.body["spec"]["type"] == "ClusterIP"
    assert assert_pods_admitted(cluster, objects, namespace) >= 6

    upgraded = helm.run(*deploy, "--set-string", "jupyterhub.hub.annotations.e2e-revision=two")
    assert upgraded.returncode == 0, helm_errors(upgraded)
    assert admission_warnings(upgraded.stdout + upgraded.stderr) == []
    assert deployment_annotations(cluster, namespace).get("e2e-revision") == "two"

    rolled_back = helm.run("rollback", release, "1", "-n", namespace)
    assert rolled_back.returncode == 0, helm_errors(rolled_back)
    assert admission_warnings(rolled_back.stdout + rolled_back.stderr) == []
    assert "e2e-revision" not in deployment_annotations(cluster, namespace)
    history = helm.run("history", release, "-n", namespace, "-o", "json")
    assert [(r["revision"], r["status"]) for r in json.loads(history.stdout)][-1] == (3, "deployed")

    removed = helm.run("uninstall", release, "-n", namespace)
    assert removed.returncode == 0, helm_errors(removed)
    assert_nothing_left(cluster, helm, objects, release, namespace, before)


def test_plain_helm_with_the_post_renderer(cluster, tenant_helm, tenant_namespace, e2e_archive, tmp_path):
    """`helm upgrade --install ... --post-renderer jhub-ck8s`: Helm 3 runs the executable on PATH,
    Helm 4 the installed postrenderer/v1 plugin."""
    helm, namespace, release = tenant_helm, tenant_namespace, "jhub-plain"
    if helm.major == 3:
        assert (helm.bin_dir / "jhub-ck8s").exists()
    before = set(cluster.tenant_api.namespaced_objects(namespace))
    chart = wrapper_with_dependency(tmp_path, e2e_archive)
    values = values_file(tmp_path, RELEASE_VALUES)
    command = ["upgrade", "--install", release, str(chart), "-n", namespace, "-f", str(values),
               "--post-renderer", "jhub-ck8s"]
    if helm.major == 3:
        # hooks bypass a Helm 3 post-renderer (the wrapper's default already has the hook puller off)
        command += ["--set", "jupyterhub.prePuller.hook.enabled=false"]

    installed = helm.run(*command)
    assert installed.returncode == 0, helm_errors(installed)
    assert admission_warnings(installed.stdout + installed.stderr) == []
    objects = release_objects(helm, release, namespace)
    assert "PostRenderSettings" not in {obj["kind"] for obj in objects}
    assert_all_live(cluster, objects, namespace)
    assert_pods_admitted(cluster, objects, namespace)

    upgraded = helm.run(*command, "--set-string", "jupyterhub.hub.annotations.e2e-revision=two")
    assert upgraded.returncode == 0, helm_errors(upgraded)
    assert admission_warnings(upgraded.stdout + upgraded.stderr) == []
    assert deployment_annotations(cluster, namespace).get("e2e-revision") == "two"

    # a rollback re-applies the stored manifest of revision 1, which the post-renderer already
    # made: it must be admitted again without a warning
    rolled_back = helm.run("rollback", release, "1", "-n", namespace)
    assert rolled_back.returncode == 0, helm_errors(rolled_back)
    assert admission_warnings(rolled_back.stdout + rolled_back.stderr) == []
    assert "e2e-revision" not in deployment_annotations(cluster, namespace)
    assert_pods_admitted(cluster, release_objects(helm, release, namespace), namespace)

    removed = helm.run("uninstall", release, "-n", namespace)
    assert removed.returncode == 0, helm_errors(removed)
    assert_nothing_left(cluster, helm, objects, release, namespace, before)


def test_helm_shows_the_api_servers_warnings(cluster, tenant_helm, tenant_namespace, e2e_archive, tmp_path):
    """Control for the "no warning" assertions: with the security-context transform off, the
    Deployment would violate restricted, and helm's output says so."""
    helm, namespace = tenant_helm, tenant_namespace
    values = values_file(tmp_path, RELEASE_VALUES)
    result = helm.run("ck8s-jupyter", "deploy", "jhub-warned", "-n", namespace, "--chart-archive", str(e2e_archive),
                      "-f", str(values), "--set", "ck8s.disable={security-context}", "--mode", "warn", SKIP_PREFLIGHT)
    assert result.returncode == 0, helm_errors(result)
    warnings = admission_warnings(result.stdout + result.stderr)
    # Helm 3: W... warnings.go] would violate PodSecurity "restricted:latest": ...
    # Helm 4 (--debug): I... warnings.go] "Warning: would violate PodSecurity \"restricted:latest\": ..."
    assert any("would violate PodSecurity" in line and "restricted:latest" in line for line in warnings), result.stderr
    assert helm.run("uninstall", "jhub-warned", "-n", namespace).returncode == 0


def test_number_like_strings_survive_an_install(cluster, tenant_helm, tenant_namespace, e2e_archive, tmp_path):
    """Annotations, labels, env values and ConfigMap data that look like numbers read back unchanged."""
    helm, namespace = tenant_helm, tenant_namespace
    keys = {value: f"v{i}" for i, value in enumerate(NUMBER_LIKE)}
    values = copy.deepcopy(RELEASE_VALUES)
    values["jupyterhub"]["hub"].update({
        "annotations": {f"e2e.jhub-ck8s.io/{key}": value for value, key in keys.items()},
        "labels": {f"e2e-{key}": value for value, key in keys.items()},
        "extraEnv": [{"name": f"E2E_{key.upper()}", "value": value} for value, key in keys.items()],
        "configMapData": {key: value for value, key in keys.items()},
    })
    result = helm.run("ck8s-jupyter", "deploy", "jhub-numbers", "-n", namespace, "--chart-archive", str(e2e_archive),
                      "-f", str(values_file(tmp_path, values)), SKIP_PREFLIGHT)
    try:
        assert result.returncode == 0, f"install failed:\n{helm_errors(result)}"
        deployment = cluster.tenant_api.get("apps/v1", "Deployment", "hub", namespace).body
        template = deployment["spec"]["template"]
        env = {e["name"]: e.get("value") for e in template["spec"]["containers"][0].get("env", [])}
        config_map = cluster.tenant_api.get("v1", "ConfigMap", "hub", namespace).body
        for value, key in keys.items():
            assert template["metadata"]["annotations"][f"e2e.jhub-ck8s.io/{key}"] == value
            assert template["metadata"]["labels"][f"e2e-{key}"] == value
            assert env[f"E2E_{key.upper()}"] == value
            assert config_map["data"][key] == value
    finally:
        helm.run("uninstall", "jhub-numbers", "-n", namespace)


# --- negative controls and check against the API server ---------------------------------------------

# What the API server says, reduced to the rule families the check reports.
POLICY_RULES = {
    "platform-trusted-registry": "safeguard-trusted-registry",
    "platform-disallowed-tags": "safeguard-disallowed-tags",
    "platform-resource-requests": "safeguard-resource-requests",
    "platform-localhost-seccomp": "safeguard-localhost-seccomp",
    "platform-pdb-allows-eviction": "safeguard-pdb",
    "platform-no-load-balancer": "safeguard-load-balancer",
}
# Kinds created for real before the rest is judged, because others refer to them
# (Pods to their ServiceAccount, RoleBindings to their Role).
REFERENCED_KINDS = ("ServiceAccount", "Role")


@dataclass
class Verdict:
    """The API server's verdict on one object of a stream (and on the pod it would run)."""

    name: str
    answers: list[Answer] = field(default_factory=list)

    @property
    def admitted(self) -> bool:
        return all(a.ok for a in self.answers)

    def reasons(self) -> set[str]:
        found = set()
        for answer in self.answers:
            if answer.ok:
                continue
            message = answer.message
            missing = re.search(r"no PriorityClass with name (\S+) was found", message)
            if missing:
                found.add(f"missing PriorityClass/{missing.group(1)}")
            elif "violates PodSecurity" in message:
                found.add("pod-security")
            elif "ValidatingAdmissionPolicy" in message:
                found.update(rule for policy, rule in POLICY_RULES.items() if f"'{policy}'" in message)
            elif answer.status == 403 and "cannot create resource" in message:
                found.add("rbac")
            else:
                found.add(f"other: {message}")
        return found

    def describe(self) -> str:
        return f"{self.name}: " + ("admitted" if self.admitted else "REFUSED") + "".join(
            f"\n    {a.describe()}" for a in self.answers if not a.ok)


def api_verdicts(cluster, objects: list[dict[str, Any]], namespace: str) -> dict[str, Verdict]:
    """Submit every object as the tenant (dry run, but ServiceAccounts and Roles for real so that
    references resolve), each workload's pod and each user pod from Secret/hub (dry run)."""
    verdicts: dict[str, Verdict] = {}
    created: list[dict[str, Any]] = []
    api = cluster.tenant_api
    try:
        ordered = sorted(objects, key=lambda o: o["kind"] not in REFERENCED_KINDS)
        for obj in ordered:
            real = obj["kind"] in REFERENCED_KINDS
            answer = api.create(obj, namespace, dry_run=not real)
            if real and answer.ok:
                created.append(obj)
            verdict = verdicts.setdefault(label(obj), Verdict(label(obj)))
            verdict.answers.append(answer)
            pod = pod_of(obj)
            if pod is not None and obj["kind"] != "Pod":
                verdict.answers.append(api.create(pod, namespace, dry_run=True))
        hub = [obj for obj in objects if obj["kind"] == "Secret" and obj["metadata"]["name"] == "hub"]
        for index, (_name, pod) in enumerate(user_pods(hub_values(hub[0])) if hub else []):
            verdicts[f"spawned #{index}"] = Verdict(f"spawned #{index}", [api.create(pod, namespace, dry_run=True)])
    finally:
        for obj in reversed(created):
            api.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], namespace)
    for verdict in verdicts.values():
        print(verdict.describe())
    return verdicts


CheckVerdicts = dict[str, tuple[bool, set[str], list[str]]]


def check_verdicts(command: list[str], env: dict[str, str] | None = None) -> CheckVerdicts:
    """Run ``check STREAM -o json``: per object, (admitted, rule ids, messages).

    Spawned user pods are named ``spawned #i`` in the order the check lists them, which
    is the order ``api_verdicts`` submits them in (both from jhub_ck8s.check.pod_rebuild)."""
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=300)
    print(f"$ {' '.join(command[-6:])}\n-> exit {result.returncode}\n{result.stderr[-2000:]}")
    assert result.returncode in (0, 1), result.stderr
    verdicts: CheckVerdicts = {}
    spawned = 0
    for item in json.loads(result.stdout)["objects"]:
        # The test platform denies the trusted registry (the platform's default only warns).
        # values-* rules judge example names the API server admits (tests/test_values_lint.py).
        refusing = [f for f in item["findings"] if not f["rule"].startswith("values-") and (
                    f["severity"] == "error"
                    or (f["severity"] == "warning" and f["rule"] == "safeguard-trusted-registry"))]
        if item["document"] is None:
            name = f"spawned #{spawned}"
            spawned += 1
        else:
            name = item["object"]
        verdicts[name] = (not refusing, {f["rule"] for f in refusing}, [f"{f['rule']}: {f['message']}" for f in refusing])
    return verdicts


def family(rule: str) -> str:
    if rule.startswith("pss-"):
        return "pod-security"
    if rule == "tenant-cluster-scoped":
        return "rbac"
    return rule


def assert_check_agrees(api: dict[str, Verdict], check: CheckVerdicts,
                        not_expressible: dict[str, str] | None = None) -> None:
    """Same verdict per object; each reason the API server gave is one the check reports.

    ``not_expressible``: object -> the check rule the test platform cannot express (admitted
    by the API server, refused by the check, for that rule alone)."""
    not_expressible = not_expressible or {}
    assert set(api) == set(check), f"objects differ: API only {set(api) - set(check)}, check only {set(check) - set(api)}"
    problems = []
    for name, verdict in api.items():
        admitted, rules, messages = check[name]
        if name in not_expressible and rules == {not_expressible[name]} and verdict.admitted:
            continue
        if admitted != verdict.admitted:
            problems.append(f"{verdict.describe()}\n    check says: {'admitted' if admitted else messages}")
            continue
        # a pod that names an object of the release the API server refused (its PriorityClass)
        # is refused for that; the check names the object itself
        missing = {r for r in verdict.reasons() - {family(r) for r in rules}
                   if not (r.startswith("missing ") and r.removeprefix("missing ") in api
                           and not api[r.removeprefix("missing ")].admitted and not check[r.removeprefix("missing ")][0])}
        if missing:
            problems.append(f"{verdict.describe()}\n    check does not name {missing}: {messages}")
    assert not problems, "check and the API server disagree:\n" + "\n".join(problems)


def render(helm: TenantHelm, archive: Path, namespace: str, tmp_path: Path, *, post_render: bool) -> Path:
    """The release's manifests as helm would install them, with or without the post-renderer."""
    values = values_file(tmp_path, RELEASE_VALUES)
    if post_render:
        result = helm.run("ck8s-jupyter", "render", "jhub", "-n", namespace, "--chart-archive", str(archive), "-f", str(values))
    else:
        chart = wrapper_with_dependency(tmp_path, archive)
        result = helm.run("template", "jhub", str(chart), "-n", namespace, "-f", str(values))
    assert result.returncode == 0, helm_errors(result)
    out = tmp_path / ("post-rendered.yaml" if post_render else "raw.yaml")
    out.write_text(result.stdout)
    return out


def test_raw_release_is_refused_by_the_api_server(cluster, tenant_helm, tenant_namespace, e2e_archive, tmp_path, capsys):
    """Negative control: the same release WITHOUT the post-renderer. The API server's own
    refusals are written to the terminal even when the test passes, so a reader of the test
    output sees what the platform says to a release that skips us."""
    helm, namespace = tenant_helm, tenant_namespace
    raw = render(helm, e2e_archive, namespace, tmp_path, post_render=False)
    objects = documents(raw.read_text())
    settings = [obj for obj in objects if obj["kind"] == "PostRenderSettings"]
    assert len(settings) == 1
    # helm itself refuses the wrapper chart without the post-renderer: its settings kind is served nowhere
    chart = wrapper_with_dependency(tmp_path / "install", e2e_archive)
    installed = helm.run("install", "jhub-raw", str(chart), "-n", namespace, "-f", str(values_file(tmp_path, RELEASE_VALUES)))
    assert installed.returncode != 0
    assert "PostRenderSettings" in installed.stderr, installed.stderr

    verdicts = api_verdicts(cluster, [o for o in objects if o["kind"] != "PostRenderSettings"], namespace)
    refused = {name: v.reasons() for name, v in verdicts.items() if not v.admitted}
    with capsys.disabled():
        print(f"\n[{helm.name}] what the API server said to the release without the post-renderer:")
        print("\n".join(v.describe() for v in verdicts.values() if not v.admitted))
    assert refused.get("ClusterRole/jhub-user-scheduler") == {"rbac"}
    assert refused.get("ClusterRoleBinding/jhub-user-scheduler") == {"rbac"}
    assert refused.get("PodDisruptionBudget/hub") == {"safeguard-pdb"}
    assert refused.get("Service/proxy-public") == {"safeguard-load-balancer"}
    # the Deployment is refused by the registry policy, the pod it would run by Pod Security
    # (Pod Security judges before the policies, and the API server names the first refusal)
    assert refused.get("Deployment/hub") == {"safeguard-trusted-registry", "pod-security"}
    spawned = [name for name in verdicts if name.startswith("spawned")]
    assert spawned and all(refused.get(name) == {"pod-security"} for name in spawned), refused
    # nothing of it was stored
    assert helm.releases(namespace) == []


@pytest.mark.parametrize("post_render", [False, True], ids=["raw", "post-rendered"])
def test_check_agrees_with_the_api_server(cluster, tenant_helm, tenant_namespace, e2e_archive, tmp_path, post_render):
    helm, namespace = tenant_helm, tenant_namespace
    stream = render(helm, e2e_archive, namespace, tmp_path, post_render=post_render)
    objects = [o for o in documents(stream.read_text()) if o["kind"] != "PostRenderSettings"]
    api = api_verdicts(cluster, objects, namespace)
    check = ["ck8s-jupyter", "check", str(stream), "-o", "json", "--registry", REGISTRY]
    assert_check_agrees(api, check_verdicts([str(helm.binary), *check], helm.env))
    if post_render:
        assert all(v.admitted for v in api.values())


@pytest.fixture
def z2jh_render(request) -> Path:
    path = Z2JH / "template" / f"{request.param}.yaml"
    if not path.exists():
        pytest.skip(Z2JH_MISSING)
    return path


@pytest.mark.parametrize("z2jh_render", ["default", "guide", "full"], indirect=True)
@pytest.mark.parametrize("post_render", [False, True], ids=["raw", "post-rendered"])
def test_check_agrees_on_the_recorded_z2jh_renders(cluster, tenant_namespace, z2jh_render, post_render, tmp_path):
    """The real chart's output (shared fixtures), raw and post-rendered, judged by both."""
    stream = z2jh_render
    if post_render:
        config = tmp_path / "settings.yaml"
        config.write_text(yaml.safe_dump({"clusterScoped": "drop", "pullSecret": "pull-secret"}))
        result = run_postrender(["--registry", REGISTRY, "--config", str(config)], z2jh_render.read_text())
        assert result.returncode == 0, result.stderr.decode()
        stream = tmp_path / "post-rendered.yaml"
        stream.write_bytes(result.stdout)
    objects = documents(stream.read_text())
    api = api_verdicts(cluster, objects, tenant_namespace)
    # `ck8s-jupyter check` (the console script; the plugin runs the same module)
    check = check_verdicts([sys.executable, "-m", "jhub_ck8s.cli", "check", str(stream), "-o", "json", "--registry", REGISTRY])
    not_expressible = {}
    if not post_render:
        # z2jh's user-placeholder PDB: minAvailable 0 over a StatefulSet of 0 replicas (0 >= 0), which
        # the platform rejects and CEL cannot see (it needs the StatefulSet's replicas)
        not_expressible["PodDisruptionBudget/user-placeholder"] = "safeguard-pdb"
    assert_check_agrees(api, check, not_expressible)
    if post_render:
        refused = [v.describe() for v in api.values() if not v.admitted]
        assert not refused, "\n".join(refused)
