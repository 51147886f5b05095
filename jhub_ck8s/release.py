"""Rendering or installing the release: the wrapper chart + the user's values + the post-renderer.

Shared by ``deploy``, ``render``, ``images`` and ``check``: one place builds the helm
command line for either Helm major, hands helm our post-renderer, and reads back the
post-renderer's JSON report (Helm 4 throws a post-renderer's stderr away, so the report
file is the only reliable channel on both majors).

A library layer: ``run_chart`` takes a ``ChartRequest`` (built by the command layer from
its flags and the plugin's environment) and returns an ``Outcome``; it prints nothing.
What the user should hear (the hook image-puller switched off on Helm 3, the helm command,
helm's captured messages, why nothing was rendered) is in the ``HelmCall`` and ``Outcome``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import chart as charts
from .errors import UserError
from .helm import Helm, HelmVersion, atomic_flag, dry_run_flag, post_renderer_for, server_dry_run_flag
from .report import REPORT_ENV, SavedReport

WRAPPER_CHART_NAME = "jupyterhub-ck8s"
# The helm flags that set single values (helm applies them after the -f files).
SET_FLAGS = ("--set", "--set-string", "--set-file", "--set-json", "--set-literal")
# The order helm applies them in (pkg/cli/values MergeValues), whatever the command line says.
SET_FLAGS_APPLIED = ("--set-json", "--set", "--set-string", "--set-file", "--set-literal")


def plugin_root() -> Path:
    """The checkout or plugin folder this code runs from (holds bin/, wrapper-chart/)."""
    return Path(__file__).resolve().parents[1]


# --- the request ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PostRenderOptions:
    """What the post-renderer is told for this run (flags win over ``ck8s:`` values and --config)."""

    registry: str | None = None  # HOST/PROJECT
    mode: str | None = None  # one of settings.MODES
    config: str | None = None  # settings file
    pin: str | None = None  # lock file: pin images to its digests
    report: str | None = None  # also keep the JSON report here
    keep_hook_puller: bool = False  # Helm 3: keep the hook image-puller although hooks bypass post-renderers
    gitops: bool = False  # stable renders: the hub's tokens from hub.existingSecret (transforms/gitops.py)

    def args(self) -> tuple[str, ...]:
        """The post-renderer's own flags (its report goes to the report file, so it is quiet)."""
        forwarded = ["--quiet"]
        if self.registry:
            forwarded.append(f"--registry={self.registry}")
        if self.mode:
            forwarded.append(f"--mode={self.mode}")
        if self.config:
            forwarded.append(f"--config={os.path.abspath(self.config)}")
        if self.pin:
            forwarded.append(f"--pin={os.path.abspath(self.pin)}")
        if self.gitops:
            forwarded.append("--gitops=true")
        return tuple(forwarded)


@dataclass(frozen=True)
class InstallOptions:
    """``helm upgrade --install`` flags, named as helm names them."""

    dry_run: bool = False
    atomic: bool = False  # --atomic on Helm 3, --rollback-on-failure on Helm 4
    wait: bool = False
    timeout: str | None = None  # a Go duration, as helm --timeout
    create_namespace: bool = False
    server_dry_run: bool = False  # --dry-run=server: what an upgrade would store, nothing changed (diff)
    output: str | None = None  # --output (json: the release as data, its manifest included)


@dataclass(frozen=True)
class ChartRequest:
    """One release to render or install: the chart, the user's values, where, and how.

    ``install`` None means ``helm template``; ``post_renderer`` None means helm's own output
    (``images`` lists images as the chart wrote them; ``check --no-post-render``).
    """

    release: str
    chart: str | None = None  # chart folder; None: the wrapper chart shipped with the plugin
    values: tuple[str, ...] = ()  # -f files, in order
    set_flags: tuple[tuple[str, str], ...] = ()  # (a flag of SET_FLAGS, "KEY=VAL"), passed on in this order
    namespace: str | None = None
    kube_context: str | None = None
    chart_archive: str | None = None  # local upstream chart archive or folder, for offline use
    chart_version: str | None = None  # --version, when CHART is a repository chart
    post_renderer: PostRenderOptions | None = field(default_factory=PostRenderOptions)
    install: InstallOptions | None = None
    kube_version: str | None = None  # helm template --kube-version (Argo CD's KUBE_VERSION)
    api_versions: tuple[str, ...] = ()  # helm template --api-versions (Argo CD's KUBE_API_VERSIONS)

    def __post_init__(self) -> None:
        unknown = [flag for flag, _ in self.set_flags if flag not in SET_FLAGS]
        if unknown:
            raise ValueError(f"not a helm set flag: {unknown[0]!r}")


# --- what is run, and what came of it --------------------------------------------------------


@dataclass(frozen=True)
class HelmCall:
    """One planned helm run, as data: what to show the user before helm starts."""

    args: tuple[str, ...]  # helm's arguments (the binary left out), post-renderer flags included
    notes: tuple[str, ...] = ()  # what was changed on the user's behalf, one line each
    post_rendered: bool = True

    @property
    def command_line(self) -> str:
        """``helm upgrade --install jhub ...``, quoted for a shell."""
        return "helm " + shlex.join(self.args)


