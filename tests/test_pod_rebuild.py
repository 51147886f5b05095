"""Tests for jhub_ck8s.check.pod_rebuild: rebuilding the Pods KubeSpawner creates at spawn time."""

from __future__ import annotations

import base64
import copy
import difflib
import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, Z2JH, Z2JH_MISSING

from jhub_ck8s.check.pod_rebuild import UserPod, build_user_pods, spawner_config

RENDERS = ("default", "guide", "full")

needs_kubespawner = pytest.mark.skipif(
    importlib.util.find_spec("kubespawner") is None,
    reason="jupyterhub-kubespawner is not installed (run make setup)",
)


def _require_fixtures() -> None:
    if not Z2JH.is_dir():
        pytest.skip(Z2JH_MISSING)


# --------------------------------------------------------------------------- helpers


def hub_values_from_render(render: Path) -> dict[str, Any]:
    """Decode only the ``values.yaml`` key of ``Secret/hub`` (the other keys are secrets)."""
    with render.open(encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            if doc and doc.get("kind") == "Secret" and doc["metadata"]["name"] == "hub":
                values = yaml.safe_load(base64.b64decode(doc["data"]["values.yaml"]))
                assert isinstance(values, dict)
                return values
    raise AssertionError(f"no Secret/hub in {render}")


def recorded_pods(render: str) -> dict[str, dict[str, Any]]:
    folder = Z2JH / "runtime-user-pods" / render
    pods: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("userpod-*.yaml")):
        label = path.stem.removeprefix("userpod-")
        pods[label] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return pods


def _container_view(container: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": container.get("name"),
        "image": container.get("image"),
        "imagePullPolicy": container.get("imagePullPolicy"),
        "securityContext": container.get("securityContext"),
        "resources": container.get("resources"),
        "volumeMounts": container.get("volumeMounts"),
    }


def _containers_view(containers: list[dict[str, Any]] | None) -> dict[str, Any]:
    # keyed by position and name so a failing diff says which container it is about
    return {f"{i}:{c.get('name')}": _container_view(c) for i, c in enumerate(containers or [])}


def admission_view(pod: dict[str, Any]) -> dict[str, Any]:
    """The fields of a Pod that Pod Security Admission and Gatekeeper policies read."""
    spec = pod.get("spec") or {}
    return {
        "hostNetwork": spec.get("hostNetwork"),
        "hostPID": spec.get("hostPID"),
        "hostIPC": spec.get("hostIPC"),
        "serviceAccountName": spec.get("serviceAccountName"),
        "automountServiceAccountToken": spec.get("automountServiceAccountToken"),
        "imagePullSecrets": spec.get("imagePullSecrets"),
        "securityContext": spec.get("securityContext"),
        "volumes": spec.get("volumes"),
        "initContainers": _containers_view(spec.get("initContainers")),
        "containers": _containers_view(spec.get("containers")),
        "ephemeralContainers": _containers_view(spec.get("ephemeralContainers")),
    }


def diff_message(what: str, expected: Any, actual: Any) -> str:
    exp = yaml.safe_dump(expected, sort_keys=True).splitlines()
    act = yaml.safe_dump(actual, sort_keys=True).splitlines()
    diff = difflib.unified_diff(exp, act, "recorded", "rebuilt", lineterm="", n=15)
    return f"{what} differs (- recorded, + rebuilt):\n" + "\n".join(diff)


def _without_env(pod: dict[str, Any]) -> dict[str, Any]:
    pod = copy.deepcopy(pod)
    for key in ("containers", "initContainers"):
        for container in pod["spec"].get(key) or []:
            container.pop("env", None)
    return pod


def by_label(pods: list[UserPod]) -> dict[str, dict[str, Any]]:
    return {p.label: p.pod for p in pods}


def container(pod: dict[str, Any], name: str, key: str = "containers") -> dict[str, Any]:
    for c in pod["spec"].get(key) or []:
        if c["name"] == name:
            return dict(c)
    raise AssertionError(f"no {key} entry named {name!r}")


# --------------------------------------------------------------------------- shared fixtures


@pytest.fixture(scope="module")
def rebuilt() -> dict[str, list[UserPod]]:
    _require_fixtures()
    return {
        render: build_user_pods(hub_values_from_render(Z2JH / "template" / f"{render}.yaml"))
        for render in RENDERS
    }


