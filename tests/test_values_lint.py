"""The values linter (jhub_ck8s/values_lint.py) and how the commands use it (issue 18).

The expected findings below are written by hand from the files themselves (key path,
line, rule): they are the specification, not a copy of the linter's tables.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, Z2JH, Z2JH_MISSING

from jhub_ck8s import cli, release
from jhub_ck8s.values_layers import ValuesShapeError, add_file, add_set, lint_text, parse_set, prepare, read_file
from jhub_ck8s.values_lint import Values, lint, lint_stream

UPSTREAM_ARCHIVE = Z2JH / "chart" / "jupyterhub-4.4.0.tgz"
needs_z2jh = pytest.mark.skipif(not (Z2JH / "values").is_dir(), reason=Z2JH_MISSING)


def findings_of(text: str, *, wrapper: bool = True, source: str = "v.yaml", accepted: bool = False) -> list[tuple[str, str, int | None]]:
    """(rule, key path as written, line) of every refused finding (and, with ``accepted``,
    of those the file's own ck8s.allowExamples accepts)."""
    refused, allowed = lint_text(text, source, wrapper_chart=wrapper)
    found = sorted(refused + allowed, key=lambda f: f.origin.line or 0 if f.origin else 0) if accepted else refused
    return [(f.rule, f.shown, f.origin.line if f.origin else None) for f in found]


def lines_of(text: str, *, wrapper: bool = True) -> list[str]:
    refused, _ = lint_text(text, "v.yaml", wrapper_chart=wrapper)
    return [f.line() for f in refused]


# --- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "$PROJECT_DOMAIN", "${PROJECT_DOMAIN}", "https://$PROJECT_DOMAIN/hub/oauth_callback", "jupyter.${DOMAIN}",
    "<your-domain>", "<client id>", "CHANGE_ME", "changeme", "change-me", "REPLACE_ME", "replace-me", "TODO", "TBD",
    "todo", "FIXME", "jupyter-TODO.acme.io",
])
def test_placeholders_are_found_in_any_key(value: str) -> None:
    text = yaml.safe_dump({"jupyterhub": {"hub": {"extraEnv": {"SITE_NAME": value}}}})
    assert findings_of(text) == [("placeholder", "jupyterhub.hub.extraEnv.SITE_NAME", 4)]


def test_a_comment_that_says_replace_makes_a_placeholder() -> None:
    text = "jupyterhub:\n  hub:\n    extraEnv:\n      TEAM: data-science # replace this\n      ZONE: eu # the zone\n"
    assert findings_of(text) == [("placeholder", "jupyterhub.hub.extraEnv.TEAM", 4)]
    text = "jupyterhub:\n  singleuser:\n    defaultUrl: # (3) replace this\n"
    assert findings_of(text) == [("placeholder", "jupyterhub.singleuser.defaultUrl", 3)]


