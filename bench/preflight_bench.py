#!/usr/bin/env python3
"""`make bench`, preflight part: how long `helm ck8s-jupyter preflight` of the real chart takes.

The world is the one of tests/test_preflight.py, built the same way: the end-to-end control
plane (tests/controlplane.py), a real registry with an htpasswd robot account holding every
image of the release, the real z2jh 4.4.0 chart through the wrapper chart and the
post-renderer, a tenant namespace under the platform's safeguards with its pull secret,
ResourceQuota and LimitRange. Then it times whole ``preflight`` processes (render included)
as the tenant, and prints the median and each round. It measures; it never fails on a goal
(the issue's goal: under 10 seconds on the sandbox, about 10 images).

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
    from test_preflight import CHART, PLATFORM, SAFEGUARDS_LABEL, World, _crd, _platform_copies, _values

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
        return 0
    finally:
        registry.stop()
        plane.stop()


if __name__ == "__main__":
    sys.exit(main())
