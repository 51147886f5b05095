"""The end-to-end control plane's own promises, with stand-in processes (no Kubernetes needed):
a process that dies is reported with its log, a failed start stops what it started and
removes its files, and missing binaries give a reason to skip that says how to build them."""

from __future__ import annotations

from pathlib import Path

import pytest
from controlplane import Binaries, ControlPlane, ControlPlaneError, find_binaries


def script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_a_crashed_server_shows_its_log_and_the_rest_is_stopped_and_removed(tmp_path):
    etcd = script(tmp_path / "etcd", "exec sleep 300")
    apiserver = script(tmp_path / "kube-apiserver", 'echo "E0101 server.go:1] cannot listen: bad flag" >&2\nexit 3')
    manager = script(tmp_path / "kube-controller-manager", "exec sleep 300")
    workdir = tmp_path / "plane"
    workdir.mkdir()
    plane = ControlPlane(Binaries(etcd, apiserver, manager), workdir, startup_timeout=20)
    with pytest.raises(ControlPlaneError) as failed:
        plane.start()
    message = str(failed.value)
    assert "kube-apiserver exited with code 3" in message
    assert "cannot listen: bad flag" in message  # the log's last lines
    etcd_process = plane.processes[0]
    assert etcd_process.name == "etcd"
    assert etcd_process.popen.poll() is not None, "etcd was left running"
    assert not workdir.exists(), "the control plane's files were left behind"


def test_missing_binaries_say_how_to_build_them(tmp_path):
    reason = find_binaries(tmp_path)
    assert isinstance(reason, str)
    assert "kube-apiserver" in reason and "run make kube" in reason
