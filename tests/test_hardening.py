"""jhub_ck8s.hardening: what restricted needs, filled without overwriting, violations named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from jhub_ck8s import hardening
from jhub_ck8s.hardening import (
    fill_container_security_context,
    fill_pod_security_context,
    init_container_removal_reasons,
)

RESTRICTED_POD = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


# --- fill -------------------------------------------------------------------------------


def test_pod_fill_sets_what_is_missing_and_says_what():
    context: dict[str, Any] = {"fsGroup": 100}
    assert fill_pod_security_context(context) == ["runAsNonRoot", "seccompProfile.type"]
    assert context == {"fsGroup": 100, **RESTRICTED_POD}


def test_pod_fill_treats_null_as_missing():
    context: dict[str, Any] = {"runAsNonRoot": None, "seccompProfile": None}
    fill_pod_security_context(context)
    assert context == RESTRICTED_POD


@pytest.mark.parametrize(
    "explicit",
    [
        {"runAsNonRoot": False},
        {"seccompProfile": {"type": "Unconfined"}},
        {"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}},
    ],
)
def test_pod_fill_never_overwrites_an_explicit_value(explicit):
    context = copy.deepcopy(explicit)
    fill_pod_security_context(context)
    for key, value in explicit.items():
        assert context[key] == value


def test_container_fill_without_pod_context_sets_everything():
    context: dict[str, Any] = {}
    filled = fill_container_security_context(context, None)
    assert filled == ["allowPrivilegeEscalation", "capabilities.drop", "runAsNonRoot", "seccompProfile.type"]
    assert context == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_container_fill_leaves_to_the_pod_what_the_pod_sets():
    context: dict[str, Any] = {"runAsUser": 1000}
    assert fill_container_security_context(context, RESTRICTED_POD) == [
        "allowPrivilegeEscalation",
        "capabilities.drop",
    ]
    assert "runAsNonRoot" not in context and "seccompProfile" not in context


def test_container_fill_does_not_override_an_explicit_pod_violation():
    # the pod's Unconfined is reported where it is; the container does not silently fix it
    context: dict[str, Any] = {}
    fill_container_security_context(context, {"runAsNonRoot": False, "seccompProfile": {"type": "Unconfined"}})
    assert "runAsNonRoot" not in context and "seccompProfile" not in context


def test_container_fill_merges_drop_all_into_an_existing_drop_list():
    context: dict[str, Any] = {"capabilities": {"drop": ["NET_RAW"], "add": ["NET_BIND_SERVICE"]}}
    fill_container_security_context(context, RESTRICTED_POD)
    assert context["capabilities"] == {"drop": ["NET_RAW", "ALL"], "add": ["NET_BIND_SERVICE"]}


@pytest.mark.parametrize(
    "explicit",
    [
        {"allowPrivilegeEscalation": True},
        {"runAsNonRoot": False},
        {"seccompProfile": {"type": "Unconfined"}},
        {"capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}},
        {"privileged": True, "runAsUser": 0},
    ],
)
def test_container_fill_never_overwrites_an_explicit_value(explicit):
    context = copy.deepcopy(explicit)
    fill_container_security_context(context, None)
    for key, value in explicit.items():
        assert context[key] == value


def test_container_fill_keeps_what_something_else_decides():
    context: dict[str, Any] = {}
    filled = fill_container_security_context(context, None, keep=("allowPrivilegeEscalation",))
    assert "allowPrivilegeEscalation" not in context
    assert "allowPrivilegeEscalation" not in filled


def test_fills_are_idempotent():
    pod: dict[str, Any] = {}
    container: dict[str, Any] = {"capabilities": {"drop": ["NET_RAW"]}}
    fill_pod_security_context(pod)
    fill_container_security_context(container, None)
    before = copy.deepcopy((pod, container))
    assert fill_pod_security_context(pod) == []
    assert fill_container_security_context(container, None) == []
    assert (pod, container) == before


def test_ensure_context_creates_only_in_place_of_null_or_missing():
    holder: dict[str, Any] = {"a": None, "c": "code"}
    assert hardening.ensure_context(holder, "a") == {} and holder["a"] == {}
    assert hardening.ensure_context(holder, "b") == {} and holder["b"] == {}
    assert hardening.ensure_context(holder, "c") is None and holder["c"] == "code"


def test_describe_filled_names_our_values():
    assert hardening.describe_filled(["runAsNonRoot", "capabilities.drop"]) == (
        "runAsNonRoot: true, capabilities.drop: +ALL"
    )


# --- violations -------------------------------------------------------------------------

CONTAINER_CASES = [
    ({"securityContext": {"privileged": True}}, "privileged", "securityContext.privileged"),
    ({"securityContext": {"runAsUser": 0}}, "run-as-root", "securityContext.runAsUser"),
    ({"securityContext": {"runAsNonRoot": False}}, "run-as-non-root-false", "securityContext.runAsNonRoot"),
    ({"securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}, "capabilities-add", "securityContext.capabilities.add"),
    ({"securityContext": {"procMount": "Unmasked"}}, "proc-mount", "securityContext.procMount"),
    ({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}, "seccomp-unconfined", "securityContext.seccompProfile.type"),
    ({"securityContext": {"seccompProfile": {"type": "Localhost"}}}, "seccomp-localhost", "securityContext.seccompProfile.type"),
    ({"securityContext": {"allowPrivilegeEscalation": True}}, "allow-privilege-escalation", "securityContext.allowPrivilegeEscalation"),
    ({"ports": [{"containerPort": 80, "hostPort": 80}]}, "host-port", "ports[0].hostPort"),
    ({"securityContext": "privileged"}, "security-context-malformed", "securityContext"),
]


@pytest.mark.parametrize(("container", "rule", "field"), CONTAINER_CASES, ids=[c[1] for c in CONTAINER_CASES])
def test_each_container_violation_has_its_rule_field_and_action(container, rule, field):
    (violation,) = hardening.container_violations(container)
    assert (violation.rule, violation.field) == (rule, field)
    assert violation.rule in hardening.RULES
    assert field in violation.message() and field in violation.action


def test_prefix_names_the_full_key_path():
    (violation,) = hardening.container_violations(
        {"securityContext": {"privileged": True}}, "singleuser.initContainers[0]"
    )
    assert violation.field == "singleuser.initContainers[0].securityContext.privileged"


def test_net_bind_service_is_the_one_capability_allowed():
    assert hardening.context_violations({"capabilities": {"add": ["NET_BIND_SERVICE"]}}, "sc") == []
    (violation,) = hardening.context_violations({"capabilities": {"add": ["NET_BIND_SERVICE", "SYS_TIME"]}}, "sc")
    assert violation.value == "SYS_TIME"


def test_safe_values_are_not_violations():
    safe = {
        "securityContext": {
            "privileged": False,
            "runAsUser": 1000,
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "procMount": "Default",
            "seccompProfile": {"type": "RuntimeDefault"},
            "capabilities": {"drop": ["ALL"]},
        },
        "ports": [{"containerPort": 8080}, {"containerPort": 80, "hostPort": 0}],
    }
    assert hardening.container_violations(safe) == []


POD_CASES = [
    ({"hostNetwork": True}, "host-network", "hostNetwork"),
    ({"hostPID": True}, "host-pid", "hostPID"),
    ({"hostIPC": True}, "host-ipc", "hostIPC"),
    ({"volumes": [{"name": "a", "emptyDir": {}}, {"name": "b", "hostPath": {"path": "/x"}}]}, "host-path", "volumes[1].hostPath"),
    ({"securityContext": {"runAsUser": 0}}, "run-as-root", "securityContext.runAsUser"),
    ({"securityContext": {"runAsNonRoot": False}}, "run-as-non-root-false", "securityContext.runAsNonRoot"),
    ({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}, "seccomp-unconfined", "securityContext.seccompProfile.type"),
    ({"securityContext": {"seccompProfile": {"type": "Localhost"}}}, "seccomp-localhost", "securityContext.seccompProfile.type"),
]


@pytest.mark.parametrize(("spec", "rule", "field"), POD_CASES, ids=[c[1] + "-" + c[2] for c in POD_CASES])
def test_each_pod_violation_has_its_rule_and_field(spec, rule, field):
    (violation,) = hardening.pod_violations(spec)
    assert (violation.rule, violation.field) == (rule, field)


def test_message_without_value_for_secret_findings():
    (violation,) = hardening.volume_violations([{"name": "v", "hostPath": {"path": "/secret/place"}}])
    assert "/secret/place" in violation.message()
    assert "/secret/place" not in violation.message(show_value=False)
    assert "/secret/place" not in violation.action


# --- init containers that must go ------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "reasons"),
    [
        ({"privileged": True, "runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"]}},
         ["privileged", "runs as uid 0", "adds NET_ADMIN"]),
        ({"runAsUser": 0}, ["runs as uid 0"]),
        ({"capabilities": {"add": ["cap_net_raw", "SYS_ADMIN"]}}, ["adds NET_RAW, SYS_ADMIN"]),
        ({"capabilities": {"add": ["NET_BIND_SERVICE"]}}, []),
        # z2jh's image-pull-metadata-block: restricted-clean, kept
        ({"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsGroup": 65534,
          "runAsNonRoot": True, "runAsUser": 65534, "seccompProfile": {"type": "RuntimeDefault"}}, []),
        (None, []),
    ],
)
def test_init_container_removal_reasons(context, reasons):
    container = {"name": "x"} if context is None else {"name": "x", "securityContext": context}
    assert init_container_removal_reasons(container) == reasons
