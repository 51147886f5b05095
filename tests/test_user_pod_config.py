"""transforms/user_pod_config.py (transform user-pods): the hub's runtime config builds restricted user pods.

Always-run cases use a small hand-written release (hub Secret + hub Deployment); the
z2jh renders and the KubeSpawner rebuild run where the shared fixtures and
jupyterhub-kubespawner are available, and are skipped with the reason otherwise.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
from typing import Any

import pytest
from conftest import Z2JH, Z2JH_MISSING
from restricted import restricted_problems

from jhub_ck8s.hubconfig import find
from jhub_ck8s.pipeline import run
from jhub_ck8s.rendered import Stream
from jhub_ck8s.report import CHANGE, ERROR, INFO, WARNING
from jhub_ck8s.settings import Settings, UserResources, read_layer
from jhub_ck8s.stream import dump_yaml, parse
from jhub_ck8s.transforms import REGISTRY
from jhub_ck8s.transforms import user_pod_config as user_pods

SPAWNER = "hub.config.KubeSpawner"
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
RESTRICTED_POD = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
# Stands for a token: it must never appear in any message or fix.
SECRET_MARK = "SUPERSECRET-0123"


def base_values() -> dict[str, Any]:
    """The part of z2jh's merged values these tests touch (defaults of the chart)."""
    return {
        "hub": {"config": {"JupyterHub": {"cookie_secret": SECRET_MARK}}, "extraConfig": {}},
        "singleuser": {
            "uid": 1000,
            "fsGid": 100,
            "allowPrivilegeEscalation": False,
            "cloudMetadata": {"blockWithIptables": True, "ip": "169.254.169.254"},
            "networkPolicy": {"enabled": True, "egressAllowRules": {"cloudMetadataServer": False}},
            "cpu": {"guarantee": None, "limit": None},
            "memory": {"guarantee": "1G", "limit": None},
            "extraPodConfig": {},
            "initContainers": [],
            "extraContainers": [],
            "profileList": [],
            "image": {"name": "quay.io/jupyterhub/k8s-singleuser-sample", "tag": "4.4.0"},
        },
    }


def release(values: dict[str, Any]) -> str:
    encoded = base64.b64encode(dump_yaml(values, sort_keys=True).encode()).decode()
    secret = {
        "kind": "Secret", "apiVersion": "v1",
        "metadata": {"name": "hub", "labels": {"component": "hub"}},
        "data": {"values.yaml": encoded, "hub.config.JupyterHub.cookie_secret": "c2VjcmV0"},
    }
    hub = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "hub", "labels": {"component": "hub"}},
        "spec": {"template": {
            "metadata": {"annotations": {"checksum/secret": "before"}},
            "spec": {
                "securityContext": RESTRICTED_POD,
                "containers": [{
                    "name": "hub", "image": "quay.io/jupyterhub/k8s-hub:4.4.0",
                    "securityContext": RESTRICTED_CONTAINER,
                    "resources": {"requests": {"cpu": "10m", "memory": "512Mi"},
                                  "limits": {"cpu": "1", "memory": "1Gi"}},
                }],
            },
        }},
    }
    return "---\n" + dump_yaml(secret) + "---\n" + dump_yaml(hub)


def apply(values: dict[str, Any], settings: Settings | None = None) -> tuple[dict[str, Any], list, Stream]:
    stream = Stream(parse(release(values)))
    findings = list(user_pods.apply(stream, settings or Settings()))
    return stream.hub().values, findings, stream


def get(values: dict[str, Any], path: str) -> Any:
    node: Any = values
    for key in path.split("."):
        node = node[key]
    return node


def no_secret_values(findings: list) -> None:
    for f in findings:
        assert SECRET_MARK not in f.message + f.fix + f.where


def _only(*transform_ids: str, **raw: Any) -> dict:
    disable = [t for t in REGISTRY if t not in transform_ids]
    return read_layer({"disable": disable, **raw}, "test")


# --- cloud metadata ------------------------------------------------------------------------


def test_switches_off_the_iptables_metadata_block():
    values, findings, stream = apply(base_values())
    assert get(values, "singleuser.cloudMetadata.blockWithIptables") is False
    (change,) = [f for f in findings if f.hub_key == "singleuser.cloudMetadata.blockWithIptables"]
    assert change.severity == CHANGE and change.document is stream.hub().document
    assert "169.254.169.254" in change.message and "NetworkPolicy" in change.message
    assert not [f for f in findings if f.rule == "cloud-metadata-open"]


