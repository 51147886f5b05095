"""Rendering or installing the release: the wrapper chart + the user's values + the post-renderer.

Shared by ``deploy``, ``render``, ``images`` and ``check``: one place builds the helm
command line for either Helm major, hands helm our post-renderer, and reads back the
post-renderer's JSON report (Helm 4 throws a post-renderer's stderr away, so the report
file is the only reliable channel on both majors).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import chart as charts
from .errors import EXIT_INPUT, UserError
from .helm import Helm, atomic_flag, dry_run_flag, post_renderer_for
from .report import REPORT_ENV
from .settings import MODES

WRAPPER_CHART_NAME = "jupyterhub-ck8s"


def plugin_root() -> Path:
    """The checkout or plugin folder this code runs from (holds bin/, wrapper-chart/)."""
    return Path(__file__).resolve().parents[1]


def add_chart_arguments(parser: argparse.ArgumentParser, *, release_required: bool) -> None:
    """The chart and values flags, named as helm names them."""
    if release_required:
        parser.add_argument("release", metavar="RELEASE", help="release name")
    else:
        parser.add_argument("release", metavar="RELEASE", nargs="?", default="jupyterhub", help="release name (default: jupyterhub)")
    parser.add_argument("chart", metavar="CHART", nargs="?", help="chart folder (default: the wrapper chart shipped with the plugin)")
    parser.add_argument("-f", "--values", action="append", default=[], metavar="FILE", help="values file, repeatable (as helm)")
    for flag in ("--set", "--set-string", "--set-file", "--set-json"):
        parser.add_argument(flag, action="append", default=[], metavar="KEY=VAL", help=f"as helm {flag}, repeatable")
    parser.add_argument("-n", "--namespace", help="namespace (as helm; inside helm, $HELM_NAMESPACE is used)")
    parser.add_argument("--kube-context", help="kube context (as helm)")
    parser.add_argument("--chart-archive", metavar="PATH", help=f"local jupyterhub-{charts.UPSTREAM_VERSION}.tgz or unpacked chart folder, for offline use (or ${charts.ARCHIVE_ENV})")
    parser.add_argument("--version", dest="chart_version", metavar="VERSION", help="chart version, when CHART is a repository chart (as helm)")
    parser.add_argument("--keep-hook-puller", action="store_true", help="Helm 3: keep the hook image-puller although hooks bypass post-renderers")
    parser.add_argument("--registry", metavar="HOST/PROJECT", help="post-renderer setting: target registry (wins over ck8s.registry)")
    parser.add_argument("--mode", choices=MODES, help="post-renderer setting: policy mode")
    parser.add_argument("--config", metavar="FILE", help="post-renderer settings file")
    parser.add_argument("--pin", metavar="LOCK", help="post-renderer setting: pin images to the digests in this lock file (from mirror)")
    parser.add_argument("--report", metavar="FILE", help="also keep the post-renderer's JSON report here")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only warnings, errors and the summary")


@dataclass
class Outcome:
    returncode: int  # helm's
    stdout: str  # helm's standard output when captured, else ""
    report: dict[str, Any] | None  # the post-renderer's report, when it ran

    @property
    def exit_code(self) -> int:
        """Ours: the post-renderer's code when it failed, else 1 for a helm failure."""
        if self.report is not None and self.report.get("exitCode"):
            return int(self.report["exitCode"])
        return 1 if self.returncode else 0


def _post_renderer_args(args: argparse.Namespace) -> list[str]:
    forwarded = ["--quiet"]
    if getattr(args, "registry", None):
        forwarded.append(f"--registry={args.registry}")
    if getattr(args, "mode", None):
        forwarded.append(f"--mode={args.mode}")
    if getattr(args, "config", None):
        forwarded.append(f"--config={os.path.abspath(args.config)}")
    if getattr(args, "pin", None):
        forwarded.append(f"--pin={os.path.abspath(args.pin)}")
    return forwarded


def print_report(report: dict[str, Any] | None, quiet: bool) -> None:
    from .report import table

    if report is not None:
        sys.stderr.write(table(report, changes=not quiet))


