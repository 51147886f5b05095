"""The end-to-end control plane's own promises. With stand-in processes (no Kubernetes needed):
a process that dies is reported with its log, a failed start stops what it started and
removes its files, and missing binaries give a reason to skip that says how to build them. With
the real binaries: a healthy control plane stops whole."""

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
    assert plane._etcd_data is not None and not plane._etcd_data.exists(), "etcd's data folder was left behind"


def test_missing_binaries_say_how_to_build_them(tmp_path):
    reason = find_binaries(tmp_path)
    assert isinstance(reason, str)
    assert "kube-apiserver" in reason and "run make kube" in reason


def test_a_healthy_control_plane_stops_whole_and_leaves_no_files(tmp_path):
    """The real binaries: after ``stop()`` no process runs, the API server's port is closed,
    and neither the work folder nor etcd's data folder (in /dev/shm) is left behind."""
    import socket

    from conftest import TOOLS

    binaries = find_binaries(TOOLS)
    if isinstance(binaries, str):
        pytest.skip(binaries)
    workdir = tmp_path / "plane"
    plane = ControlPlane(binaries, workdir)
    try:
        plane.start()
        assert plane.admin_api.request("GET", "/version").body["gitVersion"].startswith("v1.34.")
        etcd_data = plane._etcd_data
        assert etcd_data is not None and etcd_data.exists()
        port = int(plane.server.rsplit(":", 1)[1])
    finally:
        plane.stop()
    assert [p.name for p in plane.processes] == ["etcd", "kube-apiserver", "kube-controller-manager"]
    assert all(p.popen.poll() is not None for p in plane.processes), "a process was left running"
    assert not workdir.exists() and not etcd_data.exists()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the API server still listens"
