"""transforms/hub_blind_spots.py (transform hub-blind-spots): what cannot be seen is a warning."""

from __future__ import annotations

import copy

import pytest
from hubvalues import apply, base_values

from jhub_ck8s.report import WARNING
from jhub_ck8s.transforms import hub_blind_spots


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda v: v["hub"].update(existingSecret="my-hub-secret"), "existing-secret"),
        (lambda v: v["hub"].update(extraConfig={"a": "c.KubeSpawner.uid = 0"}), "extra-config"),
        (lambda v: v["singleuser"].update(profileList="some_function"), "profile-list-code"),
        (lambda v: v["singleuser"].update(profileList=[{"display_name": "x", "profile_options": {
            "image": {"unlisted_choice": {"enabled": True, "kubespawner_override": {"image": "{value}"}}}}}]),
         "unlisted-choice"),
    ],
)
def test_blind_spots_are_warnings_that_say_what_is_still_enforced(change, rule):
    values = base_values()
    change(values)
    _, findings, _ = apply(values, hub_blind_spots)
    (warning,) = [f for f in findings if f.rule == rule]
    assert warning.severity == WARNING and warning.fix
    assert "Pod Security restricted" in warning.message
    assert "my-hub-secret" not in warning.message and "uid = 0" not in warning.message


def test_chart_defaults_give_no_warning_and_nothing_changes():
    values = base_values()
    after, findings, stream = apply(copy.deepcopy(values), hub_blind_spots)
    assert findings == [] and after == values and not stream.hub().changed


def test_an_unlisted_choice_that_is_off_is_not_reported():
    values = base_values()
    values["singleuser"]["profileList"] = [{"display_name": "x", "profile_options": {
        "image": {"unlisted_choice": {"enabled": False, "kubespawner_override": {"image": "{value}"}}}}}]
    _, findings, _ = apply(values, hub_blind_spots)
    assert findings == []


def test_existing_secret_is_no_blind_spot_in_gitops_mode():
    """With gitops the hub mounts only its token keys of that Secret (transforms/gitops.py): no values.yaml."""
    from jhub_ck8s.settings import Settings

    values = base_values()
    values["hub"]["existingSecret"] = "my-hub-secret"
    _, findings, _ = apply(values, hub_blind_spots, settings=Settings(gitops=True))
    assert [f for f in findings if f.rule == "existing-secret"] == []
