"""What Helm reads is what the post-renderer wrote: our output judged by Go's own YAML reader.

The oracle is ``tools/yamlread`` (see ``tests/goyaml.py``), built with the very
``sigs.k8s.io/yaml`` and ``k8s.io/apimachinery`` versions of the pinned Helm 3 and
Helm 4. For every recorded z2jh render (both modes), the stand-in chart's render,
the regressions of issue 10 and a hypothesis property test over strings that look
like something else, Go's JSON of our output must equal the JSON of the objects
the pipeline meant to write, document by document. Strings inside the hub's
``values.yaml`` are also read back with PyYAML's stock ``safe_load``, which is how
the hub reads them.
"""

from __future__ import annotations

import base64
import json
import math
import re
import string

import pytest
import yaml
from conftest import FIXTURES, KUBERNETES_VERSIONS, TOOLS, kubeconform, run_postrender, z2jh_streams
from goyaml import HELMS, GoReadError, go_read, meant
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jhub_ck8s import yamlio
from jhub_ck8s.pipeline import run
from jhub_ck8s.settings import read_layer

TARGET = "harbor.example.com/jupyterhub"
MODES = {
    "enforce": read_layer({"registry": TARGET, "clusterScoped": "drop", "pullSecret": "pull-secret"}, "test"),
    "warn": read_layer({"registry": TARGET, "mode": "warn"}, "test"),
}


def assert_go_reads_what_we_meant(result, helm: str) -> None:
    """Document by document: Go's reading of the output equals the objects the pipeline built."""
    assert result.exit_code == 0, result.report.table()
    intended = [meant(doc.obj) for doc in result.stream.live()]
    read = go_read(result.output, helm)
    assert len(read) == len(intended)
    for number, (ours, gos) in enumerate(zip(intended, read, strict=True), start=1):
        assert gos == ours, f"document {number} ({ours.get('kind')}/{ours.get('metadata', {}).get('name')})"


# --- the recorded renders and the stand-in chart ------------------------------------------


@pytest.mark.parametrize("helm", HELMS)
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("path", z2jh_streams())
def test_recorded_renders_read_by_go_as_meant(path, mode, helm):
    result = run(path.read_text(), flag_layer=MODES[mode])
    if mode == "enforce" and result.exit_code == 1:
        pytest.skip("this render has policy errors in enforce mode (no output to read): see the warn case")
    assert_go_reads_what_we_meant(result, helm)


@pytest.mark.parametrize("helm", HELMS)
@pytest.mark.parametrize("name", ["small-release.yaml", "inventory-release.yaml", "check-safeguards.yaml", "check-settings-stream.yaml"])
def test_project_fixtures_read_by_go_as_meant(name, helm):
    result = run((FIXTURES / name).read_text(), flag_layer=MODES["warn"])
    assert_go_reads_what_we_meant(result, helm)


def test_standin_chart_render_read_by_go_as_meant(tmp_path):
    from standin_chart import build_standin_chart  # the upstream stand-in the helm tests use

    from jhub_ck8s.helm import Helm

    helm_bin = TOOLS / "bin" / "helm4"
    if not helm_bin.exists():
        pytest.skip(f"{helm_bin} is not installed: run make setup")
    chart = build_standin_chart(tmp_path)
    rendered = Helm(str(helm_bin)).run(["template", "jhub", str(chart), "-n", "jhub"], capture=True)
    assert rendered.returncode == 0, rendered.stderr
    result = run(rendered.stdout, flag_layer=MODES["warn"])
    for helm in HELMS:
        assert_go_reads_what_we_meant(result, helm)


# --- the regressions of issue 10 -----------------------------------------------------------

NUMBER_LOOKALIKES = {"a1": "0921", "a2": "3e19", "a3": "00e8", "a4": "0o17", "a5": "y", "a6": "1_000", "a7": "1e3"}