@pytest.mark.parametrize(
    "policy", [{"enabled": False}, {"enabled": True, "egressAllowRules": {"cloudMetadataServer": True}}]
)
def test_warns_when_the_network_policy_does_not_block_metadata(policy):
    values = base_values()
    values["singleuser"]["networkPolicy"] = policy
    _, findings, _ = apply(values)
    (warning,) = [f for f in findings if f.rule == "cloud-metadata-open"]
    assert warning.severity == WARNING and "singleuser.networkPolicy" in warning.fix


# --- the notebook pod and container ---------------------------------------------------------


def test_notebook_contexts_are_filled_and_uid_fsgid_left_to_kubespawner():
    values, findings, _ = apply(base_values())
    assert get(values, f"{SPAWNER}.pod_security_context") == RESTRICTED_POD
    assert get(values, f"{SPAWNER}.container_security_context") == RESTRICTED_CONTAINER
    # KubeSpawner 7.0.0 merges uid -> runAsUser and fs_gid -> fsGroup under these contexts
    assert "fsGroup" not in get(values, f"{SPAWNER}.pod_security_context")
    assert "runAsUser" not in get(values, f"{SPAWNER}.container_security_context")
    keys = {f.hub_key for f in findings if f.severity == CHANGE}
    assert {f"{SPAWNER}.pod_security_context", f"{SPAWNER}.container_security_context"} <= keys
    no_secret_values(findings)


