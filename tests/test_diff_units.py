"""``diff``'s judgement without a cluster: three-way leaves, masking, impacts, the printed form.

The end-to-end cases (a real API server, Helm 3 and 4) are in test_diff_e2e.py; these pin
the rules they rely on, each with the exact text a person reads.
"""

from __future__ import annotations

import base64
import json

import pytest

from jhub_ck8s.live import diff_output
from jhub_ck8s.live.diff_release import DiffResult, ReleaseState, object_items, pod_summary
from jhub_ck8s.live.diff_tree import compare, leaves, secret_leaf

pytestmark = pytest.mark.diff


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def hub_secret(values_yaml: str, **extra: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hub", "labels": {"component": "hub"}},
            "data": {"values.yaml": b64(values_yaml), **{k: b64(v) for k, v in extra.items()}}}


def deployment(image: str, checksum: str, replicas: int = 1) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hub", "labels": {"component": "hub"}},
            "spec": {"replicas": replicas, "strategy": {"type": "Recreate"}, "template": {
                "metadata": {"annotations": {"checksum/secret": checksum}},
                "spec": {"containers": [{"name": "hub", "image": image}]}}}}


def test_paths_quote_keys_with_dots_and_keep_list_positions():
    tree = {"metadata": {"annotations": {"checksum/secret": "x", "app.kubernetes.io/name": "y"}},
            "singleuser": {"profileList": [{}, {"kubespawner_override": {"image": "a"}}]}}
    assert list(leaves(tree)) == [
        "metadata.annotations.checksum/secret",
        'metadata.annotations["app.kubernetes.io/name"]',
        "singleuser.profileList[0]",
        "singleuser.profileList[1].kubespawner_override.image",
    ]


@pytest.mark.parametrize("path", [
    "hub.config.JupyterHub.cookie_secret", "proxy.secretToken", "hub.services.grader.apiToken",
    "hub.config.GenericOAuthenticator.client_secret", "hub.config.CryptKeeper.keys[0]", "hub.db.password",
    'hub.config["ConfigurableHTTPProxy"].auth_token',
])
def test_credentials_of_the_hub_config_are_secret_leaves(path):
    assert secret_leaf(path)


@pytest.mark.parametrize("path", ["singleuser.image.tag", "hub.config.JupyterHub.admin_access", "singleuser.cpu.limit"])
def test_ordinary_keys_are_not(path):
    assert not secret_leaf(path)


def test_an_empty_tree_has_no_leaves():
    assert leaves({}) == {} and leaves([]) == {} and compare(leaves({}), leaves({"a": 1}), None)[0].change == "added"


def test_a_quantity_equals_its_canonical_form_only_under_resources():
    assert compare({"r.requests.cpu": "0.5"}, {"r.requests.cpu": "500m"}, None) == []
    assert compare({"spec.replicas": "1"}, {"spec.replicas": 1}, None) != []


def test_three_way_hand_edit_and_live_only_fields():
    old = {"spec.replicas": 1, "spec.image": "a"}
    new = {"spec.replicas": 1, "spec.image": "a"}
    live = {"spec.replicas": 3, "spec.image": "a", "spec.defaulted": "x"}
    [change] = compare(old, new, live)
    assert (change.path, change.old, change.new, change.live, change.edited) == ("spec.replicas", 1, 1, 3, True)
    assert compare(old, new, {**live, "spec.replicas": 1}) == []  # defaults the API server added: not the chart's


def _state(old: list, new: list, live: dict | None = None, major: int = 3) -> ReleaseState:
    return ReleaseState(old=old, new=new, live=live if live is not None else {f"{o['kind']}/{o['metadata']['name']}": o for o in old},
                        helm_major=major)


def test_exact_text_and_json_of_a_user_image_and_a_client_secret_change():
    token = "s3cr3t-client-value"
    old = [hub_secret("singleuser:\n  image: {name: u, tag: '1'}\nhub:\n  config:\n    GenericOAuthenticator:\n"
                      "      client_secret: old-value\n", **{"hub.config.CryptKeeper.keys": "k1"}),
           deployment("hub:1", "aaaa")]
    new = [hub_secret(f"singleuser:\n  image: {{name: u, tag: '2'}}\nhub:\n  config:\n    GenericOAuthenticator:\n"
                      f"      client_secret: {token}\n", **{"hub.config.CryptKeeper.keys": "k2"}),
           deployment("hub:1", "bbbb")]
    result = DiffResult(object_items(_state(old, new)))
    printed = diff_output.text(result)
    assert printed == (
        "--- Deployment/hub\n"
        "+++ Deployment/hub\n"
        "@@ hub-restart: hub restart: strategy Recreate, logins fail until the new hub is up; running user servers keep running @@\n"
        "-spec.template.metadata.annotations.checksum/secret: (hash)\n"
        "+spec.template.metadata.annotations.checksum/secret: (hash, changed)\n"
        "--- Secret/hub\n"
        "+++ Secret/hub\n"
        "@@ hub-restart: hub restart: strategy Recreate, logins fail until the new hub is up; running user servers keep running @@\n"
        '-data["hub.config.CryptKeeper.keys"]: (secret)\n'
        '+data["hub.config.CryptKeeper.keys"]: (secret, changed)\n'
        "--- Secret/hub values.yaml\n"
        "+++ Secret/hub values.yaml\n"
        "@@ next-spawn: next spawn only: running user servers keep their pod until they restart @@\n"
        '-singleuser.image.tag: "1"\n'
        '+singleuser.image.tag: "2"\n'
        "@@ hub-restart: hub restart: strategy Recreate, logins fail until the new hub is up; running user servers keep running @@\n"
        "-hub.config.GenericOAuthenticator.client_secret: (secret)\n"
        "+hub.config.GenericOAuthenticator.client_secret: (secret, changed)\n"
    )
    document = json.loads(diff_output.as_json(result, "jhub", "ns"))
    assert [(c["object"], c["path"], c["old"], c["new"], c["impact"]) for c in document["changes"]] == [
        ("Deployment/hub", "spec.template.metadata.annotations.checksum/secret", None, None, "hub-restart"),
        ("Secret/hub", 'data["hub.config.CryptKeeper.keys"]', None, None, "hub-restart"),
        ("Secret/hub values.yaml", "singleuser.image.tag", "1", "2", "next-spawn"),
        ("Secret/hub values.yaml", "hub.config.GenericOAuthenticator.client_secret", None, None, "hub-restart"),
    ]
    for shown in (printed, diff_output.as_json(result, "jhub", "ns")):
        assert token not in shown and b64(token) not in shown and "k2" not in shown and "bbbb" not in shown


