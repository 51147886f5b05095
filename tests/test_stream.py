"""Parsing and serialising the stream: order, comments, empty documents, List, errors."""

from __future__ import annotations

import pytest

from jhub_ck8s.errors import InputError
from jhub_ck8s.stream import Stream, parse, serialize

HELM3 = """---
# Source: chart/templates/a.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  # a comment inside is kept for unchanged documents
data: {x: "1"}
---
# Source: chart/templates/empty.yaml
---
# Source: chart/templates/b.yaml
apiVersion: v1
kind: Service
metadata: {name: b}
"""

HELM4 = """apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  annotations:
    postrenderer.helm.sh/postrender-filename: 'chart/templates/a.yaml'
---
apiVersion: v1
kind: Service
metadata:
  name: b
  annotations:
    postrenderer.helm.sh/postrender-filename: 'chart/templates/b.yaml'
"""


def test_helm3_input_keeps_order_sources_and_drops_empty_documents():
    docs = parse(HELM3)
    assert [(d.number, d.label, d.source) for d in docs] == [
        (1, "ConfigMap/a", "chart/templates/a.yaml"),
        (2, "Service/b", "chart/templates/b.yaml"),
    ]
    out = serialize(docs)
    assert "# a comment inside is kept" in out
    assert out.count("---\n") == 2
    assert serialize(parse(out)) == out


def test_helm4_input_sources_from_annotation():
    docs = parse(HELM4)
    assert [d.source for d in docs] == ["chart/templates/a.yaml", "chart/templates/b.yaml"]


def test_changed_document_is_reemitted_and_others_are_verbatim():
    docs = parse(HELM3)
    docs[1].obj["spec"] = {"type": "ClusterIP"}
    docs[1].mark_changed()
    out = serialize(docs)
    assert "# a comment inside is kept" in out  # untouched document byte for byte
    assert "type: ClusterIP" in out
    assert out.index("# Source: chart/templates/b.yaml") < out.index("type: ClusterIP")


def test_dates_stay_strings():
    (doc,) = parse("kind: ConfigMap\nmetadata: {name: a}\ndata: {day: 2025-06-30}\n")
    assert doc.obj["data"]["day"] == "2025-06-30"


def test_list_becomes_one_document_per_item():
    docs = parse(
        "---\n# Source: x.yaml\napiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: one}}\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: two}}\n"
    )
    assert [(d.label, d.position, d.source) for d in docs] == [
        ("ConfigMap/one", "document 1 item 1", "x.yaml"),
        ("ConfigMap/two", "document 1 item 2", "x.yaml"),
    ]
    assert serialize(docs).count("---\n") == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\n# Source: t/bad.yaml\nkind: ConfigMap\nmetadata: {name: [\n", r"document 1 \(t/bad.yaml\): malformed YAML at line \d+"),
        ("kind: ConfigMap\n---\n# Source: t/list.yaml\n- a\n- b\n", r"document 2 \(t/list.yaml\): expected a Kubernetes object \(a mapping\), got a list"),
        ("---\n# Source: t/nokind.yaml\napiVersion: v1\nmetadata: {name: x}\n", r"document 1 \(t/nokind.yaml\): object has no 'kind'"),
        ("just a string\n", r"document 1: expected a Kubernetes object \(a mapping\), got a str"),
        ("kind: List\nitems: [1]\n", r"document 1 item 1: List item is not a Kubernetes object"),
    ],
)
def test_bad_input_names_document_and_source(text, message):
    with pytest.raises(InputError, match=message):
        parse(text)


def test_stream_add_inserts_after_a_document():
    stream = Stream(parse(HELM3))
    new = stream.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n"}}, after=stream.documents[0], source="jhub-ck8s")
    assert [d.label for d in stream.live()] == ["ConfigMap/a", "ConfigMap/n", "Service/b"]
    assert new.position == "new document"
    assert "# Source: jhub-ck8s\n" in serialize(stream.documents)
