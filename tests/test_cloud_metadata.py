"""transforms/cloud_metadata.py (transform cloud-metadata): the iptables block off, the NetworkPolicy checked."""

from __future__ import annotations

import pytest
from hubvalues import apply, base_values, get, no_secret_values, release

from jhub_ck8s.report import CHANGE, WARNING
from jhub_ck8s.settings import Settings
from jhub_ck8s.stream import Stream, parse
from jhub_ck8s.transforms import cloud_metadata


def test_switches_off_the_iptables_metadata_block():
    values, findings, stream = apply(base_values(), cloud_metadata)
    assert get(values, "singleuser.cloudMetadata.blockWithIptables") is False
    (change,) = [f for f in findings if f.hub_key == "singleuser.cloudMetadata.blockWithIptables"]
    assert change.severity == CHANGE and change.document is stream.hub().document
    assert "169.254.169.254" in change.message and "NetworkPolicy" in change.message
    assert not [f for f in findings if f.rule == "cloud-metadata-open"]


@pytest.mark.parametrize(
    "policy", [{"enabled": False}, {"enabled": True, "egressAllowRules": {"cloudMetadataServer": True}}]
)
def test_warns_when_the_network_policy_does_not_block_metadata(policy):
    values = base_values()
    values["singleuser"]["networkPolicy"] = policy
    _, findings, _ = apply(values, cloud_metadata)
    (warning,) = [f for f in findings if f.rule == "cloud-metadata-open"]
    assert warning.severity == WARNING and "singleuser.networkPolicy" in warning.fix


@pytest.mark.parametrize("block", [False, None])
def test_a_block_already_off_or_absent_is_left_alone(block):
    values = base_values()
    values["singleuser"]["cloudMetadata"] = {"ip": "169.254.169.254"} if block is None else {"blockWithIptables": block}
    values["singleuser"]["networkPolicy"] = {"enabled": False}
    after, findings, _ = apply(values, cloud_metadata)
    assert findings == []
    assert after["singleuser"]["cloudMetadata"] == values["singleuser"]["cloudMetadata"]


def test_is_idempotent_and_shows_no_secret_value():
    stream = Stream(parse(release(base_values())))
    first = list(cloud_metadata.apply(stream, Settings()))
    assert [f.severity for f in first] == [CHANGE]
    no_secret_values(first)
    assert list(cloud_metadata.apply(stream, Settings())) == []
    assert get(stream.hub().values, "singleuser.cloudMetadata.blockWithIptables") is False