def test_explicit_notebook_contexts_are_kept_and_merged():
    values = base_values()
    values["hub"]["config"]["KubeSpawner"] = {
        "container_security_context": {"runAsUser": 1001, "capabilities": {"drop": ["NET_RAW"]}},
        "pod_security_context": {"fsGroup": 2000, "runAsNonRoot": True},
    }
    values, _, _ = apply(values)
    csc = get(values, f"{SPAWNER}.container_security_context")
    assert csc["runAsUser"] == 1001 and csc["capabilities"]["drop"] == ["NET_RAW", "ALL"]
    psc = get(values, f"{SPAWNER}.pod_security_context")
    assert psc == {"fsGroup": 2000, "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert "runAsNonRoot" not in csc  # the pod sets it explicitly


@pytest.mark.parametrize(
    ("where", "setting", "rule", "key"),
    [
        ("singleuser", {"allowPrivilegeEscalation": True}, "allow-privilege-escalation", "singleuser.allowPrivilegeEscalation"),
        ("spawner", {"allow_privilege_escalation": True}, "allow-privilege-escalation", f"{SPAWNER}.allow_privilege_escalation"),
        ("singleuser", {"uid": 0}, "run-as-root", "singleuser.uid"),
        ("spawner", {"uid": 0}, "run-as-root", f"{SPAWNER}.uid"),
        ("spawner", {"privileged": True}, "privileged", f"{SPAWNER}.privileged"),
        ("spawner", {"container_security_context": {"privileged": True}}, "privileged", f"{SPAWNER}.container_security_context.privileged"),
        ("spawner", {"container_security_context": {"runAsUser": 0}}, "run-as-root", f"{SPAWNER}.container_security_context.runAsUser"),
        ("spawner", {"container_security_context": {"capabilities": {"add": ["SYS_TIME"]}}}, "capabilities-add", f"{SPAWNER}.container_security_context.capabilities.add"),
        ("spawner", {"pod_security_context": {"runAsNonRoot": False}}, "run-as-non-root-false", f"{SPAWNER}.pod_security_context.runAsNonRoot"),
        ("spawner", {"volumes": [{"name": "h", "hostPath": {"path": "/srv/SYS_TIME"}}]}, "host-path", f"{SPAWNER}.volumes[0].hostPath"),
        ("singleuser", {"extraPodConfig": {"hostNetwork": True}}, "host-network", "singleuser.extraPodConfig.hostNetwork"),
    ],
)
def test_explicit_violation_is_an_error_with_its_key_path_and_no_value(where, setting, rule, key):
    values = base_values()
    if where == "singleuser":
        values["singleuser"].update(setting)
    else:
        values["hub"]["config"]["KubeSpawner"] = setting
    before = copy.deepcopy(setting)
    after, findings, _ = apply(values)
    errors = [f for f in findings if f.severity == ERROR]
    assert [(e.rule, e.where) for e in errors] == [(rule, f"values.yaml: {key}")]
    (error,) = errors
    assert key in error.message and key in error.fix and f"rule: {rule}" in error.fix
    assert "SYS_TIME" not in error.message + error.fix  # values from the Secret are never shown
    holder = after["singleuser"] if where == "singleuser" else get(after, SPAWNER)
    assert keeps(holder, before)  # never silently changed


def keeps(actual: Any, explicit: Any) -> bool:
    """Every explicit leaf is still there with its value (fills may add beside it)."""
    if isinstance(explicit, dict):
        return isinstance(actual, dict) and all(k in actual and keeps(actual[k], v) for k, v in explicit.items())
    return actual == explicit


def test_explicit_escalation_is_not_overridden_by_the_filled_context():
    values = base_values()
    values["singleuser"]["allowPrivilegeEscalation"] = True
    after, _, _ = apply(values)
    assert "allowPrivilegeEscalation" not in get(after, f"{SPAWNER}.container_security_context")


def test_replacing_pod_context_gets_restricted_fields_and_keeps_fsgroup():
    values = base_values()
    values["singleuser"]["extraPodConfig"] = {"securityContext": {"supplementalGroups": [5]}}
    after, _, _ = apply(values)
    assert get(after, "singleuser.extraPodConfig.securityContext") == {
        "supplementalGroups": [5], **RESTRICTED_POD, "fsGroup": 100
    }


def test_replacing_container_context_is_filled():
    values = base_values()
    values["hub"]["config"]["KubeSpawner"] = {"extra_container_config": {"security_context": {"runAsUser": 1000}}}
    after, _, _ = apply(values)
    assert get(after, f"{SPAWNER}.extra_container_config.security_context")["allowPrivilegeEscalation"] is False


# --- user init and sidecar containers -------------------------------------------------------


def test_user_containers_get_security_and_resource_defaults():
    values = base_values()
    values["singleuser"]["initContainers"] = [{"name": "init-home", "image": "alpine:3.20"}]
    values["singleuser"]["extraContainers"] = [
        {"name": "sidecar", "image": "a.b/c:1", "resources": {"requests": {"memory": "64Mi"}}}
    ]
    values["hub"]["config"]["KubeSpawner"] = {"init_containers": [{"name": "ks-init", "image": "a.b/c:1"}]}
    after, findings, _ = apply(values)
    for path in ("singleuser.initContainers", "singleuser.extraContainers", f"{SPAWNER}.init_containers"):
        (container,) = get(after, path)
        assert restricted_problems({"containers": [container]}) == []
        requests = container["resources"]["requests"]
        assert requests["cpu"] and requests["memory"]
    assert get(after, "singleuser.extraContainers")[0]["resources"]["requests"]["memory"] == "64Mi"
    changed = {f.hub_key: f.container for f in findings if f.severity == CHANGE}
    assert changed["singleuser.initContainers[0]"] == "init-home"
    assert changed[f"{SPAWNER}.init_containers[0]"] == "ks-init"
    message = next(f.message for f in findings if f.hub_key == "singleuser.extraContainers[0]")
    assert "64Mi" not in message  # field names only


def test_user_container_violation_is_an_error_and_is_kept():
    values = base_values()
    values["singleuser"]["initContainers"] = [
        {"name": "iptables", "image": "a.b/c:1", "securityContext": {"privileged": True}}
    ]
    after, findings, _ = apply(values)
    (error,) = [f for f in findings if f.severity == ERROR]
    assert error.rule == "privileged" and error.container == "iptables"
    assert error.where == "values.yaml: singleuser.initContainers[0].securityContext.privileged"
    assert get(after, "singleuser.initContainers")[0]["securityContext"]["privileged"] is True


# --- profiles ------------------------------------------------------------------------------


def test_profile_overrides_with_their_own_contexts_are_filled():
    values = base_values()
    values["singleuser"]["profileList"] = [
        {"display_name": "plain", "kubespawner_override": {"image": "a.b/c:1"}},
        {"display_name": "own", "kubespawner_override": {
            "container_security_context": {"capabilities": {"drop": ["NET_RAW"]}},
            "extra_containers": [{"name": "p-sidecar", "image": "a.b/c:1"}],
        }},
        {"display_name": "options", "profile_options": {"flavour": {"choices": {"x": {"kubespawner_override": {
            "pod_security_context": {"fsGroup": 5}, "uid": 0}}}}}},
    ]
    after, findings, _ = apply(values)
    plain, own, options = get(after, "singleuser.profileList")
    assert plain["kubespawner_override"] == {"image": "a.b/c:1"}
    # KubeSpawner replaces lists when it merges an override: ALL must be in the override's own list
    assert own["kubespawner_override"]["container_security_context"]["capabilities"]["drop"] == ["NET_RAW", "ALL"]
    assert restricted_problems({"securityContext": RESTRICTED_POD,
                                "containers": own["kubespawner_override"]["extra_containers"]}) == []
    choice = options["profile_options"]["flavour"]["choices"]["x"]["kubespawner_override"]
    assert choice["pod_security_context"] == {"fsGroup": 5, **RESTRICTED_POD}
    (error,) = [f for f in findings if f.severity == ERROR]
    assert error.rule == "run-as-root"
    assert error.where.endswith("singleuser.profileList[2].profile_options.flavour.choices.x.kubespawner_override.uid")


# --- resources of the notebook ---------------------------------------------------------------


def test_user_resources_fill_only_what_is_unset():
    values, findings, _ = apply(base_values())
    assert values["singleuser"]["cpu"] == {"guarantee": 0.1, "limit": 1.0}
    assert values["singleuser"]["memory"] == {"guarantee": "1G", "limit": "2G"}
    assert {f.hub_key for f in findings if f.hub_key.startswith("singleuser.cpu")} == {
        "singleuser.cpu.guarantee", "singleuser.cpu.limit"
    }


def test_user_resources_respect_spawner_traits_and_null_settings():
    values = base_values()
    values["hub"]["config"]["KubeSpawner"] = {"cpu_limit": 4}
    settings = Settings(user_resources=UserResources(memory_limit=None))
    after, _, _ = apply(values, settings)
    assert after["singleuser"]["cpu"]["limit"] is None
    assert after["singleuser"]["memory"]["limit"] is None
    assert after["singleuser"]["cpu"]["guarantee"] == 0.1


# --- what cannot be seen --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda v: v["hub"].update(existingSecret="my-hub-secret"), "existing-secret"),
        (lambda v: v["hub"].update(extraConfig={"a": "c.KubeSpawner.uid = 0"}), "extra-config"),
        (lambda v: v["singleuser"].update(profileList="some_function"), "profile-list-code"),
        (lambda v: v["singleuser"].update(profileList=[{"display_name": "x", "profile_options": {
            "image": {"unlisted_choice": {"enabled": True, "kubespawner_override": {"image": "{value}"}}}}}]),
         "unlisted-choice"),
        (lambda v: v["hub"]["config"].update(KubeSpawner={"container_security_context": "code"}), "spawner-code"),
    ],
)
def test_blind_spots_are_warnings_that_say_what_is_still_enforced(change, rule):
    values = base_values()
    change(values)
    _, findings, _ = apply(values)
    (warning,) = [f for f in findings if f.rule == rule]
    assert warning.severity == WARNING and warning.fix
    assert "Pod Security restricted" in warning.message
    assert "my-hub-secret" not in warning.message and "uid = 0" not in warning.message


