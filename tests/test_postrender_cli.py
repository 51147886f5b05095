"""The post-renderer as Helm runs it: a process with stdin, stdout, stderr and an exit code."""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from conftest import FIXTURES, run_postrender

from jhub_ck8s.hubconfig import find, image_slots
from jhub_ck8s.podspec import containers, pod_spec
from jhub_ck8s.stream import parse

REGISTRY = "harbor.example.com/jupyterhub"
SMALL = (FIXTURES / "small-release.yaml").read_text()
SECRET_MARKERS = ("SUPERSECRET", base64.b64encode(b"SUPERSECRET-PROXY-TOKEN").decode())
# Only the images transform and the pull secret: the hardening transforms have their own tests.
IMAGES_ONLY = [f"--disable={t}" for t in __import__("jhub_ck8s.transforms", fromlist=["REGISTRY"]).REGISTRY if t not in ("images", "pull-secret")]


def _images(text: str) -> tuple[list[str], list[str]]:
    docs = parse(text)
    pod_images = [c.container["image"] for d in docs if (s := pod_spec(d.obj)) for c in containers(s)]
    hub = find(docs)
    runtime = [slot.get() for slot in image_slots(hub.values)] if hub else []
    return pod_images, runtime


def test_fixture_secret_matches_its_plain_twin():
    hub = find(parse(SMALL))
    assert hub.values == yaml.safe_load((FIXTURES / "small-hub-values.yaml").read_text())


def test_relocates_pod_and_runtime_images_and_reports_each(tmp_path):
    report_file = tmp_path / "report.json"
    result = run_postrender([f"--registry={REGISTRY}", *IMAGES_ONLY], SMALL, env={"JHUB_CK8S_REPORT": str(report_file)})
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    pod_images, runtime = _images(out)
    assert len(pod_images) == 6 and len(runtime) == 9
    assert all(i.startswith(REGISTRY + "/") for i in pod_images + runtime), pod_images + runtime
    assert "harbor.example.com/jupyterhub/library/traefik:v3.6.12" in pod_images
    assert f"{REGISTRY}/team/r-notebook:1.0@sha256:{'0' * 63}1" in runtime  # digest kept
    assert any(i.endswith(":4.4.0@sha256:" + "1" * 64) for i in pod_images)  # tag+digest kept
    hub = find(parse(out))
    assert hub.values["singleuser"]["image"] == {"name": f"{REGISTRY}/jupyterhub/k8s-singleuser-sample", "pullSecrets": [], "tag": "4.4.0"}
    # every other key of the runtime config is unchanged
    original = yaml.safe_load((FIXTURES / "small-hub-values.yaml").read_text())
    assert hub.values["hub"]["config"]["JupyterHub"] == original["hub"]["config"]["JupyterHub"]
    assert hub.values["singleuser"]["uid"] == 1000
    # the other keys of the Secret stay as they were
    secret = next(d for d in parse(out) if d.kind == "Secret")
    assert secret.obj["data"]["hub.config.ConfigurableHTTPProxy.auth_token"] == SECRET_MARKERS[1]
    # originals recorded on the object
    hub_deploy = next(d for d in parse(out) if d.label == "Deployment/hub")
    originals = json.loads(hub_deploy.obj["metadata"]["annotations"]["jhub-ck8s.io/original-images"])
    assert originals == {"hub": "quay.io/jupyterhub/k8s-hub:4.4.0@sha256:" + "1" * 64}
    # the checksum now hashes the new Secret, so the hub restarts
    checksum = hub_deploy.obj["spec"]["template"]["metadata"]["annotations"]["checksum/secret"]
    assert checksum != "0" * 64 and len(checksum) == 64
    # report: table on stderr, JSON file with one finding per rewrite, no secret anywhere
    stderr = result.stderr.decode()
    assert "traefik:v3.6.12 -> harbor.example.com/jupyterhub/library/traefik:v3.6.12" in stderr
    assert "values.yaml: singleuser.profileList[0].kubespawner_override.image" in stderr
    report = json.loads(report_file.read_text())
    assert report["exitCode"] == 0 and report["summary"]["change"] == 6 + 9 + 1
    for text in (stderr, report_file.read_text()):
        for marker in (*SECRET_MARKERS, "scipy-notebook", "k8s-singleuser-sample"):
            assert marker not in text


def test_idempotent_byte_for_byte():
    first = run_postrender([f"--registry={REGISTRY}", "--pull-secret", "pull-secret"], SMALL)
    assert first.returncode == 0, first.stderr.decode()
    second = run_postrender([f"--registry={REGISTRY}", "--pull-secret", "pull-secret"], first.stdout.decode())
    assert second.returncode == 0
    assert second.stdout == first.stdout
    assert "0 changes" in second.stderr.decode()


