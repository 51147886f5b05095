"""Shared test helpers: where fixtures and tools are, and how to run the post-renderer."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from paths import FIXTURES, REPO, TOOLS, Z2JH, Z2JH_MISSING  # defined once, for the bench too

__all__ = ["FIXTURES", "REPO", "TOOLS", "Z2JH", "Z2JH_MISSING"]


def _make_variable(name: str) -> str:
    """A variable of tools/versions.mk, where every pinned version is defined once."""
    for line in (REPO / "tools" / "versions.mk").read_text().splitlines():
        key, sep, value = line.partition(":=")
        if sep and key.strip() == name:
            return value.strip()
    raise LookupError(f"tools/versions.mk defines no {name}")


# The Kubernetes versions the project supports: those it installs offline schemas for.
KUBERNETES_VERSIONS = tuple(_make_variable("K8S_SCHEMA_VERSIONS").split())


def z2jh_streams() -> list:
    """Every recorded z2jh render as a pytest param, or one skipped param saying why."""
    paths = sorted(Z2JH.glob("post-render-input/*/*.yaml")) + sorted(Z2JH.glob("template/*.yaml"))
    if not paths:
        return [pytest.param(None, marks=pytest.mark.skip(reason=Z2JH_MISSING), id="z2jh-missing")]
    return [pytest.param(p, id=str(p.relative_to(Z2JH))) for p in paths]


def run_postrender(args: list[str], stdin: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run postrender.py as Helm would: a separate process, stdin in, stdout and stderr out."""
    return subprocess.run(
        [sys.executable, str(REPO / "postrender.py"), *args],
        input=stdin.encode(),
        capture_output=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def kubeconform_command(version: str) -> list[str]:
    """The project's strict kubeconform call (jhub_ck8s.kubeconform), text output; skip when not installed."""
    from jhub_ck8s import kubeconform as tool

    problem = tool.missing(TOOLS)
    if problem:
        pytest.skip(problem)
    return tool.command(version, output="text", summary=True, tools=TOOLS)


def kubeconform(text: str, version: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        kubeconform_command(version), input=text.encode(), capture_output=True, check=False
    )


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """Real registries and test images for the mirror tests (``mirror_world``), once per session."""
    from mirror_world import start_world
    from registry_fixtures import skip_reason

    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    started = start_world(tmp_path_factory.mktemp("registries"))
    yield started
    started.stop()


# --- the end-to-end tests' Kubernetes control plane (tests/controlplane.py) ----------


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory):
    """etcd + kube-apiserver + kube-controller-manager, started once for the session.

    Skipped (saying why) when the binaries are not built; ``make test`` builds them.
    """
    from controlplane import ControlPlane, find_binaries

    binaries = find_binaries(TOOLS)
    if isinstance(binaries, str):
        pytest.skip(binaries)
    plane = ControlPlane(binaries, tmp_path_factory.mktemp("control-plane")).start()
    yield plane
    crashed = plane.crashed()
    plane.stop()
    if crashed:
        pytest.fail("a control plane process died during the tests:\n" + "\n\n".join(crashed), pytrace=False)


@pytest.fixture(scope="session")
def workload_plane(tmp_path_factory):
    """The sandbox's control plane with workloads (scheduler, workload controllers, kwok nodes,
    volumes, quota): what ``make sandbox`` starts. Once per session; skipped when not built."""
    from controlplane import ControlPlane, find_binaries

    binaries = find_binaries(TOOLS, workloads=True)
    if isinstance(binaries, str):
        pytest.skip(binaries)
    plane = ControlPlane(binaries, tmp_path_factory.mktemp("workload-plane"), workloads=True).start()
    yield plane
    crashed = plane.crashed()
    plane.stop()
    if crashed:
        pytest.fail("a control plane process died during the tests:\n" + "\n\n".join(crashed), pytrace=False)


@pytest.fixture
def cluster(control_plane):
    """The session's control plane, checked alive before and after each test (its log if not)."""
    control_plane.check_alive()
    yield control_plane
    control_plane.check_alive()


@pytest.fixture
def tenant_namespace(cluster):
    """A fresh tenant namespace for one test (restricted, policies bound, tenant is admin), deleted after."""
    import uuid

    name = cluster.make_tenant_namespace(f"e2e-{uuid.uuid4().hex[:8]}")
    yield name
    cluster.delete_namespace(name)
