"""podspec: where pod specs live, label selectors, and the label index that must agree with them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from jhub_ck8s.podspec import LabelIndex, containers, pod_labels, pod_spec, selects

KEYS = st.sampled_from(["app", "component", "release", "tier"])
VALUES = st.sampled_from(["a", "b", "c"])
LABELS = st.dictionaries(KEYS, VALUES, max_size=4)
EXPRESSION = st.fixed_dictionaries(
    {"key": KEYS, "operator": st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]), "values": st.lists(VALUES, max_size=2)}
)
SELECTOR = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={"matchLabels": LABELS, "matchExpressions": st.lists(EXPRESSION, max_size=2)}),
)


@settings(deadline=None)  # a loaded CI machine must not fail a correct example
@given(st.lists(LABELS, max_size=12), SELECTOR)
def test_label_index_matches_exactly_what_selects_selects(label_sets, selector):
    items = [(i, labels) for i, labels in enumerate(label_sets)]
    expected = [i for i, labels in items if selects(selector, labels)]
    assert LabelIndex(items).matching(selector) == expected


def test_selects_semantics():
    labels = {"component": "hub", "app": "jupyterhub"}
    assert selects({}, labels)  # empty selector selects everything
    assert not selects(None, labels)
    assert selects({"matchLabels": {"component": "hub"}}, labels)
    assert not selects({"matchExpressions": [{"key": "component", "operator": "NotIn", "values": ["hub"]}]}, labels)
    assert not selects({"matchExpressions": [{"key": "x", "operator": "Bogus"}]}, labels)


def test_pod_specs_of_every_kind():
    template = {"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "c"}], "initContainers": [{"name": "i"}]}}
    objects = {
        "Pod": {"kind": "Pod", "metadata": {"labels": {"a": "1"}}, "spec": template["spec"]},
        "Deployment": {"kind": "Deployment", "spec": {"template": template}},
        "CronJob": {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": template}}}},
        "PodTemplate": {"kind": "PodTemplate", "template": template},
    }
    for kind, obj in objects.items():
        spec = pod_spec(obj)
        assert spec is template["spec"], kind
        assert [c.where for c in containers(spec)] == ["init container i", "container c"]
    assert pod_spec({"kind": "ConfigMap"}) is None
    assert pod_labels(objects["Deployment"]) == {"a": "1"}
    assert pod_labels(objects["PodTemplate"]) is None  # a PodTemplate creates no pods


def test_label_index_answers_like_selects_for_repeated_and_distinct_selectors():
    from jhub_ck8s.podspec import LabelIndex, selects

    items = [(i, {"app": "j", "component": ["hub", "proxy", "user"][i % 3], "copy": str(i)}) for i in range(30)]
    index = LabelIndex(items)
    selectors = [
        {"matchLabels": {"component": "hub"}},
        {"matchLabels": {"component": "hub"}},  # the same again: answered from the first
        {"matchLabels": {"app": "j"}, "matchExpressions": [{"key": "component", "operator": "NotIn", "values": ["user"]}]},
        {"matchExpressions": [{"key": "copy", "operator": "In", "values": ["1", "2"]}]},
        {},
        None,
    ]
    for selector in selectors:
        expected = [p for p, (_, labels) in enumerate(items) if selects(selector, labels)]
        assert index.positions(selector) == expected
    assert index.selected_by_any(selectors) == {p for s in selectors for p in index.positions(s)}
