"""yamlio's fast paths give exactly what PyYAML gives: the same objects in, the same text out.

``load`` builds objects from libyaml's nodes without PyYAML's generic constructor, and
``dump`` writes plain data directly instead of through PyYAML's representer and
emitter. Both are speed-ups only: these tests compare them with PyYAML itself (the
safe constructor with the same resolver, and ``yaml.dump`` with the same Dumper) on
every recorded render and on generated data, and check that what the fast paths do
not handle (tags, merge keys, anchors, long keys, multi-line strings) still goes
through PyYAML.
"""

from __future__ import annotations

import math

import pytest
import yaml
from conftest import FIXTURES, z2jh_streams
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_go_reads import lookalike

from jhub_ck8s import hubconfig, yamlio
from jhub_ck8s.documents import _split


def pyyaml_dump(obj: object, *, sort_keys: bool = False) -> str:
    return yaml.dump(obj, Dumper=yamlio.Dumper, sort_keys=sort_keys, default_flow_style=False,
                     allow_unicode=True, width=1 << 30)


def pyyaml_load(text: str) -> object:
    return yaml.load(text, Loader=yamlio.Loader)


def _bodies(text: str) -> list[str]:
    return [body for _start, _comments, _directives, body in _split(text) if body.strip()]


STREAMS = [*z2jh_streams(), *[pytest.param(path, id=path.name) for path in (FIXTURES / "small-release.yaml", FIXTURES / "inventory-release.yaml")]]


@pytest.mark.parametrize("path", STREAMS)
def test_fast_load_and_dump_equal_pyyaml_on_every_document(path):
    fast_dumps = 0
    for body in _bodies(path.read_text()):
        obj = yamlio.load(body)
        assert obj == pyyaml_load(body)
        if isinstance(obj, dict):
            assert yamlio.dump(obj) == pyyaml_dump(obj)
            fast_dumps += _fast(obj)
    assert fast_dumps, "the direct writer was never used"


@pytest.mark.parametrize("path", [p for p in STREAMS if p.values and p.values[0] is not None])
def test_hub_values_sorted_dump_equals_pyyaml(path):
    from jhub_ck8s.stream import parse

    hub = hubconfig.find(parse(path.read_text()))
    if hub is None:
        pytest.skip("no Secret/hub in this stream")
    assert yamlio.dump(hub.values, sort_keys=True) == pyyaml_dump(hub.values, sort_keys=True)
    assert _fast(hub.values, sort_keys=True)


def _fast(obj: dict, *, sort_keys: bool = False) -> bool:
    """True when the direct writer handles ``obj`` (no fallback to PyYAML)."""
    try:
        yamlio._BlockWriter(sort_keys).document(obj)
    except yamlio._NotPlain:
        return False
    return True


