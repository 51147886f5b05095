"""``helm ck8s-jupyter diff`` against a real API server, with real helm v3 and v4 acting as the tenant.

Per helm major, the REAL upstream chart 4.4.0 (the shared fixtures' archive; skipped, saying
so, where it is absent) is installed once through ``deploy`` into a fresh tenant namespace.
It generates its tokens and keys with ``lookup`` and random fallbacks, so a diff that did
not render as Helm's server-side dry run would show false token and checksum changes.
Then each case diffs other values against that release and checks the exact output, as a
unified diff and as JSON, and the exit code under ``--detailed-exitcode``:

* unchanged values: exit 0, nothing printed;
* a new user image, a new profile, changed user resources, a changed OAuth client secret
  (masked; its value nowhere in any output, the report included), a hub setting;
* an object edited by hand in the cluster (three-way; what each Helm major does to it);
* a user pod running from before the change (created as the hub would, from the installed
  ``Secret/hub``), listed as differing.

Cases that change the cluster (the hand edit, the running pod) undo it before they end.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import Z2JH, Z2JH_MISSING
from test_e2e_helm import (  # noqa: F401  (e2e_plugin and tenant_helm are fixtures)
    REGISTRY,
    SKIP_PREFLIGHT,
    TenantHelm,
    e2e_plugin,
    helm_errors,
    hub_values,
    tenant_helm,
    user_pods,
    values_file,
)

pytestmark = pytest.mark.diff

CHART = Z2JH / "chart" / "jupyterhub-4.4.0.tgz"
CLIENT_SECRET = f"e2e-oauth-{uuid.uuid4().hex}"
NEW_CLIENT_SECRET = f"e2e-oauth-new-{uuid.uuid4().hex}"

BASE_VALUES: dict[str, Any] = {
    "ck8s": {"registry": REGISTRY, "clusterScoped": "drop"},
    "jupyterhub": {
        "hub": {"config": {"GenericOAuthenticator": {"client_id": "jhub", "client_secret": CLIENT_SECRET}}},
        "scheduling": {"userScheduler": {"enabled": False}, "podPriority": {"enabled": False}},
        # no workloads run on this control plane: Helm 4 (which deploys the hook image-puller) would wait for its Job
        "prePuller": {"hook": {"enabled": False}},
        "singleuser": {
            "cloudMetadata": {"blockWithIptables": False},
            "profileList": [
                {"display_name": "Default", "slug": "default", "default": True},
                {"display_name": "R", "slug": "r",
                 "kubespawner_override": {"image": "quay.io/jupyter/r-notebook:2025-06-30"}},
            ],
        },
    },
}


@dataclass
class Installed:
    helm: TenantHelm
    namespace: str
    release: str
    tmp: Path
    api: Any
    first_diff: tuple[int, str] = (0, "")
    proxy_checksums: tuple[str, str] = ("", "")

    def diff(self, values: dict[str, Any], *extra: str) -> tuple[int, str, str]:
        import time

        path = values_file(self.tmp, values, f"values-{uuid.uuid4().hex[:6]}.yaml")
        started = time.monotonic()
        result = self.helm.run("ck8s-jupyter", "diff", self.release, "-n", self.namespace, "--chart-archive", str(CHART),
                               "-f", str(path), "--detailed-exitcode", *extra)
        print(f"[{self.helm.name}] diff took {time.monotonic() - started:.1f} s")
        print(result.stdout[:4000])
        return result.returncode, result.stdout, result.stderr


@pytest.fixture(scope="module")
def installed(cluster_module, tenant_helm, tmp_path_factory) -> Iterator[Installed]:  # noqa: F811
    if not CHART.exists():
        pytest.skip(Z2JH_MISSING)
    namespace = cluster_module.make_tenant_namespace(f"diff-{tenant_helm.name}-{uuid.uuid4().hex[:6]}")
    tmp = tmp_path_factory.mktemp(f"diff-{tenant_helm.name}")
    values = values_file(tmp, BASE_VALUES)
    deploy = ["ck8s-jupyter", "deploy", "jhub", "-n", namespace, "--chart-archive", str(CHART), "-f", str(values),
              SKIP_PREFLIGHT]  # preflight would look for the images at harbor.example.com, which no registry serves here
    result = tenant_helm.run(*deploy)
    assert result.returncode == 0, helm_errors(result)
    release = Installed(tenant_helm, namespace, "jhub", tmp, cluster_module.tenant_api)
    release.first_diff = release.diff(BASE_VALUES)[:2]
    before = proxy_checksum(release)
    result = tenant_helm.run(*deploy)  # the first upgrade (see test_first_upgrade_after_an_install_restarts_the_proxy)
    assert result.returncode == 0, helm_errors(result)
    release.proxy_checksums = (before, proxy_checksum(release))
    yield release
    tenant_helm.run("uninstall", "jhub", "-n", namespace)
    cluster_module.delete_namespace(namespace)


def proxy_checksum(release: Installed) -> str:
    answer = release.api.get("apps/v1", "Deployment", "proxy", release.namespace)
    assert answer.ok, answer.describe()
    return str(answer.body["spec"]["template"]["metadata"]["annotations"]["checksum/auth-token"])


@pytest.fixture(scope="module")
def cluster_module(control_plane):
    control_plane.check_alive()
    yield control_plane
    control_plane.check_alive()


def changed(path: str, value: Any) -> dict[str, Any]:
    """BASE_VALUES with ``jupyterhub.<path>`` set to ``value``."""
    values = copy.deepcopy(BASE_VALUES)
    node = values["jupyterhub"]
    keys = path.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return values


HUB_RESTART = "@@ hub-restart: hub restart: strategy Recreate, logins fail until the new hub is up; running user servers keep running @@"
NEXT_SPAWN = "@@ next-spawn: next spawn only: running user servers keep their pod until they restart @@"
RESTART = "@@ restart: pods of this workload are replaced @@"
NONE = "@@ none: none: applied in place @@"
USER_IMAGE = f"{REGISTRY}/jupyterhub/k8s-singleuser-sample"


def block(name: str, *lines: str) -> str:
    return f"--- {name}\n+++ {name}\n" + "".join(line + "\n" for line in lines)


def hub_checksums(*keys: str) -> str:
    lines = [HUB_RESTART]
    for key in keys:
        lines += [f"-spec.template.metadata.annotations.checksum/{key}: (hash)",
                  f"+spec.template.metadata.annotations.checksum/{key}: (hash, changed)"]
    return block("Deployment/hub", *lines)


def json_changes(out: str) -> list[tuple]:
    document = json.loads(out)
    return [(c["object"], c["path"], c["change"], c["old"], c["new"], c["impact"]) for c in document["changes"]]


def check_case(installed: Installed, values: dict[str, Any], text: str, changes: list[tuple]) -> None:
    """Both formats: the exact unified diff, the exact JSON changes, exit 2 under --detailed-exitcode."""
    code, out, err = installed.diff(values)
    assert (code, out) == (2, text), err[-3000:]
    code, out, err = installed.diff(values, "-o", "json")
    assert code == 2, err[-3000:]
    assert json_changes(out) == changes


def test_first_upgrade_after_an_install_restarts_the_proxy(installed):
    """Not noise: z2jh's install hashes a throwaway proxy token into checksum/auth-token (lookup finds
    no Secret yet, each use of its helper draws a new random token); the first upgrade hashes the
    stored one. The diff said so before the fixture's first upgrade, and the upgrade did it."""
    assert installed.first_diff == (2, block(
        "Deployment/proxy",
        "@@ proxy-restart: proxy restart: open connections to user servers are dropped @@",
        "-spec.template.metadata.annotations.checksum/auth-token: (hash)",
        "+spec.template.metadata.annotations.checksum/auth-token: (hash, changed)",
    ))
    before, after = installed.proxy_checksums
    assert before != after