# --- idempotence and the pipeline -----------------------------------------------------------


def test_is_idempotent():
    values = base_values()
    values["singleuser"]["extraContainers"] = [{"name": "s", "image": "a.b/c:1"}]
    values["singleuser"]["profileList"] = [{"display_name": "own", "kubespawner_override": {
        "container_security_context": {"runAsUser": 1001}}}]
    stream = Stream(parse(release(values)))
    list(user_pods.apply(stream, Settings()))
    snapshot = copy.deepcopy(stream.hub().values)
    again = list(user_pods.apply(stream, Settings()))
    assert [f for f in again if f.severity == CHANGE] == []
    assert stream.hub().values == snapshot


def test_pipeline_re_encodes_the_secret_and_restarts_the_hub():
    result = run(release(base_values()), flag_layer=_only("user-pods"))
    assert result.exit_code == 0, result.report.table()
    docs = parse(result.output)
    hub = find(docs)
    assert hub.get("singleuser.cloudMetadata.blockWithIptables") is False
    assert hub.get(f"{SPAWNER}.container_security_context") == RESTRICTED_CONTAINER
    deployment = next(d for d in docs if d.kind == "Deployment")
    assert deployment.obj["spec"]["template"]["metadata"]["annotations"]["checksum/secret"] != "before"
    again = run(result.output, flag_layer=_only("user-pods"))
    assert again.output == result.output
    no_secret_values(result.report.findings)


