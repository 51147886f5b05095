"""transforms/images.py: every image into the target registry, pod specs and the hub's runtime config.

Unit cases call ``images.apply`` on small hand-written streams, one guarantee of the
module docstring each; every expected reference is written out by hand from the
documented rules (host dropped, path kept, Docker Hub names get ``library/``, tag and
digest kept). Over the recorded z2jh renders, the independent audit
(``jhub_ck8s.check``, which rebuilds the user pods with KubeSpawner itself) judges
whether any image is left outside the registry.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import z2jh_streams

from jhub_ck8s.documents import dump_yaml, read
from jhub_ck8s.errors import InputError
from jhub_ck8s.imageref import ImageCollision
from jhub_ck8s.podspec import containers, pod_spec
from jhub_ck8s.report import CHANGE, ERROR, WARNING, Finding
from jhub_ck8s.settings import Settings, read_layer
from jhub_ck8s.stream import Stream, parse
from jhub_ck8s.transforms import REGISTRY, images

TARGET = "harbor.example.com/jupyterhub"
TO_TARGET = Settings(registry=TARGET)
# the annotation the README and the docstring promise, written out (not the module's constant)
ORIGINALS = "jhub-ck8s.io/original-images"
DIGEST_1 = "sha256:" + "1" * 64
DIGEST_2 = "sha256:" + "2" * 64
# stands for a reference that lives in Secret/hub: it must never appear in a finding
SECRET_MARK = "secretive-notebook"


# --- building small streams -----------------------------------------------------------------


def pod_spec_of(*images_: str, init: tuple[str, ...] = (), ephemeral: tuple[str, ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images_)]}
    if init:
        spec["initContainers"] = [{"name": f"i{i}", "image": image} for i, image in enumerate(init)]
    if ephemeral:
        spec["ephemeralContainers"] = [{"name": f"e{i}", "image": image} for i, image in enumerate(ephemeral)]
    return spec


def object_with(kind: str, name: str, spec: dict[str, Any], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """An object of ``kind`` carrying the pod spec where Kubernetes keeps it for that kind."""
    template = {"metadata": {"labels": {"app": name}}, "spec": spec}
    body: dict[str, Any]
    if kind == "Pod":
        body = {"spec": spec}
    elif kind == "PodTemplate":
        body = {"template": template}
    elif kind == "CronJob":
        body = {"spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}}
    else:
        body = {"spec": {"template": template}}
    api = {"Pod": "v1", "PodTemplate": "v1", "ReplicationController": "v1", "Job": "batch/v1", "CronJob": "batch/v1"}
    metadata: dict[str, Any] = {"name": name}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": api.get(kind, "apps/v1"), "kind": kind, "metadata": metadata, **body}


def hub_secret(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "hub", "labels": {"component": "hub"}},
        "type": "Opaque", "stringData": {"values.yaml": dump_yaml(values)},
    }


def stream_of(*objects: dict[str, Any]) -> Stream:
    return Stream(parse("".join("---\n" + dump_yaml(obj) for obj in objects)))


def apply(stream: Stream, settings: Settings = TO_TARGET) -> list[Finding]:
    return list(images.apply(stream, settings))


def images_of(stream: Stream, index: int = 0) -> dict[str, str]:
    """Container name -> image of the index-th document's pod spec."""
    spec = pod_spec(stream.documents[index].obj)
    assert spec is not None
    return {ref.name: ref.container["image"] for ref in containers(spec)}


def annotation(stream: Stream, index: int = 0) -> dict[str, str] | None:
    recorded = (stream.documents[index].obj["metadata"].get("annotations") or {}).get(ORIGINALS)
    return None if recorded is None else json.loads(recorded)


# --- every image of every pod-bearing kind ------------------------------------------------------


POD_KINDS = ["Pod", "PodTemplate", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
             "ReplicationController", "Job", "CronJob"]


