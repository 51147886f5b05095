"""The stand-in kubelet's rules, without processes: the image table, the environment a
kubelet builds (Kubernetes' documented rules, written out here as examples), the Service
variables and names, and where podrun.py may put a tmpfs.

The kubelet running real programs is tested in test_workloads_spawn.py.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))

from sandbox import kubelet, podrun, programs


@pytest.mark.parametrize(("image", "program"), [
    ("quay.io/jupyterhub/k8s-hub:4.4.0", "jupyterhub"),
    ("harbor.example.com/team/jupyterhub/k8s-hub:4.4.0@sha256:" + "a" * 64, "jupyterhub"),
    ("harbor.example.com/jupyterhub/jupyterhub/configurable-http-proxy:5.2.0", "configurable-http-proxy"),
    ("localhost:5000/jupyterhub/k8s-singleuser-sample:4.4.0", "jupyterhub-singleuser"),
    ("quay.io/jupyter/r-notebook:r-4.3.1", "jupyterhub-singleuser"),
    ("registry.k8s.io/pause:3.10.1", None),
    ("harbor.example.com/jupyterhub/library/traefik:v3.6.12", None),
    ("quay.io/jupyterhub/k8s-hub-extra:4.4.0", None),  # a segment must match whole
    ("example.com/k8s-hub:1", None),  # and every segment of the key
])
def test_one_table_decides_what_runs(image, program):
    found = programs.program_for(image)
    assert (found.name if found else None) == program


def test_listening_moves_to_the_pod_ip():
    chp = programs.program_for("quay.io/jupyterhub/configurable-http-proxy:5.2.0")
    assert chp is not None
    argv = chp.listen(["configurable-http-proxy", "--ip=", "--api-ip", "", "--port=8000"], "127.1.0.5", 8000)
    assert argv == ["configurable-http-proxy", "--port=8000", "--ip=127.1.0.5", "--api-ip=127.1.0.5"]


def test_dollar_references_expand_as_kubernetes_does():
    env = {"A": "x", "HUB_SERVICE_PORT": "8081"}
    assert kubelet.expand("--default-target=http://hub:$(HUB_SERVICE_PORT)", env) == "--default-target=http://hub:8081"
    assert kubelet.expand("$(MISSING)-$$(A)-$$$(A)-$(A)", env) == "$(MISSING)-$(A)-$x-x"


class FakeObjects(kubelet.Objects):
    def __init__(self, found: dict[tuple[str, str], dict[str, Any]]) -> None:
        self._found = found
        self._cache = {}

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        return self._found.get((kind, name))


POD = {"metadata": {"name": "hub-1", "namespace": "team", "uid": "u1", "labels": {"app": "j"}},
       "spec": {"nodeName": "n1", "serviceAccountName": "hub"},
       "status": {"podIP": "127.1.0.3", "hostIP": "127.0.0.1"}}


def test_the_environment_is_built_in_the_kubelets_order():
    objects = FakeObjects({
        ("secrets", "hub"): {"data": {"token": base64.b64encode(b"s3cret").decode()}},
        ("configmaps", "cfg"): {"data": {"LEVEL": "debug", "MODE": "a"}},
    })
    container = {
        "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
        "env": [
            {"name": "HUB_SERVICE_PORT", "value": "override"},  # env wins over the Service variable
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "hub", "key": "token"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "URL", "value": "http://$(IP):$(HUB_SERVICE_PORT)/$(UNSET)"},
            {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "k", "optional": True}}},
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
        ],
        "resources": {"limits": {"memory": "1.5Gi"}},
    }
    env = kubelet.container_env(POD, container, objects, {"HUB_SERVICE_PORT": "8081"})
    assert env == {"HUB_SERVICE_PORT": "override", "CFG_LEVEL": "debug", "CFG_MODE": "a", "TOKEN": "s3cret",
                   "NS": "team", "APP": "j", "IP": "127.1.0.3", "URL": "http://127.1.0.3:override/$(UNSET)",
                   "MEM": "1536"}


def test_a_missing_secret_keeps_the_container_from_starting():
    container = {"env": [{"name": "T", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "k"}}}]}
    with pytest.raises(kubelet.Refused, match="'absent' not found"):
        kubelet.container_env(POD, container, FakeObjects({}), {})


def _service(name: str, selector: dict[str, str], ports: list[dict[str, Any]]) -> dict[str, Any]:
    return {"metadata": {"namespace": "team", "name": name}, "spec": {"selector": selector, "ports": ports}}


def test_services_point_at_their_pods_target_ports():
    proxy = {"metadata": {"namespace": "team", "name": "proxy-1", "labels": {"component": "proxy"},
                          "creationTimestamp": "2026-01-01T00:00:00Z"},
             "spec": {"containers": [{"ports": [{"name": "http", "containerPort": 8000},
                                                {"name": "api", "containerPort": 8001}]}]},
             "status": {"phase": "Running", "podIP": "127.1.0.7"}}
    services = [_service("proxy-public", {"component": "proxy"}, [{"name": "http", "port": 80, "targetPort": "http"}]),
                _service("proxy-api", {"component": "proxy"}, [{"port": 8001, "targetPort": "api"}]),
                _service("hub", {"component": "hub"}, [{"port": 8081}])]
    api = kubelet.Api("127.0.0.1", 6443, None, {})  # type: ignore[arg-type]
    addresses = kubelet.service_addresses(services, [proxy], api)
    assert addresses[("team", "hub")] is None  # no running pod yet
    env = kubelet.service_env("team", addresses, links=True)
    assert env["PROXY_PUBLIC_SERVICE_HOST"] == "127.1.0.7"
    assert env["PROXY_PUBLIC_SERVICE_PORT"] == env["PROXY_PUBLIC_SERVICE_PORT_HTTP"] == "8000"
    assert env["PROXY_API_SERVICE_PORT"] == "8001"
    assert env["PROXY_API_PORT"] == "tcp://127.1.0.7:8001"
    assert not any(k.startswith("HUB_") for k in env)
    assert kubelet.service_env("team", addresses, links=False) == {}
    hosts = kubelet.hosts_file("team", addresses, api).splitlines()
    assert "127.1.0.7\tproxy-api proxy-api.team proxy-api.team.svc proxy-api.team.svc.cluster.local" in hosts
    assert hosts[0].startswith("127.0.0.1\tlocalhost kubernetes ")
    # from another namespace, only the qualified names
    other = [line.split() for line in kubelet.hosts_file("other", addresses, api).splitlines() if "proxy-api" in line]
    assert other == [["127.1.0.7", "proxy-api.team", "proxy-api.team.svc", "proxy-api.team.svc.cluster.local"]]


def test_tmpfs_covers_the_nearest_parent_never_the_system(tmp_path):
    root = tmp_path / "fs"
    (root / "srv").mkdir(parents=True)
    (root / "usr" / "local" / "etc").mkdir(parents=True)
    targets = [str(root / "usr/local/etc/jupyterhub/secret"), str(root / "usr/local/etc/jupyterhub/z2jh.py"),
               str(root / "srv/jupyterhub"), str(root / "srv")]
    assert podrun._needs_tmpfs(targets, []) == [str(root / "srv"), str(root / "usr/local/etc")]
    with pytest.raises(SystemExit, match="would hide"):
        podrun._needs_tmpfs([str(root / "srv/x")], [str(root / "srv" / "tools")])
    with pytest.raises(SystemExit, match="would hide /etc"):
        podrun._needs_tmpfs(["/etc/jhub-ck8s-not-there/x"], [])


def test_the_pods_user_never_root():
    pod = {**POD, "spec": {**POD["spec"], "containers": [], "securityContext": {"runAsUser": 0}}}
    program = programs.program_for("quay.io/jupyterhub/k8s-hub:4.4.0")
    assert program is not None
    fake = kubelet.Kubelet.__new__(kubelet.Kubelet)
    fake.runtimes, fake.api = programs.Runtimes(Path("/nonexistent")), None
    with pytest.raises(kubelet.Refused, match="root"):
        fake._container_spec(pod, {"name": "hub"}, program, {})
