"""transforms/user_pod_security.py (transform user-pods): the hub's runtime config builds restricted user pods.

Always-run cases use a small hand-written release (hub Secret + hub Deployment,
``tests/hubvalues.py``); the z2jh renders and the KubeSpawner rebuild run where the
shared fixtures and jupyterhub-kubespawner are available, and are skipped with the
reason otherwise. The rebuild tests run all four transforms of the hub's runtime config,
as the post-renderer does.
"""

from __future__ import annotations

import copy
import importlib.util
from typing import Any

import pytest
from conftest import Z2JH, Z2JH_MISSING
from hubvalues import (
    HUB_CONFIG_IDS,
    RESTRICTED_CONTAINER,
    RESTRICTED_POD,
    SPAWNER,
    apply,
    base_values,
    get,
    no_secret_values,
    only,
    release,
)
from restricted import restricted_problems

from jhub_ck8s.hubconfig import find
from jhub_ck8s.pipeline import run
from jhub_ck8s.report import CHANGE, ERROR, INFO, WARNING
from jhub_ck8s.settings import Settings, read_layer
from jhub_ck8s.stream import Stream, parse
from jhub_ck8s.transforms import user_pod_security

# --- the notebook pod and container ---------------------------------------------------------


def test_notebook_contexts_are_filled_and_uid_fsgid_left_to_kubespawner():
    values, findings, _ = apply(base_values(), user_pod_security)
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
    values, _, _ = apply(values, user_pod_security)
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
    after, findings, _ = apply(values, user_pod_security)
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
    after, _, _ = apply(values, user_pod_security)
    assert "allowPrivilegeEscalation" not in get(after, f"{SPAWNER}.container_security_context")


def test_replacing_pod_context_gets_restricted_fields_and_keeps_fsgroup():
    values = base_values()
    values["singleuser"]["extraPodConfig"] = {"securityContext": {"supplementalGroups": [5]}}
    after, _, _ = apply(values, user_pod_security)
    assert get(after, "singleuser.extraPodConfig.securityContext") == {
        "supplementalGroups": [5], **RESTRICTED_POD, "fsGroup": 100
    }


def test_replacing_container_context_is_filled():
    values = base_values()
    values["hub"]["config"]["KubeSpawner"] = {"extra_container_config": {"security_context": {"runAsUser": 1000}}}
    after, _, _ = apply(values, user_pod_security)
    assert get(after, f"{SPAWNER}.extra_container_config.security_context")["allowPrivilegeEscalation"] is False


# --- user init and sidecar containers -------------------------------------------------------


def test_user_containers_get_security_and_resource_defaults():
    values = base_values()
    values["singleuser"]["initContainers"] = [{"name": "init-home", "image": "alpine:3.20"}]
    values["singleuser"]["extraContainers"] = [
        {"name": "sidecar", "image": "a.b/c:1", "resources": {"requests": {"memory": "64Mi"}}}
    ]
    values["hub"]["config"]["KubeSpawner"] = {"init_containers": [{"name": "ks-init", "image": "a.b/c:1"}]}
    after, findings, _ = apply(values, user_pod_security)
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
    after, findings, _ = apply(values, user_pod_security)
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
    after, findings, _ = apply(values, user_pod_security)
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


# --- what cannot be hardened ---------------------------------------------------------------


@pytest.mark.parametrize("where", ["container_security_context", "pod_security_context"])
def test_a_context_that_is_code_is_a_warning_that_says_what_is_still_enforced(where):
    values = base_values()
    values["hub"]["config"]["KubeSpawner"] = {where: "code"}
    after, findings, _ = apply(values, user_pod_security)
    (warning,) = [f for f in findings if f.rule == "spawner-code"]
    assert warning.severity == WARNING and warning.fix and f"{SPAWNER}.{where}" in warning.where
    assert "Pod Security restricted" in warning.message
    assert get(after, f"{SPAWNER}.{where}") == "code"


def test_a_spawner_config_that_is_not_a_mapping_is_a_warning_and_kept():
    values = base_values()
    values["hub"]["config"]["KubeSpawner"] = "code"
    after, findings, _ = apply(values, user_pod_security)
    assert [(f.severity, f.rule) for f in findings] == [(WARNING, "spawner-code")]
    assert get(after, SPAWNER) == "code"


# --- idempotence and the pipeline -----------------------------------------------------------


def test_is_idempotent():
    values = base_values()
    values["singleuser"]["extraContainers"] = [{"name": "s", "image": "a.b/c:1"}]
    values["singleuser"]["profileList"] = [{"display_name": "own", "kubespawner_override": {
        "container_security_context": {"runAsUser": 1001}}}]
    stream = Stream(parse(release(values)))
    list(user_pod_security.apply(stream, Settings()))
    snapshot = copy.deepcopy(stream.hub().values)
    again = list(user_pod_security.apply(stream, Settings()))
    assert [f for f in again if f.severity == CHANGE] == []
    assert stream.hub().values == snapshot


def test_pipeline_re_encodes_the_secret_and_restarts_the_hub():
    result = run(release(base_values()), flag_layer=only(*HUB_CONFIG_IDS))
    assert result.exit_code == 0, result.report.table()
    docs = parse(result.output)
    hub = find(docs)
    assert hub.get("singleuser.cloudMetadata.blockWithIptables") is False
    assert hub.get(f"{SPAWNER}.container_security_context") == RESTRICTED_CONTAINER
    deployment = next(d for d in docs if d.kind == "Deployment")
    assert deployment.obj["spec"]["template"]["metadata"]["annotations"]["checksum/secret"] != "before"
    again = run(result.output, flag_layer=only(*HUB_CONFIG_IDS))
    assert again.output == result.output
    no_secret_values(result.report.findings)


def test_pipeline_enforce_warn_and_allow_list():
    values = base_values()
    values["hub"]["config"]["KubeSpawner"] = {"container_security_context": {"privileged": True}}
    text = release(values)
    enforce = run(text, flag_layer=only("user-pods"))
    assert enforce.exit_code == 1 and enforce.output == ""
    warn = run(text, flag_layer=only("user-pods", mode="warn"))
    assert warn.exit_code == 0 and warn.output
    allow = [{"kind": "Secret", "name": "hub", "rule": "privileged"}]
    allowed = run(text, flag_layer=only("user-pods", allow=allow))
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
    assert not [f for f in result.report.findings if f.transform in HUB_CONFIG_IDS and f.rule]
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
    from jhub_ck8s.documents import load_yaml

    for path in sorted(folder.glob("*/userpod-*.yaml")):
        pod = load_yaml(path.read_text())
        assert restricted_problems(pod["spec"]), path