scalars = st.one_of(
    lookalike,
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
keys = st.one_of(lookalike, st.integers(min_value=-5, max_value=5), st.booleans(), st.none())
data = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(obj=st.dictionaries(keys, data, max_size=5), sort_keys=st.booleans())
# a nested mapping whose keys do not compare: a failed in-place sort left it half sorted
@example(obj={"": {"-": [], "": None, "0": "", 0: ""}}, sort_keys=True)
def test_property_dump_is_byte_for_byte_pyyaml(obj, sort_keys):
    if sort_keys:
        try:
            sorted(obj)
        except TypeError:
            sort_keys = False  # PyYAML keeps unsortable keys in order; tested without sorting
    assert yamlio.dump(obj, sort_keys=sort_keys) == pyyaml_dump(obj, sort_keys=sort_keys)


def test_dump_in_pieces_is_pyyaml_across_chunks_and_keeps_a_big_scalar_uncopied():
    big = "QUJD" * 40_000  # 160,000 characters, as a Secret's base64 hub config
    obj = {
        "data": {"values.yaml": big, "after": "x"},
        "items": [{"name": f"n{i}", "env": [{"k": i}], "big": big if i == 5000 else "s"} for i in range(9000)],
        "list": [big, "tail"],
    }
    pieces = yamlio.dump_pieces(obj, sort_keys=True)
    assert "".join(pieces) == yamlio.dump(obj, sort_keys=True) == pyyaml_dump(obj, sort_keys=True)
    assert sum(1 for piece in pieces if piece is big) == 3  # never copied into a line or a chunk
    assert len(pieces) > 9  # the 36,000 lines went out in chunks


@settings(max_examples=300, deadline=None)
@given(obj=st.dictionaries(keys, data, max_size=5))
def test_property_fast_load_equals_pyyaml_load(obj):
    text = pyyaml_dump(obj)
    fast, slow = yamlio.load(text), pyyaml_load(text)
    assert _same(fast, slow)


def _same(a: object, b: object) -> bool:
    """Equality where NaN equals NaN (floats from the generator)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a) if len(a) == len(b) else False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize(
    "text",
    [
        "a: !!binary aGVsbG8=\n",  # an explicit tag
        "base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n",  # a merge key
        "? [a, b]\n: c\n",  # a sequence as key: PyYAML refuses it, the same way
        "a: !!int '12'\nb: !!str 12\n",
    ],
)
def test_what_the_builder_leaves_goes_through_pyyaml(text):
    try:
        expected = pyyaml_load(text)
    except yaml.YAMLError as exc:
        with pytest.raises(type(exc)):
            yamlio.load(text)
        return
    assert yamlio.load(text) == expected


def test_aliases_yield_the_same_object_as_in_pyyaml():
    obj = yamlio.load("a: &x {k: [1, 2]}\nb: *x\n")
    assert obj["a"] is obj["b"]


@pytest.mark.parametrize(
    "obj",
    [
        {"k": "line one\nline two\n"},  # literal block style
        {"x" * 200: "a long key is written as '? key'"},
        {"shared": (shared := {"a": 1}), "again": shared},  # an anchor and an alias
        {"tab": "a\tb", "nel": "a\x85b", "bom": "\ufeffx", "astral": "\U0001f600"},
        {"t": ("a", "b")},  # not plain data: PyYAML's error, unchanged
    ],
)
def test_what_the_writer_leaves_goes_through_pyyaml(obj):
    assert not _fast(obj)
    try:
        expected = pyyaml_dump(obj)
    except yaml.YAMLError as exc:
        with pytest.raises(type(exc)):
            yamlio.dump(obj)
        return
    assert yamlio.dump(obj) == expected


@pytest.mark.parametrize("path", STREAMS)
def test_pipeline_output_is_byte_for_byte_what_pyyaml_alone_gives(path, monkeypatch):
    """The speed-ups change no byte of the post-renderer's output (enforce and warn modes)."""
    from jhub_ck8s.pipeline import run
    from jhub_ck8s.settings import read_layer

    text = path.read_text()
    flags = read_layer({"registry": "harbor.example.com/jupyterhub", "mode": "warn"}, "test")
    fast = run(text, flag_layer=flags)
    assert fast.exit_code == 0, fast.report.table()

    def pyyaml_only(self, obj):
        raise yamlio._NotPlain

    monkeypatch.setattr(yamlio._BlockWriter, "document", pyyaml_only)
    monkeypatch.setattr(yamlio, "_build", lambda root, max_depth: (_ for _ in ()).throw(yamlio._NotPlain()))
    slow = run(text, flag_layer=flags)
    assert slow.output == fast.output


# --- the event builder: what load() runs first ---------------------------------------------


def _node_path(text: str) -> object:
    root = yamlio.compose(text)
    return None if root is None else yamlio._build(root, yamlio.MAX_DEPTH)


@pytest.mark.parametrize("path", STREAMS)
def test_event_builder_equals_the_node_builder_on_every_document(path):
    for body in _bodies(path.read_text()):
        assert _same(yamlio._build_from_events(body, yamlio.MAX_DEPTH), _node_path(body))


@settings(max_examples=300, deadline=None)
@given(obj=st.dictionaries(keys, data, max_size=5))
def test_property_event_builder_equals_the_node_builder(obj):
    text = pyyaml_dump(obj)
    assert _same(yamlio._build_from_events(text, yamlio.MAX_DEPTH), _node_path(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\na: 2\nb: {c: 1, c: [2]}\n", {"a": 1, "b": {"c": 1}}),  # the first of two equal keys, as _build
        ("1: a\ntrue: b\n~: c\n0x1F: d\n", {1: "a", None: "c", 31: "d"}),  # true == 1: a repeat of key 1
        ("", None),
        ("---\n", None),
        ("- [1, 2]\n- {a: [b]}\n- !!str 5\n- 0921\n- y\n", [[1, 2], {"a": ["b"]}, "5", 921.0, True]),
    ],
)
def test_event_builder_cases(text, expected):
    assert yamlio._build_from_events(text, yamlio.MAX_DEPTH) == expected == _node_path(text)


@pytest.mark.parametrize(
    "text", ["a: &x 1\nb: *x\n", "a: !!binary aGVsbG8=\n", "? [a]\n: 1\n", "a: 1\n---\nb: 2\n", "a: [b\n"]
)
def test_event_builder_leaves_anchors_tags_and_errors_to_the_node_path(text):
    with pytest.raises(Exception):  # noqa: B017 -- any: load() then takes the node path
        yamlio._build_from_events(text, yamlio.MAX_DEPTH)


def test_event_builder_refuses_what_is_too_deep_like_the_node_builder():
    assert yamlio._build_from_events("[[[1]]]", 3) == [[[1]]]
    with pytest.raises(yamlio.TooDeep):
        yamlio._build_from_events("[[[[1]]]]", 3)
    with pytest.raises(yamlio.TooDeep):
        yamlio.load("[[[[1]]]]", max_depth=3)


def test_loading_a_large_hub_config_peaks_at_a_few_times_its_text():
    """No node graph is kept: 21x the text with one, about 3.6x without (here: 2 MB of profiles)."""
    import tracemalloc

    profiles = [
        {"display_name": f"profile {i}", "description": "x" * 200, "kubespawner_override": {
            "image": f"quay.io/jupyter/scipy-notebook:2024-{i:05d}", "cpu_limit": 2, "mem_limit": "4G",
            "environment": {f"VAR{j}": f"value-{i}-{j}" for j in range(10)}}}
        for i in range(3000)
    ]
    text = yamlio.dump({"singleuser": {"profileList": profiles}})
    tracemalloc.start()
    try:
        loaded = yamlio.load(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loaded == {"singleuser": {"profileList": profiles}}
    assert peak < 5 * len(text), f"{peak / len(text):.1f}x the text"