def test_unchanged_values_print_nothing(installed):
    assert installed.diff(BASE_VALUES)[:2] == (0, "")
    code, out, _ = installed.diff(BASE_VALUES, "-o", "json")
    assert code == 0
    assert json.loads(out) == {"release": "jhub", "namespace": installed.namespace, "installed": True, "changes": []}


def test_new_user_image(installed):
    old, new = f"{USER_IMAGE}:4.4.0", f"{USER_IMAGE}:4.4.1"
    originals = ('{"image-pull-singleuser":"quay.io/jupyterhub/k8s-singleuser-sample:%s",'
                 '"image-pull-singleuser-profilelist-1":"quay.io/jupyter/r-notebook:2025-06-30",'
                 '"pause":"registry.k8s.io/pause:3.10.1"}')
    text = (
        block("ConfigMap/hub", HUB_RESTART, "-data.checksum_hook-image-puller: (hash)",
              "+data.checksum_hook-image-puller: (hash, changed)")
        + block("DaemonSet/continuous-image-puller", NONE,
                f'-metadata.annotations["jhub-ck8s.io/original-images"]: {json.dumps(originals % "4.4.0")}',
                f'+metadata.annotations["jhub-ck8s.io/original-images"]: {json.dumps(originals % "4.4.1")}',
                RESTART, f'-spec.template.spec.initContainers[0].image: "{old}"',
                f'+spec.template.spec.initContainers[0].image: "{new}"')
        + hub_checksums("config-map", "secret")
        + block("Secret/hub values.yaml", NEXT_SPAWN, '-singleuser.image.tag: "4.4.0"', '+singleuser.image.tag: "4.4.1"')
        + block("user pod (default)", NEXT_SPAWN, f'-containers.notebook.image: "{old}"', f'+containers.notebook.image: "{new}"')
        + block("user pod (profile 0: default)", NEXT_SPAWN, f'-containers.notebook.image: "{old}"',
                f'+containers.notebook.image: "{new}"')
    )
    check_case(installed, changed("singleuser.image.tag", "4.4.1"), text, [
        ("ConfigMap/hub", "data.checksum_hook-image-puller", "changed", None, None, "hub-restart"),
        ("DaemonSet/continuous-image-puller", 'metadata.annotations["jhub-ck8s.io/original-images"]', "changed",
         originals % "4.4.0", originals % "4.4.1", "none"),
        ("DaemonSet/continuous-image-puller", "spec.template.spec.initContainers[0].image", "changed", old, new, "restart"),
        ("Deployment/hub", "spec.template.metadata.annotations.checksum/config-map", "changed", None, None, "hub-restart"),
        ("Deployment/hub", "spec.template.metadata.annotations.checksum/secret", "changed", None, None, "hub-restart"),
        ("Secret/hub values.yaml", "singleuser.image.tag", "changed", "4.4.0", "4.4.1", "next-spawn"),
        ("user pod (default)", "containers.notebook.image", "changed", old, new, "next-spawn"),
        ("user pod (profile 0: default)", "containers.notebook.image", "changed", old, new, "next-spawn"),
    ])


