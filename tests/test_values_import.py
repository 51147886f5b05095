"""import_values: a platform-guide values file becomes a wrapper-chart values file.

Always run: the hand-written guide-style sample tests/fixtures/import-guide-sample.yaml
(comments, anchors and aliases, sed-rewritten and bare image names, a custom image).
Where the shared fixtures are: the guide values recorded there, the guide's own sample
(from the platform guide's text), and the upstream chart's schema.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, REPO, Z2JH, Z2JH_MISSING
from ruamel.yaml import YAML

from jhub_ck8s.values_import import IMAGE_FIELDS, ImportResult, ValuesImportError, import_values

SAMPLE = FIXTURES / "import-guide-sample.yaml"
GUIDE_VALUES = Z2JH / "values" / "guide.yaml"
GUIDE_TEXT = REPO.parent / "shared" / "seeds" / "000_174cee56fac21b21.txt"
WRAPPER_SCHEMA = json.loads((REPO / "wrapper-chart" / "values.schema.json").read_text())


def imported(path: Path, registry: str | None = None) -> tuple[ImportResult, dict]:
    result = import_values(path.read_text(), registry)
    return result, yaml.safe_load(result.text)


def upstream_errors(values: dict) -> list[str]:
    """Errors of the upstream schema for these jupyterhub: values over the chart's defaults."""
    pytest.importorskip("jsonschema")
    from test_wrapper_chart import upstream_errors as check

    if not (Z2JH / "values.schema.json").exists():
        pytest.skip(Z2JH_MISSING)
    return check(values)


def wrapper_errors(values: dict) -> list[str]:
    jsonschema = pytest.importorskip("jsonschema")
    return [e.message for e in jsonschema.Draft7Validator(WRAPPER_SCHEMA).iter_errors(values)]


def image_names(values: dict) -> dict[str, str]:
    found = {}
    for path in IMAGE_FIELDS:
        node = values
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and "name" in node:
            found[".".join(path)] = node["name"]
    return found


# --- the hand-written sample (always) -------------------------------------------------------


def test_sample_nests_under_jupyterhub_and_detects_the_registry():
    result, values = imported(SAMPLE)
    assert list(values) == ["ck8s", "jupyterhub"]
    assert values["ck8s"] == {"registry": "harbor.example.com/jupyterhub"}
    original = yaml.safe_load(SAMPLE.read_text())
    assert set(values["jupyterhub"]) == set(original)
    assert result.changes[0] == "nested all values under jupyterhub:"
    assert any(c.startswith("ck8s.registry: set to harbor.example.com/jupyterhub (detected") for c in result.changes)


def test_sample_image_overrides_are_gone_and_explained():
    result, values = imported(SAMPLE)
    # only the custom notebook image is left
    assert image_names(values["jupyterhub"]) == {
        "singleuser.image": "harbor.example.com/jupyterhub/jupyter/datascience-notebook"
    }
    removed = [c for c in result.changes if c.startswith("removed ")]
    assert {c.split()[1] for c in removed} == {
        "hub.image.name", "proxy.chp.image.name", "proxy.traefik.image.name",
        "singleuser.networkTools.image.name", "scheduling.userPlaceholder.image.name",
        "prePuller.hook.image.name", "prePuller.pause.image.name",
    }
    assert any("bare name" in c and "k8s-image-awaiter" in c for c in removed)
    # traefik was mirrored without library/: the change says where the post-renderer will look
    assert any("library/traefik" in c for c in removed)
    # tags are kept
    jh = values["jupyterhub"]
    assert jh["proxy"]["traefik"]["image"] == {"tag": "v3.6.12"}
    assert jh["scheduling"]["userPlaceholder"]["image"] == {"tag": "3.10.1"}
    assert "image" not in jh["hub"]


def test_sample_keeps_comments_and_anchors():
    result, values = imported(SAMPLE)
    text = result.text
    for comment in (
        "# JupyterHub on Compliant Kubernetes: values written with the platform guide,",
        "# create this secret in the next section",
        "# Google login",
        "# Reused below as *resourceDefaults",
        "# privileged init container otherwise",
        "# our own notebook image",
        "# the pause image is shared with the pre-puller below",
        "# keep the placeholder's pause image warm too",
        "# end of file",
    ):
        assert comment in text, comment
    assert text.startswith("# JupyterHub on Compliant Kubernetes")
    assert "# rewritten by sed" not in text  # it described a removed value
    for anchor in ("&resourceDefaults", "&SCDefaults", "*resourceDefaults", "*SCDefaults", "&pauseImage"):
        assert anchor in text, anchor
    # comments are indented with the content they describe
    assert "\n    # Reused below as *resourceDefaults\n    resources: &resourceDefaults" in text
    assert "\n      # keep the placeholder's pause image warm too\n      pause: &pauseImage" in text
    # aliases still resolve to the same values
    jh = values["jupyterhub"]
    assert jh["proxy"]["chp"]["resources"] == jh["hub"]["resources"]
    assert jh["prePuller"]["hook"]["containerSecurityContext"] == jh["hub"]["containerSecurityContext"]


def test_anchor_of_a_dropped_definition_moves_to_its_alias():
    _, values = imported(SAMPLE)
    # &pauseImage was defined on scheduling.userPlaceholder.image, whose name was removed;
    # prePuller.extraImages.pause (an alias) keeps the full image, now carrying the anchor.
    assert values["jupyterhub"]["prePuller"]["extraImages"]["pause"] == {
        "name": "harbor.example.com/jupyterhub/pause", "tag": "3.10.1"
    }


