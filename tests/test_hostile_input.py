"""Hostile input: exit 2 (or the code named), one line, in seconds, and never a Secret's content.

A corpus of bad streams, settings and environments, each with its expected exit code
and its message, from the object and key path through what is wrong (and the fix, where
one short clause names it): a message about the wrong place or the wrong problem fails. Every case is run as Helm runs the post-renderer (a
process; stdin in, stdout and stderr out, the report in ``$JHUB_CK8S_REPORT``), twice:
with a ``Secret/hub`` written with ``stringData`` and with ``data`` (base64). That
Secret carries marker strings (cookie secret, proxy token, CryptKeeper keys), and the
markers, plain or base64, may appear nowhere but in the output stream's own Secret:
not on stderr, not in the report, not in any other document.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import REPO

from jhub_ck8s.stream import parse

TOKEN = uuid.uuid4().hex[:12]
MARKERS = {
    "cookie": f"MARKER-COOKIE-{TOKEN}",
    "proxy": f"MARKER-PROXY-{TOKEN}",
    "crypt": f"MARKER-CRYPT-{TOKEN}",
}
HUB_VALUES = f"""\
hub:
  config:
    JupyterHub:
      cookie_secret: {MARKERS['cookie']}
    ConfigurableHTTPProxy:
      auth_token: {MARKERS['proxy']}
    CryptKeeper:
      keys:
      - {MARKERS['crypt']}
singleuser:
  image:
    name: quay.io/jupyterhub/k8s-singleuser-sample
    tag: 4.4.0
  cloudMetadata:
    blockWithIptables: true
"""


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def forbidden_strings() -> list[str]:
    """Every marker, and every base64 form of it (at each of the three byte alignments)."""
    found = list(MARKERS.values())
    for marker in MARKERS.values():
        for pad in range(3):
            encoded = _b64("x" * pad + marker)
            found.append(encoded[4 if pad else 0 : -4])  # the part that does not depend on neighbours
    found.append(_b64(HUB_VALUES)[8:40])
    return found


def hub_secret(variant: str, values: str = HUB_VALUES) -> str:
    if variant == "stringData":
        data = {"hub.config.JupyterHub.cookie_secret": MARKERS["cookie"], "values.yaml": values}
    else:
        data = {"hub.config.JupyterHub.cookie_secret": _b64(MARKERS["cookie"]), "values.yaml": _b64(values)}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "hub", "labels": {"component": "hub", "app": "jupyterhub"}},
        "type": "Opaque",
        variant: data,
    }
    return "---\n# Source: jupyterhub/templates/hub/secret.yaml\n" + json.dumps(secret) + "\n"


HUB_DEPLOYMENT = """---
# Source: jupyterhub/templates/hub/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: hub, labels: {component: hub}}
spec:
  replicas: 1
  selector: {matchLabels: {component: hub}}
  template:
    metadata: {labels: {component: hub}, annotations: {checksum/secret: abc}}
    spec:
      containers:
      - name: hub
        image: quay.io/jupyterhub/k8s-hub:4.4.0
