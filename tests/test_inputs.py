"""Every command reads the user's files through one reader (``jhub_ck8s.inputs``).

A file that is not UTF-8, or cannot be read, is one line and exit 2 whatever command
reads it, never an internal error (exit 3) nor partial output. Each case below is a
command as a user types it, run as a separate process.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import REPO, TOOLS

import jhub_ck8s.inputs as inputs
from jhub_ck8s.errors import UserError

NOT_UTF8 = b"kind: ConfigMap\nmetadata:\n  name: caf\xe9\n"  # Latin-1 "cafe", byte 37 is not UTF-8
BAD_BYTE = NOT_UTF8.index(b"\xe9")


def _cli(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jhub_ck8s.cli", *args], input=stdin, capture_output=True, check=False, cwd=REPO,
        env={**os.environ, **(env or {})}, timeout=120,
    )


def _assert_one_line_exit_2(result: subprocess.CompletedProcess, label: str) -> None:
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert result.stdout == b""
    assert stderr == f"error: {label}: not UTF-8 text (byte {BAD_BYTE}); save it as UTF-8\n"


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "old-values.yaml"
    path.write_bytes(NOT_UTF8)
    return path


def test_import_values_not_utf8_is_one_line_exit_2(bad_file):
    """Once exit 3 (an internal error: UnicodeDecodeError)."""
    _assert_one_line_exit_2(_cli("import-values", str(bad_file)), str(bad_file))


def test_import_values_unwritable_output_is_one_line_exit_2(tmp_path):
    good = tmp_path / "old.yaml"
    good.write_text("hub: {}\n")
    result = _cli("import-values", str(good), "-o", str(tmp_path / "no-such-folder" / "values.yaml"))
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode() == f"error: -o {tmp_path}/no-such-folder/values.yaml: cannot write it (No such file or directory)\n"


@pytest.mark.parametrize("command", ["images", "mirror"])
def test_from_file_not_utf8(command, bad_file):
    extra = ["--registry", "harbor.example.com/team"] if command == "mirror" else []
    _assert_one_line_exit_2(_cli(command, "--from", str(bad_file), *extra), f"--from {bad_file}")


@pytest.mark.parametrize("command", ["images", "mirror"])
def test_from_stdin_not_utf8(command):
    extra = ["--registry", "harbor.example.com/team"] if command == "mirror" else []
    _assert_one_line_exit_2(_cli(command, "--from", "-", *extra, stdin=NOT_UTF8), "--from -")


def test_dest_creds_from_stdin_not_utf8(tmp_path):
    """Credentials on stdin go through the same reader; the message shows no byte of them."""
    stream = tmp_path / "rendered.yaml"
    stream.write_text("kind: ConfigMap\nmetadata:\n  name: x\n")
    secret = "robot$team:s3cr\xe9t-a81f3c".encode("latin-1")
    result = _cli("mirror", "--from", str(stream), "--registry", "harbor.example.com/team", "--dest-creds", "-", stdin=secret)
    assert result.returncode == 2 and result.stdout == b""
    byte = secret.index(b"\xe9")
    assert result.stderr.decode() == f"error: --dest-creds -: not UTF-8 text (byte {byte}); save it as UTF-8\n"


def test_check_file_not_utf8(bad_file):
    _assert_one_line_exit_2(_cli("check", str(bad_file)), str(bad_file))


def test_check_stdin_not_utf8():
    _assert_one_line_exit_2(_cli("check", "-", stdin=NOT_UTF8), "stdin")


def test_post_renderer_config_not_utf8(bad_file):
    result = subprocess.run(
        [sys.executable, str(REPO / "postrender.py"), "--config", str(bad_file)], input=b"kind: ConfigMap\n",
        capture_output=True, check=False, timeout=120,
    )
    assert result.returncode == 2 and result.stdout == b""
    assert f"--config {bad_file}: not UTF-8 text (byte {BAD_BYTE}); save it as UTF-8" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()


def _helm_env() -> dict[str, str]:
    helm = TOOLS / "bin" / "helm3"
    if not helm.is_file():
        pytest.skip(f"{helm} not installed (make setup): the chart commands look for helm before the chart")
    return {"HELM_BIN": str(helm)}


def _chart_yaml() -> bytes:
    return b"apiVersion: v2\nname: jupyterhub\nversion: 4.4.0\ndescription: caf\xe9\n"


def test_chart_folder_with_a_chart_yaml_not_utf8(tmp_path):
    """Once exit 3: the folder's Chart.yaml was read with Path.read_text, outside the one reader."""
    folder = tmp_path / "jupyterhub"
    folder.mkdir()
    (folder / "Chart.yaml").write_bytes(_chart_yaml())
    result = _cli("images", "--chart-archive", str(folder), env=_helm_env())
    assert result.returncode == 2, result.stderr.decode()
    assert result.stdout == b""
    byte = _chart_yaml().index(b"\xe9")
    assert result.stderr.decode() == f"error: {folder}/Chart.yaml: not UTF-8 text (byte {byte}); save it as UTF-8\n"