PY312 = f"{REGISTRY}/jupyter/base-notebook:python-3.12"
PULLER_INIT = "spec.template.spec.initContainers[2]"
NEW_PULLER_INIT: list[tuple[str, Any]] = [
    ("name", "image-pull-singleuser-profilelist-2"), ("image", PY312),
    ("command[0]", "/bin/sh"), ("command[1]", "-c"), ("command[2]", 'echo "Pulling complete"'),
    ("resources.limits.cpu", "100m"), ("resources.limits.memory", "128Mi"),
    ("resources.requests.cpu", "10m"), ("resources.requests.memory", "32Mi"),
    ("securityContext.allowPrivilegeEscalation", False), ("securityContext.capabilities.drop[0]", "ALL"),
    ("securityContext.runAsGroup", 65534), ("securityContext.runAsNonRoot", True),
    ("securityContext.runAsUser", 65534), ("securityContext.seccompProfile.type", "RuntimeDefault"),
]


def test_new_profile(installed):
    profiles = [*BASE_VALUES["jupyterhub"]["singleuser"]["profileList"],
                {"display_name": "Python 3.12", "slug": "py312",
                 "kubespawner_override": {"image": "quay.io/jupyter/base-notebook:python-3.12"}}]
    originals = ('{"image-pull-singleuser":"quay.io/jupyterhub/k8s-singleuser-sample:4.4.0",'
                 '"image-pull-singleuser-profilelist-1":"quay.io/jupyter/r-notebook:2025-06-30",%s'
                 '"pause":"registry.k8s.io/pause:3.10.1"}')
    old_originals = originals % ""
    new_originals = originals % '"image-pull-singleuser-profilelist-2":"quay.io/jupyter/base-notebook:python-3.12",'
    default_image = f"{USER_IMAGE}:4.4.0"
    text = (
        block("ConfigMap/hub", HUB_RESTART, "-data.checksum_hook-image-puller: (hash)",
              "+data.checksum_hook-image-puller: (hash, changed)")
        + block("DaemonSet/continuous-image-puller", NONE,
                f'-metadata.annotations["jhub-ck8s.io/original-images"]: {json.dumps(old_originals)}',
                f'+metadata.annotations["jhub-ck8s.io/original-images"]: {json.dumps(new_originals)}',
                RESTART, *[f"+{PULLER_INIT}.{key}: {json.dumps(value)}" for key, value in NEW_PULLER_INIT])
        + hub_checksums("config-map", "secret")
        + block("Secret/hub values.yaml", NEXT_SPAWN,
                '+singleuser.profileList[2].display_name: "Python 3.12"',
                f'+singleuser.profileList[2].kubespawner_override.image: "{PY312}"',
                '+singleuser.profileList[2].slug: "py312"')
        + block("user pod (profile 2: py312)", NEXT_SPAWN, "+(new object)",
                "  # new: shown against user pod (default)",
                f'-containers.notebook.image: "{default_image}"', f'+containers.notebook.image: "{PY312}"')
    )
    check_case(installed, changed("singleuser.profileList", profiles), text, [
        ("ConfigMap/hub", "data.checksum_hook-image-puller", "changed", None, None, "hub-restart"),
        ("DaemonSet/continuous-image-puller", 'metadata.annotations["jhub-ck8s.io/original-images"]', "changed",
         old_originals, new_originals, "none"),
        *[("DaemonSet/continuous-image-puller", f"{PULLER_INIT}.{key}", "added", None, value, "restart")
          for key, value in NEW_PULLER_INIT],
        ("Deployment/hub", "spec.template.metadata.annotations.checksum/config-map", "changed", None, None, "hub-restart"),
        ("Deployment/hub", "spec.template.metadata.annotations.checksum/secret", "changed", None, None, "hub-restart"),
        ("Secret/hub values.yaml", "singleuser.profileList[2].display_name", "added", None, "Python 3.12", "next-spawn"),
        ("Secret/hub values.yaml", "singleuser.profileList[2].kubespawner_override.image", "added", None, PY312, "next-spawn"),
        ("Secret/hub values.yaml", "singleuser.profileList[2].slug", "added", None, "py312", "next-spawn"),
        ("user pod (profile 2: py312)", "", "added", None, None, "next-spawn"),
        ("user pod (profile 2: py312)", "containers.notebook.image", "changed", default_image, PY312, "next-spawn"),
    ])