@pytest.mark.parametrize("kind", POD_KINDS)
def test_every_container_init_and_ephemeral_image_of_each_kind_moves(kind: str) -> None:
    spec = pod_spec_of("quay.io/jupyterhub/k8s-hub:4.4.0", "traefik:v3.6.12",
                       init=("registry.k8s.io/pause:3.10.1",), ephemeral=("docker.io/bitnami/kubectl:1.30",))
    stream = stream_of(object_with(kind, "thing", spec))
    findings = apply(stream)
    assert images_of(stream) == {
        "c0": "harbor.example.com/jupyterhub/jupyterhub/k8s-hub:4.4.0",
        "c1": "harbor.example.com/jupyterhub/library/traefik:v3.6.12",
        "i0": "harbor.example.com/jupyterhub/pause:3.10.1",
        "e0": "harbor.example.com/jupyterhub/bitnami/kubectl:1.30",
    }
    assert [(f.severity, f.container, f.where) for f in findings] == [
        (CHANGE, "i0", "init container i0"), (CHANGE, "c0", "container c0"), (CHANGE, "c1", "container c1"),
        (CHANGE, "e0", "ephemeral container e0"),
    ]
    assert all(f.document is stream.documents[0] and f.transform == "images" for f in findings)
    assert "traefik:v3.6.12 -> harbor.example.com/jupyterhub/library/traefik:v3.6.12" in findings[2].message


def test_hooks_move_too() -> None:
    hook = object_with("Job", "image-awaiter", pod_spec_of("quay.io/jupyterhub/k8s-image-awaiter:4.4.0"),
                       {"helm.sh/hook": "pre-install,pre-upgrade", "helm.sh/hook-weight": "10"})
    stream = stream_of(hook)
    apply(stream)
    assert images_of(stream) == {"c0": "harbor.example.com/jupyterhub/jupyterhub/k8s-image-awaiter:4.4.0"}


def test_objects_without_pods_are_left_alone() -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"image": "traefik:v3.6.12"}}
    stream = stream_of(config)
    assert apply(stream) == []
    assert stream.documents[0].obj == config


# --- tag, digest, path, registryMap -------------------------------------------------------------------


@pytest.mark.parametrize(("source", "expected"), [
    ("quay.io/jupyterhub/k8s-hub:4.4.0", "harbor.example.com/jupyterhub/jupyterhub/k8s-hub:4.4.0"),
    ("traefik:v3.6.12", "harbor.example.com/jupyterhub/library/traefik:v3.6.12"),
    ("docker.io/library/traefik:v3.6.12", "harbor.example.com/jupyterhub/library/traefik:v3.6.12"),
    ("jupyter/scipy-notebook:2024-01-01", "harbor.example.com/jupyterhub/jupyter/scipy-notebook:2024-01-01"),
    ("registry.k8s.io/kube-scheduler:v1.30.8", "harbor.example.com/jupyterhub/kube-scheduler:v1.30.8"),
    ("localhost:5000/team/app:2", "harbor.example.com/jupyterhub/team/app:2"),
    (f"quay.io/jupyterhub/k8s-hub:4.4.0@{DIGEST_1}", f"harbor.example.com/jupyterhub/jupyterhub/k8s-hub:4.4.0@{DIGEST_1}"),
    (f"quay.io/jupyterhub/k8s-hub@{DIGEST_1}", f"harbor.example.com/jupyterhub/jupyterhub/k8s-hub@{DIGEST_1}"),
])
def test_tag_digest_and_path_are_kept_without_the_source_host(source: str, expected: str) -> None:
    stream = stream_of(object_with("Deployment", "app", pod_spec_of(source)))
    (finding,) = apply(stream)
    assert finding.severity == CHANGE
    assert images_of(stream) == {"c0": expected}


def test_registry_map_sends_a_source_registry_to_its_own_destination() -> None:
    settings = Settings(registry=TARGET, registry_map=(("docker.io", "harbor.example.com/dockerhub-proxy"),
                                                       ("quay.io", "harbor.example.com/quay-proxy")))
    spec = pod_spec_of("traefik:v3.6.12", "quay.io/jupyterhub/k8s-hub:4.4.0", "registry.k8s.io/pause:3.10.1")
    stream = stream_of(object_with("Deployment", "app", spec))
    apply(stream, settings)
    assert images_of(stream) == {
        "c0": "harbor.example.com/dockerhub-proxy/library/traefik:v3.6.12",
        "c1": "harbor.example.com/quay-proxy/jupyterhub/k8s-hub:4.4.0",
        "c2": "harbor.example.com/jupyterhub/pause:3.10.1",
    }