@dataclass(frozen=True)
class Outcome:
    """What one helm run left: helm's exit status and output, and the post-renderer's report."""

    returncode: int  # helm's
    stdout: str = ""  # helm's standard output when captured, else ""
    report: SavedReport | None = None  # the post-renderer's report, when it ran
    stderr: str = ""  # helm's standard error when captured, else ""
    call: HelmCall = field(default_factory=lambda: HelmCall(()))

    @property
    def exit_code(self) -> int:
        """Ours: the post-renderer's code when it failed, else 1 for a helm failure."""
        if self.report is not None and self.report.exit_code:
            return self.report.exit_code
        return 1 if self.returncode else 0

    @property
    def notes(self) -> tuple[str, ...]:
        return self.call.notes

    @property
    def problem(self) -> str | None:
        """One line when helm failed before the post-renderer ran (its report explains the rest)."""
        if self.returncode != 0 and self.report is None and self.call.post_rendered:
            return "helm failed before the post-renderer ran (see helm's message above)"
        return None


def hook_puller_note(version: HelmVersion, key: str) -> str:
    return (
        f"Helm {version.text} does not post-render hooks, so {key}=false "
        "(use --keep-hook-puller to keep it)"
    )


# The wrapper chart keeps the hook image-puller off (Helm 3 cannot post-render it); on
# Helm 4, which post-renders hooks, it is on as upstream has it. A values file given
# before the user's, so their own values still decide.
HOOK_PULLER_ON = "jupyterhub:\n  prePuller:\n    hook:\n      enabled: true\n"


def _helm_args(request: ChartRequest, chart_path: Path, version: HelmVersion, is_wrapper: bool,
               workdir: Path) -> tuple[list[str], list[str]]:
    """(helm arguments without the post-renderer, notes for the user)."""
    install = request.install
    command = ["upgrade", "--install"] if install is not None else ["template"]
    command += [request.release, str(chart_path)]
    notes = []
    if is_wrapper and version.major >= 4:
        hook_values = workdir / "hook-puller-on.yaml"
        hook_values.write_text(HOOK_PULLER_ON)
        command += ["-f", str(hook_values)]
    for values_file in request.values:
        command += ["-f", values_file]
    for flag, value in request.set_flags:
        command += [flag, value]
    post = request.post_renderer
    if post is not None and version.major < 4 and not post.keep_hook_puller:
        # Helm 3 never shows hooks to a post-renderer: the hook image-puller would keep
        # upstream images and unhardened pods, so it is switched off (the continuous
        # puller, which is post-rendered, still pre-pulls user images).
        key = "jupyterhub.prePuller.hook.enabled" if is_wrapper else "prePuller.hook.enabled"
        command += ["--set", f"{key}=false"]
        notes.append(hook_puller_note(version, key))
    if request.chart_version:
        command += ["--version", request.chart_version]
    if request.namespace:
        command += ["--namespace", request.namespace]
    if request.kube_context:
        command += ["--kube-context", request.kube_context]
    if install is None and request.kube_version:
        command += ["--kube-version", request.kube_version]
    for api_version in request.api_versions if install is None else ():
        command += ["--api-versions", api_version]
    if install is not None:
        if install.dry_run:
            command.append(dry_run_flag(version))
        elif install.server_dry_run:
            command.append(server_dry_run_flag(version))
        if install.atomic:
            command.append(atomic_flag(version))
        if install.wait:
            command.append("--wait")
        if install.timeout:
            command += ["--timeout", install.timeout]
        if install.create_namespace:
            command.append("--create-namespace")
        if install.output:
            command += ["--output", install.output]
    return command, notes


def run_chart(
    request: ChartRequest,
    helm: Helm | None = None,
    *,
    capture: bool = False,
    on_start: Callable[[HelmCall], None] | None = None,
) -> Outcome:
    """``helm template`` (or ``upgrade --install``) as ``request`` says; helm's result as data.

    ``capture`` keeps helm's standard output and error in the outcome (else they go where
    ours go). ``on_start`` hears of the call just before helm starts, so a command can show
    it while a long ``--wait`` runs. UserError when the chart cannot be prepared.
    """
    helm = helm or Helm.from_environment()
    version = helm.version()
    root = plugin_root()
    chart_dir = Path(request.chart) if request.chart else root / charts.WRAPPER_DIR
    archive = request.chart_archive
    post = request.post_renderer
    with tempfile.TemporaryDirectory(prefix="ck8s-jupyter-") as tmp:
        workdir = Path(tmp)
        is_wrapper = charts.chart_name(chart_dir) == WRAPPER_CHART_NAME
        if archive is None and is_wrapper and not charts.has_dependency(chart_dir):
            pulled = charts.fetch_upstream(helm, workdir)
            if pulled is None:
                raise UserError(charts.missing_dependency_message())
            archive = str(pulled)
        chart_path = charts.prepare(chart_dir, Path(archive) if archive else None, workdir)
        command, notes = _helm_args(request, chart_path, version, is_wrapper, workdir)
        report_file = workdir / "report.json"
        extra_env: dict[str, str] = {}
        if post is not None:
            renderer = post_renderer_for(helm, version, root / "bin" / "jhub-ck8s", workdir, post.args())
            command += list(renderer.args)
            extra_env = {**renderer.env, REPORT_ENV: str(report_file)}
        call = HelmCall(tuple(command), tuple(notes), post_rendered=post is not None)
        if on_start is not None:
            on_start(call)
        result = helm.run(command, extra_env=extra_env, capture=capture)
        report = SavedReport.read(report_file) if post is not None else None
        if post is not None and post.report and report_file.exists():
            shutil.copyfile(report_file, post.report)
    return Outcome(
        result.returncode,
        (result.stdout or "") if capture else "",
        report,
        (result.stderr or "") if capture else "",
        call,
    )


__all__ = [
    "SET_FLAGS",
    "SET_FLAGS_APPLIED",
    "ChartRequest",
    "HelmCall",
    "InstallOptions",
    "Outcome",
    "PostRenderOptions",
    "plugin_root",
    "run_chart",
]
