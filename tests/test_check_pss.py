"""Pod Security rules of `check`: one corpus pod per rule and variant, each flagged with exactly its rule."""

from __future__ import annotations

import copy

import pytest
from conftest import FIXTURES

from jhub_ck8s.check import pss
from jhub_ck8s.podspec import pod_metadata, pod_spec
from jhub_ck8s.stream import parse

EXPECT = "test.jhub-ck8s.io/expect"
CORPUS = [doc.obj for doc in parse((FIXTURES / "check-pss-corpus.yaml").read_text())]


def _evaluate(pod: dict, version: pss.Version = None) -> pss.Evaluation:
    return pss.evaluate(pod_metadata(pod), pod_spec(pod) or {}, version)


def _rules(evaluation: pss.Evaluation) -> set[str]:
    return {rule.id for rule, _ in evaluation.violations}


@pytest.mark.parametrize("pod", CORPUS, ids=[p["metadata"]["name"] for p in CORPUS])
def test_corpus_pod_is_flagged_with_exactly_its_rule(pod: dict) -> None:
    expected = pod["metadata"]["annotations"][EXPECT]
    evaluation = _evaluate(pod)
    if expected == "none":
        assert _rules(evaluation) == set(), [v.message for _, v in evaluation.violations]
        assert evaluation.level == "restricted"
    else:
        assert _rules(evaluation) == {expected}, [v.message for _, v in evaluation.violations]
        rule = pss.get(expected)
        assert evaluation.level == ("privileged" if rule.level == "baseline" else "baseline")
        for _, violation in evaluation.violations:
            assert violation.where and violation.message and violation.fix


def test_every_rule_has_a_corpus_pod() -> None:
    covered = {pod["metadata"]["annotations"][EXPECT] for pod in CORPUS}
    assert set(pss.RULES) <= covered, set(pss.RULES) - covered


def test_registry_holds_every_published_control_once() -> None:
    baseline = {r.title for r in pss.RULES.values() if r.level == "baseline"}
    restricted = {r.title for r in pss.RULES.values() if r.level == "restricted"}
    assert baseline == {
        "HostProcess", "Host Namespaces", "Privileged Containers", "Capabilities", "HostPath Volumes",
        "Host Ports", "Host Probes / Lifecycle Hooks", "AppArmor", "SELinux", "/proc Mount Type", "Seccomp", "Sysctls",
    }
    assert restricted == {
        "Volume Types", "Privilege Escalation", "Running as Non-root", "Running as Non-root user", "Seccomp",
        "Capabilities",
    }
    assert all(rule_id.startswith(f"pss-{rule.level}-") for rule_id, rule in pss.RULES.items())
    with pytest.raises(KeyError, match="unknown Pod Security rule"):
        pss.get("pss-baseline-nope")


def _base() -> dict:
    return copy.deepcopy(next(p for p in CORPUS if p["metadata"]["name"] == "good-pod-level"))


def test_container_value_wins_over_the_pod_for_run_as_non_root_and_seccomp() -> None:
    pod = _base()
    spec = pod["spec"]
    spec["securityContext"] = {"runAsNonRoot": False, "seccompProfile": {"type": "RuntimeDefault"}}
    spec["containers"][0]["securityContext"]["runAsNonRoot"] = True
    # the pod's explicit false is still a violation (as in Pod Security admission), the container is fine
    violations = [v for r, v in _evaluate(pod).violations if r.id == "pss-restricted-run-as-non-root"]
    assert [v.where for v in violations] == ["pod"]

    pod = _base()
    del pod["spec"]["securityContext"]["seccompProfile"]
    pod["spec"]["containers"][0]["securityContext"]["seccompProfile"] = {"type": "Localhost", "localhostProfile": "x"}
    assert _rules(_evaluate(pod)) == set()


def test_every_container_list_is_visited_and_reported_per_container() -> None:
    pod = _base()
    bare = {"name": "x", "image": "i:1"}
    pod["spec"]["initContainers"] = [dict(bare, name="init")]
    pod["spec"]["ephemeralContainers"] = [dict(bare, name="debug")]
    evaluation = _evaluate(pod)
    where = {(r.id, v.where) for r, v in evaluation.violations}
    assert where == {
        ("pss-restricted-allow-privilege-escalation", "init container init"),
        ("pss-restricted-allow-privilege-escalation", "ephemeral container debug"),
        ("pss-restricted-capabilities", "init container init"),
        ("pss-restricted-capabilities", "ephemeral container debug"),
    }


def test_windows_pods_are_exempt_from_linux_only_restricted_rules() -> None:
    pod = _base()
    pod["spec"]["containers"][0]["securityContext"] = {}
    del pod["spec"]["securityContext"]["seccompProfile"]
    assert _rules(_evaluate(pod)) == {
        "pss-restricted-allow-privilege-escalation", "pss-restricted-capabilities", "pss-restricted-seccomp",
    }
    pod["spec"]["os"] = {"name": "windows"}
    assert _rules(_evaluate(pod)) == set()


def test_rules_follow_the_kubernetes_version() -> None:
    probes = copy.deepcopy(next(p for p in CORPUS if p["metadata"]["name"] == "baseline-host-probes"))
    assert _rules(_evaluate(probes, (1, 33))) == set()
    assert _rules(_evaluate(probes, (1, 34))) == {"pss-baseline-host-probes"}
    assert "pss-baseline-host-probes" not in {r.id for r in _evaluate(probes, (1, 33)).checked}

    pod = _base()
    pod["spec"]["securityContext"]["sysctls"] = [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}]
    assert _rules(_evaluate(pod, (1, 31))) == {"pss-baseline-sysctls"}
    assert _rules(_evaluate(pod, (1, 32))) == set()

    pod = _base()
    pod["spec"]["securityContext"]["seLinuxOptions"] = {"type": "container_engine_t"}
    assert _rules(_evaluate(pod, (1, 30))) == {"pss-baseline-selinux"}
    assert _rules(_evaluate(pod)) == set()


def test_parse_version() -> None:
    assert pss.parse_version("1.33.0") == (1, 33)
    for bad in ("1.33", "v1.33.0", "latest"):
        with pytest.raises(ValueError, match=r"X\.Y\.Z"):
            pss.parse_version(bad)


def test_a_privileged_root_init_container_breaks_baseline_and_restricted() -> None:
    """The chart's block-cloud-metadata init container, as KubeSpawner adds it."""
    pod = _base()
    pod["spec"]["initContainers"] = [{
        "name": "block-cloud-metadata", "image": "quay.io/jupyterhub/k8s-network-tools:4.4.0",
        "securityContext": {"privileged": True, "runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"]}},
    }]
    evaluation = _evaluate(pod)
    assert evaluation.level == "privileged"
    assert _rules(evaluation) == {
        "pss-baseline-privileged", "pss-baseline-capabilities", "pss-restricted-allow-privilege-escalation",
        "pss-restricted-run-as-user", "pss-restricted-capabilities",
    }