# --- what stays, and a second run ----------------------------------------------------------------


def test_images_already_in_the_target_or_kept_stay_and_are_not_recorded() -> None:
    settings = Settings(registry=TARGET, keep_images=("registry.k8s.io", "quay.io/jupyterhub/k8s-hub:*"))
    spec = pod_spec_of("harbor.example.com/jupyterhub/team/app:1", "registry.k8s.io/pause:3.10.1",
                       "quay.io/jupyterhub/k8s-hub:4.4.0", "quay.io/jupyterhub/k8s-secret-sync:4.4.0")
    stream = stream_of(object_with("Deployment", "app", spec))
    findings = apply(stream, settings)
    assert images_of(stream) == {
        "c0": "harbor.example.com/jupyterhub/team/app:1",
        "c1": "registry.k8s.io/pause:3.10.1",
        "c2": "quay.io/jupyterhub/k8s-hub:4.4.0",
        "c3": "harbor.example.com/jupyterhub/jupyterhub/k8s-secret-sync:4.4.0",
    }
    assert [f.container for f in findings] == ["c3"]
    assert annotation(stream) == {"c3": "quay.io/jupyterhub/k8s-secret-sync:4.4.0"}


def test_a_second_run_changes_nothing() -> None:
    spec = pod_spec_of("quay.io/jupyterhub/k8s-hub:4.4.0", init=("traefik:v3.6.12",))
    values = {"singleuser": {"image": {"name": "quay.io/jupyterhub/k8s-singleuser-sample", "tag": "4.4.0"}}}
    stream = stream_of(object_with("Deployment", "hub", spec), hub_secret(values))
    assert apply(stream)
    first = [doc.obj for doc in stream.documents]
    hub_before = json.dumps(stream.hub().values, sort_keys=True)
    assert apply(stream) == []
    assert [doc.obj for doc in stream.documents] == first
    assert json.dumps(stream.hub().values, sort_keys=True) == hub_before


# --- the original references --------------------------------------------------------------------------


def test_originals_are_recorded_per_container_as_compact_sorted_json() -> None:
    spec = pod_spec_of("traefik:v3.6.12", init=("quay.io/jupyterhub/k8s-network-tools:4.4.0",))
    stream = stream_of(object_with("Deployment", "proxy", spec, {"keep": "me"}))
    apply(stream)
    annotations = stream.documents[0].obj["metadata"]["annotations"]
    assert annotations == {
        "keep": "me",
        ORIGINALS: '{"c0":"traefik:v3.6.12","i0":"quay.io/jupyterhub/k8s-network-tools:4.4.0"}',
    }


def test_originals_of_an_earlier_run_are_kept_and_anything_else_there_replaced() -> None:
    earlier = {ORIGINALS: '{"old":"quay.io/jupyterhub/k8s-hub:4.3.0"}'}
    stream = stream_of(object_with("Deployment", "a", pod_spec_of("traefik:v3.6.12"), earlier),
                       object_with("Deployment", "b", pod_spec_of("traefik:v3.6.12"), {ORIGINALS: "not json"}),
                       object_with("Deployment", "c", pod_spec_of("traefik:v3.6.12"), {ORIGINALS: '["a list"]'}))
    apply(stream)
    assert annotation(stream, 0) == {"old": "quay.io/jupyterhub/k8s-hub:4.3.0", "c0": "traefik:v3.6.12"}
    assert annotation(stream, 1) == {"c0": "traefik:v3.6.12"}
    assert annotation(stream, 2) == {"c0": "traefik:v3.6.12"}


# --- the hub's runtime config ------------------------------------------------------------------------


