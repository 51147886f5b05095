"""transforms/pull_secret.py: the pull secret on every pod spec and on the user pods, once.

Unit cases call ``pull_secret.apply`` on small hand-written streams, one guarantee of
the module docstring each. Whether the user pods really get the secret exactly once is
judged by KubeSpawner itself (``jhub_ck8s.check.pod_rebuild`` rebuilds the pods from the
hub's config with the real library), not by reading back the key the transform wrote.
"""

from __future__ import annotations

import copy
import importlib.util
from typing import Any

import pytest

from jhub_ck8s.documents import dump_yaml
from jhub_ck8s.podspec import pod_spec
from jhub_ck8s.report import CHANGE, Finding
from jhub_ck8s.settings import Settings
from jhub_ck8s.stream import Stream, parse
from jhub_ck8s.transforms import pull_secret

SECRET = "pull-secret"
WITH_SECRET = Settings(pull_secret=SECRET)


def workload(kind: str, name: str, pull_secrets: Any = None, hook: bool = False) -> dict[str, Any]:
    """An object of ``kind`` with a pod spec where Kubernetes keeps it, ``imagePullSecrets`` as given."""
    spec: dict[str, Any] = {"containers": [{"name": name, "image": "harbor.example.com/team/app:1"}]}
    if pull_secrets is not None:
        spec["imagePullSecrets"] = pull_secrets
    template = {"metadata": {"labels": {"app": name}}, "spec": spec}
    metadata: dict[str, Any] = {"name": name}
    if hook:
        metadata["annotations"] = {"helm.sh/hook": "pre-install"}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": kind, "metadata": metadata, "spec": spec}
    if kind == "CronJob":
        job = {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}
        return {"apiVersion": "batch/v1", "kind": kind, "metadata": metadata, "spec": job}
    api = "batch/v1" if kind == "Job" else "apps/v1"
    return {"apiVersion": api, "kind": kind, "metadata": metadata, "spec": {"template": template}}


def hub_secret(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hub", "labels": {"component": "hub"}},
        "type": "Opaque", "stringData": {"values.yaml": dump_yaml(values)},
    }


def user_values(**extra: Any) -> dict[str, Any]:
    """The part of z2jh's merged values the hub builds user pods from (pullSecrets as given)."""
    image: dict[str, Any] = {"name": "harbor.example.com/team/k8s-singleuser-sample", "tag": "4.4.0"}
    if "pull_secrets" in extra:
        image["pullSecrets"] = extra.pop("pull_secrets")
    return {"singleuser": {"image": image}, **extra}


def stream_of(*objects: dict[str, Any]) -> Stream:
    return Stream(parse("".join("---\n" + dump_yaml(obj) for obj in objects)))


def apply(stream: Stream, settings: Settings = WITH_SECRET) -> list[Finding]:
    return list(pull_secret.apply(stream, settings))


def pull_secrets_of(stream: Stream, index: int) -> Any:
    spec = pod_spec(stream.documents[index].obj)
    assert spec is not None
    return spec.get("imagePullSecrets")


# --- pod specs -------------------------------------------------------------------------------------------


def test_every_pod_spec_hooks_included_gets_the_secret_once() -> None:
    kinds = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"]
    stream = stream_of(*(workload(kind, kind.lower(), hook=kind == "Job") for kind in kinds))
    findings = apply(stream)
    for index in range(len(kinds)):
        assert pull_secrets_of(stream, index) == [{"name": SECRET}], kinds[index]
    assert [(f.severity, f.where, f.document) for f in findings] == [
        (CHANGE, "pod spec", doc) for doc in stream.documents
    ]
    assert all(SECRET in f.message for f in findings)


def test_existing_entries_are_kept_and_nothing_is_duplicated() -> None:
    stream = stream_of(
        workload("Deployment", "other", [{"name": "team-registry"}]),
        workload("Deployment", "listed", [{"name": "team-registry"}, {"name": SECRET}]),
        workload("Deployment", "null", None),
    )
    stream.documents[2].obj["spec"]["template"]["spec"]["imagePullSecrets"] = None
    findings = apply(stream)
    assert pull_secrets_of(stream, 0) == [{"name": "team-registry"}, {"name": SECRET}]
    assert pull_secrets_of(stream, 1) == [{"name": "team-registry"}, {"name": SECRET}]
    assert pull_secrets_of(stream, 2) == [{"name": SECRET}]
    assert [f.document for f in findings] == [stream.documents[0], stream.documents[2]]