@pytest.mark.parametrize("values", [
    # KubeSpawner and chart templates
    {"singleuser": {"storage": {"homeMountPath": "/home/{username}", "dynamic": {"pvcNameTemplate": "claim-{username}{servername}", "subPath": "{unescaped_username}"}}}},
    {"singleuser": {"extraEnv": {"USER_DIR": "/data/{username}", "GREETING": "hello $(USER)", "HOME2": "$(HOME)/work"}}},
    {"hub": {"extraEnv": [{"name": "X", "value": "$(POD_IP):8081"}]}},
    # code and scripts
    {"hub": {"extraConfig": {"a": "import os\nc.X = os.environ['$HOME'] # TODO replace this\nprint('<your-domain>')"}}},
    {"hub": {"extraFiles": {"f": {"mountPath": "/x", "stringData": "export A=$B\n# TODO"}}}},
    {"singleuser": {"lifecycleHooks": {"postStart": {"exec": {"command": ["sh", "-c", "echo $HOME TODO"]}}}}},
    {"singleuser": {"cmd": ["start.sh", "--ip=$IP"], "extraContainers": [{"name": "s", "image": "busybox:1", "args": ["$X"], "command": ["sh", "-c", "exec $Y"]}]}},
    # reserved names outside the listed keys; HTML; hashes
    {"singleuser": {"extraEnv": {"SITE": "example.com", "MAIL": "someone@example.org"}}},
    {"singleuser": {"image": {"name": "ghcr.io/example/user-image", "tag": "1.0"}}},
    {"hub": {"config": {"JupyterHub": {"template_vars": {"announcement": "<b>Welcome</b> to the <span>hub</span>"}}}}},
    {"hub": {"config": {"FirstUseAuthenticator": {"x": "$2b$12$KIXQJrVn3mN/abcdefghiOQ"}}}},
    {"ingress": {"enabled": True, "hosts": ["jupyter.acme.io"], "tls": [{"hosts": ["jupyter.acme.io"], "secretName": "t"}]}},
    {"hub": {"config": {"JupyterHub": {"admin_users": ["admin"]}, "Authenticator": {"allowed_users": ["alice", "bob"]}}}},
])
def test_no_false_positives(values: dict[str, Any]) -> None:
    assert lines_of(yaml.safe_dump({"jupyterhub": values})) == []


@pytest.mark.parametrize(("values", "path"), [
    ({"ingress": {"hosts": ["jupyter.example.com"]}}, "jupyterhub.ingress.hosts[0]"),
    ({"ingress": {"hosts": ["hub.acme.io"], "tls": [{"hosts": ["hub.example.org"]}]}}, "jupyterhub.ingress.tls[0].hosts[0]"),
    ({"proxy": {"https": {"hosts": ["hub.example.net"]}}}, "jupyterhub.proxy.https.hosts[0]"),
    ({"proxy": {"https": {"letsencrypt": {"contactEmail": "ops@jupyter.test"}}}}, "jupyterhub.proxy.https.letsencrypt.contactEmail"),
    ({"hub": {"config": {"GitHubOAuthenticator": {"oauth_callback_url": "https://hub.example/hub/oauth_callback"}}}},
     "jupyterhub.hub.config.GitHubOAuthenticator.oauth_callback_url"),
    ({"hub": {"config": {"GenericOAuthenticator": {"authorize_url": "https://sso.invalid/auth"}}}},
     "jupyterhub.hub.config.GenericOAuthenticator.authorize_url"),
    ({"hub": {"config": {"GoogleOAuthenticator": {"hosted_domain": "example.com"}}}}, "jupyterhub.hub.config.GoogleOAuthenticator.hosted_domain"),
    ({"hub": {"config": {"Authenticator": {"admin_users": ["root@x.localhost"]}}}}, "jupyterhub.hub.config.Authenticator.admin_users[0]"),
    ({"hub": {"config": {"Authenticator": {"allowed_users": ["a@acme.io", "b@EXAMPLE.COM"]}}}}, "jupyterhub.hub.config.Authenticator.allowed_users[1]"),
])
def test_reserved_example_names_in_the_listed_keys(values: dict[str, Any], path: str) -> None:
    refused, _ = lint_text(yaml.safe_dump({"jupyterhub": values}), "v.yaml")
    assert [(f.rule, f.shown) for f in refused] == [("example-name", path)]