def runtime_values() -> dict[str, Any]:
    """Every place of the merged values the hub builds user pods from, one image each."""
    return {
        "singleuser": {
            "image": {"name": "quay.io/jupyterhub/k8s-singleuser-sample", "tag": "4.4.0"},
            "networkTools": {"image": {"name": "quay.io/jupyterhub/k8s-network-tools", "tag": "4.4.0"}},
            "initContainers": [{"name": "init-home", "image": "busybox:1.36"}],
            "extraContainers": [{"name": "sidecar", "image": f"quay.io/team/{SECRET_MARK}-sidecar:1"}],
            "profileList": [
                {"display_name": "scipy", "kubespawner_override": {"image": f"jupyter/{SECRET_MARK}:2024-01-01"}},
                {"display_name": "choose", "profile_options": {"image": {
                    "choices": {"r": {"kubespawner_override": {"image": "rocker/r-ver:4.4.1"}}},
                    "unlisted_choice": {"enabled": True, "kubespawner_override": {"image": "{value}"}},
                }}},
            ],
        },
        "hub": {"config": {"KubeSpawner": {
            "image": "quay.io/team/spawner-default:2",
            "init_containers": [{"name": "ks-init", "image": "quay.io/team/ks-init:3"}],
            "extra_containers": [{"name": "ks-side", "image": "quay.io/team/ks-side:4"}],
            "profile_list": [{"display_name": "gpu", "kubespawner_override": {"image": "nvcr.io/nvidia/pytorch:24.01"}}],
        }}},
    }


def test_every_runtime_image_moves_and_is_reported_by_key_path_only() -> None:
    stream = stream_of(hub_secret(runtime_values()))
    findings = apply(stream)
    values = stream.hub().values
    singleuser, spawner = values["singleuser"], values["hub"]["config"]["KubeSpawner"]
    assert singleuser["image"] == {"name": "harbor.example.com/jupyterhub/jupyterhub/k8s-singleuser-sample", "tag": "4.4.0"}
    assert singleuser["networkTools"]["image"] == {
        "name": "harbor.example.com/jupyterhub/jupyterhub/k8s-network-tools", "tag": "4.4.0"
    }
    assert singleuser["initContainers"][0]["image"] == "harbor.example.com/jupyterhub/library/busybox:1.36"
    assert singleuser["extraContainers"][0]["image"] == f"harbor.example.com/jupyterhub/team/{SECRET_MARK}-sidecar:1"
    scipy, choose = singleuser["profileList"]
    assert scipy["kubespawner_override"]["image"] == f"harbor.example.com/jupyterhub/jupyter/{SECRET_MARK}:2024-01-01"
    options = choose["profile_options"]["image"]
    assert options["choices"]["r"]["kubespawner_override"]["image"] == "harbor.example.com/jupyterhub/rocker/r-ver:4.4.1"
    # the unlisted choice's override is a template filled from user input at spawn time
    assert options["unlisted_choice"]["kubespawner_override"]["image"] == "{value}"
    assert spawner["image"] == "harbor.example.com/jupyterhub/team/spawner-default:2"
    assert spawner["init_containers"][0]["image"] == "harbor.example.com/jupyterhub/team/ks-init:3"
    assert spawner["extra_containers"][0]["image"] == "harbor.example.com/jupyterhub/team/ks-side:4"
    assert spawner["profile_list"][0]["kubespawner_override"]["image"] == "harbor.example.com/jupyterhub/nvidia/pytorch:24.01"

    assert {f.hub_key for f in findings} == {
        "singleuser.image", "singleuser.networkTools.image", "singleuser.initContainers[0].image",
        "singleuser.extraContainers[0].image", "singleuser.profileList[0].kubespawner_override.image",
        "singleuser.profileList[1].profile_options.image.choices.r.kubespawner_override.image",
        "hub.config.KubeSpawner.image", "hub.config.KubeSpawner.init_containers[0].image",
        "hub.config.KubeSpawner.extra_containers[0].image",
        "hub.config.KubeSpawner.profile_list[0].kubespawner_override.image",
    }
    for finding in findings:
        assert finding.severity == CHANGE and finding.document is stream.documents[0]
        assert finding.where == f"values.yaml: {finding.hub_key}"
        for text in (finding.message, finding.fix, finding.where):
            assert SECRET_MARK not in text and "quay.io" not in text and "harbor" not in text


