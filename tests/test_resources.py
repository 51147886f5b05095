"""transforms.resources: every container gets cpu/memory requests and limits; explicit ones stay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Z2JH, Z2JH_MISSING

from jhub_ck8s.documents import read
from jhub_ck8s.errors import InputError
from jhub_ck8s.pipeline import run
from jhub_ck8s.podspec import containers, pod_spec
from jhub_ck8s.quantity import parse as quantity
from jhub_ck8s.report import CHANGE, ERROR, Finding
from jhub_ck8s.settings import ResourceList, ResourceOverride, Resources, Settings
from jhub_ck8s.stream import Stream, parse
from jhub_ck8s.transforms import resources

RENDERS = sorted(Z2JH.glob("template/*.yaml")) + sorted(Z2JH.glob("post-render-input/*/*.yaml"))

DEFAULTS = {"requests": {"cpu": "10m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
HARDENED = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def deployment(
    *,
    init: list[dict[str, Any]] | None = None,
    main: list[dict[str, Any]] | None = None,
    name: str = "hub",
    component: str = "hub",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": main or [container("hub")],
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    }
    if init:
        spec["initContainers"] = init
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "annotations": {"elastisys.io/ignore-minimum-replicas": "true"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"component": component}},
            "template": {"metadata": {"labels": {"component": component}}, "spec": spec},
        },
    }


def container(name: str, resources_: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "name": name,
        "image": "quay.io/jupyterhub/k8s-hub:4.4.0",
        "securityContext": dict(HARDENED),
    }
    if resources_ is not None:
        result["resources"] = resources_
    return result


def stream_of(*objects: dict[str, Any]) -> Stream:
    return Stream(parse(yaml.safe_dump_all(objects, sort_keys=False)))


def apply(stream: Stream, settings: Settings | None = None) -> list[Finding]:
    return list(resources.apply(stream, settings or Settings()))


def first_container(stream: Stream, field: str = "containers", index: int = 0) -> dict[str, Any]:
    spec = pod_spec(stream.documents[0].obj)
    assert spec is not None
    return spec[field][index]


# --- filling ---------------------------------------------------------------------------


def test_fills_every_missing_field_of_containers_and_init_containers() -> None:
    stream = stream_of(deployment(init=[container("init")], main=[container("a"), container("b")]))
    findings = apply(stream)
    assert [f.severity for f in findings] == [CHANGE] * 3
    assert [f.container for f in findings] == ["init", "a", "b"]
    assert findings[0].where == "init container init"
    assert all(f.document is stream.documents[0] for f in findings)
    for ref in containers(pod_spec(stream.documents[0].obj) or {}):
        assert ref.container["resources"] == DEFAULTS
    assert "requests.cpu=10m" in findings[0].message and "limits.memory=1Gi" in findings[0].message


def test_ephemeral_containers_are_left_alone() -> None:
    obj = deployment()
    debug = {"name": "debug", "image": "busybox:1.36"}
    obj["spec"]["template"]["spec"]["ephemeralContainers"] = [debug]
    stream = stream_of(obj)
    apply(stream)
    assert "resources" not in first_container(stream, "ephemeralContainers")


def test_never_overwrites_explicit_values_and_fills_the_rest() -> None:
    given = {"requests": {"cpu": 2, "memory": "3Gi"}, "limits": {"cpu": "4"}}
    stream = stream_of(deployment(main=[container("hub", given)]))
    findings = apply(stream)
    assert first_container(stream)["resources"] == {
        "requests": {"cpu": 2, "memory": "3Gi"},
        "limits": {"cpu": "4", "memory": "3Gi"},
    }
    assert len(findings) == 1
    assert "limits.memory=3Gi (default 1Gi raised to the request)" in findings[0].message


def test_default_request_above_explicit_limit_is_lowered_to_the_limit() -> None:
    limits = {"limits": {"cpu": "5m", "memory": "256Mi"}}
    stream = stream_of(deployment(main=[container("hub", limits)]))
    findings = apply(stream)
    res = first_container(stream)["resources"]
    assert res["requests"] == {"cpu": "5m", "memory": "256Mi"}
    assert res["limits"] == {"cpu": "5m", "memory": "256Mi"}
    assert "requests.cpu=5m (default 10m lowered to the limit)" in findings[0].message
    assert "requests.memory=256Mi (default 512Mi lowered to the limit)" in findings[0].message


def test_conflicting_defaults_never_make_an_invalid_pair() -> None:
    settings = Settings(resource_overrides=(
        ResourceOverride(resources=Resources(requests=ResourceList(memory="2Gi"))),
    ))
    stream = stream_of(deployment())
    findings = apply(stream, settings)
    res = first_container(stream)["resources"]
    assert res["requests"]["memory"] == res["limits"]["memory"] == "2Gi"
    assert "raised to the request" in findings[0].message


def test_null_sections_are_filled() -> None:
    stream = stream_of(deployment(main=[container("hub", {"requests": None, "limits": None})]))
    apply(stream)
    assert first_container(stream)["resources"] == DEFAULTS


def test_user_placeholder_pause_keeps_its_memory_request() -> None:
    # z2jh copies singleuser.memory.guarantee (1G) into the pause container's requests only.
    obj = deployment(main=[container("pause", {"requests": {"memory": "1G"}})],
                     name="user-placeholder", component="user-placeholder")
    obj["kind"] = "StatefulSet"
    stream = stream_of(obj)
    apply(stream)
    assert first_container(stream)["resources"] == {
        "requests": {"memory": "1G", "cpu": "10m"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }


# --- overrides and the public API --------------------------------------------------------


def test_defaults_for_applies_matching_overrides_in_order() -> None:
    def limit(cpu: str) -> Resources:
        return Resources(limits=ResourceList(cpu=cpu))

    settings = Settings(resource_overrides=(
        ResourceOverride(kind="Deployment", resources=limit("2")),
        ResourceOverride(name="hub", container="hub", resources=limit("3")),
        ResourceOverride(container="side*", resources=Resources(ResourceList(memory="64Mi"))),
        ResourceOverride(kind="StatefulSet", resources=limit("9")),
    ))
    hub = resources.defaults_for(settings, "Deployment", "hub", "hub")
    assert hub == Resources(ResourceList("10m", "512Mi"), ResourceList("3", "1Gi"))
    sidecar = resources.defaults_for(settings, "Deployment", "hub", "sidecar-1")
    assert sidecar == Resources(ResourceList("10m", "64Mi"), ResourceList("2", "1Gi"))
    assert resources.defaults_for(settings, "Job", "x", "y") == Settings().resources


def test_overrides_reach_the_containers() -> None:
    settings = Settings(resource_overrides=(
        ResourceOverride(kind="Deployment", name="hub", container="hub",
                         resources=Resources(Resources().requests, ResourceList(memory="4Gi"))),
    ))
    stream = stream_of(deployment(main=[container("hub"), container("sidecar")]))
    apply(stream, settings)
    assert first_container(stream)["resources"]["limits"]["memory"] == "4Gi"
    assert first_container(stream, index=1)["resources"]["limits"]["memory"] == "1Gi"


def test_fill_container_resources_is_public_and_reports_each_field() -> None:
    item: dict[str, Any] = {"name": "notebook", "resources": {"limits": {"memory": "2G"}}}
    done = resources.fill_container_resources(item, Settings().resources)
    assert item["resources"] == {
        "limits": {"memory": "2G", "cpu": "1"},
        "requests": {"cpu": "10m", "memory": "512Mi"},
    }
    assert done == ["requests.cpu=10m", "limits.cpu=1", "requests.memory=512Mi"]
    assert resources.fill_container_resources(item, Settings().resources) == []


def test_a_resources_value_that_is_not_a_mapping_is_never_replaced() -> None:
    item: dict[str, Any] = {"name": "x", "resources": "lots"}
    assert resources.fill_container_resources(item, Settings().resources) == []
    assert item["resources"] == "lots"
    item = {"name": "x", "resources": {"requests": "lots"}}
    assert resources.fill_container_resources(item, Settings().resources) == [
        "limits.cpu=1", "limits.memory=1Gi"
    ]
    assert item["resources"]["requests"] == "lots"


# --- errors ---------------------------------------------------------------------------


def test_explicit_request_above_explicit_limit_is_an_error_and_unchanged() -> None:
    given = {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    stream = stream_of(deployment(main=[container("hub", given)]))
    findings = apply(stream)
    errors = [f for f in findings if f.severity == ERROR]
    assert len(errors) == 1
    assert errors[0].rule == "resources-request-above-limit"
    assert "requests.cpu 2 is above limits.cpu 1" in errors[0].message
    assert "hub.resources" in errors[0].fix
    assert errors[0].container == "hub"
    assert first_container(stream)["resources"] == given
    assert not [f for f in findings if f.severity == CHANGE]


# (value, whether the pipeline refuses it as bad input before any transform runs: "-1" is a
# well-formed quantity, wrong for the platform, so it reaches the transform)
@pytest.mark.parametrize(("bad", "refused"), [("lots", True), ("1 Gi", True), ("-1", False), (True, True)])
def test_invalid_explicit_quantity_is_an_error(bad: object, refused: bool) -> None:
    given = {"requests": {"memory": bad}}
    obj = deployment(main=[container("chp", given)], name="proxy", component="proxy")
    text = yaml.safe_dump_all([obj], sort_keys=False)
    if refused:
        with pytest.raises(InputError, match=r"requests\.memory"):
            parse(text)  # the pipeline refuses it before any transform runs (wellformed) ...
    stream = Stream(read(text))  # ... and the transform, handed it unchecked, reports it
    findings = apply(stream)
    errors = [f for f in findings if f.severity == ERROR]
    assert [e.rule for e in errors] == ["resources-invalid-quantity"]
    assert "requests.memory" in errors[0].message
    assert "proxy.chp.resources" in errors[0].fix
    assert first_container(stream)["resources"]["requests"]["memory"] == bad


def test_unknown_component_gets_a_generic_fix() -> None:
    given = {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}
    stream = stream_of(deployment(main=[container("app", given)], name="other", component="other"))
    (error,) = [f for f in apply(stream) if f.severity == ERROR]
    assert "the chart value that sets this container's resources" in error.fix


# --- idempotence and the pipeline ------------------------------------------------------------


def test_second_run_changes_nothing() -> None:
    main = [container("hub", {"limits": {"cpu": "5m"}})]
    stream = stream_of(deployment(init=[container("init")], main=main))
    assert apply(stream)
    assert apply(stream) == []


def _text(*objects: dict[str, Any]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)


def test_pipeline_fills_and_a_second_pass_is_byte_identical() -> None:
    first = run(_text(deployment()))
    assert first.exit_code == 0, first.report.table()
    (hub,) = [o for o in yaml.safe_load_all(first.output) if o["kind"] == "Deployment"]
    assert hub["spec"]["template"]["spec"]["containers"][0]["resources"] == DEFAULTS
    second = run(first.output)
    assert second.exit_code == 0
    assert second.output == first.output
    assert not [f for f in second.report.findings if f.severity == CHANGE]


def test_pipeline_enforce_fails_with_empty_output_and_warn_passes() -> None:
    given = {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}
    bad = _text(deployment(main=[container("hub", given)]))
    enforced = run(bad)
    assert enforced.exit_code == 1
    assert enforced.output == ""
    assert any(f.rule == "resources-request-above-limit" for f in enforced.report.findings)
    warned = run(bad, flag_layer={"mode": "warn"})
    assert warned.exit_code == 0
    assert warned.output
    (finding,) = [f for f in warned.report.findings if f.rule == "resources-request-above-limit"]
    assert finding.severity == "warning"


# --- the real z2jh renders ---------------------------------------------------------------


@pytest.mark.skipif(not RENDERS, reason=Z2JH_MISSING)
@pytest.mark.parametrize("path", RENDERS, ids=[str(p.relative_to(Z2JH)) for p in RENDERS] or None)
def test_z2jh_every_container_has_requests_and_limits(path: Path) -> None:
    result = run(path.read_text(), flag_layer={"mode": "warn"})
    assert result.exit_code == 0, result.report.table()
    checked = 0
    for obj in yaml.safe_load_all(result.output):
        spec = pod_spec(obj) if obj else None
        if spec is None:
            continue
        for ref in containers(spec, ("initContainers", "containers")):
            res = ref.container.get("resources") or {}
            for part in ("requests", "limits"):
                for name in ("cpu", "memory"):
                    where = f"{obj['kind']}/{obj['metadata']['name']} {ref.where}"
                    assert name in (res.get(part) or {}), where
            for name in ("cpu", "memory"):
                assert quantity(res["requests"][name]) <= quantity(res["limits"][name])
            checked += 1
    assert checked >= 5
