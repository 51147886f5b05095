"""`helm ck8s-jupyter check`: the command, its exit codes and its three output forms."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, REPO, Z2JH, Z2JH_MISSING, kubeconform_command

from jhub_ck8s import cli
from jhub_ck8s.check import pod_rebuild as userpods
from jhub_ck8s.pipeline import run as post_render
from jhub_ck8s.release import ChartRequest, Outcome
from jhub_ck8s.report import SavedReport
from jhub_ck8s.settings import read_layer
from jhub_ck8s.stream import parse

REGISTRY = "harbor.example.com/jupyterhub"
GUIDE = Z2JH / "template" / "guide.yaml"
needs_z2jh = pytest.mark.skipif(not GUIDE.exists(), reason=Z2JH_MISSING)


# The recorded guide render carries the guide's example names (jupyter.example.com, ...) on
# purpose; the values rules that judge them are tested in tests/test_values_lint.py.
GUIDE_EXAMPLES = ("--allow-example", "Ingress/jupyterhub", "--allow-example", "Secret/hub")


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def guide_post(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not GUIDE.exists():
        pytest.skip(Z2JH_MISSING)
    result = post_render(GUIDE.read_text(), flag_layer=read_layer({"registry": REGISTRY}, "t"))
    assert result.exit_code == 0
    path = tmp_path_factory.mktemp("check") / "guide-post.yaml"
    path.write_text(result.output)
    return path


@needs_z2jh
def test_done_when_guide_fails_then_passes_after_post_rendering(
    capsys: pytest.CaptureFixture[str], guide_post: Path
) -> None:
    code, out, _ = check(capsys, str(GUIDE), "--registry", REGISTRY, *GUIDE_EXAMPLES)
    assert code == 1
    errors = [line.strip() for line in out.splitlines() if line.strip().startswith("error:")]
    assert sorted(errors) == sorted([
        "error: safeguard-pdb: spec.minAvailable: minAvailable 0 >= replicas 0 of StatefulSet/user-placeholder: "
        "no pod may be evicted",
        "error: pss-restricted-run-as-non-root: container notebook: runAsNonRoot is not true in the container nor in the pod",
        "error: pss-restricted-seccomp: container notebook: seccompProfile is not set in the container nor in the pod",
        "error: pss-restricted-capabilities: container notebook: securityContext.capabilities.drop does not contain ALL",
    ])
    assert "spawned user pod (default)" in out and "[Pod Security: baseline]" in out
    assert "warning: safeguard-trusted-registry: container hub: image quay.io/jupyterhub/k8s-hub:4.4.0" in out
    assert out.splitlines()[-1].startswith("NOT admissible: 4 errors, 16 warnings in 25 documents, 1 spawned user pod")

    code, out, _ = check(capsys, str(guide_post), "--registry", REGISTRY, *GUIDE_EXAMPLES)
    assert code == 0, out
    assert out.splitlines()[-1] == (
        "admissible: 0 errors, 0 warnings in 25 documents, 1 spawned user pod; Pod Security levels: 7 restricted"
    )


@needs_z2jh
def test_without_registry_a_note_says_the_rule_was_skipped(capsys: pytest.CaptureFixture[str], guide_post: Path) -> None:
    code, out, _ = check(capsys, str(guide_post), *GUIDE_EXAMPLES)
    assert code == 0
    assert "note: safeguard-trusted-registry not evaluated: no registry given (--registry HOST/PROJECT)" in out


@needs_z2jh
def test_stdin_and_quiet(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(GUIDE.read_bytes())))
    code, out, _ = check(capsys, "-", "--registry", REGISTRY, "-q")
    assert code == 1
    assert "[Pod Security: restricted]\n  ok" not in out  # quiet: objects without findings left out
    assert "PodDisruptionBudget/user-placeholder" in out


def _text_findings(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith(("error:", "warning:"))]


def _json_line(finding: dict) -> str:
    where = f"{finding['where']}: " if finding["where"] else ""
    return f"{finding['severity']}: {finding['rule']}: {where}{finding['message']}"


@needs_z2jh
def test_json_and_junit_carry_the_findings_of_the_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    args = (str(Z2JH / "template" / "full.yaml"), "--registry", REGISTRY)
    _, text_out, _ = check(capsys, *args)
    code_json, json_out, _ = check(capsys, *args, "--output", "json")
    code_junit, junit_out, _ = check(capsys, *args, "-o", "junit")
    assert code_json == code_junit == 1
    expected = sorted(_text_findings(text_out))

    data = json.loads(json_out)
    assert data["admissible"] is False and data["exitCode"] == 1
    assert data["summary"]["line"] == text_out.splitlines()[-1]
    findings = [f for o in data["objects"] for f in o["findings"]]
    assert sorted(_json_line(f) for f in findings) == expected
    assert {o["object"]: o["pssLevel"] for o in data["objects"]}["spawned user pod (profile 1: r-environment)"] == "privileged"

    root = ET.fromstring(junit_out)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert {s.get("name") for s in suites} >= {o["object"] for o in data["objects"]}
    lines: list[str] = []
    failures = 0
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == len([c for c in cases if c.find("failure") is not None])
        for case in cases:
            for element in (case.find("failure"), case.find("system-out")):
                if element is not None:
                    lines += [x for x in element.text.splitlines() if x.startswith(("error:", "warning:"))]
            failures += case.find("failure") is not None
    assert sorted(lines) == expected
    assert int(root.get("failures")) == failures > 0
    # warnings are failures only with --strict
    hub = next(s for s in suites if s.get("name") == "Deployment/hub")
    registry_case = next(c for c in hub.findall("testcase") if c.get("name") == "safeguard-trusted-registry")
    assert registry_case.find("failure") is None and registry_case.find("system-out") is not None
    _, strict_out, _ = check(capsys, *args, "-o", "junit", "--strict")
    hub = next(s for s in ET.fromstring(strict_out).findall("testsuite") if s.get("name") == "Deployment/hub")
    registry_case = next(c for c in hub.findall("testcase") if c.get("name") == "safeguard-trusted-registry")
    assert registry_case.find("failure").get("type") == "warning"


def test_junit_marks_rules_not_evaluated_as_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(capsys, str(FIXTURES / "check-safeguards.yaml"), "-o", "junit", "--no-user-pods")
    assert code == 1
    root = ET.fromstring(out)
    suite = next(s for s in root.findall("testsuite") if s.get("name") == "Deployment/good")
    case = next(c for c in suite.findall("testcase") if c.get("name") == "safeguard-trusted-registry")
    assert "--registry" in case.find("skipped").get("message")
    assert int(root.get("skipped")) > 0


def test_strict_counts_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    stream = str(FIXTURES / "check-settings-stream.yaml")
    assert check(capsys, stream)[0] == 0
    code, out, _ = check(capsys, stream, "--strict")
    assert code == 1
    assert "(--strict: warnings count as failures)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--kubernetes-version", "1.33"], "expected X.Y.Z"),
        (["-f", "values.yaml"], "-f/--values: only when check renders the chart"),
        (["--registry", "https://harbor.example.com"], "--registry"),
    ],
)
def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = check(capsys, str(FIXTURES / "check-safeguards.yaml"), *argv)
    assert code == 2
    assert message in err and out == ""


def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Pod\nmetadata: [unclosed\n")
    code, _, err = check(capsys, str(bad))
    assert code == 2 and "malformed YAML" in err
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert check(capsys, str(empty))[0] == 2
    assert check(capsys, str(tmp_path / "missing.yaml"))[0] == 2


def test_missing_kubeconform_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JHUB_CK8S_TOOLS", str(tmp_path))
    code, _, err = check(capsys, str(FIXTURES / "check-safeguards.yaml"), "--kubernetes-version", "1.33.0")
    assert code == 2
    assert "needs kubeconform" in err and "make setup" in err


def test_kubeconform_validates_every_document(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    kubeconform_command("1.33.0")  # skips when setup has not installed it
    docs = [d.obj for d in parse((FIXTURES / "check-safeguards.yaml").read_text())]
    docs[-1]["bogus"] = 1  # ConfigMap/plain: an unknown field
    stream = tmp_path / "stream.yaml"
    stream.write_text("".join("---\n" + yaml.safe_dump(d) for d in docs))
    code, out, _ = check(capsys, str(stream), "--kubernetes-version", "1.33.0", "-o", "json", "--no-user-pods")
    data = json.loads(out)
    schema = {o["object"]: [f["message"] for f in o["findings"] if f["rule"] == "kubeconform-schema"] for o in data["objects"]}
    assert [k for k, v in schema.items() if v] == ["ConfigMap/plain"]
    assert "bogus" in schema["ConfigMap/plain"][0]
    assert all("kubeconform-schema" in o["rulesChecked"] for o in data["objects"])
    assert code == 1


@needs_z2jh
def test_missing_kubespawner_is_a_warning(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, guide_post: Path
) -> None:
    def missing(*args: object, **kwargs: object) -> None:
        raise userpods.KubeSpawnerMissing()

    monkeypatch.setattr(userpods, "build_user_pods", missing)
    code, out, _ = check(capsys, str(guide_post), *GUIDE_EXAMPLES)
    assert code == 0
    assert "warning: spawned-user-pods-not-audited: jupyterhub-kubespawner is not installed" in out
    assert check(capsys, str(guide_post), "--strict", *GUIDE_EXAMPLES)[0] == 1


@needs_z2jh
def test_secret_contents_are_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    full = Z2JH / "template" / "full.yaml"
    secret = next(d for d in parse(full.read_text()) if d.label == "Secret/hub")
    values = base64.b64decode(secret.obj["data"]["values.yaml"]).decode()
    tokens = {v for k, v in secret.obj["data"].items() if k != "values.yaml"}
    tokens |= {base64.b64decode(v).decode() for v in tokens}
    tokens |= {yaml.safe_load(values)["proxy"]["secretToken"], "dummy-token"}
    tokens = {t for t in tokens if isinstance(t, str) and len(t) >= 8}
    assert len(tokens) >= 3
    for form in ("text", "json", "junit"):
        _, out, err = check(capsys, str(full), "--registry", REGISTRY, "-o", form)
        for token in tokens:
            assert token not in out and token not in err, form


@needs_z2jh
def test_check_with_chart_arguments_audits_the_render(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, guide_post: Path
) -> None:
    from jhub_ck8s import release

    calls = []

    def fake_run_chart(request: ChartRequest, helm: object = None, *, capture: bool = False, on_start: object = None) -> Outcome:
        post = request.post_renderer
        calls.append((request.release, list(request.values), post.registry if post else None, post is not None, capture))
        return Outcome(0, guide_post.read_text(), SavedReport(exit_code=0))

    monkeypatch.setattr(release, "run_chart", fake_run_chart)
    code, out, _ = check(capsys, "jhub", "-f", "values.yaml", "--registry", REGISTRY)
    assert code == 0, out
    assert calls == [("jhub", ["values.yaml"], REGISTRY, True, True)]
    assert out.splitlines()[-1].startswith("admissible: 0 errors, 0 warnings")

    monkeypatch.setattr(release, "run_chart", lambda *a, **k: Outcome(1, "", SavedReport(exit_code=1)))
    assert check(capsys, "jhub", "-f", "values.yaml")[0] == 1


def test_help_and_plugin_entry(capsys: pytest.CaptureFixture[str]) -> None:
    result = subprocess.run(
        [str(REPO / "bin" / "ck8s-jupyter"), "check", str(FIXTURES / "check-safeguards.yaml"), "--no-user-pods", "-q"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[-1].startswith("NOT admissible:")
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    assert "--kubernetes-version" in capsys.readouterr().out
