"""The platform safeguards over the real renders: load-balancer, pdb, min-replicas, cluster-scoped, network-policy.

Each transform has its own test module (``test_load_balancer.py``, ...); here, over the real renders, whether the
platform would admit the result is judged by the independent audit (``jhub_ck8s.check``),
never by re-running a transform or reading its own tables.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Z2JH, Z2JH_MISSING, kubeconform

from jhub_ck8s.check.runner import Options, audit
from jhub_ck8s.hubconfig import find as find_hub
from jhub_ck8s.pipeline import run
from jhub_ck8s.podspec import pod_spec
from jhub_ck8s.report import CHANGE
from jhub_ck8s.stream import parse
from jhub_ck8s.transforms import cluster_scoped, load_balancer, min_replicas, network_policy, pdb

RENDERS = sorted(Z2JH.glob("template/*.yaml")) + sorted(Z2JH.glob("post-render-input/*/*.yaml"))
RENDER_IDS = [str(p.relative_to(Z2JH)) for p in RENDERS]


# --- the real z2jh renders ----------------------------------------------------------------------


# The safeguards these transforms exist for (load-balancer, pdb, network-policy, min-replicas), by
# the audit's rule ids. The tenant's cluster-scoped limit is judged apart: it stays an error.
FIXED_SAFEGUARDS = frozenset({
    "safeguard-load-balancer", "safeguard-pdb", "safeguard-network-policy", "safeguard-minimum-replicas",
})


def _broken(text: str) -> dict[str, list[str]]:
    """Rule id -> the objects the independent audit finds breaking it (user pods left out)."""
    found: dict[str, list[str]] = {}
    for subject in audit(text, Options(user_pods=False)).subjects:
        for finding in subject.findings:
            found.setdefault(finding.rule, []).append(subject.label)
    return found


def _checked(text: str) -> set[str]:
    return {rule for subject in audit(text, Options(user_pods=False)).subjects for rule in subject.checked}


@pytest.mark.skipif(not RENDERS, reason=Z2JH_MISSING)
@pytest.mark.parametrize("path", RENDERS, ids=RENDER_IDS or None)
def test_z2jh_renders_pass_the_safeguards_after_the_pipeline(path: Path) -> None:
    text = path.read_text()
    before = _broken(text)
    assert FIXED_SAFEGUARDS & set(before), "control: every recorded render breaks some safeguard"
    result = run(text, flag_layer={"mode": "warn"})
    assert result.exit_code == 0, result.report.table()
    after = _broken(result.output)
    assert {rule: after[rule] for rule in FIXED_SAFEGUARDS & set(after)} == {}
    # the audit looked: Services, pods and single-replica workloads are still there to judge
    assert {"safeguard-load-balancer", "safeguard-network-policy", "safeguard-minimum-replicas"} <= _checked(
        result.output
    )
    # cluster-scoped objects are errors (warnings in warn mode), never silently passed:
    # the independent audit says which objects a tenant could not create
    if "tenant-cluster-scoped" in before:
        assert after["tenant-cluster-scoped"] == before["tenant-cluster-scoped"]
        assert any(f.rule == "cluster-scoped" for f in result.report.findings)
        assert run(text).exit_code == 1
    # a second run over our own output changes nothing of ours
    again = run(result.output, flag_layer={"mode": "warn"})
    ours = {load_balancer.ID, pdb.ID, min_replicas.ID, cluster_scoped.ID, network_policy.ID, "resources"}
    assert not [f for f in again.report.findings if f.transform in ours and f.severity == CHANGE]


@pytest.mark.skipif(not RENDERS, reason=Z2JH_MISSING)
@pytest.mark.parametrize("path", RENDERS, ids=RENDER_IDS or None)
def test_z2jh_drop_mode_leaves_no_cluster_scoped_object_or_dangling_priority(path: Path) -> None:
    result = run(path.read_text(), flag_layer={"mode": "warn", "cluster_scoped": "drop"})
    assert result.exit_code == 0, result.report.table()
    docs = parse(result.output)
    assert _broken(result.output).get("tenant-cluster-scoped", []) == []
    assert not [d.label for d in docs if (pod_spec(d.obj) or {}).get("priorityClassName")]
    hub = find_hub(docs)
    assert hub is not None and not hub.get("scheduling.podPriority.enabled")


@pytest.mark.skipif(not RENDERS, reason=Z2JH_MISSING)
@pytest.mark.parametrize("path", [p for p in RENDERS if p.parent.name == "template"],
                         ids=[i for i in RENDER_IDS if i.startswith("template/")] or None)
def test_z2jh_output_passes_kubeconform_strict(path: Path) -> None:
    result = run(path.read_text(), flag_layer={"mode": "warn", "cluster_scoped": "drop"})
    checked = kubeconform(result.output, "1.32.0")
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