@needs_kubespawner
@pytest.mark.parametrize("render", RENDERS)
def test_rebuilt_pods_match_recorded_on_admission_fields(
    render: str, rebuilt: dict[str, list[UserPod]]
) -> None:
    recorded = recorded_pods(render)
    pods = by_label(rebuilt[render])
    assert sorted(pods) == sorted(recorded), "rebuilt pod labels differ from recorded files"
    for label, expected in recorded.items():
        actual = pods[label]
        assert actual["apiVersion"] == "v1"
        assert actual["kind"] == "Pod"
        exp_view, act_view = admission_view(expected), admission_view(actual)
        assert act_view == exp_view, diff_message(f"{render}/{label}", exp_view, act_view)


@needs_kubespawner
@pytest.mark.parametrize("render", RENDERS)
def test_rebuilt_pods_match_recorded_manifest(
    render: str, rebuilt: dict[str, list[UserPod]]
) -> None:
    """Whole manifest, except container env (tokens and hub URLs, version-dependent)."""
    recorded = recorded_pods(render)
    pods = by_label(rebuilt[render])
    for label, expected in recorded.items():
        exp, act = _without_env(expected), _without_env(pods[label])
        assert act == exp, diff_message(f"{render}/{label}", exp, act)


@needs_kubespawner
def test_default_pod_is_first(rebuilt: dict[str, list[UserPod]]) -> None:
    for pods in rebuilt.values():
        assert pods[0].label == "default"


# --------------------------------------------------------------------------- hand-written values


def hand_values(**singleuser: Any) -> dict[str, Any]:
    """A small hub values dict in the shape of Secret/hub's values.yaml."""
    su: dict[str, Any] = {
        "image": {"name": "harbor.example.com/team/notebook", "tag": "1.0.0", "pullPolicy": None},
        "uid": 1000,
        "fsGid": 100,
        "allowPrivilegeEscalation": False,
        "cmd": "jupyterhub-singleuser",
        "cpu": {"guarantee": 0.5, "limit": 2},
        "memory": {"guarantee": "1G", "limit": "2G"},
        "cloudMetadata": {"blockWithIptables": True, "ip": "169.254.169.254"},
        "networkTools": {
            "image": {"name": "harbor.example.com/team/k8s-network-tools", "tag": "4.4.0"},
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
        },
        "storage": {"type": "none", "homeMountPath": "/home/jovyan"},
    }
    su.update(singleuser)
    return {
        "Chart": {"Name": "jupyterhub", "Version": "4.4.0", "AppVersion": "5.5.0"},
        "Release": {"Name": "jhub", "Namespace": "jhub"},
        "fullnameOverride": "",
        "imagePullSecrets": ["pull-secret"],
        "scheduling": {"userScheduler": {"enabled": False}, "podPriority": {"enabled": False}},
        "hub": {"config": {}},
        "singleuser": su,
    }


def test_spawner_config_maps_cloud_metadata_block() -> None:
    on = spawner_config(hand_values())["KubeSpawner"]["init_containers"]
    assert [c["name"] for c in on] == ["block-cloud-metadata"]
    assert on[0]["securityContext"]["privileged"] is True
    assert on[0]["image"] == "harbor.example.com/team/k8s-network-tools:4.4.0"
    off = spawner_config(hand_values(cloudMetadata={"blockWithIptables": False}))
    assert "init_containers" not in off["KubeSpawner"]


def test_spawner_config_hub_config_wins() -> None:
    values = hand_values()
    values["hub"]["config"]["KubeSpawner"] = {"uid": 4242, "init_containers": []}
    values["hub"]["config"]["Spawner"] = {"default_url": "/lab"}
    config = spawner_config(values)
    assert config["KubeSpawner"]["uid"] == 4242
    assert config["KubeSpawner"]["init_containers"] == []
    assert config["Spawner"]["default_url"] == "/lab"


def test_missing_kubespawner_raises_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "kubespawner", None)  # makes `import kubespawner` fail
    with pytest.raises(RuntimeError, match="jupyterhub-kubespawner is not installed: run make"):
        build_user_pods(hand_values())


