"""A real spawn: the real hub, proxy and user servers of the real chart, run by the stand-in kubelet.

The control plane is the sandbox's (``workload_plane``: tools/sandbox/controlplane.py with
workloads, what ``make sandbox`` starts): kube-scheduler, the workload controllers, kwok's
nodes, the volume provisioner, the tenant namespace's quota and limits, and the stand-in
kubelet (``tools/sandbox/kubelet.py``). The release is the wrapper chart over the real
upstream chart (the shared archive), deployed by the plugin as the tenant
(``helm ck8s-jupyter deploy --wait --atomic``, Helm 3) with the chart's defaults (the
hub's sqlite database and each user's home on claims the provisioner binds). The
Deployments' pods run on kwok, and the stand-in kubelet runs their programs:

* the hub: jupyterhub 5.5.0 and jupyterhub-kubespawner 7.0.0 with the chart's own
  ``jupyterhub_config.py`` and ``z2jh.py`` from ``ConfigMap/hub``, the post-rendered
  ``Secret/hub`` ``values.yaml``, the ``hub`` ServiceAccount's token, the pod's
  environment, as uid 1000, in a private mount namespace;
* configurable-http-proxy 5.2.0 with the chart's arguments;
* for each user, ``jupyterhub-singleuser`` on the pod's IP as the pod's user with the
  environment KubeSpawner put into the pod.

Then a user of the default profile and one of a profile with options log in (the dummy
authenticator, set by the test's values), KubeSpawner creates their pods through the API
server with the hub's own RBAC (Pod Security restricted enforced, the safeguards on), and
each gets a 200 from ``/user/<name>/api/status`` through the proxy. Negative control: the
same spawn with the ``Secret/hub`` of the release rendered without the post-renderer fails
with the API server's Pod Security refusal, in the hub's log. And ``check``'s rebuilt pods
(``jhub_ck8s/check/pod_rebuild.py``) equal the real ones in everything Pod Security and
the safeguards judge.

Needs root (mount namespaces, setpriv), the sandbox's binaries and ``make sandbox-programs``;
each missing piece skips with the reason.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, TOOLS, Z2JH, Z2JH_MISSING
from test_e2e_helm import (  # noqa: F401 (e2e_plugin: a fixture)
    SKIP_PREFLIGHT,
    TenantHelm,
    e2e_plugin,
    helm_errors,
    values_file,
)

pytestmark = pytest.mark.workloads

CHART = Z2JH / "chart" / "jupyterhub-4.4.0.tgz"
KUBELET = REPO / "tools" / "sandbox" / "kubelet.py"
REGISTRY = "harbor.example.com/jupyterhub"
SERVICE = "e2e-spawner"
DEADLINE = 120.0  # seconds for one handshake (hub up, server ready)
R_PROFILE = {"display_name": "R", "slug": "r",
             "kubespawner_override": {"image": "quay.io/jupyter/r-notebook:2025-06-30"},
             "profile_options": {"version": {"display_name": "R version", "choices": {
                 "r43": {"display_name": "R 4.3", "kubespawner_override": {"image": "quay.io/jupyter/r-notebook:r-4.3.1"}},
                 "r44": {"display_name": "R 4.4", "default": True,
                         "kubespawner_override": {"image": "quay.io/jupyter/r-notebook:r-4.4.1"}}}}}}


def release_values(token: str) -> dict[str, Any]:
    """The tenant's values: the chart's defaults (the privileged metadata blocker, the hub's
    sqlite database on a claim, a dynamic claim for each user's home), a dummy authenticator,
    an API token for the test, two profiles, a memory limit."""
    return {
        "ck8s": {"registry": REGISTRY},
        "jupyterhub": {
            "hub": {
                "config": {"JupyterHub": {"authenticator_class": "dummy"}, "Authenticator": {"allow_all": True}},
                "services": {SERVICE: {"apiToken": token}},
                "loadRoles": {SERVICE: {"services": [SERVICE],
                                        "scopes": ["admin:users", "admin:servers", "access:servers"]}},
            },
            "singleuser": {
                # a limit of the tenant's own: the chart's 1G guarantee alone is refused by the
                # namespace's LimitRange default limit (512Mi) before Pod Security is asked
                "memory": {"limit": "2G"},
                "profileList": [
                    {"display_name": "Data science", "slug": "scipy", "default": True,
                     "kubespawner_override": {"image": "quay.io/jupyter/scipy-notebook:2025-06-30"}},
                    R_PROFILE,
                ],
            },
        },
    }


# --- what is needed -------------------------------------------------------------------------


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "the stand-in kubelet needs root (private mount namespaces, setpriv)"
    for tool in ("unshare", "setpriv", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} not found (util-linux)"
    if not CHART.exists():
        return Z2JH_MISSING
    for path, make in ((TOOLS / "bin" / "kwok", "make kwok"), (TOOLS / "kwok" / "stages.yaml", "make kwok"),
                       (TOOLS / "bin" / "helm3", "make helm"),
                       (TOOLS / "hub-venv" / "bin" / "jupyterhub-singleuser", "make sandbox-programs"),
                       (TOOLS / "chp" / "node_modules" / ".bin" / "configurable-http-proxy", "make sandbox-programs")):
        if not path.exists():
            return f"{path} not installed: run {make} (part of make setup)"
    return None


# --- rendering ------------------------------------------------------------------------------


def _documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind")]


def _helm_env(home: Path) -> dict[str, str]:
    return {"PATH": f"{TOOLS / 'bin'}:/usr/bin:/bin", "HOME": str(home), "HELM_BIN": str(TOOLS / "bin" / "helm3"),
            "HELM_DATA_HOME": str(home / "d"), "HELM_CONFIG_HOME": str(home / "c"), "HELM_CACHE_HOME": str(home / "k"),
            "JHUB_CK8S_TOOLS": str(TOOLS)}


def render_post_rendered(folder: Path, namespace: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    """``helm ck8s-jupyter render``: the wrapper chart over the real chart, through the post-renderer."""
    path = folder / "values.json"
    path.write_text(json.dumps(values))
    result = subprocess.run([sys.executable, "-m", "jhub_ck8s.cli", "render", "jhub", "-n", namespace,
                             "--chart-archive", str(CHART), "-f", str(path), "-q"],
                            cwd=REPO, env=_helm_env(folder), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return _documents(result.stdout)


def render_raw(folder: Path, namespace: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The same chart and values without the post-renderer (plain ``helm template``)."""
    path = folder / "raw-values.json"
    path.write_text(json.dumps(values["jupyterhub"]))
    result = subprocess.run([str(TOOLS / "bin" / "helm3"), "template", "jhub", str(CHART), "-n", namespace, "-f", str(path)],
                            env=_helm_env(folder), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return _documents(result.stdout)


def secret_values(secret: dict[str, Any]) -> dict[str, Any]:
    return yaml.safe_load(base64.b64decode(secret["data"]["values.yaml"]))  # type: ignore[no-any-return]


def chart_file(name: str) -> bytes:
    """A file of the chart's hub config, from the archive itself."""
    with tarfile.open(CHART) as archive:
        member = archive.extractfile(f"jupyterhub/files/hub/{name}")
        assert member is not None
        return member.read()


# --- processes on this machine ----------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    pid: int
    argv: list[str]

    def status(self, key: str) -> list[str]:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return line.split()[1:]
        return []

    def environ(self) -> dict[str, str]:
        raw = Path(f"/proc/{self.pid}/environ").read_bytes().split(b"\0")
        return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)

    def read(self, path: str) -> bytes:
        """A file as this process sees it (its own mount namespace)."""
        return Path(f"/proc/{self.pid}/root{path}").read_bytes()


def processes(match: Callable[[list[str]], bool]) -> list[Proc]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = [a.decode(errors="replace") for a in (entry / "cmdline").read_bytes().split(b"\0") if a]
            if argv and match(argv):
                found.append(Proc(int(entry.name), argv))
    return found


def wait_for(what: str, probe: Callable[[], Any], alive: Callable[[], str | None], timeout: float = DEADLINE) -> Any:
    """Poll ``probe`` until it returns something true (the handshake), or fail with the logs."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        problem = alive()
        if problem:
            pytest.fail(f"while waiting for {what}: {problem}")
        try:
            last = probe()
        except (OSError, urllib.error.URLError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if last and not isinstance(last, str):
                return last
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last: {last})")


# --- the world: the sandbox's control plane, a deployed release ------------------------------


@dataclass
class Release:
    namespace: str
    objects: list[dict[str, Any]]
    token: str  # the test service's API token (values: hub.services)
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)  # component -> live pod

    def object(self, kind: str, name: str) -> dict[str, Any]:
        return next(o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name)

    @property
    def proxy_url(self) -> str:
        return f"http://{self.pods['proxy']['status']['podIP']}:8000"


@dataclass
class World:
    cluster: Any  # the sandbox's ControlPlane (workloads: scheduler, controllers, kwok, the stand-in kubelet)
    workdir: Path
    token: str
    values: dict[str, Any]
    releases: dict[str, Release] = field(default_factory=dict)
    spawned: dict[str, dict[str, Any]] = field(default_factory=dict)  # user -> the pod the hub created

    def pod_log(self, namespace: str, pod: str) -> str:
        path = self.cluster.workdir / "kubelet" / "logs" / f"{namespace}_{pod}.log"
        return path.read_text(errors="replace") if path.exists() else "(no log)"

    def alive(self) -> str | None:
        crashed = self.cluster.crashed()
        return "\n".join(crashed) if crashed else None

    def running_pods(self, release: Release) -> None:
        """Wait for the hub and proxy pods the Deployments made (scheduled, run by kwok)."""
        def running(component: str) -> dict[str, Any] | None:
            for pod in self.cluster.admin_api.list("v1", "Pod", release.namespace):
                labels, status = pod["metadata"].get("labels") or {}, pod.get("status") or {}
                if (labels.get("component") == component and status.get("phase") == "Running" and status.get("podIP")
                        and not pod["metadata"].get("deletionTimestamp")):
                    return pod  # type: ignore[no-any-return]
            return None

        for component in ("hub", "proxy"):
            release.pods[component] = wait_for(f"the {component} pod to run", lambda c=component: running(c), self.alive)
        self.releases[release.namespace] = release

    def create(self, namespace: str, objects: list[dict[str, Any]]) -> Release:
        """Create a release's objects as the tenant, as helm would (the negative control's)."""
        for obj in objects:
            answer = self.cluster.tenant_api.create(obj, namespace)
            assert answer.ok, f"{obj['kind']}/{obj['metadata']['name']}: {answer.describe()}"
        release = Release(namespace, objects, self.token)
        self.running_pods(release)
        return release


@pytest.fixture(scope="module")
def world(workload_plane, tmp_path_factory) -> Iterator[World]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    if not any(p.name == "kubelet" for p in workload_plane.processes):
        pytest.skip("the sandbox did not start tools/sandbox/kubelet.py")
    token = uuid.uuid4().hex
    world = World(workload_plane, tmp_path_factory.mktemp("spawn"), token, release_values(token))
    try:
        yield world
    finally:
        for namespace in world.releases:
            workload_plane.delete_namespace(namespace)


@pytest.fixture(scope="module")
def release(world, e2e_plugin, tmp_path_factory) -> Release:  # noqa: F811
    """The release deployed by the plugin (Helm 3, --wait --atomic) into a fresh tenant
    namespace of the sandbox; hub and proxy running, the hub answering through the proxy."""
    namespace = world.cluster.make_tenant_namespace(f"spawn-{uuid.uuid4().hex[:6]}")
    home = tmp_path_factory.mktemp("spawn-helm")
    (home / "plugins").mkdir()
    (home / "plugins" / "ck8s-jupyter").symlink_to(e2e_plugin)
    (home / "bin").mkdir()
    (home / "bin" / "helm").symlink_to(TOOLS / "bin" / "helm3")
    env = {"PATH": f"{home / 'bin'}:/usr/bin:/bin", "HOME": str(home), "HELM_DATA_HOME": str(home / "data"),
           "HELM_CONFIG_HOME": str(home / "config"), "HELM_CACHE_HOME": str(home / "cache"),
           "HELM_PLUGINS": str(home / "plugins"), "KUBECONFIG": str(world.cluster.tenant.kubeconfig)}
    helm = TenantHelm("helm3", TOOLS / "bin" / "helm3", env, e2e_plugin, home / "userbin")
    values = values_file(home, world.values)
    world.releases[namespace] = Release(namespace, [], world.token)  # deleted after, whatever happens
    result = helm.run("ck8s-jupyter", "deploy", "jhub", "-n", namespace, "--chart-archive", str(CHART),
                      "-f", str(values), "--wait", "--atomic", "--timeout", "150s",
                      SKIP_PREFLIGHT)  # preflight would look for the images at harbor.example.com (test_e2e_helm)
    assert result.returncode == 0, helm_errors(result)
    manifest = helm.run("get", "manifest", "jhub", "-n", namespace)
    assert manifest.returncode == 0, helm_errors(manifest)
    deployed = Release(namespace, _documents(manifest.stdout), world.token)
    world.running_pods(deployed)
    wait_for("the hub's API through the proxy", lambda: hub_api(deployed, "GET", "/hub/api/")[0] == 200, world.alive)
    return deployed


def hub_api(release: Release, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One call through the proxy, as the test's service."""
    request = urllib.request.Request(release.proxy_url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {release.token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw[:200].decode(errors="replace")


# --- the tests --------------------------------------------------------------------------------


def _hub_process(release: Release) -> Proc:
    ip = release.pods["hub"]["status"]["podIP"]
    found = processes(lambda argv: any(a == f"--JupyterHub.hub_bind_url=http://{ip}:8081" for a in argv))
    assert len(found) == 1, f"one hub process listening on {ip}, found {[p.argv for p in found]}"
    return found[0]


def test_the_hub_runs_as_in_its_pod(world, release):
    """The chart's own config files, the post-rendered Secret and the hub's ServiceAccount
    token, where the chart mounts them, as the pod's user; nothing of it on the machine."""
    hub = _hub_process(release)
    assert hub.status("Uid")[:2] == ["1000", "1000"] and hub.status("Gid")[:2] == ["1000", "1000"]
    config_map = release.object("ConfigMap", "hub")
    for name in ("jupyterhub_config.py", "z2jh.py"):
        seen = hub.read(f"/usr/local/etc/jupyterhub/{name}")
        assert seen == chart_file(name), f"{name}: not the chart's own file"
        assert seen.decode() == config_map["data"][name]
    secret = release.object("Secret", "hub")
    assert hub.read("/usr/local/etc/jupyterhub/secret/values.yaml") == base64.b64decode(secret["data"]["values.yaml"])
    # (/var/run is a link to /run: an absolute link is not followed into another mount namespace)
    token = hub.read("/run/secrets/kubernetes.io/serviceaccount/token").decode()
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["sub"] == f"system:serviceaccount:{release.namespace}:hub"
    assert claims["kubernetes.io"]["pod"]["name"] == release.pods["hub"]["metadata"]["name"]
    assert hub.read("/run/secrets/kubernetes.io/serviceaccount/namespace").decode() == release.namespace
    env = hub.environ()
    assert env["POD_NAMESPACE"] == release.namespace and env["HELM_RELEASE_NAME"] == "jhub"
    assert env["PROXY_API_SERVICE_HOST"] == release.pods["proxy"]["status"]["podIP"]
    assert env["PROXY_API_SERVICE_PORT"] == "8001" and env["HUB_SERVICE_PORT"] == "8081"
    assert env["CONFIGPROXY_AUTH_TOKEN"] == base64.b64decode(
        secret["data"]["hub.config.ConfigurableHTTPProxy.auth_token"]).decode(), "CONFIGPROXY_AUTH_TOKEN differs"
    hosts = hub.read("/etc/hosts").decode().split("\n")
    assert any(line.split()[:2] == [release.pods["proxy"]["status"]["podIP"], "proxy-api"] for line in hosts if line)
    # the mount namespace is the hub's own
    for path in ("/usr/local/etc/jupyterhub/z2jh.py", "/run/secrets/kubernetes.io/serviceaccount/token"):
        assert not Path(path).exists(), f"{path} is on the machine"


def spawn(world: World, release: Release, user: str, options: dict[str, Any]) -> dict[str, Any]:
    """Log the user in, start the server, wait until the hub says it is ready; the pod."""
    status, _ = hub_api(release, "POST", f"/hub/api/users/{user}")
    assert status in (201, 409), status
    status, body = hub_api(release, "POST", f"/hub/api/users/{user}/server", options)
    assert status in (201, 202), f"HTTP {status}: {body}"

    def ready() -> bool | str:
        status, model = hub_api(release, "GET", f"/hub/api/users/{user}")
        server = (model or {}).get("servers", {}).get("") if status == 200 else None
        if server and server.get("ready"):
            return True
        if status == 200 and not server:
            hub_pod = release.pods["hub"]["metadata"]["name"]
            pytest.fail(f"{user}'s server failed to start; the hub says:\n{world.pod_log(release.namespace, hub_pod)[-3000:]}")
        return f"{user}: HTTP {status} {server}"

    wait_for(f"{user}'s server", ready, world.alive)
    answer = world.cluster.admin_api.get("v1", "Pod", f"jupyter-{user}", release.namespace)
    assert answer.ok, answer.describe()
    world.spawned[user] = answer.body
    return answer.body


def _singleuser(pod: dict[str, Any]) -> Proc:
    ip = pod["status"]["podIP"]
    found = processes(lambda argv: any("jupyterhub-singleuser" in a for a in argv) and f"--ip={ip}" in argv)
    assert len(found) == 1, f"one jupyterhub-singleuser on {ip}, found {[p.argv for p in found]}"
    return found[0]


def _check_user_server(world: World, release: Release, user: str, pod: dict[str, Any]) -> None:
    server = _singleuser(pod)
    container = next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")
    security = {**(pod["spec"].get("securityContext") or {}), **(container.get("securityContext") or {})}
    assert int(server.status("Uid")[1]) == security["runAsUser"]
    if "runAsGroup" in security:
        assert int(server.status("Gid")[1]) == security["runAsGroup"]
    environ = server.environ()
    plain = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    assert "JUPYTERHUB_API_TOKEN" in plain or any(e["name"] == "JUPYTERHUB_API_TOKEN" for e in container["env"])
    differ = sorted(name for name, value in plain.items() if environ.get(name) != value)
    assert not differ, f"the server's environment differs from the pod spec in {differ}"
    status, body = hub_api(release, "GET", f"/user/{user}/api/status")
    assert status == 200, f"HTTP {status}: {body}"
    assert isinstance(body, dict) and "started" in body


def test_spawn_the_default_profile(world, release):
    pod = spawn(world, release, "alice", {})
    assert pod["spec"]["containers"][0]["image"] == f"{REGISTRY}/jupyter/scipy-notebook:2025-06-30"
    _check_user_server(world, release, "alice", pod)


def test_spawn_a_profile_with_options(world, release):
    pod = spawn(world, release, "bob", {"profile": "r", "version": "r43"})
    assert pod["spec"]["containers"][0]["image"] == f"{REGISTRY}/jupyter/r-notebook:r-4.3.1"
    _check_user_server(world, release, "bob", pod)


_SUFFIX = {"m": 0.001, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity(value: Any) -> float:
    """A resource quantity as a number: the hub sends 0.1, the API server stores "100m"."""
    text = str(value)
    for suffix in sorted(_SUFFIX, key=len, reverse=True):
        if text.endswith(suffix):
            return round(float(text[: -len(suffix)]) * _SUFFIX[suffix], 6)
    return round(float(text), 6)


def judged(pod: dict[str, Any]) -> dict[str, Any]:
    """What Pod Security (restricted) and the platform's safeguards look at in a pod,
    written here from their documentation, not from the project's rules."""
    spec = pod["spec"]

    def containers(key: str) -> dict[str, Any]:
        return {c["name"]: {"image": c.get("image"), "securityContext": c.get("securityContext") or {},
                            "requests": {k: quantity(v) for k, v in ((c.get("resources") or {}).get("requests") or {}).items()
                                         if k in ("cpu", "memory")},
                            "limits": {k: quantity(v) for k, v in ((c.get("resources") or {}).get("limits") or {}).items()},
                            "hostPorts": sorted(p.get("hostPort", 0) for p in c.get("ports") or [])}
                for c in spec.get(key) or []}

    volumes = {v["name"]: sorted(k for k in v if k != "name") for v in spec.get("volumes") or []
               if not v["name"].startswith("kube-api-access-")}  # added by the API server's admission
    annotations = {k: v for k, v in (pod["metadata"].get("annotations") or {}).items() if "apparmor" in k}
    return {
        "securityContext": spec.get("securityContext") or {},
        "host": {k: spec.get(k, False) for k in ("hostNetwork", "hostPID", "hostIPC", "hostUsers")},
        "containers": containers("containers"),
        "initContainers": containers("initContainers"),
        "volumes": volumes,
        "apparmor": annotations,
    }


def test_check_rebuilds_the_pods_the_hub_created(world, release):
    """``check``'s rebuilt user pods equal the real ones in everything that is judged."""
    from jhub_ck8s.check.pod_rebuild import build_user_pods

    if set(world.spawned) != {"alice", "bob"}:
        pytest.skip("needs the two spawns above")
    values = secret_values(release.object("Secret", "hub"))
    rebuilt_alice = build_user_pods(values, "alice")[0]  # the default spawn
    rebuilt_bob = [p for p in build_user_pods(values, "bob") if p.label.startswith("profile-1-") and p.label.endswith("r43")]
    assert len(rebuilt_bob) == 1, [p.label for p in build_user_pods(values, "bob")]
    for user, rebuilt in (("alice", rebuilt_alice), ("bob", rebuilt_bob[0])):
        real, mine = judged(world.spawned[user]), judged(rebuilt.pod)
        assert mine == real, f"{user}: check's pod {rebuilt.label} differs from the hub's:\n{mine}\n!=\n{real}"


def test_a_deleted_user_pod_stops_its_server(world, release):
    pod = world.spawned.get("alice") or spawn(world, release, "alice", {})
    server = _singleuser(pod)
    status, _ = hub_api(release, "DELETE", "/hub/api/users/alice/server")
    assert status in (202, 204), status
    wait_for("alice's server process to end", lambda: not Path(f"/proc/{server.pid}").exists(), world.alive)
    wait_for("alice's pod to be gone",
             lambda: world.cluster.admin_api.get("v1", "Pod", "jupyter-alice", release.namespace).status == 404, world.alive)


def raw_release(world: World) -> Release:
    """A release whose hub reads the Secret/hub rendered WITHOUT the post-renderer (the rest
    post-rendered, so the hub and the proxy themselves run): hub answering through the proxy."""
    namespace = world.cluster.make_tenant_namespace(f"raw-{uuid.uuid4().hex[:6]}")
    world.releases[namespace] = Release(namespace, [], world.token)  # deleted after, whatever happens
    objects = render_post_rendered(world.workdir, namespace, world.values)
    raw_secret = next(o for o in render_raw(world.workdir, namespace, world.values)
                      if o["kind"] == "Secret" and o["metadata"]["name"] == "hub")
    objects = [raw_secret if o["kind"] == "Secret" and o["metadata"]["name"] == "hub" else o for o in objects]
    raw = world.create(namespace, objects)
    wait_for("the hub's API through the proxy", lambda: hub_api(raw, "GET", "/hub/api/")[0] == 200, world.alive)
    assert _hub_process(raw).read("/usr/local/etc/jupyterhub/secret/values.yaml") == base64.b64decode(
        raw_secret["data"]["values.yaml"])
    return raw


def test_without_the_post_renderer_the_spawn_is_refused(world, release):
    """Negative control: the hub reads the Secret/hub of the release rendered WITHOUT the
    post-renderer; the API server refuses its user pod (Pod Security), and the hub says so."""
    raw = raw_release(world)
    namespace, hub_pod = raw.namespace, raw.pods["hub"]["metadata"]["name"]

    status, _ = hub_api(raw, "POST", "/hub/api/users/carol")
    assert status == 201
    hub_api(raw, "POST", "/hub/api/users/carol/server", {})

    def failed() -> bool | str:
        status, model = hub_api(raw, "GET", "/hub/api/users/carol")
        server = (model or {}).get("servers", {}).get("")
        assert not (server and server.get("ready")), "the raw release's user server started"
        return True if status == 200 and not server else f"HTTP {status} {server}"

    wait_for("carol's spawn to fail", failed, world.alive)
    log = world.pod_log(namespace, hub_pod)
    refusal = [line for line in log.splitlines() if "violates PodSecurity" in line]
    with contextlib.suppress(Exception):
        print("\nthe hub's spawn error (release rendered without the post-renderer):\n" + "\n".join(refusal)[-2000:])
    assert refusal, f"no Pod Security refusal in the hub's log:\n{log[-3000:]}"
    assert any("jupyter-carol" in line and "restricted:latest" in line and "block-cloud-metadata" in line
               and "securityContext.privileged=true" in line for line in refusal), refusal
    assert world.cluster.admin_api.get("v1", "Pod", "jupyter-carol", namespace).status == 404


def test_deleted_releases_leave_nothing(world, release):
    """Deleting the namespaces stops every program the kubelet ran for them; their files
    and mounts were only ever in their own mount namespaces."""
    ips = {p["status"]["podIP"] for r in world.releases.values() for p in r.pods.values()}
    ips |= {p["status"]["podIP"] for p in world.spawned.values()}

    def ours() -> list[Proc]:
        return processes(lambda argv: not argv[0].endswith("kwok") and any(ip in a for ip in ips for a in argv))

    assert ours(), "the programs should be running now"
    for namespace in list(world.releases):
        world.cluster.delete_namespace(namespace)
    wait_for("every program to stop", lambda: not ours() or None, world.alive)
    mounts = Path("/proc/self/mountinfo").read_text()
    assert "/usr/local/etc/jupyterhub" not in mounts and "/run/secrets/kubernetes.io" not in mounts
    for path in ("/usr/local/etc/jupyterhub", "/run/secrets/kubernetes.io", "/srv/jupyterhub", "/home/jovyan"):
        assert not Path(path).exists(), f"{path} was left on the machine"
