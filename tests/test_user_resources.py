"""transforms/user_resources.py (transform user-resources): the notebook's cpu and memory from userResources."""

from __future__ import annotations

from hubvalues import SPAWNER, apply, base_values, get

from jhub_ck8s.report import CHANGE
from jhub_ck8s.settings import Settings, UserResources
from jhub_ck8s.transforms import user_resources


def test_user_resources_fill_only_what_is_unset():
    values, findings, _ = apply(base_values(), user_resources)
    assert values["singleuser"]["cpu"] == {"guarantee": 0.1, "limit": 1.0}
    assert values["singleuser"]["memory"] == {"guarantee": "1G", "limit": "2G"}
    assert {f.hub_key for f in findings if f.hub_key.startswith("singleuser.cpu")} == {
        "singleuser.cpu.guarantee", "singleuser.cpu.limit"
    }


def test_user_resources_respect_spawner_traits_and_null_settings():
    values = base_values()
    values["hub"]["config"]["KubeSpawner"] = {"cpu_limit": 4}
    settings = Settings(user_resources=UserResources(memory_limit=None))
    after, _, _ = apply(values, user_resources, settings=settings)
    assert after["singleuser"]["cpu"]["limit"] is None
    assert after["singleuser"]["memory"]["limit"] is None
    assert after["singleuser"]["cpu"]["guarantee"] == 0.1


def test_a_section_that_is_not_a_mapping_is_never_replaced():
    values = base_values()
    values["singleuser"]["cpu"] = "2"
    after, findings, _ = apply(values, user_resources)
    assert after["singleuser"]["cpu"] == "2"
    assert {f.hub_key for f in findings} == {"singleuser.memory.limit"}


def test_is_idempotent_and_changes_nothing_else():
    values = base_values()
    values["hub"]["config"]["KubeSpawner"] = {"mem_limit": "4G"}
    after, findings, stream = apply(values, user_resources)
    assert [f.severity for f in findings] == [CHANGE, CHANGE]
    assert get(after, SPAWNER) == {"mem_limit": "4G"}
    assert list(user_resources.apply(stream, Settings())) == []