def _lookalike_stream() -> str:
    """A Deployment the post-renderer must change (no security context), full of number lookalikes."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "proxy", "annotations": NUMBER_LOOKALIKES, "labels": {"v": "0921"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "p"}},
            "template": {
                "metadata": {"labels": {"app": "p"}, "annotations": {"checksum/auth-token": "3e19"}},
                "spec": {"containers": [{
                    "name": "c", "image": "quay.io/x/y:1.0", "args": ["08", "n", "0x1F"],
                    "env": [{"name": "C", "value": "0o12"}, {"name": "D", "value": "no"}],
                }]},
            },
        },
    }
    # JSON is YAML that no reader can misread (raw characters: YAML has no surrogate escapes).
    return "---\n" + json.dumps(deployment) + "\n"


@pytest.mark.parametrize("helm", HELMS)
def test_number_lookalikes_come_out_as_strings(helm):
    result = run(_lookalike_stream(), flag_layer=MODES["enforce"])
    assert_go_reads_what_we_meant(result, helm)
    (deployment,) = [d for d in go_read(result.output, helm) if d["kind"] == "Deployment"]
    assert {k: deployment["metadata"]["annotations"][k] for k in NUMBER_LOOKALIKES} == NUMBER_LOOKALIKES
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "C", "value": "0o12"}, {"name": "D", "value": "no"}]
    assert container["args"] == ["08", "n", "0x1F"]
    assert deployment["spec"]["template"]["metadata"]["annotations"]["checksum/auth-token"] == "3e19"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_number_lookalikes_pass_kubeconform_strict(version):
    done = run_postrender(["--registry", TARGET], _lookalike_stream())
    assert done.returncode == 0, done.stderr.decode()
    checked = kubeconform(done.stdout.decode(), version)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()


def test_the_old_emitter_really_broke_go():
    """The control: PyYAML's stock dumper writes these strings plain and Go reads numbers."""
    stock = yaml.safe_dump({"metadata": {"annotations": {"a": "0921", "b": "0o17"}}})
    assert go_read(stock)[0]["metadata"]["annotations"] == {"a": 921, "b": 15}
    with pytest.raises(GoReadError):
        go_read("a: *undefined\n")


# --- the loader agrees with Go on every plain scalar ---------------------------------------

PLAIN_SCALARS = [
    "0921", "3e19", "00e8", "0o17", "0O17", "017", "08", "0x1F", "0X1f", "0b101", "-0b101", "+12", "-0",
    "1_000", "1__0", "_1", "1_", "0_8", "1e3", "1E-3", "1.", ".5", "+.5", "-.5e3", "09.5", "1e999",
    ".5e999", "9223372036854775807", "9223372036854775808", "18446744073709551615",
    "18446744073709551616", "-9223372036854775808", "-9223372036854775809", "0x", "0b", "0o", "0b2",
    "+0x10", "-0x10", "+-1", "1.2.3", "1e", "e3", "1:20", "190:20:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
    "y", "Y", "n", "N", "yes", "Yes", "YES", "yES", "on", "ON", "oN", "off", "true", "TRUE", "tRUE", "false",
    "~", "null", "Null", "NULL", "nULL", ".inf", ".Inf", "+.INF", "-.inf", ".nan", ".NaN", ".NAN", ".nAn",
    "inf", "nan", "Infinity", "=", "<<", "a", "0.0.0.0", "1.0e+20", "12:30:00", "0.", "+", "-1", "--1",
]


@pytest.mark.parametrize("helm", HELMS)
def test_loader_resolves_plain_scalars_as_go_does(helm):
    finite = [s for s in PLAIN_SCALARS if math.isfinite(_float_or_zero(yamlio.load(f"v: {s}\n")["v"]))]
    text = "".join(f"---\nv: {s}\n" for s in finite)
    read = [doc["v"] for doc in go_read(text, helm)]
    ours = [meant(yamlio.load(f"v: {s}\n"))["v"] for s in finite]
    for scalar, go_value, our_value in zip(finite, read, ours, strict=True):
        assert _json_kind(go_value) == _json_kind(our_value), scalar
        if _json_kind(go_value) == "number":  # JSON text of large floats: compare as doubles
            assert float(go_value) == float(our_value), scalar
        else:
            assert go_value == our_value, scalar
    # Go reads the rest as floats JSON cannot hold: its conversion says so
    for scalar in sorted(set(PLAIN_SCALARS) - set(finite)):
        with pytest.raises(GoReadError, match="unsupported value"):
            go_read(f"v: {scalar}\n", helm)