def test_required_values_left_empty() -> None:
    google = {"hub": {"config": {"JupyterHub": {"authenticator_class": "google"}, "GoogleOAuthenticator": {"client_id": ""}}}}
    assert [(r, p) for r, p, _ in findings_of(yaml.safe_dump({"jupyterhub": google}))] == [
        ("required", "jupyterhub.hub.config.GoogleOAuthenticator.client_id"),
        ("required", "jupyterhub.hub.config.GoogleOAuthenticator.client_secret"),
    ]
    # given in the base class's section, or by the environment: not empty
    given = {"hub": {"config": {"JupyterHub": {"authenticator_class": "oauthenticator.github.GitHubOAuthenticator"},
                                "OAuthenticator": {"client_id": "abc"}},
                     "extraEnv": {"OAUTH_CLIENT_SECRET": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}}}}
    assert findings_of(yaml.safe_dump({"jupyterhub": given})) == []
    # no OAuth authenticator selected: nothing is required
    assert findings_of(yaml.safe_dump({"jupyterhub": {"hub": {"config": {"GoogleOAuthenticator": {"client_id": ""}}}}})) == []
    # the Ingress on (the wrapper chart's default) and configured, without a host
    assert findings_of("jupyterhub:\n  ingress:\n    annotations: {a: b}\n") == [("required", "jupyterhub.ingress.hosts", 2)]
    assert findings_of("jupyterhub:\n  ingress:\n    enabled: false\n") == []
    # the upstream chart's Ingress is off by default
    assert findings_of("ingress:\n  annotations: {a: b}\n", wrapper=False) == []


SECRET = "s3cr3t-Value-That-Must-Not-Show"


