"""Parsing and serialising the stream: order, comments, empty documents, List, errors."""

from __future__ import annotations

import pytest

from jhub_ck8s.documents import serialize
from jhub_ck8s.errors import InputError
from jhub_ck8s.stream import Stream, parse

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


# --- valid YAML that Go reads is read here too, and written back unchanged ---------------


def test_unquoted_equals_sign_is_a_string_as_in_go():
    (doc,) = parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {op: =, b: <<}\n")
    assert doc.obj["data"] == {"op": "=", "b": "<<"}


def test_yaml_directive_is_read_and_not_written_back():
    text = "%YAML 1.1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n...\n%YAML 1.1\n---\nkind: Service\nmetadata: {name: b}\n"
    docs = parse(text)
    assert [d.label for d in docs] == ["ConfigMap/a", "Service/b"]
    # Kubernetes' YAML splitter refuses directive lines: the output has none
    assert "%YAML" not in serialize(docs)


def test_directive_without_document_is_one_line():
    with pytest.raises(InputError, match="ends with the YAML directive"):
        parse("kind: x\n...\n%YAML 1.1\n")


def test_byte_order_mark_does_not_move_behind_the_separator():
    text = "\ufeff# Source: chart/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    out = serialize(parse(text))
    assert "\ufeff" not in out
    assert out == "---\n" + text.removeprefix("\ufeff")


@pytest.mark.parametrize("separator", ["\u2029", "\u2028", "\x85"])
def test_unicode_separators_are_content_not_line_breaks(separator):
    body = f'apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\ndata: {{x: "a{separator}b"}}\n'
    (doc,) = parse("---\n" + body)
    assert serialize([doc]) == "---\n" + body  # untouched: byte for byte


def test_crlf_line_ends_are_kept_for_untouched_documents():
    body = "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: a}\r\n"
    (doc,) = parse("---\r\n" + body)
    assert doc.obj["metadata"] == {"name": "a"}
    # the document's own lines keep their \r; the stream's last line end is ours
    assert serialize([doc]) == "---\n" + body.removesuffix("\r\n") + "\n"