def test_pull_secret_added_once_to_pod_specs_and_user_pods():
    text = SMALL.replace("      containers:\n        - name: traefik", "      imagePullSecrets: [{name: pull-secret}]\n      containers:\n        - name: traefik")
    result = run_postrender(["--registry", REGISTRY, "--pull-secret", "pull-secret", *IMAGES_ONLY], text)
    assert result.returncode == 0, result.stderr.decode()
    docs = parse(result.stdout.decode())
    for doc in docs:
        spec = pod_spec(doc.obj)
        if spec is not None:
            assert spec["imagePullSecrets"].count({"name": "pull-secret"}) == 1, doc.label
    assert find(docs).values["singleuser"]["image"]["pullSecrets"] == ["pull-secret"]


def test_pull_secret_not_added_for_user_pods_when_the_global_list_has_it():
    """z2jh's hub gives KubeSpawner imagePullSecrets + singleuser.image.pullSecrets: once is enough
    (twice, the API server warns `spec.imagePullSecrets[1].name: duplicate name`)."""
    docs = parse(SMALL)
    hub = find(docs)
    values = {**hub.values, "imagePullSecrets": ["pull-secret"]}
    encoded = hub.document.obj["data"]["values.yaml"]
    assert encoded in SMALL
    text = SMALL.replace(encoded, base64.b64encode(yaml.safe_dump(values).encode()).decode())
    result = run_postrender(["--registry", REGISTRY, "--pull-secret", "pull-secret", *IMAGES_ONLY], text)
    assert result.returncode == 0, result.stderr.decode()
    user_values = find(parse(result.stdout.decode())).values
    assert user_values["imagePullSecrets"] == ["pull-secret"]
    assert "pull-secret" not in (user_values["singleuser"]["image"].get("pullSecrets") or [])


def test_in_stream_settings_document_is_used_and_removed():
    doc = "---\n# Source: jupyterhub-ck8s/templates/settings.yaml\napiVersion: jhub-ck8s.io/v1alpha1\nkind: PostRenderSettings\nmetadata: {name: jhub-ck8s}\nregistry: stream.example.com/team\nmode: warn\n"
    result = run_postrender([], SMALL + doc)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert "PostRenderSettings" not in out
    assert "image: stream.example.com/team/library/traefik:v3.6.12" in out
    # flags win over the stream
    result = run_postrender(["--registry", REGISTRY], SMALL + doc)
    assert "image: harbor.example.com/jupyterhub/library/traefik:v3.6.12" in result.stdout.decode()


def test_config_file_between_stream_and_flags(tmp_path):
    config = tmp_path / "settings.yaml"
    config.write_text("registry: file.example.com/team\nregistryMap:\n  docker.io: file.example.com/dockerhub-proxy\n")
    result = run_postrender(["--config", str(config)], SMALL)
    out = result.stdout.decode()
    assert "image: file.example.com/dockerhub-proxy/library/traefik:v3.6.12" in out
    assert "image: file.example.com/team/jupyterhub/k8s-secret-sync:4.4.0" in out


def test_keep_image_leaves_matching_references():
    result = run_postrender(["--registry", REGISTRY, "--keep-image", "registry.local:5000", *IMAGES_ONLY], SMALL)
    assert "image: registry.local:5000/tools/awaiter:1.0" in result.stdout.decode()


LATEST = SMALL.replace("image: traefik:v3.6.12", "image: traefik:latest").replace(
    "localhost:5000/ops/cleaner:2.0", "localhost:5000/ops/cleaner"
)


def test_unpinned_images_fail_in_enforce_mode_with_nothing_on_stdout(tmp_path):
    report_file = tmp_path / "r.json"
    result = run_postrender(["--registry", REGISTRY, "--report", str(report_file), *IMAGES_ONLY], LATEST)
    assert result.returncode == 1
    assert result.stdout == b""
    stderr = result.stderr.decode()
    assert (
        "error: document 4 (jupyterhub/templates/proxy/autohttps/deployment.yaml) Deployment/autohttps, "
        "container traefik: image 'traefik:latest' uses the tag latest; the platform rejects it; fix: pin the image"
    ) in stderr
    assert "CronJob/cleaner, container cleaner: image 'localhost:5000/ops/cleaner' has no tag or digest" in stderr
    report = json.loads(report_file.read_text())
    assert report["exitCode"] == 1 and report["summary"]["error"] == 2
    assert {f["rule"] for f in report["findings"] if f["severity"] == "error"} == {"disallowed-tag"}


