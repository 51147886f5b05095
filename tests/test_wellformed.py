"""wellformed: objects Kubernetes could never decode are refused before any transform runs."""

from __future__ import annotations

import pytest

from jhub_ck8s.errors import InputError
from jhub_ck8s.stream import parse
from jhub_ck8s.wellformed import MAX_DEPTH, check, too_deep

GOOD = """---
# Source: chart/templates/app.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, labels: {tier: web}, annotations: {a: "1"}}
spec:
  template:
    spec:
      containers:
      - name: app
        image: quay.io/a/b:1.0
        env: [{name: X, value: "1"}, {name: Y, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
        resources: {requests: {cpu: 100m, memory: 1Gi}, limits: {cpu: 1}}
"""


def test_a_well_formed_stream_passes_unchanged():
    (doc,) = parse(GOOD)
    assert doc.raw is not None  # nothing re-emitted


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("labels: {tier: web}", "labels: {tier: 5}", "metadata.labels.tier is a number"),
        ("annotations: {a: \"1\"}", "annotations: {a: [1]}", "metadata.annotations.a is a list"),
        ("image: quay.io/a/b:1.0", "image: 5", "containers[0] (app): image is a number"),
        ('value: "1"', "value: 1", "env[0].value is a number"),
        ("cpu: 100m", "cpu: lots", "resources.requests.cpu 'lots' is not a Kubernetes quantity"),
        ("limits: {cpu: 1}", "limits: []", "resources.limits is a list"),
        ("containers:", "initContainers: 5\n      containers:", "spec.template.spec.initContainers is a number"),
    ],
)
def test_undecodable_fields_are_named_with_document_and_source(old, new, fragment):
    with pytest.raises(InputError) as caught:
        parse(GOOD.replace(old, new))
    message = str(caught.value)
    assert message.startswith("document 1 (chart/templates/app.yaml) Deployment/app")
    assert fragment in message


def test_depth_limit_counts_levels_without_recursion():
    value: object = "leaf"
    for _ in range(MAX_DEPTH):
        value = [value]
    assert not too_deep(value)  # exactly MAX_DEPTH levels
    assert too_deep([value])
    assert too_deep({"a": value})
    cyclic: list = []
    cyclic.append(cyclic)
    assert too_deep(cyclic)  # a recursive alias ends, too


def test_scalars_and_empty_documents_are_not_too_deep():
    assert not too_deep("x") and not too_deep({}) and not too_deep([])


def test_check_is_what_parse_runs():
    """``parse`` checks every document, not only the first, with ``check``'s own message."""
    from jhub_ck8s.documents import read as parse_stream

    bad = GOOD.replace("labels: {tier: web}", "labels: {tier: true}").replace("name: app,", "name: second,")
    text = GOOD + bad
    docs = parse_stream(text)
    assert len(docs) == 2
    with pytest.raises(InputError) as direct:
        check(docs[1])
    assert "metadata.labels.tier is a boolean" in str(direct.value)
    with pytest.raises(InputError) as parsed:
        parse(text)
    assert str(parsed.value) == str(direct.value)
    assert str(parsed.value).startswith("document 2 (chart/templates/app.yaml) Deployment/second")
    assert [d.obj for d in parse(GOOD + GOOD)] == [d.obj for d in parse_stream(GOOD + GOOD)]
