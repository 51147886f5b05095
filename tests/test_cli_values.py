"""`helm ck8s-jupyter init` and `import-values` as commands: files, messages, exit codes."""

from __future__ import annotations

import subprocess
import sys

from conftest import FIXTURES, REPO


def _cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jhub_ck8s.cli", *args], capture_output=True, text=True, check=False, cwd=cwd or REPO)


def test_import_values_prints_what_it_changed_and_keeps_comments(tmp_path):
    out = tmp_path / "values.yaml"
    result = _cli("import-values", str(FIXTURES / "import-guide-sample.yaml"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert text.startswith("#") or "\n#" in text  # comments survive
    assert "jupyterhub:" in text and "ck8s:" in text
    assert "&" in text and "*" in text  # anchors and aliases survive
    assert result.stderr.count("ck8s-jupyter: ") >= 2  # one line per change


def test_import_values_errors_are_one_line(tmp_path):
    missing = _cli("import-values", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: ") and "cannot read it" in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    result = _cli("import-values", str(bad))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_init_writes_once_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "values.yaml"
    first = _cli("init", str(target), "--registry", "harbor.example.com/team", "--host", "jh.example.com")
    assert first.returncode == 0, first.stderr
    assert "registry: harbor.example.com/team" in target.read_text()
    again = _cli("init", str(target))
    assert again.returncode == 2 and "--force" in again.stderr
    assert _cli("init", str(target), "--force").returncode == 0