def test_unpinned_images_warn_in_warn_mode():
    result = run_postrender(["--registry", REGISTRY, "--mode=warn", *IMAGES_ONLY], LATEST)
    assert result.returncode == 0
    assert "warning: " in result.stderr.decode() and "(an error in enforce mode)" in result.stderr.decode()
    assert "image: harbor.example.com/jupyterhub/library/traefik:latest" in result.stdout.decode()


def test_allow_list_accepts_a_finding(tmp_path):
    config = tmp_path / "s.yaml"
    config.write_text("allow:\n- {kind: Deployment, name: autohttps, container: traefik, rule: disallowed-tag}\n- {kind: CronJob, rule: disallowed-tag}\n")
    result = run_postrender(["--registry", REGISTRY, "--config", str(config), *IMAGES_ONLY], LATEST)
    assert result.returncode == 0, result.stderr.decode()
    assert "accepted by the allow-list" in result.stderr.decode()


def test_latest_in_the_hub_config_names_the_key_path_only():
    values = (FIXTURES / "small-hub-values.yaml").read_text().replace("scipy-notebook:2025-06-30", "scipy-notebook:latest")
    text = SMALL.replace(
        base64.b64encode((FIXTURES / "small-hub-values.yaml").read_text().encode()).decode(),
        base64.b64encode(values.encode()).decode(),
    )
    result = run_postrender(["--registry", REGISTRY, *IMAGES_ONLY], text)
    assert result.returncode == 1 and result.stdout == b""
    stderr = result.stderr.decode()
    assert "Secret/hub, values.yaml: singleuser.profileList[0].kubespawner_override.image: image uses the tag latest" in stderr
    assert "scipy" not in stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        ([], "kind: ConfigMap\nmetadata: {name: [\n", "error: document 1: malformed YAML at line 3"),
        ([], "- a\n- b\n", "error: document 1: expected a Kubernetes object (a mapping), got a list"),
        ([], "---\n# Source: t/x.yaml\napiVersion: v1\n", "error: document 1 (t/x.yaml): object has no 'kind'"),
        (["--registry", "https://harbor.example.com"], SMALL, "error: --registry: 'https://harbor.example.com' must not contain a scheme"),
        (["--pull-secret", "Bad_Name"], SMALL, "error: --pull-secret: expected a Kubernetes object name"),
        (["--registry-map", "docker.io"], SMALL, "--registry-map: expected SOURCE=DEST"),
        (["--mode", "loose"], SMALL, "argument --mode: invalid choice: 'loose'"),
        (["--config", "/nonexistent/s.yaml"], SMALL, "error: --config /nonexistent/s.yaml: cannot read it"),
        (["--disable", "nope"], SMALL, "unknown transform 'nope'"),
        ([], SMALL + "---\napiVersion: jhub-ck8s.io/v1alpha1\nkind: PostRenderSettings\nregistry: 5\n",
         "error: in-stream settings (document 8, no Source): setting 'registry': expected a non-empty string, got 5"),
        ([], SMALL + "---\napiVersion: jhub-ck8s.io/v1alpha1\nkind: PostRenderSettings\n---\napiVersion: jhub-ck8s.io/v1alpha1\nkind: PostRenderSettings\n",
         "error: documents 8, 9: more than one PostRenderSettings document"),
        ([], SMALL.replace('values.yaml: "', 'values.yaml: "!!'), "Secret/hub, key values.yaml: not valid base64-encoded UTF-8 text"),
    ],
)
def test_bad_input_and_settings_exit_2_with_one_line_and_empty_stdout(args, stdin, message):
    result = run_postrender(args, stdin)
    assert result.returncode == 2
    assert result.stdout == b""
    stderr = result.stderr.decode()
    assert message in stderr
    assert "Traceback" not in stderr
    for marker in SECRET_MARKERS:
        assert marker not in stderr


def test_not_utf8_input():
    result = run_postrender([], "")
    assert result.returncode == 0 and result.stdout == b""
    import subprocess
    import sys

    from conftest import REPO

    proc = subprocess.run([sys.executable, str(REPO / "postrender.py")], input=b"kind: \xff\n", capture_output=True, check=False)
    assert proc.returncode == 2 and proc.stdout == b""
    assert "stdin: not UTF-8 text" in proc.stderr.decode()


def _lock_for(text: str, tmp_path, skip: str = "") -> str:
    from jhub_ck8s.imageref import Relocator
    from jhub_ck8s.lock import ImageLock, LockEntry

    relocator = Relocator(REGISTRY)
    pods, runtime = _images(text)
    entries = []
    for i, image in enumerate(sorted(set(pods + runtime))):
        ref = __import__("jhub_ck8s.imageref", fromlist=["parse"]).parse(image)
        if (skip and skip in image) or ref.digest:
            continue
        dest = relocator.relocate(ref, image).destination
        entries.append(LockEntry(ref.normalized, f"sha256:{i:064x}", dest.normalized))
    path = tmp_path / "images.lock.yaml"
    path.write_text(ImageLock(tuple(entries)).to_yaml())
    return str(path)


