#!/usr/bin/env python3
"""`make bench`, live part: how long `helm ck8s-jupyter preflight` and `diff` of the real chart take.

The world is the one of tests/test_preflight.py, built the same way: the end-to-end control
plane (tests/controlplane.py), a real registry with an htpasswd robot account holding every
image of the release, the real z2jh 4.4.0 chart through the wrapper chart and the
post-renderer, a tenant namespace under the platform's safeguards with its pull secret,
ResourceQuota and LimitRange. Then it times whole ``preflight`` processes (render included)
as the tenant, installs the release (``deploy --skip-preflight``, Helm 3) and times whole
``diff`` processes of an upgrade changing the user image (server-side dry-run render, the
three-way comparison and the user pods' dry runs included), and prints the medians and each
round. It measures; it never fails on a goal (the issues' goals: each under 10 seconds on
the sandbox, about 10 images).

usage: .venv/bin/python bench/preflight_bench.py [--rounds N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(TESTS.parent))

GOAL_SECONDS = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="measured runs (default 5)")
    args = parser.parse_args(argv)

    from controlplane import ControlPlane, find_binaries
    from paths import TOOLS
    from registry_fixtures import PASSWORD, USER, build_images, skip_reason, start_registry
    from test_preflight import CHART, PLATFORM, SAFEGUARDS_LABEL, World, _cli, _crd, _platform_copies, _values

    binaries = find_binaries(TOOLS)
    reason = binaries if isinstance(binaries, str) else skip_reason()
    if reason or not CHART.exists():
        print(f"preflight bench: skipped: {reason or f'{CHART} not found'}", file=sys.stderr)
        return 0
    assert not isinstance(binaries, str)
    folder = Path(tempfile.mkdtemp(prefix="jhub-ck8s-preflight-bench."))
    plane = ControlPlane(binaries, folder / "plane").start()
    registry = start_registry(folder / "registry", "harbor", auth=(USER, PASSWORD))
    try:
        api = plane.admin_api
        for obj in [{"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"},
                     "spec": {"controller": "k8s.io/ingress-nginx"}},
                    _crd("ClusterIssuer", "clusterissuers", "Cluster"), *_platform_copies(registry.host)]:
            assert api.create_or_replace(obj).ok
        home = folder / "home"
        home.mkdir()
        world = World(plane, registry, build_images(folder / "images"), home, _values(registry.host))
        namespace = plane.make_tenant_namespace("bench")
        assert api.patch_merge("v1", "Namespace", namespace, {"metadata": {"labels": {SAFEGUARDS_LABEL: PLATFORM}}}).ok
        world.stage(namespace)
        values = world.values_file(folder)
        images = world.push_all(world.render(values, namespace))
        times = []
        for _ in range(args.rounds + 1):  # the first is a warm-up
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # the test helper prints each run
                code, report = world.preflight(namespace, values)
            times.append(time.perf_counter() - started)
            if code != 0:
                print(f"preflight bench: the run failed: {report['summary']}", file=sys.stderr)
                return 0
        measured = times[1:]
        median = statistics.median(measured)
        verdict = "met" if median <= GOAL_SECONDS else "missed"
        print("\n## Preflight (bench/preflight_bench.py)\n")
        print(f"`helm ck8s-jupyter preflight` of the real z2jh 4.4.0 release ({len(images)} image names pushed, "
              f"{len(report['results'])} results), render included, as the tenant of the end-to-end control plane:")
        print(f"median {median:.2f} s over {len(measured)} runs (goal ≤ {GOAL_SECONDS:g} s: {verdict}); "
              f"runs: {', '.join(f'{t:.2f}' for t in measured)} s")
        _bench_diff(world, namespace, folder, args.rounds, _cli, CHART)
        return 0
    finally:
        registry.stop()
        plane.stop()


def _bench_diff(world: Any, namespace: str, folder: Path, rounds: int, cli: Any, chart: Path) -> None:
    """Install the release, then time ``diff`` of an upgrade that changes the user image."""
    deploy = ["deploy", "jhub", "-n", namespace, "--chart-archive", str(chart)]
    with contextlib.redirect_stdout(io.StringIO()):
        installed = cli(world.env(), *deploy, "-f", str(world.values_file(folder)), "--skip-preflight")
    if installed.returncode != 0:
        print(f"diff bench: the install failed: {installed.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return

    def new_image(values: dict[str, Any]) -> None:
        values["jupyterhub"].setdefault("singleuser", {}).setdefault("image", {})["tag"] = "4.4.1"

    (folder / "changed").mkdir()
    changed = world.values_file(folder / "changed", new_image)
    times = []
    for _ in range(rounds + 1):  # the first is a warm-up
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            result = cli(world.env(), "diff", "jhub", "-n", namespace, "--chart-archive", str(chart),
                         "-f", str(changed), "--detailed-exitcode")
        times.append(time.perf_counter() - started)
        if result.returncode != 2:  # 2: changes, as expected
            print(f"diff bench: the run gave exit {result.returncode}: {result.stderr.strip()[-300:]}", file=sys.stderr)
            return
    measured = times[1:]
    median = statistics.median(measured)
    verdict = "met" if median <= GOAL_SECONDS else "missed"
    print("\n## Diff (bench/preflight_bench.py)\n")
    print("`helm ck8s-jupyter diff` of an upgrade of the installed real z2jh 4.4.0 release (a new user image), "
          "Helm 3, as the tenant of the end-to-end control plane:")
    print(f"median {median:.2f} s over {len(measured)} runs (goal ≤ {GOAL_SECONDS:g} s: {verdict}); "
          f"runs: {', '.join(f'{t:.2f}' for t in measured)} s")


if __name__ == "__main__":
    sys.exit(main())