def test_objects_without_pods_are_left_alone() -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hub"}, "spec": {"ports": [{"port": 80}]}}
    stream = stream_of(service)
    assert apply(stream) == []
    assert stream.documents[0].obj == service


def test_without_a_pull_secret_nothing_happens() -> None:
    stream = stream_of(workload("Deployment", "hub"), hub_secret(user_values()))
    before = copy.deepcopy([doc.obj for doc in stream.documents])
    assert apply(stream, Settings()) == []
    assert [doc.obj for doc in stream.documents] == before
    assert stream.decoded_hub is None  # the hub's config was not even decoded


# --- the user pods ---------------------------------------------------------------------------------------


def test_the_user_pods_get_it_through_singleuser_image_pull_secrets() -> None:
    stream = stream_of(hub_secret(user_values(pull_secrets=["team-registry"])))
    (finding,) = apply(stream)
    assert stream.hub().values["singleuser"]["image"]["pullSecrets"] == ["team-registry", SECRET]
    assert (finding.severity, finding.hub_key) == (CHANGE, "singleuser.image.pullSecrets")
    assert finding.where == "values.yaml: singleuser.image.pullSecrets"
    assert finding.document is stream.documents[0]


def test_a_missing_or_null_user_list_is_created() -> None:
    for values in (user_values(), user_values(pull_secrets=None)):
        stream = stream_of(hub_secret(values))
        assert len(apply(stream)) == 1
        assert stream.hub().values["singleuser"]["image"]["pullSecrets"] == [SECRET]


@pytest.mark.parametrize("listed", [[SECRET], [{"name": SECRET}]], ids=["name", "mapping"])
def test_already_in_the_user_list_is_not_added_again(listed: list[Any]) -> None:
    stream = stream_of(hub_secret(user_values(pull_secrets=listed)))
    assert apply(stream) == []
    assert stream.hub().values["singleuser"]["image"]["pullSecrets"] == listed


@pytest.mark.parametrize("listed", [[SECRET], [{"name": SECRET}]], ids=["name", "mapping"])
def test_not_added_for_user_pods_when_the_global_list_has_it(listed: list[Any]) -> None:
    """The hub hands both lists to KubeSpawner: once is enough (twice, the API server warns
    ``duplicate name``)."""
    stream = stream_of(hub_secret(user_values(imagePullSecrets=listed)))
    assert apply(stream) == []
    assert "pullSecrets" not in stream.hub().values["singleuser"]["image"]
    assert stream.hub().values["imagePullSecrets"] == listed


def test_a_second_run_changes_nothing() -> None:
    stream = stream_of(workload("Deployment", "hub", [{"name": "team-registry"}]), workload("Job", "hook", hook=True),
                       hub_secret(user_values()))
    assert len(apply(stream)) == 3
    objects = copy.deepcopy([doc.obj for doc in stream.documents])
    values = copy.deepcopy(stream.hub().values)
    assert apply(stream) == []
    assert [doc.obj for doc in stream.documents] == objects
    assert stream.hub().values == values


# --- judged by KubeSpawner: the pods the hub will create ---------------------------------------------------


def _spawned_pull_secrets(values: dict[str, Any]) -> list[Any]:
    if importlib.util.find_spec("kubespawner") is None:
        pytest.skip("jupyterhub-kubespawner is not installed (run make setup)")
    from jhub_ck8s.check.pod_rebuild import build_user_pods

    (user_pod,) = build_user_pods(values)
    return user_pod.pod["spec"].get("imagePullSecrets") or []


@pytest.mark.parametrize("values", [
    user_values(),
    user_values(pull_secrets=["team-registry"]),
    user_values(imagePullSecrets=[SECRET]),
    user_values(imagePullSecrets=[{"name": SECRET}], pull_secrets=["team-registry"]),
], ids=["none", "user-list", "global-list", "both-lists"])
def test_every_user_pod_kubespawner_builds_lists_the_secret_exactly_once(values: dict[str, Any]) -> None:
    stream = stream_of(hub_secret(values))
    apply(stream)
    names = [entry["name"] for entry in _spawned_pull_secrets(stream.hub().values)]
    assert names.count(SECRET) == 1, names


def test_control_kubespawner_repeats_a_secret_given_in_both_lists() -> None:
    """Why the global list is looked at: without the check, the user pod would list it twice."""
    values = user_values(imagePullSecrets=[SECRET], pull_secrets=[SECRET])
    names = [entry["name"] for entry in _spawned_pull_secrets(values)]
    assert names.count(SECRET) == 2, names