def test_runtime_problems_name_the_key_path_never_the_value() -> None:
    values = {"singleuser": {
        "image": {"name": f"example.org/{SECRET_MARK}", "tag": "latest"},
        "initContainers": [{"name": "a", "image": f"example.org/{SECRET_MARK}"},
                           {"name": "b", "image": f"Example.org/{SECRET_MARK} 1"},
                           {"name": "c", "image": 5}],
    }}
    findings = [f for f in apply(stream_of(hub_secret(values))) if f.severity == ERROR]
    assert [(f.rule, f.where) for f in findings] == [
        ("disallowed-tag", "values.yaml: singleuser.image"),
        ("disallowed-tag", "values.yaml: singleuser.initContainers[0].image"),
        ("image-reference", "values.yaml: singleuser.initContainers[1].image"),
        ("image-reference", "values.yaml: singleuser.initContainers[2].image"),
    ]
    for finding in findings:
        assert SECRET_MARK not in finding.message + finding.fix + finding.where


# --- references the platform rejects, or that are not references ----------------------------------------


@pytest.mark.parametrize(("image", "rule", "says"), [
    ("quay.io/jupyterhub/k8s-hub", "disallowed-tag", "has no tag or digest"),
    ("quay.io/jupyterhub/k8s-hub:latest", "disallowed-tag", "uses the tag latest"),
    ("quay.io/jupyterhub/k8s-hub:4.4.0:extra", "image-reference", "invalid path component"),
    ("Bad Image", "image-reference", "white space"),
])
def test_unpinned_and_unparsable_references_are_errors_on_their_container(image: str, rule: str, says: str) -> None:
    stream = stream_of(object_with("Deployment", "hub", pod_spec_of("traefik:v3.6.12", image)))
    errors = [f for f in apply(stream) if f.severity == ERROR]
    assert [(f.rule, f.container, f.where) for f in errors] == [(rule, "c1", "container c1")]
    assert says in errors[0].message and errors[0].fix
    assert images_of(stream)["c0"] == "harbor.example.com/jupyterhub/library/traefik:v3.6.12"


def test_an_image_that_is_not_a_string_is_an_error() -> None:
    text = "---\n" + dump_yaml(object_with("Pod", "p", {"containers": [{"name": "c0", "image": ["a", "list"]}]}))
    with pytest.raises(InputError, match="image"):
        parse(text)  # the pipeline refuses it before any transform runs (wellformed) ...
    stream = Stream(read(text))  # ... and the transform, handed it unchecked, reports it
    (error,) = apply(stream)
    assert (error.severity, error.rule, error.container) == (ERROR, "image-reference", "c0")
    assert images_of(stream) == {"c0": ["a", "list"]}


# --- two sources, one destination -----------------------------------------------------------------------


def test_two_sources_mapped_to_one_destination_stop_the_run_naming_both() -> None:
    stream = stream_of(object_with("Deployment", "a", pod_spec_of("a.example/team/tool:1")),
                       object_with("Deployment", "b", pod_spec_of("b.example/team/tool:1")))
    with pytest.raises(ImageCollision) as caught:
        apply(stream)
    message = str(caught.value)
    assert "a.example/team/tool:1" in message and "b.example/team/tool:1" in message
    assert "harbor.example.com/jupyterhub/team/tool:1" in message and "registryMap" in message
    # the fix it names works: one source registry gets a project of its own
    fixed = Settings(registry=TARGET, registry_map=(("b.example", "harbor.example.com/b-example"),))
    stream = stream_of(object_with("Deployment", "a", pod_spec_of("a.example/team/tool:1")),
                       object_with("Deployment", "b", pod_spec_of("b.example/team/tool:1")))
    apply(stream, fixed)
    assert images_of(stream, 0) == {"c0": "harbor.example.com/jupyterhub/team/tool:1"}
    assert images_of(stream, 1) == {"c0": "harbor.example.com/b-example/team/tool:1"}


def test_a_collision_with_a_runtime_image_names_its_key_path_not_its_value() -> None:
    values = {"singleuser": {"image": {"name": f"a.example/team/{SECRET_MARK}", "tag": "1"}}}
    stream = stream_of(hub_secret(values),
                       object_with("Deployment", "b", pod_spec_of(f"b.example/team/{SECRET_MARK}:1")))
    with pytest.raises(ImageCollision) as caught:
        apply(stream)
    message = str(caught.value)
    assert "singleuser.image" in message and "a.example" not in message


