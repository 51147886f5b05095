"""Every rule the post-renderer reports has its twin in the audit (``jhub_ck8s.check.twins``).

The post-renderer's security rules (``jhub_ck8s.hardening``) and the audit's
(``check.pss``, ``check.safeguards``) are two rule sets on purpose. The table says which
audit rule judges what each post-renderer rule reports; here each pair is shown on a
manifest that breaks exactly that rule: the post-renderer reports the rule (warn mode,
so the violation stays in the output), and the audit, run on that output, finds the
twin -- and nothing the post-renderer did not report.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TOOLS

from jhub_ck8s import hardening
from jhub_ck8s.check import rule_ids
from jhub_ck8s.check.runner import Options, audit
from jhub_ck8s.check.twins import SAFEGUARD_TWINS, SECURITY_TWINS, TWINS, twins
from jhub_ck8s.documents import dump_yaml
from jhub_ck8s.pipeline import run

IMAGE = "harbor.example.com/team/app:1.0"
WARN = {"mode": "warn", "registry": "harbor.example.com/team", "load_balancer": "error"}


def deployment(pod: dict[str, Any] | None = None, container: dict[str, Any] | None = None) -> dict[str, Any]:
    spec = {"containers": [{"name": "app", "image": IMAGE, **(container or {})}], **(pod or {})}
    labels = {"component": "app"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}


def context(**fields: Any) -> dict[str, Any]:
    return {"securityContext": fields}


SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "app"},
           "spec": {"selector": {"component": "app"}, "ports": [{"port": 80}]}}

# post-renderer rule -> (manifests that break only it, audit rules also expected on the output)
EXAMPLES: dict[str, list[tuple[list[dict[str, Any]], set[str]]]] = {
    "privileged": [([deployment(container=context(privileged=True))], set())],
    "run-as-root": [([deployment(container=context(runAsUser=0))], set())],
    "run-as-non-root-false": [([deployment(container=context(runAsNonRoot=False))], set())],
    "capabilities-add": [
        ([deployment(container=context(capabilities={"add": ["SYS_ADMIN"]}))], set()),  # outside baseline
        ([deployment(container=context(capabilities={"add": ["CHOWN"]}))], set()),  # inside baseline
    ],
    "host-network": [([deployment({"hostNetwork": True})], set())],
    "host-pid": [([deployment({"hostPID": True})], set())],
    "host-ipc": [([deployment({"hostIPC": True})], set())],
    "host-path": [([deployment({"volumes": [{"name": "h", "hostPath": {"path": "/var/run"}}]})], set())],
    "host-port": [([deployment(container={"ports": [{"containerPort": 8080, "hostPort": 8080}]})], set())],
    "proc-mount": [([deployment(container=context(procMount="Unmasked"))], set())],
    "seccomp-unconfined": [([deployment(container=context(seccompProfile={"type": "Unconfined"}))], set())],
    "seccomp-localhost": [([deployment(container=context(seccompProfile={"type": "Localhost",
                                                                           "localhostProfile": "p.json"}))], set())],
    "allow-privilege-escalation": [([deployment(container=context(allowPrivilegeEscalation=True))], set())],
    # nothing can be filled into a context that is not a mapping: restricted's fields stay unset too
    "security-context-malformed": [([deployment(container={"securityContext": "restricted"})], {
        "pss-restricted-allow-privilege-escalation", "pss-restricted-capabilities",
    })],
    "disallowed-tag": [([deployment(container={"image": "harbor.example.com/team/app:latest"})], set())],
    "load-balancer": [([{**SERVICE, "spec": {**SERVICE["spec"], "type": "LoadBalancer"}}], set())],
    "cluster-scoped": [([{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                          "metadata": {"name": "reader"}, "rules": []}], set())],
    "network-policy-unselected": [([SERVICE, deployment()], set())],
}
CASES = [(rule, objects, extra) for rule, examples in EXAMPLES.items() for objects, extra in examples]
# what the audit judges (its other rule, spawned-user-pods-not-audited, is about the audit itself)
JUDGING = ("pss-", "safeguard-", "tenant-", "kubeconform-")


def test_every_security_rule_of_the_post_renderer_has_a_twin() -> None:
    assert set(SECURITY_TWINS) == set(hardening.RULES)


def test_every_twin_is_a_rule_of_the_audit() -> None:
    known = set(rule_ids())
    assert all(ids for ids in TWINS.values())
    assert {rule: ids for rule, ids in TWINS.items() if not set(ids) <= known} == {}
    assert not set(SECURITY_TWINS) & set(SAFEGUARD_TWINS)


def test_every_pair_is_shown_on_an_example() -> None:
    assert set(EXAMPLES) == set(TWINS)


def test_an_unmapped_rule_says_which_are_known() -> None:
    with pytest.raises(KeyError, match=r"no audit twin recorded for post-renderer rule 'nope'.*host-path"):
        twins("nope")


@pytest.mark.parametrize(("rule", "objects", "extra"), CASES, ids=[case[0] for case in CASES])
def test_the_post_renderer_and_the_audit_see_the_same_violation(
    rule: str, objects: list[dict[str, Any]], extra: set[str]
) -> None:
    text = "".join("---\n" + dump_yaml(obj) for obj in objects)
    result = run(text, flag_layer=WARN)
    assert result.exit_code == 0, result.report.table()
    reported = {f.rule for f in result.report.findings if f.rule}
    assert rule in reported, result.report.table()

    version = None
    if "kubeconform-schema" in twins(rule):
        from jhub_ck8s import kubeconform

        problem = kubeconform.missing(TOOLS)
        if problem:
            pytest.skip(problem)
        version = "1.32.0"
    checked = audit(result.output, Options(kubernetes_version=version, user_pods=False))
    found = {f.rule for s in checked.subjects for f in s.findings if f.rule.startswith(JUDGING)}
    assert found & set(twins(rule)), f"{rule}: the audit found {sorted(found)}"
    # and the audit finds nothing the post-renderer did not report (or that the example expects)
    explained = {twin for seen in reported & set(TWINS) for twin in twins(seen)} | extra
    assert found <= explained, f"{rule}: the audit also found {sorted(found - explained)}"