def test_pin_uses_the_digests_from_the_lock(tmp_path):
    lock = _lock_for(SMALL, tmp_path)
    result = run_postrender(["--registry", REGISTRY, f"--pin={lock}", *IMAGES_ONLY], SMALL)
    assert result.returncode == 0, result.stderr.decode()
    pods, runtime = _images(result.stdout.decode())
    assert all("@sha256:" in image and image.startswith(REGISTRY + "/") for image in pods + runtime), pods + runtime
    assert "harbor.example.com/jupyterhub/library/traefik:v3.6.12@sha256:" in result.stdout.decode()
    again = run_postrender(["--registry", REGISTRY, f"--pin={lock}", *IMAGES_ONLY], result.stdout.decode())
    assert again.stdout == result.stdout


def test_pin_refuses_an_image_the_lock_does_not_list(tmp_path):
    lock = _lock_for(SMALL, tmp_path, skip="traefik")
    result = run_postrender(["--registry", REGISTRY, f"--pin={lock}", *IMAGES_ONLY], SMALL)
    assert result.returncode == 1 and result.stdout == b""
    assert "container traefik: image 'traefik:v3.6.12' is not in the lock file" in result.stderr.decode()
    missing = run_postrender(["--registry", REGISTRY, "--pin=/nonexistent.lock.yaml"], SMALL)
    assert missing.returncode == 2 and "lock file /nonexistent.lock.yaml: cannot read it" in missing.stderr.decode()


def test_report_setting_and_environment_both_get_the_report(tmp_path):
    config = tmp_path / "s.yaml"
    from_setting = tmp_path / "from-setting.json"
    from_env = tmp_path / "from-env.json"
    config.write_text(f"report: {from_setting}\n")
    result = run_postrender(["--registry", REGISTRY, "--config", str(config), "-q"], SMALL, env={"JHUB_CK8S_REPORT": str(from_env)})
    assert result.returncode == 0
    assert json.loads(from_env.read_text()) == json.loads(from_setting.read_text())
    # -q: no change table, only the summary
    assert result.stderr.decode().strip().splitlines()[-1].startswith("jhub-ck8s: ")
    assert "TRANSFORM" not in result.stderr.decode()


# --- the one table of flags -------------------------------------------------------------------


def test_the_flag_table_fills_every_field_of_flags_once():
    from jhub_ck8s.postrenderer import FLAGS, Flags

    assert sorted([*(flag.field for flag in FLAGS), "quiet"]) == sorted(Flags._fields)
    assert len({flag.name for flag in FLAGS}) == len(FLAGS)


# Written out by hand: what users type, and the settings it must give.
TYPED = [
    "--registry", "h.example/p", "--registry-map=docker.io=h.example/proxy", "--registry-map", "quay.io=h.example/q",
    "--keep-image", "a/*", "--keep-image=b/*", "--pull-secret", "pull", "--mode=warn", "--disable", "pdb",
    "--disable=patches", "--config", "c.yaml", "--pin", "lock.yaml", "--report=r.json", "-q",
]
EXPECTED_SETTINGS = {
    "registry": "h.example/p",
    "registryMap": {"docker.io": "h.example/proxy", "quay.io": "h.example/q"},
    "keepImages": ["a/*", "b/*"],
    "pullSecret": "pull",
    "mode": "warn",
    "disable": ["pdb", "patches"],
    "pin": "lock.yaml",
}


def test_the_fast_parser_and_argparse_read_every_flag_alike():
    from jhub_ck8s import postrenderer

    fast = postrenderer._fast_parse(TYPED)
    slow = postrenderer.parser().parse_args(TYPED)
    assert fast is not None and fast.config == "c.yaml" and fast.report == "r.json" and fast.quiet
    abbreviated = [("--pull-s" if arg == "--pull-secret" else arg) for arg in TYPED]
    assert postrenderer._fast_parse(abbreviated) is None
    assert postrenderer.parse_flags(abbreviated) == fast  # through argparse
    assert slow.registry == fast.registry and tuple(slow.registry_map) == fast.registry_map
    layer = postrenderer.flag_layer(fast)
    from jhub_ck8s.settings import read_layer

    assert layer == read_layer(EXPECTED_SETTINGS, "flags")


def test_help_lists_every_flag_of_the_table():
    from jhub_ck8s.postrenderer import FLAGS, parser

    text = parser().format_help()
    for flag in FLAGS:
        assert flag.name in text and flag.help.split(",")[0][:30] in " ".join(text.split()), flag.name
