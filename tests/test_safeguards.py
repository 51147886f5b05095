"""The platform safeguards over the real renders: load-balancer, pdb, min-replicas, cluster-scoped, network-policy.

Each transform has its own test module (``test_load_balancer.py``, ...); here, over the real renders, whether the
platform would object to the result is judged by a small judge written from the platform's rules
(``tests/platform_judge.py``, itself tested below on hand-written cases), never by a transform, its tables,
or the audit (``jhub_ck8s.check``), which shares ``jhub_ck8s.platform`` with them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import Z2JH, Z2JH_MISSING, kubeconform
from manifests import RELEASE, budget, cluster_object, lb_service, netpol, service, text_of, workload
from platform_judge import IGNORE_MINIMUM_REPLICAS, objections

from jhub_ck8s.hubconfig import find as find_hub
from jhub_ck8s.pipeline import run
from jhub_ck8s.podspec import pod_spec
from jhub_ck8s.report import CHANGE
from jhub_ck8s.stream import parse
from jhub_ck8s.transforms import cluster_scoped, load_balancer, min_replicas, network_policy, pdb

RENDERS = sorted(Z2JH.glob("template/*.yaml")) + sorted(Z2JH.glob("post-render-input/*/*.yaml"))
RENDER_IDS = [str(p.relative_to(Z2JH)) for p in RENDERS]


# --- the real z2jh renders ----------------------------------------------------------------------


def test_the_independent_judge_on_hand_written_cases() -> None:
    """The judge itself, against outcomes written by hand."""
    placeholder = workload("StatefulSet", "user-placeholder", "user-placeholder", 0)
    scheduler = workload("Deployment", "user-scheduler", "user-scheduler", 2)
    scheduler["metadata"]["annotations"] = {}
    hub = workload("Deployment", "hub", "hub", 1)
    hub["metadata"]["annotations"] = {IGNORE_MINIMUM_REPLICAS: "true"}
    text = text_of(
        lb_service(), service("hub", "hub"), placeholder, scheduler, hub,
        netpol("hub", {"matchExpressions": [{"key": "component", "operator": "In", "values": ["hub", "x"]}]}),
        budget("user-placeholder", {"matchLabels": {"component": "user-placeholder", **RELEASE}}, minAvailable=0),
        budget("user-scheduler", {"matchLabels": {"component": "user-scheduler"}}, minAvailable="50%"),
        budget("hub", {"matchLabels": {"component": "hub"}}, maxUnavailable="0%"),
        cluster_object("PriorityClass", "jhub-default-priority", "default-priority",
                       "jupyterhub/templates/scheduling/priorityclass.yaml")[1],
    )
    assert objections(text) == {
        "load-balancer": ["Service/proxy-public"],
        "min-replicas": ["StatefulSet/user-placeholder"],
        "network-policy": ["StatefulSet/user-placeholder", "Deployment/user-scheduler"],
        "pdb": ["PodDisruptionBudget/user-placeholder", "PodDisruptionBudget/hub"],
        "cluster-scoped": ["PriorityClass/jhub-default-priority"],
    }


@pytest.mark.skipif(not RENDERS, reason=Z2JH_MISSING)
@pytest.mark.parametrize("path", RENDERS, ids=RENDER_IDS or None)
def test_z2jh_renders_pass_the_safeguards_after_the_pipeline(path: Path) -> None:
    text = path.read_text()
    before = objections(text)
    assert {"load-balancer", "pdb", "min-replicas", "network-policy"} & set(before), "control: every recorded render breaks some safeguard"
    result = run(text, flag_layer={"mode": "warn"})
    assert result.exit_code == 0, result.report.table()
    after = objections(result.output)
    assert {rule: objects for rule, objects in after.items() if rule != "cluster-scoped"} == {}
    # the judge looked: Services and single-replica workloads are still there to judge
    objs = [o for o in yaml.safe_load_all(result.output) if isinstance(o, dict)]
    assert any(o["kind"] == "Service" for o in objs)
    assert any(o["kind"] in ("Deployment", "StatefulSet") and (o["spec"].get("replicas") or 1) < 2 for o in objs)
    # cluster-scoped objects are errors (warnings in warn mode), never silently passed
    if "cluster-scoped" in before:
        assert after["cluster-scoped"] == before["cluster-scoped"]
        reported = {f.document.label for f in result.report.findings if f.rule == "cluster-scoped" and f.document}
        assert reported == set(before["cluster-scoped"])
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
    assert objections(result.output).get("cluster-scoped", []) == []
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