def test_chart_archive_with_a_chart_yaml_not_utf8(tmp_path):
    """Once read with errors="replace": the name was silently mangled."""
    archive = tmp_path / "jupyterhub-4.4.0.tgz"
    data = _chart_yaml()
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("jupyterhub/Chart.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    result = _cli("images", "--chart-archive", str(archive), env=_helm_env())
    assert result.returncode == 2, result.stderr.decode()
    assert result.stdout == b""
    byte = data.index(b"\xe9")
    assert result.stderr.decode() == f"error: {archive}: jupyterhub/Chart.yaml: not UTF-8 text (byte {byte}); save it as UTF-8\n"


def test_reader_names_the_source_and_uses_the_callers_error(tmp_path):
    class SettingsProblem(UserError):
        pass

    path = tmp_path / "x.yaml"
    path.write_bytes(NOT_UTF8)
    with pytest.raises(SettingsProblem, match=r"^--config x: not UTF-8 text \(byte 37\); save it as UTF-8$"):
        inputs.read_text(str(path), label="--config x", error=SettingsProblem)
    with pytest.raises(UserError, match=r": cannot read it \(No such file or directory\)$"):
        inputs.read_text(str(tmp_path / "missing.yaml"))
    path.write_bytes("name: café\n".encode())
    assert inputs.read_text(str(path)) == "name: café\n"


def test_no_command_opens_user_files_outside_the_reader():
    """The one reader: user files are opened in inputs.py only (writes, the lock and tool files excepted)."""
    import re

    allowed = {
        "jhub_ck8s/inputs.py",
        "jhub_ck8s/lock.py",  # the lock the mirror writes and reads back (17b: moves to the reader)
        "jhub_ck8s/report.py",  # the JSON report the post-renderer wrote for the CLI
        "jhub_ck8s/kubeconform.py",  # .tools/schemas/LOCATION, written by make setup
        "jhub_ck8s/starter.py",  # writes the starter values file, reads nothing
        # the live client reads the kubeconfig and its tokenFile with its own one-line ConfigError
        # (exit 2), free of the CLI's errors, as helm-diff's client is (tests/test_live_client.py)
        "jhub_ck8s/live/client.py",
        "jhub_ck8s/registry_auth.py",  # container auth files: one that cannot be read is passed over, as skopeo does
        "jhub_ck8s/values_layers.py",  # the chart's own values.yaml (helm reports a chart it cannot read)
    }
    reads = re.compile(r"(?<![\w.])open\([^)]*\)|\.read_text\(|\.read_bytes\(|stdin\.read\(|stdin\.buffer\.read\(")
    found = []
    for path in sorted((REPO / "jhub_ck8s").rglob("*.py")):
        name = path.relative_to(REPO).as_posix()
        if name in allowed:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = reads.search(line)
            if not match:
                continue
            text = match.group(0)
            if text.startswith("open(") and re.search(r"""["'][wa]b?["']""", text):
                continue  # a write
            found.append(f"{name}:{number}: {line.strip()}")
    assert found == []


def _reading_stdin(pid: int) -> bool:
    """The process is blocked in read(2) on fd 0 (x86-64: syscall 0): the handshake for a signal."""
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return fields[:2] == ["0", "0x0"]


@pytest.mark.skipif(os.uname().machine != "x86_64" or not Path("/proc/self/syscall").exists(),
                    reason="the handshake reads /proc/PID/syscall, whose numbers are x86-64's")
def test_post_renderer_interrupted_while_reading_stdin_exits_130_without_a_traceback():
    import signal
    import time

    process = subprocess.Popen(
        [sys.executable, str(REPO / "postrender.py"), "--registry=harbor.example.com/team"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        assert process.stdin is not None
        process.stdin.write(b"kind: ConfigMap\n")
        process.stdin.flush()
        deadline = time.monotonic() + 60
        while not _reading_stdin(process.pid):  # poll for the state, not for time
            assert process.poll() is None and time.monotonic() < deadline, "never blocked reading stdin"
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err.decode()
    assert out == b""
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err, err.decode()