def _json_kind(value: object) -> str:
    """JSON has one number type: Go writes the float 921.0 as 921."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    return "number" if isinstance(value, int | float) else type(value).__name__


def _float_or_zero(value: object) -> float:
    return value if isinstance(value, float) else 0.0


# --- aliases: refused exactly where Go refuses them ----------------------------------------


def _laughs(width: int, levels: int, last: int) -> str:
    """Nested aliases: each level repeats the one below ``width`` times, then ``last`` copies of the top."""
    lines = ["a0: &a0 [x, y]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    lines.append(f"z: [{', '.join([f'*a{levels}'] * last)}]")
    return "kind: ConfigMap\n" + "\n".join(lines) + "\n"


# Each pair sits exactly on Go's boundary (found by asking Go): one copy fewer is accepted.
@pytest.mark.parametrize(
    ("width", "levels", "last", "refused"),
    [(9, 2, 11, False), (9, 2, 12, True), (3, 3, 67, False), (3, 3, 68, True), (5, 2, 188, False),
     (5, 2, 189, True), (2, 5, 29, False), (2, 5, 30, True), (20, 1, 2999, False), (9, 9, 1, True)],
)
def test_alias_expansion_refused_exactly_where_go_refuses_it(width, levels, last, refused):
    text = _laughs(width, levels, last)
    if refused:
        with pytest.raises(GoReadError, match="excessive aliasing"):
            go_read(text)
        with pytest.raises(yamlio.ExcessiveAliasing):
            yamlio.check_aliasing(text)
    else:
        assert go_read(text)[0]["kind"] == "ConfigMap"
        yamlio.check_aliasing(text)


def test_recursive_anchor_is_refused_like_go():
    text = "kind: x\na: &a [1, *a]\n"
    with pytest.raises(GoReadError):
        go_read(text)
    with pytest.raises(yamlio.ExcessiveAliasing):
        yamlio.check_aliasing(text)


def test_excessive_aliasing_is_exit_2_with_one_line():
    done = run_postrender([], _laughs(9, 9, 1))
    assert done.returncode == 2
    assert done.stdout == b""
    assert "excessive aliasing" in done.stderr.decode() and len(done.stderr.decode().splitlines()) == 1


# --- property: any string, in any place, reads back as itself ------------------------------

_WORDS = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ".inf", "-.inf", ".nan", "<<", "="]


def _any_case(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda upper: "".join(c.upper() if u else c for c, u in zip(word, upper, strict=True))
    )


_numberish = st.from_regex(
    r"\A[-+]?(0[xob]?)?[0-9_]{0,6}(\.[0-9_]{0,3})?([eE][-+]?[0-9]{1,3})?\Z", fullmatch=True
)
_datetime = st.from_regex(r"\A[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{2}(:[0-9]{2})?(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})?)?\Z", fullmatch=True)
_core = st.one_of(
    _numberish,
    _datetime,
    st.sampled_from(_WORDS).flatmap(_any_case),
    st.from_regex(r"\A[0-9]{1,3}(:[0-9]{1,2}){1,2}\Z", fullmatch=True),
    st.text(alphabet=string.printable, max_size=12),
    st.text(max_size=8),
)
_edge = st.sampled_from(["", " ", ":", ": ", "#", " #", "-", "- ", "\n", "\t", "'", '"', "!", "&", "*", "|", ">", "%", "@", "`"])
lookalike = st.one_of(
    _core,
    st.tuples(_edge, _core, _edge).map("".join),
    st.lists(_core, min_size=2, max_size=3).map("\n".join),
)


_NOT_YAML_PRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def _as_yaml(obj: object) -> str:
    """JSON, which YAML readers cannot misread, with raw characters where YAML allows them.

    JSON's surrogate-pair escapes are not YAML, and YAML forbids some raw characters
    JSON allows: those are written as ``\\uXXXX`` escapes, which both read alike.
    """
    text = json.dumps(obj, ensure_ascii=False)
    return _NOT_YAML_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _hub_secret(values: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "hub", "labels": {"component": "hub"}},
        "type": "Opaque",
        "data": {"values.yaml": base64.b64encode(_as_yaml(values).encode()).decode()},
    }


def _property_stream(value: str) -> str:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x", "annotations": {"a": value, value or "empty": "k"}, "labels": {"l": value}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "x"}},
            "template": {
                "metadata": {"labels": {"app": "x"}},
                "spec": {"containers": [{
                    "name": "c", "image": "quay.io/x/y:1.0", "args": [value, "--flag", value],
                    "command": [value], "env": [{"name": "E", "value": value}],
                }]},
            },
        },
    }
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"k": value, "j": "x"}}
    # The hub config: metadata blocking on, so user-pods changes it and it is re-encoded.
    values = {
        "singleuser": {
            "image": {"name": "quay.io/jupyterhub/k8s-singleuser-sample", "tag": "4.4.0"},
            "cloudMetadata": {"blockWithIptables": True},
            "extraEnv": {"E": value},
            "extraLabels": {"l": value},
        },
        "custom": {"text": value, "list": [value]},
    }
    return "".join("---\n" + _as_yaml(obj) + "\n" for obj in (deployment, configmap, _hub_secret(values)))


# A patch re-emits the ConfigMap, which no hardening transform changes.
_PATCH_CONFIGMAP = {
    "apiVersion": "jhub-ck8s.io/v1alpha1",
    "kind": "PostRenderSettings",
    "patches": [{"name": "touch", "target": {"kind": "ConfigMap"}, "patch": [{"op": "add", "path": "/data/j", "value": "y"}]}],
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=lookalike)
def test_property_any_string_reads_back_as_itself(value):
    text = "---\n" + json.dumps(_PATCH_CONFIGMAP) + "\n" + _property_stream(value)
    result = run(text, flag_layer=MODES["enforce"])
    assert result.exit_code == 0, result.report.table()
    live = {doc.kind: doc for doc in result.stream.live()}
    assert live["ConfigMap"].raw is None and live["Deployment"].raw is None and live["Secret"].raw is None
    for helm in HELMS:
        assert_go_reads_what_we_meant(result, helm)
    read = {doc["kind"]: doc for doc in go_read(result.output)}
    assert read["Deployment"]["metadata"]["annotations"]["a"] == value
    assert read["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] == value
    assert read["ConfigMap"]["data"] == {"k": value, "j": "y"}
    # the hub's values.yaml: as Go reads it, and as the hub (PyYAML safe_load) reads it
    hub_text = base64.b64decode(read["Secret"]["data"]["values.yaml"]).decode()
    intended = meant(result.stream.hub().values)
    assert go_read("---\n" + hub_text)[0] == intended
    assert meant(yaml.safe_load(hub_text)) == intended
    assert intended["custom"] == {"text": value, "list": [value]}
    assert intended["singleuser"]["extraEnv"] == {"E": value}


@settings(max_examples=150, deadline=None)
@given(value=lookalike)
def test_property_plain_is_safe_only_where_every_reader_agrees(value):
    """The dumper alone, on keys and values, judged by Go and by PyYAML's YAML 1.1 safe_load."""
    obj = {"data": {value or "k": value, "list": [value, {"nested": value}]}}
    text = yamlio.dump(obj)
    assert go_read("---\n" + text) == [meant(obj)]
    assert yaml.safe_load(text) == obj