@pytest.mark.parametrize("values", [
    {"hub": {"config": {"GoogleOAuthenticator": {"client_secret": f"$CLIENT_SECRET_{SECRET}"}}}},
    {"hub": {"config": {"JupyterHub": {"cookie_secret": f"TODO-{SECRET}"}}}},
    {"hub": {"config": {"CryptKeeper": {"keys": [f"<key {SECRET}>"]}}}},
    {"hub": {"config": {"DummyAuthenticator": {"password": f"changeme-{SECRET}"}}}},
    {"proxy": {"secretToken": f"${{TOKEN}}{SECRET}"}},
    {"hub": {"services": {"svc": {"api_token": f"REPLACE_ME-{SECRET}"}}}},
])
def test_secret_values_are_never_printed(values: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    lines = lines_of(yaml.safe_dump({"jupyterhub": values}))
    assert len(lines) == 1 and "value not shown" in lines[0]
    assert SECRET not in lines[0] and "$" not in lines[0].split(": ", 2)[-1].split(";")[0]
    # nor through a command (stdout and stderr)
    file = tmp_path / "v.yaml"
    file.write_text(yaml.safe_dump({"jupyterhub": values}))
    monkeypatch.setattr(release, "run_chart", _helm_must_not_run)
    assert cli.main(["render", "-f", str(file)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and SECRET not in err


def test_stream_findings_name_key_paths_only() -> None:
    import base64

    from jhub_ck8s.hubconfig import find
    from jhub_ck8s.stream import parse

    hub_values = {"hub": {"config": {
        "JupyterHub": {"authenticator_class": "github", "admin_users": ["boss@example.com"]},
        "GitHubOAuthenticator": {"client_id": "$GITHUB_ID", "client_secret": SECRET,
                                 "oauth_callback_url": "https://hub.example.com/hub/oauth_callback"},
    }}}
    stream = yaml.safe_dump_all([
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "jupyterhub"},
         "spec": {"rules": [{"host": "$PROJECT_DOMAIN", "http": {"paths": []}}], "tls": [{"hosts": ["hub.example.com"]}]}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hub"},
         "data": {"values.yaml": base64.b64encode(yaml.safe_dump(hub_values).encode()).decode()}},
    ])
    documents = parse(stream)
    found = lint_stream(documents, find(documents).values)
    assert [(f.label, f.where, f.rule) for f in found] == [
        ("Ingress/jupyterhub", "spec.rules[0].host", "placeholder"),
        ("Ingress/jupyterhub", "spec.tls[0].hosts[0]", "example-name"),
        ("Secret/hub", "values.yaml hub.config.GitHubOAuthenticator.client_id", "placeholder"),
        ("Secret/hub", "values.yaml hub.config.GitHubOAuthenticator.oauth_callback_url", "example-name"),
        ("Secret/hub", "values.yaml hub.config.JupyterHub.admin_users[0]", "example-name"),
    ]
    secret_text = " ".join(f"{f.message} {f.fix}" for f in found if f.label == "Secret/hub")
    assert "GITHUB_ID" not in secret_text and "boss" not in secret_text and "hub.example.com" not in secret_text


# --- merged values: every -f in order, then every --set flag as helm applies them -------------------


def test_set_flags_parse_as_helm_reads_them(tmp_path: Path) -> None:
    assert parse_set("--set", "a.b=1,c[1].d=true,e={x,y},f=null,g=a\\,b") == [
        (("a", "b"), 1), (("c", 1, "d"), True), (("e",), ["x", "y"]), (("f",), None), (("g",), "a,b"),
    ]
    assert parse_set("--set-string", "a=1") == [(("a",), "1")]
    assert parse_set("--set-json", 'a={"b": [1, "$X"]},c="d"') == [(("a",), {"b": [1, "$X"]}), (("c",), "d")]
    assert parse_set("--set-literal", "a.b=x,y=$Z") == [(("a", "b"), "x,y=$Z")]
    assert parse_set("--set", "a\\.b.c=1") == [(("a.b", "c"), 1)]
    content = tmp_path / "secret.txt"
    content.write_text("TODO\n")
    assert parse_set("--set-file", f"a.b={content}") == [(("a", "b"), "TODO\n")]


def test_later_layers_win_and_their_findings_name_the_flag(tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    first.write_text("jupyterhub:\n  ingress:\n    hosts: [$HOST]  # replace this\n")
    second = tmp_path / "b.yaml"
    second.write_text("jupyterhub:\n  ingress:\n    hosts: [jupyter.acme.io]\n")
    prepared = prepare([str(first), str(second)], [], [], tmp_path, wrapper_chart=True)
    assert prepared.findings == []
    prepared = prepare([str(second)], [("--set", "jupyterhub.ingress.hosts[0]=<host>")], [], tmp_path, wrapper_chart=True)
    assert [f.line() for f in prepared.findings] == [
        '--set: jupyterhub.ingress.hosts[0]: "<host>" is a placeholder (marker <host>); '
        "expected the public host name of the hub, for example jupyter.<your domain>"
    ]
    # helm applies --set-json before --set: --set wins whatever the command line order
    prepared = prepare([], [("--set", "jupyterhub.hub.extraEnv.A=ok"), ("--set-json", 'jupyterhub.hub.extraEnv.A="TODO"')],
                       [], tmp_path, wrapper_chart=True)
    assert prepared.findings == []
    prepared = prepare([], [("--set-literal", "jupyterhub.hub.extraEnv.A=TODO"), ("--set-string", "jupyterhub.hub.extraEnv.A=ok")],
                       [], tmp_path, wrapper_chart=True)
    assert [f.key for f in prepared.findings] == ["jupyterhub.hub.extraEnv.A"]


def test_allow_list_from_flags_and_ck8s_values(tmp_path: Path) -> None:
    file = tmp_path / "v.yaml"
    file.write_text("jupyterhub:\n  ingress:\n    hosts: [jupyter.example.com]\n    tls: [{hosts: [jupyter.example.com]}]\n")
    prepared = prepare([str(file)], [], ["ingress.hosts"], tmp_path, wrapper_chart=True)
    assert [f.key for f in prepared.findings] == ["jupyterhub.ingress.tls[0].hosts[0]"]
    assert [f.key for f in prepared.accepted] == ["jupyterhub.ingress.hosts[0]"]
    prepared = prepare([str(file)], [("--set-json", 'ck8s.allowExamples=["jupyterhub.ingress"]')], [], tmp_path, wrapper_chart=True)
    assert prepared.findings == [] and len(prepared.accepted) == 2
    # a prefix of a key name is not its parent
    prepared = prepare([str(file)], [], ["jupyterhub.ingress.host"], tmp_path, wrapper_chart=True)
    assert len(prepared.findings) == 2


def test_a_file_that_mixes_both_shapes_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "mixed.yaml"
    file.write_text("ck8s: {registry: harbor.acme.io/jh}\nhub: {}\nproxy: {}\njupyterhub: {}\n")
    with pytest.raises(ValuesShapeError) as raised:
        read_file(str(file))
    message = str(raised.value)
    assert "\n" not in message
    assert "(ck8s, jupyterhub)" in message and "(hub, proxy)" in message


def test_upstream_shaped_file_is_linted_with_its_own_key_paths_and_imported(tmp_path: Path) -> None:
    file = tmp_path / "old.yaml"
    text = "hub:\n  image:\n    name: k8s-hub\ningress:\n  enabled: true\n  hosts:\n    - $PROJECT_DOMAIN # replace this\n"
    file.write_text(text)
    prepared = prepare([str(file)], [], [], tmp_path, wrapper_chart=True)
    assert [f.line() for f in prepared.findings] == [
        f'{file}:7: ingress.hosts[0]: "$PROJECT_DOMAIN" is a placeholder (shell variable $PROJECT_DOMAIN); '
        "expected the public host name of the hub, for example jupyter.<your domain>"
    ]
    imported = yaml.safe_load(Path(prepared.files[0]).read_text())
    assert imported == {"jupyterhub": {"hub": {}, "ingress": {"enabled": True, "hosts": ["$PROJECT_DOMAIN"]}}}
    assert file.read_text() == text  # never rewritten
    assert any("removed hub.image.name 'k8s-hub'" in note for note in prepared.notes)


def _helm_must_not_run(*args: object, **kwargs: object) -> None:
    raise AssertionError("helm was called")


def test_commands_refuse_before_helm_with_nothing_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "v.yaml"
    file.write_text("jupyterhub:\n  ingress:\n    hosts: [$PROJECT_DOMAIN]\n")
    monkeypatch.setattr(release, "run_chart", _helm_must_not_run)
    for command in (["render"], ["deploy", "jhub"], ["images"], ["check", "jhub"], ["mirror"]):
        code = cli.main([*command, "-f", str(file)])
        out, err = capsys.readouterr()
        assert (code, out) == (2, ""), (command, err)
        assert f"{file}:3: jupyterhub.ingress.hosts[0]: \"$PROJECT_DOMAIN\" is a placeholder" in err, command


def test_an_accepted_value_reaches_helm(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "v.yaml"
    file.write_text("jupyterhub:\n  ingress:\n    hosts: [jupyter.example.com]\n")
    calls = []

    def fake(request: release.ChartRequest, *args: object, **kwargs: object) -> release.Outcome:
        calls.append(request)
        return release.Outcome(0, "")

    monkeypatch.setattr(release, "run_chart", fake)
    assert cli.main(["render", "-f", str(file), "--allow-example", "ingress.hosts"]) == 0
    assert len(calls) == 1 and calls[0].values == (str(file),)
    assert "accepted on purpose: " in capsys.readouterr().err


def test_import_values_reports_and_strict_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old.yaml"
    old.write_text("ingress:\n  enabled: true\n  hosts: [$PROJECT_DOMAIN]\n")
    out = tmp_path / "new.yaml"
    assert cli.main(["import-values", str(old), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f'to fill before rendering: {out}:5: jupyterhub.ingress.hosts[0]: "$PROJECT_DOMAIN" is a placeholder' in err, err
    out.unlink()
    assert cli.main(["import-values", str(old), "-o", str(out), "--strict"]) == 2
    stdout, err = capsys.readouterr()
    assert stdout == "" and not out.exists() and "--strict" in err
    assert cli.main(["import-values", str(old), "--strict"]) == 2
    assert capsys.readouterr().out == ""


def test_init_lists_what_is_left_to_fill(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["init", str(tmp_path / "a.yaml")]) == 0
    err = capsys.readouterr().err
    assert "to fill before rendering: " in err and "jupyterhub.ingress.hosts: is empty while the Ingress is on" in err
    assert cli.main(["init", str(tmp_path / "b.yaml"), "--host", "jupyter.acme.io", "--registry", "harbor.acme.io/jh"]) == 0
    assert "to fill" not in capsys.readouterr().err
    assert cli.main(["init", str(tmp_path / "c.yaml"), "--host", "jupyter.example.com"]) == 0
    err = capsys.readouterr().err
    assert err.count("to fill before rendering: ") == 2 and "reserved example name example.com" in err


def test_check_on_a_stream_judges_what_reached_the_objects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stream = tmp_path / "release.yaml"
    stream.write_text(yaml.safe_dump(
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "jupyterhub"},
         "spec": {"ingressClassName": "nginx", "rules": [{"host": "$PROJECT_DOMAIN", "http": {"paths": [
             {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "proxy-public", "port": {"name": "http"}}}}]}}]}}
    ))
    code = cli.main(["check", str(stream), "-o", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    rules = [f["rule"] for item in report["objects"] for f in item["findings"]]
    assert rules == ["values-placeholder"]
    assert cli.main(["check", str(stream), "--allow-example", "Ingress/jupyterhub.spec.rules[0].host"]) == 0
    capsys.readouterr()


# --- the files of the repository and of the shared fixtures ---------------------------------------


def _upstream_values() -> str:
    if not UPSTREAM_ARCHIVE.exists():
        pytest.skip(Z2JH_MISSING)
    with tarfile.open(UPSTREAM_ARCHIVE) as archive:
        member = archive.extractfile("jupyterhub/values.yaml")
        assert member is not None
        return io.TextIOWrapper(member, encoding="utf-8").read()


def test_the_upstream_charts_own_values_give_no_finding() -> None:
    text = _upstream_values()
    assert "{username}" in text and "extraConfig" in text  # what could have tripped the rules is there
    assert lines_of(text, wrapper=False) == []
    assert lines_of(text, wrapper=True) == []  # as an upstream-shaped -f for the wrapper chart


# (rule, key path as written, line): hand-read from each file.
EXPECTED: dict[str, list[tuple[str, str, int | None]]] = {
    "examples/values.yaml": [
        ("placeholder", "jupyterhub.hub.config.DummyAuthenticator.password", 48),
        ("example-name", "jupyterhub.ingress.hosts[0]", 58),
        ("example-name", "jupyterhub.ingress.tls[0].hosts[0]", 61),
    ],
    # the chart's own defaults, given as a file: the Ingress is on and has no host yet
    "wrapper-chart/values.yaml": [("required", "jupyterhub.ingress.hosts", next(
        number for number, line in enumerate((REPO / "wrapper-chart" / "values.yaml").read_text().splitlines(), 1)
        if line.strip().startswith("hosts: []")))],
    "tests/fixtures/import-guide-sample.yaml": [
        ("example-name", "hub.config.GoogleOAuthenticator.oauth_callback_url", 12),
        ("example-name", "hub.config.GoogleOAuthenticator.hosted_domain[0]", 14),
        ("example-name", "hub.config.JupyterHub.admin_users[0]", 21),
        ("example-name", "ingress.hosts[0]", 106),
        ("example-name", "ingress.tls[0].hosts[0]", 109),
    ],
    # a template of the tests: $upstream is substituted before use
    "tests/fixtures/mirror-hub-values.yaml": [
        ("placeholder", "hub.config.KubeSpawner.init_containers[0].image", 10),
        ("placeholder", "singleuser.image.name", 15),
        ("placeholder", "singleuser.networkTools.image.name", 21),
        ("placeholder", "singleuser.extraContainers[0].image", 25),
        ("placeholder", "singleuser.profileList[0].kubespawner_override.image", 29),
        ("placeholder", "singleuser.profileList[0].profile_options.flavour.choices.r.kubespawner_override.image", 37),
    ],
    "bench/chart/values-guide.yaml": [
        ("example-name", "hub.config.GenericOAuthenticator.oauth_callback_url", 10),
        ("example-name", "hub.config.JupyterHub.admin_users[0]", 15),
        ("example-name", "ingress.hosts[0]", 59),
        ("example-name", "ingress.tls[0].hosts[0]", 61),
    ],
    "bench/chart/values-full.yaml": [
        ("example-name", "proxy.https.hosts[0]", 18),
        ("example-name", "proxy.https.letsencrypt.contactEmail", 19),
    ],
}
NO_FINDINGS = [
    "bench/chart/values.yaml", "tests/fixtures/small-hub-values.yaml", "tests/fixtures/inventory-hub-values.yaml",
]
FIXTURE_EXPECTED: dict[str, list[tuple[str, str, int | None]]] = {
    "guide.yaml": [
        ("example-name", "hub.config.GoogleOAuthenticator.oauth_callback_url", 12),
        ("example-name", "hub.config.GoogleOAuthenticator.hosted_domain[0]", 14),
        ("example-name", "hub.config.JupyterHub.admin_users[0]", 21),
        ("example-name", "proxy.https.hosts[0]", 49),
        ("example-name", "proxy.https.letsencrypt.contactEmail", 52),
        ("example-name", "ingress.hosts[0]", 86),
        ("example-name", "ingress.tls[0].hosts[0]", 89),
    ],
    "full.yaml": [
        ("example-name", "proxy.https.hosts[0]", 18),
        ("example-name", "proxy.https.letsencrypt.contactEmail", 19),
    ],
    "default.yaml": [],
}


def _is_values_file(path: Path) -> bool:
    return "values" in path.name and path.suffix in (".yaml", ".yml")


def test_every_values_file_of_the_repository_is_listed() -> None:
    found = {str(p.relative_to(REPO)) for p in REPO.rglob("*.y*ml") if _is_values_file(p)
             and not any(part.startswith(".") for part in p.relative_to(REPO).parts)}
    assert found == (set(EXPECTED) | set(NO_FINDINGS)) - {"tests/fixtures/import-guide-sample.yaml"}


@pytest.mark.parametrize("name", [*EXPECTED, *NO_FINDINGS])
def test_repository_values_files(name: str) -> None:
    text = (REPO / name).read_text()
    wrapper = "jupyterhub:" in text.split("\n# Values for the upstream", 1)[0] or name.startswith(("examples/", "wrapper-chart/"))
    assert findings_of(text, wrapper=wrapper, source=name, accepted=True) == EXPECTED.get(name, [])


@needs_z2jh
@pytest.mark.parametrize("name", FIXTURE_EXPECTED)
def test_shared_fixture_values(name: str) -> None:
    text = (Z2JH / "values" / name).read_text()
    assert findings_of(text) == FIXTURE_EXPECTED[name]
    assert findings_of(text, wrapper=False) == FIXTURE_EXPECTED[name]


def test_examples_accept_their_example_values_through_the_list() -> None:
    refused, accepted = lint_text((REPO / "examples" / "values.yaml").read_text(), "examples/values.yaml")
    assert refused == []  # (with the list: the EXPECTED findings above are what it accepts)
    assert len(accepted) == len(EXPECTED["examples/values.yaml"])


def test_values_object_is_plain_data(tmp_path: Path) -> None:
    file = tmp_path / "v.yaml"
    file.write_text("a: &x {b: 1}\nc: *x\n")
    values = Values()
    add_file(values, read_file(str(file), wrapper_chart=False), wrapper_chart=False)
    add_set(values, "--set", "c.b=2")
    assert values.data == {"a": {"b": 1}, "c": {"b": 2}}
    assert lint(values, upstream_root=()) == []