def test_changed_user_resources(installed):
    pods = ["user pod (default)", "user pod (profile 0: default)", "user pod (profile 1: r)"]
    path = "containers.notebook.resources.limits.cpu"
    text = (hub_checksums("secret")
            + block("Secret/hub values.yaml", NEXT_SPAWN, "-singleuser.cpu.limit: 1", "+singleuser.cpu.limit: 2")
            + "".join(block(pod, NEXT_SPAWN, f"-{path}: 1.0", f"+{path}: 2.0") for pod in pods))
    check_case(installed, changed("singleuser.cpu", {"limit": 2}), text, [
        ("Deployment/hub", "spec.template.metadata.annotations.checksum/secret", "changed", None, None, "hub-restart"),
        ("Secret/hub values.yaml", "singleuser.cpu.limit", "changed", 1, 2, "next-spawn"),
        *[(pod, path, "changed", 1.0, 2.0, "next-spawn") for pod in pods],
    ])


def test_changed_oauth_client_secret_is_masked_everywhere(installed):
    values = changed("hub.config.GenericOAuthenticator.client_secret", NEW_CLIENT_SECRET)
    key = "hub.config.GenericOAuthenticator.client_secret"
    text = hub_checksums("secret") + block("Secret/hub values.yaml", HUB_RESTART, f"-{key}: (secret)",
                                           f"+{key}: (secret, changed)")
    check_case(installed, values, text, [
        ("Deployment/hub", "spec.template.metadata.annotations.checksum/secret", "changed", None, None, "hub-restart"),
        ("Secret/hub values.yaml", key, "changed", None, None, "hub-restart"),
    ])
    report = installed.tmp / "report.json"
    outputs = [installed.diff(values, *extra) for extra in
               [(), ("-o", "json"), ("--show-secrets",), ("--show-secrets", "-o", "json"), ("--report", str(report))]]
    assert installed.diff(values, "--show-secrets")[1] == text  # Secret/hub's credentials stay masked
    shown = "".join(out + err for _, out, err in outputs) + report.read_text()
    for secret in (CLIENT_SECRET, NEW_CLIENT_SECRET):
        for form in (secret, base64.b64encode(secret.encode()).decode()):
            assert form not in shown