def test_pipeline_enforce_warn_and_allow_list():
    values = base_values()
    values["hub"]["config"]["KubeSpawner"] = {"container_security_context": {"privileged": True}}
    text = release(values)
    enforce = run(text, flag_layer=_only("user-pods"))
    assert enforce.exit_code == 1 and enforce.output == ""
    warn = run(text, flag_layer=_only("user-pods", mode="warn"))
    assert warn.exit_code == 0 and warn.output
    allow = [{"kind": "Secret", "name": "hub", "rule": "privileged"}]
    allowed = run(text, flag_layer=_only("user-pods", allow=allow))
    assert allowed.exit_code == 0
    assert [f.severity for f in allowed.report.findings if f.rule == "privileged"] == [INFO]


# --- the pods KubeSpawner builds from the post-rendered config --------------------------------


def _rebuild(hub_values: dict[str, Any]) -> list:
    if importlib.util.find_spec("kubespawner") is None:
        pytest.skip("jupyterhub-kubespawner is not installed (run make setup)")
    try:
        from jhub_ck8s.check.pod_rebuild import build_user_pods
    except ImportError as exc:  # pragma: no cover - the module is another engineer's
        pytest.skip(f"jhub_ck8s.check.pod_rebuild is not available: {exc}")
    return build_user_pods(hub_values)


def _assert_restricted_user_pods(pods: list, fs_group: int | None) -> None:
    assert pods
    for user_pod in pods:
        spec = user_pod.pod["spec"]
        assert restricted_problems(spec) == [], user_pod.label
        assert "block-cloud-metadata" not in [c["name"] for c in spec.get("initContainers") or []]
        notebook = next(c for c in spec["containers"] if c["name"] == "notebook")
        assert notebook["resources"]["requests"].get("cpu") and notebook["resources"]["requests"].get("memory")
        if fs_group is not None:
            assert spec["securityContext"]["fsGroup"] == fs_group, user_pod.label


def test_small_config_builds_restricted_user_pods():
    values = base_values()
    values["singleuser"]["initContainers"] = [{"name": "init-home", "image": "alpine:3.20"}]
    values["singleuser"]["profileList"] = [
        {"display_name": "a", "default": True, "kubespawner_override": {"image": "a.b/c:1"}},
        {"display_name": "b", "kubespawner_override": {"container_security_context": {"runAsUser": 1001}}},
    ]
    hub_values, findings, _ = apply(values)
    assert not [f for f in findings if f.severity == ERROR]
    _assert_restricted_user_pods(_rebuild(hub_values), fs_group=100)


@pytest.mark.parametrize("render", ["guide", "full", "default"])
def test_z2jh_user_pods_pass_restricted_after_post_rendering(render):
    path = Z2JH / "post-render-input" / "helm3" / f"{render}.yaml"
    if not path.exists():
        pytest.skip(Z2JH_MISSING)
    registry = "harbor.example.com/jupyterhub"
    result = run(path.read_text(), flag_layer=read_layer({"mode": "warn", "registry": registry}, "test"))
    assert result.exit_code == 0, result.report.table()
    assert not [f for f in result.report.findings if f.transform == "user-pods" and f.rule]
    hub = find(parse(result.output))
    pods = _rebuild(hub.values)
    _assert_restricted_user_pods(pods, fs_group=100)
    for user_pod in pods:
        spec = user_pod.pod["spec"]
        for container in (spec.get("initContainers") or []) + spec["containers"]:
            where = f"{user_pod.label} {container['name']}"
            assert container["image"].startswith(registry + "/"), where
            for part in ("requests", "limits"):
                assert set((container.get("resources") or {}).get(part) or {}) >= {"cpu", "memory"}, where


def test_z2jh_user_pods_fail_restricted_before_post_rendering():
    """The recorded spawns show why this transform exists (docs/platform.md, "The hub's runtime config")."""
    folder = Z2JH / "runtime-user-pods"
    if not folder.is_dir():
        pytest.skip(Z2JH_MISSING)
    from jhub_ck8s.stream import load_yaml

    for path in sorted(folder.glob("*/userpod-*.yaml")):
        pod = load_yaml(path.read_text())
        assert restricted_problems(pod["spec"]), path