def test_other_secrets_are_shown_only_when_asked():
    old = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "extra"}, "data": {"a": b64("one")}}]
    new = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "extra"}, "data": {"a": b64("two")}}]
    masked = diff_output.text(DiffResult(object_items(_state(old, new))))
    shown = diff_output.text(DiffResult(object_items(_state(old, new), show_secrets=True)))
    assert "two" not in masked and b64("two") not in masked
    assert shown.splitlines()[-2:] == ['-data.a: "one"', '+data.a: "two"']


def test_hand_edit_note_names_what_each_helm_major_does():
    old = [deployment("hub:1", "aaaa")]
    live = {"Deployment/hub": deployment("hub:1", "aaaa", replicas=3)}
    three = diff_output.text(DiffResult(object_items(_state(old, old, live, 3))))
    assert three.splitlines()[-3:] == [
        "-spec.replicas: 3", "+spec.replicas: 1",
        "  # changed by hand in the cluster: Helm 3's three-way merge sets it back to the chart's value",
    ]
    assert "@@ none: none: applied in place @@" in three


def test_pod_summary_keeps_names_not_values_and_defaults_requests():
    pod = {"spec": {"containers": [{"name": "notebook", "image": "i:1",
                                    "env": [{"name": "JUPYTERHUB_API_TOKEN", "value": "tok"}],
                                    "resources": {"limits": {"cpu": "1"}}}],
                    "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "claim-alice"}}]}}
    summary = pod_summary(pod)
    assert summary == {"containers": {"notebook": {"image": "i:1", "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}},
                                                   "env": {"JUPYTERHUB_API_TOKEN": "(set)"}}},
                       "volumes": {"home": "persistentVolumeClaim"}}
    assert "tok" not in json.dumps(summary) and "alice" not in json.dumps(summary)


def _diff_cli(tmp_path, kubeconfig_text: str):
    import os
    import subprocess
    import sys

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(kubeconfig_text)
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HELM_BIN": "/nonexistent/helm"}
    return subprocess.run([sys.executable, "-m", "jhub_ck8s.cli", "diff", "jhub", "--detailed-exitcode"],
                          env=env, capture_output=True, text=True, check=False, timeout=60)


BAD_KUBECONFIGS = {
    "not yaml": "clusters: [\n  - {name: a\n",
    "no current context": "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
    "nothing listens": ("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                        "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]\n"
                        "contexts: [{name: c, context: {cluster: k, user: u}}]\nusers: [{name: u, user: {token: t0ken-x}}]\n"),
}


@pytest.mark.parametrize("case", sorted(BAD_KUBECONFIGS))
def test_no_cluster_or_a_bad_kubeconfig_is_one_line_and_exit_2(tmp_path, case):
    result = _diff_cli(tmp_path, BAD_KUBECONFIGS[case])
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: diff needs the cluster: "), result.stderr
    assert "t0ken-x" not in result.stderr


def test_colour_on_request_only():
    old, new = [deployment("hub:1", "aaaa")], [deployment("hub:2", "aaaa")]
    result = DiffResult(object_items(_state(old, new)))
    plain, coloured = diff_output.text(result), diff_output.text(result, colour=True)
    assert "\033[" not in plain
    assert coloured.splitlines()[-2:] == ['\033[31m-spec.template.spec.containers[0].image: "hub:1"\033[0m',
                                          '\033[32m+spec.template.spec.containers[0].image: "hub:2"\033[0m']


def test_hand_edit_on_helm_4_names_the_conflict_the_api_server_reports():
    from jhub_ck8s.live.diff import _with_conflicts

    old = [deployment("hub:1", "aaaa")]
    live = {"Deployment/hub": deployment("hub:1", "aaaa", replicas=3)}
    items = object_items(_state(old, old, live, 4))
    conflicted = _with_conflicts(items, {"Deployment/hub": 'Apply failed with 1 conflict: conflict with "kubectl-edit"'})
    assert conflicted[0].note == ('changed by hand in the cluster: Helm 4 stops with a conflict (Apply failed with 1 '
                                  'conflict: conflict with "kubectl-edit"); --force-conflicts takes it back')
    assert _with_conflicts(items, {})[0].note == "changed by hand in the cluster: Helm 4's server-side apply sets it back"