def test_hub_setting_restarts_the_hub(installed):
    text = hub_checksums("secret") + block("Secret/hub values.yaml", HUB_RESTART,
                                           "+hub.config.JupyterHub.concurrent_spawn_limit: 50")
    check_case(installed, changed("hub.config.JupyterHub.concurrent_spawn_limit", 50), text, [
        ("Deployment/hub", "spec.template.metadata.annotations.checksum/secret", "changed", None, None, "hub-restart"),
        ("Secret/hub values.yaml", "hub.config.JupyterHub.concurrent_spawn_limit", "added", None, 50, "hub-restart"),
    ])


def _set_hub_image(installed: Installed, image: str) -> None:
    """What `kubectl edit deployment hub` does to the hub's image (a strategic merge patch, its field manager)."""
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "hub", "image": image}]}}}}
    path = f"/apis/apps/v1/namespaces/{installed.namespace}/deployments/hub"
    answer = installed.api.request("PATCH", path, patch, {"fieldManager": "kubectl-edit"},
                                   content_type="application/strategic-merge-patch+json")
    assert answer.ok, answer.describe()


def test_object_edited_by_hand_three_way(installed):
    chart, hotfix = f"{REGISTRY}/jupyterhub/k8s-hub:4.4.0", f"{REGISTRY}/jupyterhub/k8s-hub:4.4.0-hotfix"
    path = "spec.template.spec.containers[0].image"
    if installed.helm.major == 3:
        note = "changed by hand in the cluster: Helm 3's three-way merge sets it back to the chart's value"
    else:
        note = ('changed by hand in the cluster: Helm 4 stops with a conflict (Apply failed with 1 conflict: '
                'conflict with "kubectl-edit" using apps/v1: .spec.template.spec.containers[name="hub"].image); '
                "--force-conflicts takes it back")
    _set_hub_image(installed, hotfix)
    try:
        text = block("Deployment/hub", HUB_RESTART, f'-{path}: "{hotfix}"', f'+{path}: "{chart}"', f"  # {note}")
        check_case(installed, BASE_VALUES, text, [("Deployment/hub", path, "changed", hotfix, chart, "hub-restart")])
    finally:
        _set_hub_image(installed, chart)
    assert installed.diff(BASE_VALUES)[:2] == (0, "")