"""


def deployment(**container: object) -> str:
    spec = {"name": "app", "image": "quay.io/example/app:1.0", **container}
    doc = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [spec]}},
        },
    }
    return "---\n# Source: chart/templates/app.yaml\n" + json.dumps(doc) + "\n"


def settings_doc(**keys: object) -> str:
    doc = {"apiVersion": "jhub-ck8s.io/v1alpha1", "kind": "PostRenderSettings", **keys}
    return "---\n# Source: jupyterhub-ck8s/templates/settings.yaml\n" + json.dumps(doc) + "\n"


def nested(depth: int) -> str:
    """``depth`` mappings inside each other, as JSON text (json.dumps itself would recurse too deep)."""
    return '{"n": ' * depth + '"leaf"' + "}" * depth


def raw(text: str) -> Callable[[str], str]:
    """A case whose stream is ``text`` followed by the marker Secret."""
    return lambda variant: text + hub_secret(variant) + HUB_DEPLOYMENT


@dataclass
class Case:
    name: str
    stream: Callable[[str], str] | None  # variant -> stdin text; None: stdin closed
    exit: int
    fragment: str  # in the error line (warning on exit 0): where, what is wrong, and the fix where it fits
    args: list[str] = field(default_factory=list)
    config: bytes | None = None  # written to a file passed as --config
    one_line: bool = True


def _patch(*ops: dict, target: dict | None = None) -> str:
    return settings_doc(patches=[{"name": "p", "target": target or {"kind": "Secret", "name": "hub"}, "patch": list(ops)}])


CASES = [
    # --- quantities that would take forever to compute exactly
    Case("huge-cpu-exponent", raw(deployment(resources={"requests": {"cpu": "1e999999999", "memory": "1Gi"}})), 2, "spec.template.spec.containers[0] (app): resources.requests.cpu '1e999999999' is out of range, so the API server cannot read the object; set it to a quantity such as 500m"),
    Case("huge-memory-exponent", raw(deployment(resources={"limits": {"memory": "1e99999999Ki"}})), 2, "spec.template.spec.containers[0] (app): resources.limits.memory '1e99999999Ki' is not a Kubernetes quantity, so the API server cannot read the object; set it to a quantity"),
    Case("huge-setting-quantity", raw(settings_doc(resources={"requests": {"cpu": "1e999999999"}})), 2, "setting 'resources.requests.cpu': '1e999999999' is out of range; expected a Kubernetes quantity"),
    # --- parseable but malformed objects
    Case("metadata-list", raw('---\n{"apiVersion": "v1", "kind": "ConfigMap", "metadata": [1, 2]}\n'), 2, "ConfigMap/: metadata is a list; Kubernetes needs a mapping (name, labels, annotations)"),
    Case("metadata-string", raw('---\n{"apiVersion": "v1", "kind": "ConfigMap", "metadata": "x"}\n'), 2, "ConfigMap/: metadata is a string; Kubernetes needs a mapping (name, labels, annotations)"),
    Case("labels-list", raw('---\n{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": ["x"]}}\n'), 2, "ConfigMap/a: metadata.labels is a list; Kubernetes needs a mapping of names to strings"),
    Case("annotations-string", raw('---\n{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "annotations": "x"}}\n'), 2, "ConfigMap/a: metadata.annotations is a string; Kubernetes needs a mapping of names to strings"),
    Case("original-images-number", raw('---\n{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "annotations": {"jhub-ck8s.io/original-images": 5}}, "spec": {"containers": [{"name": "c", "image": "quay.io/a/b:1"}]}}\n'), 2, "Pod/a: metadata.annotations.jhub-ck8s.io/original-images is a number; Kubernetes needs a string: quote it"),
    Case("original-images-list", raw('---\n{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "annotations": {"jhub-ck8s.io/original-images": [1]}}, "spec": {"containers": [{"name": "c", "image": "quay.io/a/b:1"}]}}\n'), 2, "Pod/a: metadata.annotations.jhub-ck8s.io/original-images is a list; Kubernetes needs a string: quote it"),
    Case("label-value-number", raw('---\n{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": 5}}}\n'), 2, "ConfigMap/a: metadata.labels.x is a number; Kubernetes needs a string: quote it in the chart (x: \"...\")"),
    Case("deep-deployment", raw('---\n{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": ' + nested(5000) + "}\n"), 2, "document 1: nests deeper than 100 levels; fix the chart template or values"),
    Case("deep-hub-values", lambda v: hub_secret(v, HUB_VALUES + "deep: " + nested(5000) + "\n") + HUB_DEPLOYMENT, 2, "Secret/hub, key values.yaml: the decoded hub config nests deeper than 100 levels"),
    Case("containers-not-list", raw('---\n{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}, "spec": {"containers": {"name": "c"}}}\n'), 2, "Pod/a: spec.containers is a mapping, not a list of containers"),
    Case("container-not-mapping", raw('---\n{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}, "spec": {"containers": ["c"]}}\n'), 2, "Pod/a: spec.containers[0] is a string, not a container (a mapping)"),
    Case("pod-spec-not-mapping", raw('---\n{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}, "spec": {"template": {"spec": [1]}}}\n'), 2, "Deployment/a: spec.template.spec is a list, not a mapping"),
    Case("list-items-not-list", raw('---\n{"apiVersion": "v1", "kind": "List", "items": {"a": 1}}\n'), 2, "document 1: kind List needs 'items' to be a list of objects, got a mapping"),
    Case("image-number", raw(deployment(image=5)), 2, "image is a number; set it to a string reference"),
    Case("image-list", raw(deployment(image=["a"])), 2, "image is a list; set it to a string reference"),
    Case("image-map", raw(deployment(image={"name": "a"})), 2, "image is a mapping; set it to a string reference"),
    # --- settings
    Case("settings-unknown-version", raw('---\n{"apiVersion": "jhub-ck8s.io/v9", "kind": "PostRenderSettings"}\n'), 2, "PostRenderSettings/: apiVersion 'jhub-ck8s.io/v9' is not one this jhub-ck8s reads (jhub-ck8s.io/v1alpha1)"),
    Case("settings-foreign-group", raw('---\n{"apiVersion": "example.com/v1", "kind": "PostRenderSettings"}\n'), 2, "PostRenderSettings/: apiVersion 'example.com/v1' is not one this jhub-ck8s reads (jhub-ck8s.io/v1alpha1)"),
    Case("config-not-utf8", raw(""), 2, "settings.yaml: not UTF-8 text (byte 10); save it as UTF-8", config=b"registry: \xff\xfe\n"),
    Case("config-not-mapping", raw(""), 2, "settings.yaml: expected a mapping of settings, got a list", config=b"- a\n- b\n"),
    Case("config-deep", raw(""), 2, "settings.yaml: nests deeper than 100 levels; no setting is that deep", config=("patches: " + nested(5000) + "\n").encode()),
    Case("patch-path-without-slash", raw(_patch({"op": "add", "path": "data/x", "value": 1})), 2, "setting patches[0].patch[0].path: 'data/x' is not a JSON pointer: it must start with /"),
    Case("patch-from-without-slash", raw(_patch({"op": "move", "from": "data", "path": "/x"})), 2, "setting patches[0].patch[0].from: 'data' is not a JSON pointer: it must start with /"),
    Case("patch-op-unknown", raw(_patch({"op": "frobnicate", "path": "/x"})), 2, "setting patches[0].patch[0].op: 'frobnicate' is not an RFC 6902 operation; use one of add, remove, replace, move, copy, test"),
    Case("patch-value-missing", raw(_patch({"op": "add", "path": "/x"})), 2, "setting patches[0].patch[0]: op add needs 'value'"),
    # --- patches that fail: named by patch, op, path and document, never by content
    Case("patch-missing-path-stringdata", raw(_patch({"op": "replace", "path": "/stringData/nope/x", "value": 1})), 1, "Secret/hub: patch p does not apply: operation 1 (replace /stringData/nope/x): a path it names does not exist in this object"),
    Case("patch-missing-path-data", raw(_patch({"op": "replace", "path": "/data/nope/x", "value": 1})), 1, "Secret/hub: patch p does not apply: operation 1 (replace /data/nope/x): a path it names does not exist in this object"),
    Case("patch-test-fails", raw(_patch({"op": "test", "path": "/data/values.yaml", "value": "nope"})), 1, "Secret/hub: patch p does not apply: operation 1 (test /data/values.yaml): the value at the path is not the one the test expects"),
    Case("patch-test-fails-stringdata", raw(_patch({"op": "test", "path": "/stringData/values.yaml", "value": "nope"})), 1, "Secret/hub: patch p does not apply: operation 1 (test /stringData/values.yaml): the value at the path is not the one the test expects"),
    Case("patch-remove-missing", raw(_patch({"op": "remove", "path": "/metadata/annotations/none"})), 1, "Secret/hub: patch p does not apply: operation 1 (remove /metadata/annotations/none): a path it names does not exist in this object"),
    Case("patch-copy-from-missing", raw(_patch({"op": "copy", "from": "/data/nope", "path": "/data/x"})), 1, "Secret/hub: patch p does not apply: operation 1 (copy /data/nope -> /data/x): a path it names does not exist in this object"),
    Case("patch-index-out-of-range", raw(_patch({"op": "add", "path": "/metadata/x/5", "value": 1})), 1, "Secret/hub: patch p does not apply: operation 1 (add /metadata/x/5): a path it names does not exist in this object"),
    Case("patch-removes-hub-config", lambda v: _patch({"op": "remove", "path": f"/{v}"}) + hub_secret(v) + HUB_DEPLOYMENT, 2, "Secret/hub: patch p removes {variant}.values.yaml, the hub's runtime config, without which the hub cannot start"),
    Case("patch-removes-values-key", lambda v: _patch({"op": "remove", "path": f"/{v}/values.yaml"}) + hub_secret(v) + HUB_DEPLOYMENT, 2, "Secret/hub: patch p removes {variant}.values.yaml, the hub's runtime config, without which the hub cannot start"),
    # --- the hub's Secret itself
    Case("hub-values-not-base64", lambda v: hub_secret("data").replace(_b64(HUB_VALUES), "!!notbase64!!") + HUB_DEPLOYMENT, 2, "Secret/hub, key values.yaml: not valid base64-encoded UTF-8 text"),
    Case("hub-values-not-yaml", lambda v: hub_secret(v, HUB_VALUES + "  bad: [\n") + HUB_DEPLOYMENT, 2, "Secret/hub, key values.yaml: the decoded hub config is not valid YAML"),
    Case("hub-values-not-mapping", lambda v: hub_secret(v, "- a\n- b\n") + HUB_DEPLOYMENT, 2, "Secret/hub, key values.yaml: the decoded hub config is a list, not a mapping"),
    Case("hub-values-number", lambda v: hub_secret(v).replace(json.dumps(_b64(HUB_VALUES)) if v == "data" else json.dumps(HUB_VALUES), "5") + HUB_DEPLOYMENT, 2, "Secret/hub, key values.yaml: expected a string, got a number"),
    Case("hub-without-values", lambda v: hub_secret(v).replace('"values.yaml"', '"other.yaml"') + HUB_DEPLOYMENT, 0, "Secret/hub: has no values.yaml, so the hub's runtime config (the user pods it spawns) cannot be checked or hardened", one_line=False),
    # --- streams
    Case("stdin-closed", None, 2, "stdin is closed: pipe the rendered release in"),
    Case("stdin-not-utf8", lambda v: "kind: x\nv: \udcff\n", 2, "stdin: not UTF-8 text (byte 11); save it as UTF-8"),
    Case("excessive-aliasing", raw("---\nkind: ConfigMap\na: &a [x, y]\nb: &b [" + ", ".join(["*a"] * 9) + "]\nc: &c [" + ", ".join(["*b"] * 9) + "]\nd: [" + ", ".join(["*c"] * 12) + "]\n"), 2, "document 1: document contains excessive aliasing, which Helm and Kubernetes refuse"),
    Case("malformed-yaml", raw("---\nkind: x\n  bad: [\n"), 2, "document 1: malformed YAML at line 3: mapping values are not allowed in this context"),
    Case("control-character", raw('---\nkind: x\nv: "a\x7f"\n'), 2, "document 1: malformed YAML: the character U+007F is not allowed raw in YAML"),
]


# "within a few seconds": each case takes about 0.1 s; the bound is a hang guard that a loaded
# machine never meets, and a regression to the old exact arithmetic (28 s for 1e10000000) does
CASE_SECONDS = 20


def run(case: Case, variant: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, str]:
    report = tmp_path / "report.json"
    args = list(case.args)
    if case.config is not None:
        config = tmp_path / "settings.yaml"
        config.write_bytes(case.config)
        args.append(f"--config={config}")
    command = [sys.executable, str(REPO / "postrender.py"), "--registry=harbor.example.com/jupyterhub", *args]
    env = {**os.environ, "JHUB_CK8S_REPORT": str(report)}
    if case.stream is None:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=CASE_SECONDS,
                              preexec_fn=lambda: os.close(0))
    else:
        data = case.stream(variant).encode("utf-8", errors="surrogateescape")
        done = subprocess.run(command, input=data, capture_output=True, env=env, timeout=CASE_SECONDS)
    return done, report.read_text() if report.exists() else ""


def _outside_secrets(stdout: str) -> str:
    if not stdout:
        return ""
    return "".join(doc.text() for doc in parse(stdout) if doc.kind != "Secret")


@pytest.mark.parametrize("variant", ["stringData", "data"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(case, variant, tmp_path):
    done, report = run(case, variant, tmp_path)
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == case.exit, stderr
    # the whole statement of the problem, in the line that reports it (error, or warning on exit 0)
    severity = "warning: " if case.exit == 0 else "error: "
    fragment = case.fragment.replace("{variant}", variant)
    assert any(fragment in line for line in stderr.splitlines() if line.startswith(severity)), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    if case.exit:
        assert done.stdout == b"", "partial output on stdout"
        if case.one_line and case.exit == 2:  # a fatal error is one line, with no summary after it
            assert len(stderr.strip().splitlines()) == 1, stderr
            assert " 0 errors" not in stderr, stderr
            # a key path (three parts or more: spec.template.spec, containers[0].image) once
            paths = [p for p in re.findall(r"[\w-]+(?:\.[\w-]+|\[\d+\])+", stderr)
                     if len(re.findall(r"\.|\[", p)) >= 2]
            twice = [(a, b) for i, a in enumerate(paths) for b in paths[i + 1:]
                     if a == b or b.startswith((a + ".", a + "[")) or a.startswith((b + ".", b + "["))]
            assert twice == [], f"a key path is printed twice: {stderr}"
    assert "pin the image" not in stderr, stderr  # the old fix that fitted no such case
    # the report says what stderr said, so the plugin can say it too
    assert report, "no report was written"
    assert json.loads(report)["exitCode"] == case.exit
    public = stderr + report + _outside_secrets(done.stdout.decode())
    leaked = [s for s in forbidden_strings() if s in public]
    assert leaked == [], f"Secret content leaked: {leaked}"


def test_markers_are_really_in_the_input(tmp_path):
    """The control: the forbidden strings are findable where they belong (the output's Secret)."""
    done, _report = run(Case("ok", raw(""), 0, ""), "stringData", tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert MARKERS["cookie"] in done.stdout.decode()
    done, _report = run(Case("ok", raw(""), 0, ""), "data", tmp_path)
    assert _b64(MARKERS["cookie"]) in done.stdout.decode()


def test_stdout_closed_early_is_not_a_silent_success():
    stream = raw("")("stringData")
    command = [sys.executable, str(REPO / "postrender.py"), "--registry=harbor.example.com/jupyterhub", "-q"]
    done = subprocess.run(command, input=stream.encode(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          preexec_fn=lambda: os.close(1), timeout=60)
    assert done.returncode != 0
    assert b"Traceback" not in done.stderr and b"Exception ignored" not in done.stderr, done.stderr.decode()


def test_stdout_closed_mid_stream_is_an_error_not_half_a_release(tmp_path):
    """The reader takes a few bytes of a stream far larger than a pipe's buffer and goes away:
    one write comes back short, which Python's text layer does not report. Exit 2, quietly
    (as a Unix filter under `| head`): no traceback, no "Exception ignored"."""
    copies = "".join(HUB_DEPLOYMENT.replace("{name: hub,", f"{{name: hub-{i},", 1) for i in range(1000))
    assert len(copies) > 4 * 65536
    errors = tmp_path / "stderr"
    command = [sys.executable, str(REPO / "postrender.py"), "--registry=harbor.example.com/jupyterhub", "-q"]
    with errors.open("wb") as stderr:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(copies.encode())
        process.stdin.close()
        assert process.stdout.read(10)
        process.stdout.close()
        assert process.wait(timeout=60) == 2
    message = errors.read_text()
    assert "Traceback" not in message and "Exception ignored" not in message, message


@pytest.mark.parametrize("variant", ["stringData", "data"])
def test_patch_of_values_yaml_has_the_final_word(variant, tmp_path):
    """Applied after the hub config is written back (not overwritten by it), and the hub restarts."""
    replacement = "hub: {}\nsingleuser: {image: {name: harbor.example.com/jupyterhub/x, tag: '1.0'}}\n"
    value = replacement if variant == "stringData" else _b64(replacement)
    stream = _patch({"op": "replace", "path": f"/{variant}/values.yaml", "value": value}) + hub_secret(variant) + HUB_DEPLOYMENT
    done, _report = run(Case("values", lambda v: stream, 0, ""), variant, tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    docs = parse(done.stdout.decode())
    (secret,) = [d for d in docs if d.kind == "Secret"]
    assert secret.obj[variant]["values.yaml"] == value
    (hub,) = [d for d in docs if d.label == "Deployment/hub"]
    import hashlib

    checksum = hub.obj["spec"]["template"]["metadata"]["annotations"]["checksum/secret"]
    assert checksum == hashlib.sha256(secret.text().encode()).hexdigest()
