"""The command layer and the library under it: flags -> one ChartRequest -> run_chart -> data.

``run_chart`` is run against a fake helm (``Helm(runner=...)``): it must build the
command line each Helm major expects, return helm's result, its notes and the
post-renderer's report as data, and print nothing. The expected command lines are
written out here by hand, from Helm's documented flags.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from jhub_ck8s import cli
from jhub_ck8s.commands import MODULES, chart_flags
from jhub_ck8s.helm import Helm
from jhub_ck8s.release import ChartRequest, InstallOptions, PostRenderOptions, run_chart
from jhub_ck8s.report import ReportFormatError, SavedReport

POST_RENDERER = str(REPO / "bin" / "jhub-ck8s")


def _args(*argv: str):
    return cli.main_parser().parse_args(list(argv))


# --- flags -> request --------------------------------------------------------------------------


def test_deploy_flags_become_one_request() -> None:
    args = _args(
        "deploy", "jhub", "./chart", "-f", "a.yaml", "--values", "b.yaml", "--set", "x=1", "--set-json", 'y={"z":1}',
        "--set", "x=2", "--set-string", "s=007", "--set-file", "f=cfg.py", "-n", "team", "--kube-context", "prod",
        "--chart-archive", "jh.tgz", "--version", "1.2.3", "--registry", "harbor.example.com/jh", "--mode", "warn",
        "--config", "c.yaml", "--pin", "images.lock.yaml", "--report", "r.json", "--keep-hook-puller",
        "--dry-run", "--rollback-on-failure", "--wait", "--timeout", "10m", "--create-namespace",
    )
    request = chart_flags.chart_request(args, install=True, env={})
    assert request == ChartRequest(
        release="jhub",
        chart="./chart",
        values=("a.yaml", "b.yaml"),
        set_flags=(("--set", "x=1"), ("--set", "x=2"), ("--set-string", "s=007"), ("--set-file", "f=cfg.py"), ("--set-json", 'y={"z":1}')),
        namespace="team",
        kube_context="prod",
        chart_archive="jh.tgz",
        chart_version="1.2.3",
        post_renderer=PostRenderOptions("harbor.example.com/jh", "warn", "c.yaml", "images.lock.yaml", "r.json", keep_hook_puller=True),
        install=InstallOptions(dry_run=True, atomic=True, wait=True, timeout="10m", create_namespace=True),
    )


def test_render_request_takes_what_helm_hands_the_plugin_and_flags_win() -> None:
    env = {"HELM_NAMESPACE": "from-helm", "HELM_KUBECONTEXT": "ctx-from-helm", "JUPYTERHUB_CHART": "/charts/jh.tgz"}
    plain = chart_flags.chart_request(_args("render"), env=env)
    assert plain == ChartRequest(
        release="jupyterhub", namespace="from-helm", kube_context="ctx-from-helm", chart_archive="/charts/jh.tgz",
        post_renderer=PostRenderOptions(),
    )
    assert plain.install is None
    flagged = chart_flags.chart_request(_args("render", "-n", "mine", "--kube-context", "c", "--chart-archive", "x.tgz"), env=env)
    assert (flagged.namespace, flagged.kube_context, flagged.chart_archive) == ("mine", "c", "x.tgz")
    empty = chart_flags.chart_request(_args("render"), env={"HELM_NAMESPACE": ""})
    assert empty.namespace is None


def test_images_renders_without_the_post_renderer() -> None:
    request = chart_flags.chart_request(_args("images", "-f", "v.yaml", "--registry", "h.example.com/p"), post_render=False, env={})
    assert request.post_renderer is None and request.values == ("v.yaml",)


def test_a_request_refuses_a_flag_that_is_not_a_set_flag() -> None:
    with pytest.raises(ValueError, match="--values"):
        ChartRequest("jhub", set_flags=(("--values", "x.yaml"),))


def test_every_command_registers_the_same_way_in_a_fixed_order(capsys: pytest.CaptureFixture[str]) -> None:
    minimal = {"deploy": ["jhub"], "preflight": ["jhub"], "import-values": ["old.yaml"]}
    names = ["deploy", "render", "preflight", "images", "mirror", "check", "init", "import-values", "setup"]
    for name in names:
        args = _args(name, *minimal.get(name, []))
        assert args.command == name and callable(args.handler), name
    with pytest.raises(SystemExit):
        cli.main_parser().parse_args(["--help"])
    listing = capsys.readouterr().out.split("commands:")[0]
    positions = [listing.index(f"    {name} ") if f"    {name} " in listing else listing.index(f"    {name}\n") for name in names]
    assert positions == sorted(positions)
    assert len(MODULES) == len(set(MODULES))


# --- run_chart against a fake helm -----------------------------------------------------------


class FakeHelm:
    """A helm of one version that records its calls; the template/upgrade call does ``behaviour``."""

    def __init__(self, version: str, behaviour=None) -> None:
        self.version = version
        self.behaviour = behaviour or (lambda argv, env: subprocess.CompletedProcess(argv, 0, "kind: ConfigMap\n", ""))
        self.calls: list[tuple[list[str], dict[str, str]]] = []

    def __call__(self, argv, *, env, stdout, stderr, text, check):
        assert text is True and check is False
        args = argv[1:]
        if args[:1] == ["version"]:
            return subprocess.CompletedProcess(argv, 0, self.version, "")
        if args[:1] == ["env"]:
            return subprocess.CompletedProcess(argv, 0, "/home/user/.local/share/helm/plugins\n", "")
        self.calls.append((args, env))
        return self.behaviour(argv, env)

    def helm(self) -> Helm:
        return Helm("/usr/bin/helm", {"PATH": "/usr/bin"}, runner=self)


def _post_renderer_writes(report: dict, returncode: int = 0, stdout: str = "kind: ConfigMap\n", stderr: str = ""):
    def behaviour(argv, env):
        Path(env["JHUB_CK8S_REPORT"]).write_text(json.dumps(report))
        return subprocess.CompletedProcess(argv, returncode, stdout, stderr)

    return behaviour


REPORT = {
    "version": 1, "mode": "enforce", "exitCode": 0, "fatal": None,
    "summary": {"error": 0, "warning": 1, "change": 1, "info": 0},
    "findings": [
        {"transform": "images", "severity": "change", "rule": None, "document": 3, "item": None,
         "source": "jupyterhub/templates/hub/deployment.yaml", "kind": "Deployment", "name": "hub",
         "where": "container hub", "container": "hub", "message": "image moved to harbor.example.com/jh", "fix": None},
        {"transform": "network-policy", "severity": "warning", "rule": "np", "document": None, "item": None,
         "source": None, "kind": None, "name": None, "where": None, "container": None,
         "message": "no NetworkPolicy for the proxy", "fix": "set proxy.chp.networkPolicy.enabled"},
    ],
}


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    """A chart that is not the wrapper and needs no dependency: used as it is."""
    folder = tmp_path / "mychart"
    folder.mkdir()
    (folder / "Chart.yaml").write_text("apiVersion: v2\nname: mychart\nversion: 0.1.0\n")
    return folder


def test_helm3_render_returns_data_and_prints_nothing(chart: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeHelm("v3.17.2", _post_renderer_writes(REPORT))
    request = ChartRequest(
        "jhub", str(chart), values=("a.yaml",), set_flags=(("--set", "x=1"), ("--set-json", "y=2")), namespace="team",
        post_renderer=PostRenderOptions(registry="harbor.example.com/jh", mode="warn"),
    )
    started = []
    outcome = run_chart(request, fake.helm(), capture=True, on_start=lambda call: started.append((call, len(fake.calls))))
    (args, env), = fake.calls
    assert args == [
        "template", "jhub", str(chart), "-f", "a.yaml", "--set", "x=1", "--set-json", "y=2",
        "--set", "prePuller.hook.enabled=false", "--namespace", "team",
        "--post-renderer", POST_RENDERER, "--post-renderer-args", "--quiet",
        "--post-renderer-args", "--registry=harbor.example.com/jh", "--post-renderer-args", "--mode=warn",
    ]
    assert "HELM_PLUGINS" not in env and env["JHUB_CK8S_REPORT"].endswith("report.json")
    assert [(call.args, count) for call, count in started] == [(tuple(args), 0)]  # told before helm ran
    assert outcome.notes == (
        "Helm v3.17.2 does not post-render hooks, so prePuller.hook.enabled=false (use --keep-hook-puller to keep it)",
    )
    assert outcome.call.command_line.startswith(f"helm template jhub {chart} -f a.yaml --set x=1")
    assert (outcome.returncode, outcome.exit_code, outcome.stdout, outcome.problem) == (0, 0, "kind: ConfigMap\n", None)
    assert outcome.report is not None and outcome.report.mode == "enforce"
    assert [(f.severity, f.kind, f.name, f.where) for f in outcome.report.findings] == [
        ("change", "Deployment", "hub", "container hub"), ("warning", None, None, None),
    ]
    assert capsys.readouterr() == ("", "")


def test_helm4_deploy_flags_and_private_plugin(chart: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeHelm("v4.0.1", _post_renderer_writes(REPORT))
    copy = tmp_path / "kept-report.json"
    request = ChartRequest(
        "jhub", str(chart), kube_context="prod", chart_version="1.2.3",
        post_renderer=PostRenderOptions(pin="images.lock.yaml", report=str(copy)),
        install=InstallOptions(dry_run=True, atomic=True, wait=True, timeout="10m", create_namespace=True),
    )
    outcome = run_chart(request, fake.helm())
    (args, env), = fake.calls
    assert args == [
        "upgrade", "--install", "jhub", str(chart), "--version", "1.2.3", "--kube-context", "prod",
        "--dry-run=client", "--rollback-on-failure", "--wait", "--timeout", "10m", "--create-namespace",
        "--post-renderer", "jhub-ck8s-private", "--post-renderer-args", "--quiet",
        "--post-renderer-args", f"--pin={Path.cwd() / 'images.lock.yaml'}",
    ]
    private, user = env["HELM_PLUGINS"].split(":")
    assert private.endswith("/plugins") and user == "/home/user/.local/share/helm/plugins"
    assert outcome.notes == ()  # Helm 4 post-renders hooks
    assert outcome.stdout == "" and outcome.stderr == ""  # not captured: helm wrote to the terminal
    assert json.loads(copy.read_text()) == REPORT
    assert capsys.readouterr() == ("", "")


def test_helm3_deploy_of_the_wrapper_switches_its_hook_puller_off_unless_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the wrapper's dependency as an unpacked folder, so nothing is fetched
    upstream = tmp_path / "jupyterhub"
    upstream.mkdir()
    (upstream / "Chart.yaml").write_text("apiVersion: v2\nname: jupyterhub\nversion: 4.4.0\n")
    fake = FakeHelm("v3.17.2")
    deploy = ChartRequest("jhub", chart_archive=str(upstream), install=InstallOptions(dry_run=True, atomic=True))
    outcome = run_chart(deploy, fake.helm())
    (args, _), = fake.calls
    assert args[:3] == ["upgrade", "--install", "jhub"] and args[3].endswith("/wrapper-chart")
    assert args[3] != str(REPO / "wrapper-chart")  # a copy with the dependency vendored, never the checkout
    assert args[4:10] == ["--set", "jupyterhub.prePuller.hook.enabled=false", "--dry-run", "--atomic", "--post-renderer", POST_RENDERER]
    assert outcome.notes == (
        "Helm v3.17.2 does not post-render hooks, so jupyterhub.prePuller.hook.enabled=false "
        "(use --keep-hook-puller to keep it)",
    )
    kept = FakeHelm("v3.17.2")
    run_chart(ChartRequest("jhub", chart_archive=str(upstream), post_renderer=PostRenderOptions(keep_hook_puller=True)), kept.helm())
    assert not any("prePuller" in arg for arg in kept.calls[0][0])
    assert capsys.readouterr() == ("", "")


def test_helm4_deploy_of_the_wrapper_turns_its_hook_puller_on_before_the_users_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upstream = tmp_path / "jupyterhub"
    upstream.mkdir()
    (upstream / "Chart.yaml").write_text("apiVersion: v2\nname: jupyterhub\nversion: 4.4.0\n")
    seen: dict[str, str] = {}

    def keep_values_file(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
        first = argv[argv.index("-f") + 1]
        seen[first] = Path(first).read_text()  # the file lives only while helm runs
        return subprocess.CompletedProcess(argv, 0, "", "")

    fake = FakeHelm("v4.3.1", keep_values_file)
    deploy = ChartRequest("jhub", chart_archive=str(upstream), values=("mine.yaml",), set_flags=(("--set", "a=1"),),
                          install=InstallOptions(atomic=True))
    outcome = run_chart(deploy, fake.helm())
    (args, _), = fake.calls
    assert args[4] == "-f" and args[6:10] == ["-f", "mine.yaml", "--set", "a=1"]  # the user's values come after
    assert yaml.safe_load(seen[args[5]]) == {"jupyterhub": {"prePuller": {"hook": {"enabled": True}}}}
    assert not any("prePuller" in arg for arg in args)
    assert outcome.notes == ()
    # not the wrapper: the chart's own values are used as they are
    other = tmp_path / "mychart"
    other.mkdir()
    (other / "Chart.yaml").write_text("apiVersion: v2\nname: mychart\nversion: 0.1.0\n")
    plain = FakeHelm("v4.3.1")
    run_chart(ChartRequest("jhub", str(other)), plain.helm())
    assert "-f" not in plain.calls[0][0]
    assert capsys.readouterr() == ("", "")


def test_helm_failing_before_the_post_renderer_is_data(chart: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeHelm("v3.17.2", lambda argv, env: subprocess.CompletedProcess(argv, 1, "", "Error: values.yaml: bad\n"))
    outcome = run_chart(ChartRequest("jhub", str(chart)), fake.helm(), capture=True)
    assert (outcome.returncode, outcome.exit_code, outcome.report) == (1, 1, None)
    assert outcome.stderr == "Error: values.yaml: bad\n"
    assert outcome.problem == "helm failed before the post-renderer ran (see helm's message above)"
    assert capsys.readouterr() == ("", "")
    # without a post-renderer there is nothing it could have failed before
    plain = run_chart(ChartRequest("jhub", str(chart), post_renderer=None), fake.helm(), capture=True)
    assert plain.problem is None and plain.exit_code == 1
    (args, env) = fake.calls[-1]
    assert "--post-renderer" not in args and "prePuller.hook.enabled=false" not in " ".join(args)
    assert "JHUB_CK8S_REPORT" not in env


def test_the_post_renderers_exit_code_wins(chart: Path) -> None:
    stopped = {**REPORT, "exitCode": 2, "fatal": "error: --config c.yaml: not UTF-8 text", "findings": []}
    fake = FakeHelm("v3.17.2", _post_renderer_writes(stopped, returncode=1))
    outcome = run_chart(ChartRequest("jhub", str(chart)), fake.helm(), capture=True)
    assert outcome.exit_code == 2 and outcome.problem is None
    assert outcome.report is not None and outcome.report.table() == "error: --config c.yaml: not UTF-8 text\n"


def test_a_cut_short_report_file_is_no_report(chart: Path) -> None:
    def half_written(argv, env):
        Path(env["JHUB_CK8S_REPORT"]).write_text('{"version": 1, "exitCode": 1, "findi')
        return subprocess.CompletedProcess(argv, 1, "", "")

    outcome = run_chart(ChartRequest("jhub", str(chart)), FakeHelm("v3.17.2", half_written).helm(), capture=True)
    assert outcome.report is None and outcome.exit_code == 1 and outcome.problem is not None


# --- the report file format, read in one place --------------------------------------------------


def test_saved_report_reads_what_the_post_renderer_writes(tmp_path: Path) -> None:
    from jhub_ck8s.report import CHANGE, Finding, Report

    report = Report(mode="warn", findings=[Finding("pdb", CHANGE, "added a PodDisruptionBudget", where="pdb")])
    path = tmp_path / "report.json"
    report.write_json(str(path))
    saved = SavedReport.read(path)
    assert saved is not None
    assert (saved.mode, saved.exit_code, saved.fatal, saved.counts["change"]) == ("warn", 0, None, 1)
    assert saved.table() == report.table()
    assert saved.summary_line() == "jhub-ck8s: 1 change, 0 warnings, 0 errors (mode warn)"
    assert SavedReport.read(tmp_path / "missing.json") is None


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"exitCode": "1"},
        {"exitCode": True},
        {"summary": {"error": "2"}},
        {"findings": {"a": 1}},
        {"findings": [{"transform": "images", "severity": "error"}]},
        {"findings": [{"transform": "images", "severity": "error", "message": "m", "document": "3"}]},
    ],
)
def test_saved_report_refuses_what_is_not_a_report(data: object) -> None:
    with pytest.raises(ReportFormatError):
        SavedReport.from_json(data)