def test_running_user_pod_from_before_the_change(installed):
    secret = installed.api.get("v1", "Secret", "hub", installed.namespace)
    assert secret.ok, secret.describe()
    [(_, pod)] = [(name, pod) for name, pod in user_pods(hub_values(secret.body)) if name == "user pod default"]
    assert pod["metadata"]["name"] == "jupyter-alice"
    assert pod["metadata"]["labels"]["component"] == "singleuser-server"
    created = installed.api.create(pod, installed.namespace)
    assert created.ok, created.describe()
    try:
        assert installed.diff(BASE_VALUES)[:2] == (0, "")  # it is what the current config builds
        old, new = f"{USER_IMAGE}:4.4.0", f"{USER_IMAGE}:4.4.1"
        code, out, err = installed.diff(changed("singleuser.image.tag", "4.4.1"))
        running = block("running pod jupyter-alice (user alice)", NEXT_SPAWN, f'-containers.notebook.image: "{old}"',
                        f'+containers.notebook.image: "{new}"', "  # changes at its next spawn")
        assert code == 2, err[-2000:]
        assert out.endswith(block("user pod (profile 0: default)", NEXT_SPAWN, f'-containers.notebook.image: "{old}"',
                                  f'+containers.notebook.image: "{new}"') + running)
        code, out, err = installed.diff(changed("singleuser.image.tag", "4.4.1"), "-o", "json")
        assert json_changes(out)[-1] == ("running pod jupyter-alice (user alice)", "containers.notebook.image",
                                         "changed", old, new, "next-spawn")
    finally:
        installed.api.delete("v1", "Pod", "jupyter-alice", installed.namespace)


def test_release_that_does_not_exist_is_the_diff_of_an_install(installed, cluster_module):
    namespace = cluster_module.make_tenant_namespace(f"diff-new-{uuid.uuid4().hex[:6]}")
    try:
        fresh = Installed(installed.helm, namespace, "jhub", installed.tmp, installed.api)
        code, out, err = fresh.diff(BASE_VALUES, "-o", "json")
        assert code == 2, err[-2000:]
        document = json.loads(out)
        assert document["installed"] is False
        changes = document["changes"]
        assert {c["change"] for c in changes} == {"added"}
        objects = {c["object"] for c in changes}
        assert {"Deployment/hub", "Deployment/proxy", "Secret/hub", "Secret/hub values.yaml", "ConfigMap/hub",
                "user pod (default)", "user pod (profile 0: default)", "user pod (profile 1: r)"} <= objects
        hub_data = [c for c in changes if c["object"] == "Secret/hub" and c["path"].startswith("data")]
        assert hub_data and all(c["secret"] and c["old"] is None and c["new"] is None for c in hub_data)
        code, text, err = fresh.diff(BASE_VALUES)
        assert code == 2 and text.startswith("--- ConfigMap/hub\n+++ ConfigMap/hub\n"), err[-2000:]
        assert CLIENT_SECRET not in out + text
        assert installed.helm.releases(namespace) == []  # nothing was installed
    finally:
        cluster_module.delete_namespace(namespace)


def test_new_user_pods_are_dry_run_on_the_api_server(installed):
    """Negative control: without the post-renderer's cloud-metadata transform, the metadata-blocking init
    container is privileged, and the API server refuses every user pod the new config builds."""
    values = changed("singleuser.cloudMetadata", {"blockWithIptables": True})
    code, out, err = installed.diff(values, "-o", "json", "--set", "ck8s.disable={cloud-metadata}")
    assert code == 2, err[-2000:]
    refused = {c["object"]: c["note"] for c in json.loads(out)["changes"] if c["note"].startswith("refused")}
    assert set(refused) == {"user pod (default)", "user pod (profile 0: default)", "user pod (profile 1: r)"}
    for note in refused.values():
        assert note.startswith("refused by the API server: ")
        assert 'violates PodSecurity "restricted:latest"' in note and "block-cloud-metadata" in note