# --- the other files the project writes for Helm: init, import-values, lock files ----------

_IMPORT_SOURCE = """\
# values written for the upstream chart
hub:
  cookieSecret: "0921"      # a string that looks like a number
  extraEnv:
    TOKEN_TTL: 3e19
    ENABLED: yes
    OCTAL: 0o17
    PLAIN: hello
singleuser:
  image:
    name: quay.io/jupyter/scipy-notebook
    tag: "2025-06-30"
  extraLabels:
    version: '1e3'
    flag: y
"""


@pytest.mark.parametrize("helm", HELMS)
def test_import_values_keeps_what_helm_reads(helm):
    """Go's reading of the imported file's jupyterhub: section equals its reading of the old file."""
    from jhub_ck8s.values_import import import_values

    result = import_values(_IMPORT_SOURCE, registry="harbor.example.com/jupyterhub")
    (before,) = go_read("---\n" + _IMPORT_SOURCE, helm)
    (after,) = go_read("---\n" + result.text, helm)
    for key in ("cookieSecret", "extraEnv"):
        assert after["jupyterhub"]["hub"][key] == before["hub"][key], key
    assert after["jupyterhub"]["singleuser"]["extraLabels"] == before["singleuser"]["extraLabels"]
    assert after["jupyterhub"]["hub"]["extraEnv"] == {"TOKEN_TTL": 3e19, "ENABLED": True, "OCTAL": 15, "PLAIN": "hello"}


@pytest.mark.parametrize("helm", HELMS)
def test_init_file_is_read_by_go_as_built(helm):
    from jhub_ck8s.starter import StarterValues, build_starter, render_starter_values

    spec = StarterValues(registry="harbor.example.com/jupyterhub", host="jupyter.example.com", dummy_password="0921")
    (read,) = go_read("---\n" + render_starter_values(spec), helm)
    assert read == meant(json.loads(json.dumps(build_starter(spec))))


def test_lock_file_is_read_by_go_as_written():
    from jhub_ck8s.lock import ImageLock, LockEntry

    entries = (
        LockEntry("quay.io/jupyter/r-notebook:2025-06-30", "sha256:" + "0" * 64, "harbor.example.com/p/jupyter/r-notebook:2025-06-30"),
        LockEntry("docker.io/library/traefik:v3.6.12", "sha256:" + "1" * 64, "harbor.example.com/p/library/traefik:v3.6.12"),
    )
    (read,) = go_read("---\n" + ImageLock(entries).to_yaml())
    assert read["images"][0] == {"source": entries[1].source, "digest": entries[1].digest, "destination": entries[1].destination}
    assert read["images"][1]["source"] == entries[0].source


@settings(max_examples=150, deadline=None)
@given(value=lookalike)
@example(value="\x85")  # NEL: ruamel wrote it raw inside quotes, where Go folds it into a space
@example(value="a\u2028b")
def test_property_ruamel_round_trip_files_quote_what_go_could_misread(value):
    """init and import-values write through yamlio.ruamel_yaml: new strings come back as strings."""
    import io

    from ruamel.yaml.comments import CommentedMap

    obj = CommentedMap({"data": CommentedMap({value or "k": value, "list": [value]})})
    out = io.StringIO()
    yamlio.ruamel_yaml().dump(obj, out)
    assert go_read("---\n" + out.getvalue()) == [{"data": {value or "k": value, "list": [value]}}]
