"""preflight --pin LOCK: the digest each tag has at the registry must be the lock file's.

Same world as tests/test_preflight.py (its fixtures: the control plane, a real registry
holding every image of the real chart's release, a staged tenant namespace). The lock
file is written by the test from the release's inventory (``images -o json``: which
destinations the release uses) and the digest the test itself pushed.
"""

from __future__ import annotations

import json

import pytest
import yaml
from registry_fixtures import PASSWORD, USER, push
from test_preflight import CHART, _cli, namespace, outcomes, results, world  # noqa: F401

pytestmark = pytest.mark.preflight


def test_pinned_digests_must_match_the_registry(world, namespace, tmp_path):  # noqa: F811
    values = world.values_file(tmp_path)
    listed = _cli(world.env(), "images", "jhub", "-n", namespace, "--chart-archive", str(CHART), "-f", str(values),
                  "-o", "json")
    assert listed.returncode == 0, listed.stderr
    inventory = json.loads(listed.stdout)["images"]
    pushed = world.layout.digests["amd"]
    entries = [{"source": i["source"], "digest": pushed, "destination": i["destination"]} for i in inventory]
    # `images` leaves out singleuser.networkTools.image when the metadata block is off, but the
    # post-renderer's pin wants it in the lock all the same: add what the render uses besides
    listed_destinations = {i["destination"] for i in inventory}
    for destination in sorted(world.images - listed_destinations):
        source = "quay.io/" + destination.split(f"{world.host}/jupyterhub/", 1)[1]  # quay.io/jupyterhub/...
        entries.append({"source": source, "digest": pushed, "destination": destination})
    lock = {"apiVersion": "jhub-ck8s.io/v1alpha1", "kind": "ImageLock", "images": entries}
    path = tmp_path / "images.lock.yaml"
    path.write_text(yaml.safe_dump(lock))
    code, report = world.preflight(namespace, values, "--pin", str(path))
    assert code == 0, report
    assert outcomes(report, "images-pin") == ["pass"], report
    # every image is rendered with the pinned digest, and found by it
    assert all(r["subject"].endswith("@" + pushed) for r in results(report, "images-pull", "pass")), report

    # the tag moves at the registry (another image pushed under it): the lock no longer matches
    moved = sorted(world.pod_images)[0]
    push(world.layout, "other", moved, creds=(USER, PASSWORD))
    try:
        code, report = world.preflight(namespace, values, "--pin", str(path))
        assert code == 1
        failed = results(report, "images-pin", "fail")
        assert len(failed) == 1 and failed[0]["subject"] == f"{moved}@{pushed}", report
        assert f"is {world.layout.digests['other']} at the registry, the lock file says {pushed}" in failed[0]["message"]
        assert outcomes(report, "images-pull") == ["pass"] * len(outcomes(report, "images-pull"))  # still there by digest
    finally:
        push(world.layout, "amd", moved, creds=(USER, PASSWORD))