def test_import_is_cheap() -> None:
    code = (
        "import sys, jhub_ck8s.check.pod_rebuild; "
        "heavy = {'kubespawner', 'jupyterhub', 'kubernetes_asyncio', 'traitlets'}; "
        "heavy &= set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


@needs_kubespawner
def test_block_cloud_metadata_on_adds_privileged_init_container() -> None:
    (pod,) = [p.pod for p in build_user_pods(hand_values())]
    init = container(pod, "block-cloud-metadata", "initContainers")
    assert init["image"] == "harbor.example.com/team/k8s-network-tools:4.4.0"
    assert init["securityContext"] == {
        "privileged": True,
        "runAsUser": 0,
        "capabilities": {"add": ["NET_ADMIN"]},
    }
    assert init["resources"] == {"requests": {"cpu": "10m", "memory": "16Mi"}}
    notebook = container(pod, "notebook")
    assert notebook["image"] == "harbor.example.com/team/notebook:1.0.0"
    assert notebook["securityContext"] == {"runAsUser": 1000, "allowPrivilegeEscalation": False}
    assert notebook["resources"]["requests"] == {"cpu": 0.5, "memory": 1073741824}
    assert notebook["resources"]["limits"] == {"cpu": 2.0, "memory": 2147483648}
    assert pod["spec"]["securityContext"] == {"fsGroup": 100}
    assert pod["spec"]["imagePullSecrets"] == [{"name": "pull-secret"}]
    assert pod["spec"]["volumes"] == []


@needs_kubespawner
def test_block_cloud_metadata_off_means_no_init_container() -> None:
    values = hand_values(cloudMetadata={"blockWithIptables": False, "ip": "169.254.169.254"})
    (pod,) = [p.pod for p in build_user_pods(values)]
    assert not pod["spec"].get("initContainers")


@needs_kubespawner
def test_hub_config_kubespawner_security_contexts_win() -> None:
    csc = {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    psc = {"fsGroup": 100, "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    values = hand_values(cloudMetadata={"blockWithIptables": False, "ip": "169.254.169.254"})
    values["hub"]["config"]["KubeSpawner"] = {
        "container_security_context": csc,
        "pod_security_context": psc,
        "uid": 1000,
    }
    (pod,) = [p.pod for p in build_user_pods(values)]
    # KubeSpawner lays the configured contexts over the ones it derives from
    # uid / fs_gid / allow_privilege_escalation: configured keys win, others stay
    assert container(pod, "notebook")["securityContext"] == {"runAsUser": 1000, **csc}
    assert pod["spec"]["securityContext"] == psc


@needs_kubespawner
def test_profiles_and_option_choices_each_get_a_pod() -> None:
    values = hand_values(
        storage={
            "type": "dynamic",
            "homeMountPath": "/home/jovyan",
            "dynamic": {"pvcNameTemplate": None, "volumeNameTemplate": "volume-{user_server}"},
        },
        initContainers=[{"name": "init-home", "image": "harbor.example.com/team/alpine:3.20"}],
        profileList=[
            {
                "display_name": "Small",
                "kubespawner_override": {"cpu_limit": 1},
            },
            {
                "display_name": "GPU box!",
                "default": True,
                "kubespawner_override": {"image": "harbor.example.com/team/gpu:2.0"},
                "profile_options": {
                    "image": {
                        "display_name": "Image",
                        "choices": {
                            "torch": {
                                "display_name": "PyTorch",
                                "kubespawner_override": {
                                    "image": "harbor.example.com/team/torch:1.0"
                                },
                            },
                            "tf": {
                                "display_name": "TensorFlow",
                                "default": True,
                                "kubespawner_override": {"image": "harbor.example.com/team/tf:1.0"},
                            },
                        },
                    }
                },
            },
        ],
    )
    pods = by_label(build_user_pods(values))
    assert list(pods) == [
        "default",
        "profile-0-small",
        "profile-1-gpu-box",
        "profile-1-gpu-box-image-torch",
        "profile-1-gpu-box-image-tf",
    ]

    def image(label: str) -> str:
        return str(container(pods[label], "notebook")["image"])

    # the default spawn applies the default profile and its default option choice
    assert image("default") == "harbor.example.com/team/tf:1.0"
    assert image("profile-0-small") == "harbor.example.com/team/notebook:1.0.0"
    assert container(pods["profile-0-small"], "notebook")["resources"]["limits"]["cpu"] == 1.0
    assert image("profile-1-gpu-box") == "harbor.example.com/team/tf:1.0"
    assert image("profile-1-gpu-box-image-torch") == "harbor.example.com/team/torch:1.0"
    for pod in pods.values():
        assert [c["name"] for c in pod["spec"]["initContainers"]] == [
            "init-home",
            "block-cloud-metadata",
        ]
        assert pod["spec"]["volumes"] == [
            {"name": "volume-alice", "persistentVolumeClaim": {"claimName": "claim-alice"}}
        ]