def test_the_same_image_twice_is_no_collision() -> None:
    stream = stream_of(object_with("Deployment", "a", pod_spec_of("traefik:v3.6.12")),
                       object_with("Deployment", "b", pod_spec_of("docker.io/library/traefik:v3.6.12")))
    assert [f.severity for f in apply(stream)] == [CHANGE, CHANGE]


# --- pinning to the mirrored digests ------------------------------------------------------------------------


def lock_file(tmp_path, *entries: tuple[str, str, str]) -> str:
    """A lock file as ``mirror`` writes it, by hand: (normalised source, digest, destination)."""
    lines = ["apiVersion: jhub-ck8s.io/v1alpha1", "kind: ImageLock", "images:"]
    for source, digest, destination in entries:
        lines += [f"  - source: {source}", f"    digest: {digest}", f"    destination: {destination}"]
    path = tmp_path / "images.lock.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_pin_gives_every_image_the_digest_it_was_mirrored_with(tmp_path) -> None:
    lock = lock_file(
        tmp_path,
        ("quay.io/jupyterhub/k8s-hub:4.4.0", DIGEST_1, "harbor.example.com/jupyterhub/jupyterhub/k8s-hub:4.4.0"),
        ("docker.io/library/traefik:v3.6.12", DIGEST_2, "harbor.example.com/jupyterhub/library/traefik:v3.6.12"),
        ("quay.io/jupyterhub/k8s-singleuser-sample:4.4.0", DIGEST_2,
         "harbor.example.com/jupyterhub/jupyterhub/k8s-singleuser-sample:4.4.0"),
    )
    settings = Settings(registry=TARGET, pin=lock)
    values = {"singleuser": {"image": {"name": "quay.io/jupyterhub/k8s-singleuser-sample", "tag": "4.4.0"}}}
    spec = pod_spec_of("quay.io/jupyterhub/k8s-hub:4.4.0", "traefik:v3.6.12", f"quay.io/team/own:1@{DIGEST_1}")
    stream = stream_of(object_with("Deployment", "hub", spec), hub_secret(values))
    assert not [f for f in apply(stream, settings) if f.severity == ERROR]
    assert images_of(stream) == {
        "c0": f"harbor.example.com/jupyterhub/jupyterhub/k8s-hub:4.4.0@{DIGEST_1}",
        "c1": f"harbor.example.com/jupyterhub/library/traefik:v3.6.12@{DIGEST_2}",
        "c2": f"harbor.example.com/jupyterhub/team/own:1@{DIGEST_1}",  # its own digest, not looked up
    }
    # the chart's {name, tag} form has no digest field: the digest rides in the tag
    assert stream.hub().values["singleuser"]["image"] == {
        "name": "harbor.example.com/jupyterhub/jupyterhub/k8s-singleuser-sample", "tag": f"4.4.0@{DIGEST_2}"
    }
    assert apply(stream, settings) == []  # pinned output is stable


def test_pin_refuses_an_image_the_lock_does_not_list(tmp_path) -> None:
    lock = lock_file(tmp_path, ("quay.io/jupyterhub/k8s-hub:4.4.0", DIGEST_1,
                                "harbor.example.com/jupyterhub/jupyterhub/k8s-hub:4.4.0"))
    values = {"singleuser": {"image": {"name": f"quay.io/team/{SECRET_MARK}", "tag": "1"}}}
    stream = stream_of(object_with("Deployment", "proxy", pod_spec_of("traefik:v3.6.12")), hub_secret(values))
    errors = [f for f in apply(stream, Settings(registry=TARGET, pin=lock)) if f.severity == ERROR]
    assert [(f.rule, f.where) for f in errors] == [
        ("image-not-locked", "container c0"), ("image-not-locked", "values.yaml: singleuser.image"),
    ]
    assert "'traefik:v3.6.12' is not in the lock file" in errors[0].message
    assert SECRET_MARK not in errors[1].message + errors[1].fix
    assert images_of(stream) == {"c0": "traefik:v3.6.12"}  # not moved to an unpinned reference