def test_sample_round_trips_with_ruamel():
    result, _ = imported(SAMPLE)
    again = YAML(typ="rt").load(result.text)
    assert again["jupyterhub"]["hub"]["resources"].anchor.value == "resourceDefaults"


def test_sample_result_validates():
    _, values = imported(SAMPLE)
    assert wrapper_errors(values) == []
    assert upstream_errors(values["jupyterhub"]) == []


def test_registry_argument_wins():
    result, values = imported(SAMPLE, registry="harbor.other.example/jh/")
    assert values["ck8s"]["registry"] == "harbor.other.example/jh"
    assert "ck8s.registry: set to harbor.other.example/jh (given)" in result.changes
    assert any("harbor.example.com/jupyterhub, which was not used" in c for c in result.changes)


def test_non_default_pull_secret_is_carried_over():
    result = import_values("imagePullSecrets:\n  - name: harbor-robot\nhub: {}\n")
    values = yaml.safe_load(result.text)
    assert values["ck8s"] == {"pullSecret": "harbor-robot"}
    assert values["jupyterhub"]["imagePullSecrets"] == [{"name": "harbor-robot"}]


def test_custom_and_upstream_images():
    text = (
        "hub:\n"
        "  image:\n"
        "    name: quay.io/jupyterhub/k8s-hub  # upstream itself\n"
        "    tag: '4.4.0'\n"
        "singleuser:\n"
        "  image:\n"
        "    name: quay.io/jupyter/scipy-notebook\n"
        "    tag: '2025-06-30'\n"
        "  networkTools:\n"
        "    image:\n"
        "      name: myorg/k8s-network-tools\n"
    )
    result = import_values(text)
    values = yaml.safe_load(result.text)
    assert values["jupyterhub"]["hub"]["image"] == {"tag": "4.4.0"}
    assert values["jupyterhub"]["singleuser"]["image"]["name"] == "quay.io/jupyter/scipy-notebook"
    assert values["jupyterhub"]["singleuser"]["networkTools"]["image"]["name"] == "myorg/k8s-network-tools"
    assert "ck8s" not in values  # nothing pointed into a private registry
    assert [c.split()[1] for c in result.changes if c.startswith("removed")] == ["hub.image.name"]


def test_flow_style_and_unindented_sequences_survive():
    text = "# head\nhub:\n    image: {name: k8s-hub}\n    extraEnv:\n    - name: A\n      value: b\n"
    out = import_values(text).text
    assert out.startswith("# head\n")
    assert "jupyterhub:\n    hub:\n        extraEnv:\n        - name: A\n" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hub: [\n", "not valid YAML at line"),
        ("- a\n- b\n", "expected a mapping of values at the top level, got a list"),
        ("just text\n", "got a string"),
        ("", "empty"),
        ("jupyterhub:\n  hub: {}\n", "already a values file for the wrapper chart"),
        ("ck8s:\n  registry: x\n", "already a values file for the wrapper chart"),
        ("a: 1\n---\nb: 2\n", "one YAML document"),
        ("a: 1\na: 2\n", "not valid YAML at line 2"),
    ],
)
def test_errors_are_one_clear_line(text, message):
    with pytest.raises(ValuesImportError) as caught:
        import_values(text)
    assert isinstance(caught.value, ValueError)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_duplicate_key_is_named_but_its_values_never_shown():
    """ruamel's own message quotes both values; a values file holds secrets (issue 10)."""
    text = "hub:\n  cookieSecret: FIRST-SECRET-VALUE\n  cookieSecret: SECOND-SECRET-VALUE\n"
    with pytest.raises(ValuesImportError) as caught:
        import_values(text)
    message = str(caught.value)
    assert "duplicate key 'cookieSecret'" in message and "line 3" in message
    assert "SECRET-VALUE" not in message


def test_bad_registry_argument():
    with pytest.raises(ValuesImportError, match=r"registry: .*scheme"):
        import_values("hub: {}\n", registry="https://harbor.example.com/jh")


# --- the shared guide fixtures (when present) -------------------------------------------------


def test_guide_fixture():
    if not GUIDE_VALUES.exists():
        pytest.skip(Z2JH_MISSING)
    result, values = imported(GUIDE_VALUES, registry="harbor.example.com/jupyterhub")
    assert values["ck8s"] == {"registry": "harbor.example.com/jupyterhub"}
    assert values["jupyterhub"] == yaml.safe_load(GUIDE_VALUES.read_text())  # nothing else changed
    assert "&resourceDefaults" in result.text and "*SCDefaults" in result.text
    assert result.text.startswith("# The platform guide's sample values")
    assert wrapper_errors(values) == []
    assert upstream_errors(values["jupyterhub"]) == []


def test_guide_text_sample():
    """The sample as printed in the platform guide, bare image names and all."""
    if not GUIDE_TEXT.exists():
        pytest.skip(f"the platform guide's text is not at {GUIDE_TEXT}")
    sample = re.search(r"```yaml\n(.*?)```", GUIDE_TEXT.read_text(), re.S).group(1)
    result = import_values(sample)
    values = yaml.safe_load(result.text)
    assert image_names(values["jupyterhub"]) == {}
    assert len([c for c in result.changes if c.startswith("removed ")]) == 9
    assert "ck8s" not in values  # bare names name no registry
    for kept in ("# (1)", "# (2)", "#(5)", "# (6) replace this", "# (3)", "# (4)"):
        assert kept in result.text, kept
    assert "resources: &resourceDefaults # (1)" in result.text
    assert wrapper_errors(values) == []
    if (Z2JH / "values.schema.json").exists():
        assert upstream_errors(values["jupyterhub"]) == []
