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

import copy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import Z2JH, Z2JH_MISSING
from test_e2e_helm import (  # noqa: F401  (fixtures)
    REGISTRY,
    TenantHelm,
    e2e_plugin,
    helm_errors,
    hub_values,
    tenant_helm,
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
        path = values_file(self.tmp, values, f"values-{uuid.uuid4().hex[:6]}.yaml")
        result = self.helm.run("ck8s-jupyter", "diff", self.release, "-n", self.namespace, "--chart-archive", str(CHART),
                               "-f", str(path), "--detailed-exitcode", *extra)
        print(result.stdout)
        return result.returncode, result.stdout, result.stderr


@pytest.fixture(scope="module")
def installed(cluster_module, tenant_helm, tmp_path_factory) -> Iterator[Installed]:
    if not CHART.exists():
        pytest.skip(Z2JH_MISSING)
    namespace = cluster_module.make_tenant_namespace(f"diff-{tenant_helm.name}-{uuid.uuid4().hex[:6]}")
    tmp = tmp_path_factory.mktemp(f"diff-{tenant_helm.name}")
    values = values_file(tmp, BASE_VALUES)
    deploy = ["ck8s-jupyter", "deploy", "jhub", "-n", namespace, "--chart-archive", str(CHART), "-f", str(values)]
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


def test_new_profile(installed):
    profiles = [*BASE_VALUES["jupyterhub"]["singleuser"]["profileList"],
                {"display_name": "Python 3.12", "slug": "py312",
                 "kubespawner_override": {"image": "quay.io/jupyter/base-notebook:python-3.12"}}]
    code, out, err = installed.diff(changed("singleuser.profileList", profiles))
    print("PROFILE", code, out)
    code, out, err = installed.diff(changed("singleuser.profileList", profiles), "-o", "json")
    print("PROFILEJSON", json_changes(out))


def test_changed_user_resources(installed):
    code, out, err = installed.diff(changed("singleuser.cpu", {"limit": 2}))
    print("RES", code, out)
    code, out, err = installed.diff(changed("singleuser.cpu", {"limit": 2}), "-o", "json")
    print("RESJSON", json_changes(out))