@pytest.mark.parametrize("block", [False, "false", True, None])
def test_pin_asks_the_lock_for_network_tools_only_when_a_user_pod_runs_them(tmp_path, block: object) -> None:
    # images and mirror leave network-tools out when the metadata block is off (no pod runs
    # it), so the lock mirror writes cannot list it: pinning must not ask for it then.
    lock = lock_file(tmp_path, ("quay.io/jupyterhub/k8s-singleuser-sample:4.4.0", DIGEST_2,
                                "harbor.example.com/jupyterhub/jupyterhub/k8s-singleuser-sample:4.4.0"))
    values: dict[str, Any] = {"singleuser": {
        "image": {"name": "quay.io/jupyterhub/k8s-singleuser-sample", "tag": "4.4.0"},
        "networkTools": {"image": {"name": "quay.io/jupyterhub/k8s-network-tools", "tag": "4.4.0"}},
    }}
    if block is not None:
        values["singleuser"]["cloudMetadata"] = {"blockWithIptables": block}
    stream = stream_of(hub_secret(values))
    errors = [(f.rule, f.where) for f in apply(stream, Settings(registry=TARGET, pin=lock)) if f.severity == ERROR]
    tools = stream.hub().values["singleuser"]["networkTools"]["image"]
    if block in (True, None):  # the chart's default runs it: the lock must list it
        assert errors == [("image-not-locked", "values.yaml: singleuser.networkTools.image")]
        assert tools["name"] == "quay.io/jupyterhub/k8s-network-tools"
    else:
        assert errors == []
        assert tools == {"name": "harbor.example.com/jupyterhub/jupyterhub/k8s-network-tools", "tag": "4.4.0"}
    assert stream.hub().values["singleuser"]["image"]["tag"] == f"4.4.0@{DIGEST_2}"


# --- no target ---------------------------------------------------------------------------------------------


def test_without_a_registry_images_stay_and_one_warning_says_how_to_set_it() -> None:
    spec = pod_spec_of("traefik:v3.6.12")
    stream = stream_of(object_with("Deployment", "proxy", spec))
    (warning,) = apply(stream, Settings())
    assert (warning.severity, warning.rule) == (WARNING, "no-registry")
    assert "--registry" in warning.fix
    assert images_of(stream) == {"c0": "traefik:v3.6.12"}
    assert "annotations" not in stream.documents[0].obj["metadata"]


def test_a_registry_map_alone_is_a_target() -> None:
    settings = Settings(registry_map=(("docker.io", "harbor.example.com/dockerhub-proxy"),))
    stream = stream_of(object_with("Deployment", "proxy", pod_spec_of("traefik:v3.6.12")))
    (change,) = apply(stream, settings)
    assert change.severity == CHANGE
    assert images_of(stream) == {"c0": "harbor.example.com/dockerhub-proxy/library/traefik:v3.6.12"}


# --- the recorded z2jh renders, judged by the independent audit ---------------------------------------------


IMAGES_ONLY = read_layer({"registry": TARGET, "disable": [t for t in REGISTRY if t != "images"]}, "test")


def _outside(text: str) -> dict[bool, list[str]]:
    """Objects (False) and spawned user pods (True) the audit finds with an image outside TARGET."""
    from jhub_ck8s.check.runner import RULE_NOT_AUDITED, Options, audit

    result = audit(text, Options(registry=TARGET))
    not_audited = [f.message for s in result.subjects for f in s.findings if f.rule == RULE_NOT_AUDITED]
    if not_audited:
        pytest.skip(f"user pods cannot be rebuilt: {not_audited[0]}")
    assert result.spawned_pods > 0
    found: dict[bool, list[str]] = {False: [], True: []}
    for subject in result.subjects:
        for finding in subject.findings:
            if finding.rule == "safeguard-trusted-registry":
                found[subject.document is None].append(f"{subject.label} {finding.where}")
    return found


@pytest.mark.parametrize("path", z2jh_streams())
def test_z2jh_no_image_outside_the_registry_in_objects_or_spawned_user_pods(path) -> None:
    from jhub_ck8s.pipeline import run

    text = path.read_text()
    before = _outside(text)
    assert before[False] and before[True], "control: the raw render pulls from outside the registry"
    result = run(text, flag_layer=IMAGES_ONLY)
    assert result.exit_code == 0, result.report.table()
    assert _outside(result.output) == {False: [], True: []}