def run_chart(
    args: argparse.Namespace, *, install: bool = False, post_render: bool = True, capture: bool = False
) -> Outcome:
    """``helm template`` (or ``upgrade --install``) with the user's chart arguments."""
    helm = Helm.from_environment()
    version = helm.version()
    root = plugin_root()
    chart_dir = Path(args.chart) if args.chart else root / charts.WRAPPER_DIR
    archive = args.chart_archive or os.environ.get(charts.ARCHIVE_ENV)
    with tempfile.TemporaryDirectory(prefix="ck8s-jupyter-") as tmp:
        workdir = Path(tmp)
        is_wrapper = charts.chart_name(chart_dir) == WRAPPER_CHART_NAME
        if archive is None and is_wrapper and not charts.has_dependency(chart_dir):
            pulled = charts.fetch_upstream(helm, workdir)
            if pulled is None:
                raise UserError(charts.missing_dependency_message())
            archive = str(pulled)
        chart_path = charts.prepare(chart_dir, Path(archive) if archive else None, workdir)
        command = ["upgrade", "--install", args.release, str(chart_path)] if install else ["template", args.release, str(chart_path)]
        for values_file in args.values:
            command += ["-f", values_file]
        for flag in ("set", "set_string", "set_file", "set_json"):
            for value in getattr(args, flag):
                command += ["--" + flag.replace("_", "-"), value]
        if post_render and version.major < 4 and not args.keep_hook_puller:
            # Helm 3 never shows hooks to a post-renderer: the hook image-puller would keep
            # upstream images and unhardened pods, so it is switched off (the continuous
            # puller, which is post-rendered, still pre-pulls user images).
            key = "jupyterhub.prePuller.hook.enabled" if is_wrapper else "prePuller.hook.enabled"
            command += ["--set", f"{key}=false"]
            sys.stderr.write(
                f"ck8s-jupyter: Helm {version.text} does not post-render hooks, so {key}=false "
                "(use --keep-hook-puller to keep it)\n"
            )
        if getattr(args, "chart_version", None):
            command += ["--version", args.chart_version]
        # Inside `helm ck8s-jupyter`, helm keeps -n and --kube-context for itself and hands
        # them over as $HELM_NAMESPACE / $HELM_KUBECONTEXT: pass them on explicitly.
        namespace = args.namespace or os.environ.get("HELM_NAMESPACE")
        kube_context = args.kube_context or os.environ.get("HELM_KUBECONTEXT")
        if namespace:
            command += ["--namespace", namespace]
        if kube_context:
            command += ["--kube-context", kube_context]
        if install:
            if args.dry_run:
                command.append(dry_run_flag(version))
            if args.atomic:
                command.append(atomic_flag(version))
            if args.wait:
                command.append("--wait")
            if args.timeout:
                command += ["--timeout", args.timeout]
            if args.create_namespace:
                command.append("--create-namespace")
        report_file = workdir / "report.json"
        extra_env: dict[str, str] = {}
        if post_render:
            renderer = post_renderer_for(helm, version, root / "bin" / "jhub-ck8s", workdir, _post_renderer_args(args))
            command += list(renderer.args)
            extra_env = {**renderer.env, REPORT_ENV: str(report_file)}
        if install:
            import shlex

            sys.stderr.write("ck8s-jupyter: running helm " + " ".join(shlex.quote(c) for c in command) + "\n")
        result = helm.run(command, extra_env=extra_env, capture=capture)
        if capture and result.returncode != 0:
            sys.stderr.write(result.stderr or "")
        report = None
        if report_file.exists():
            try:
                report = json.loads(report_file.read_text(encoding="utf-8"))
            except ValueError:
                report = None
            if getattr(args, "report", None):
                shutil.copyfile(report_file, args.report)
    if result.returncode != 0 and report is None and post_render:
        sys.stderr.write("ck8s-jupyter: helm failed before the post-renderer ran (see helm's message above)\n")
    return Outcome(result.returncode, result.stdout or "" if capture else "", report)


__all__ = ["EXIT_INPUT", "Outcome", "add_chart_arguments", "plugin_root", "print_report", "run_chart"]
