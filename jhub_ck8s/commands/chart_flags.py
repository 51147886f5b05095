"""The chart flags of ``deploy``, ``render``, ``images``, ``check`` and ``mirror``, and what they become.

Flags are named as helm names them (``-f/--values``, ``--set``, ``--version``,
``-n/--namespace``). ``chart_request`` turns the parsed flags, plus what helm hands a
plugin in its environment, into the one ``release.ChartRequest`` the library runs;
``show_start`` and ``show_outcome`` print what the library returned. No other module of
the command layer reads these flags one by one.

``prepared_request`` is what every rendering command runs first: the values as helm will
merge them are read (a file written for the upstream chart is imported in memory, as
``import-values`` does) and linted (``values_lint``); a placeholder or an example value
that was not accepted (``--allow-example KEY.PATH``, ``ck8s.allowExamples``) stops the
command with exit 2 before helm is called, with nothing on stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from .. import chart as charts
from ..errors import UserError
from ..release import SET_FLAGS, ChartRequest, HelmCall, InstallOptions, Outcome, PostRenderOptions
from ..settings import MODES
from ..values_lint import GITOPS_RULES

# Inside `helm ck8s-jupyter`, helm keeps -n and --kube-context for itself and hands them
# to the plugin in these variables.
NAMESPACE_ENV = "HELM_NAMESPACE"
KUBE_CONTEXT_ENV = "HELM_KUBECONTEXT"


def say(line: str) -> None:
    sys.stderr.write(f"ck8s-jupyter: {line}\n")


def add_chart_arguments(parser: argparse.ArgumentParser, *, release_required: bool) -> None:
    """The chart and values flags, named as helm names them."""
    if release_required:
        parser.add_argument("release", metavar="RELEASE", help="release name")
    else:
        parser.add_argument("release", metavar="RELEASE", nargs="?", default="jupyterhub", help="release name (default: jupyterhub)")
    parser.add_argument("chart", metavar="CHART", nargs="?", help="chart folder (default: the wrapper chart shipped with the plugin)")
    parser.add_argument("-f", "--values", action="append", default=[], metavar="FILE", help="values file, repeatable (as helm)")
    for flag in SET_FLAGS:
        parser.add_argument(flag, action="append", default=[], metavar="KEY=VAL", help=f"as helm {flag}, repeatable")
    parser.add_argument("--allow-example", action="append", default=[], metavar="KEY.PATH", help="accept a placeholder or example value at this key path on purpose (repeatable; also ck8s.allowExamples)")
    parser.add_argument("-n", "--namespace", help=f"namespace (as helm; inside helm, ${NAMESPACE_ENV} is used)")
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


def add_install_arguments(parser: argparse.ArgumentParser) -> None:
    """``deploy``'s own flags: those of ``helm upgrade --install`` it passes on."""
    parser.add_argument("--dry-run", action="store_true", help="render and validate with helm, change nothing (prints the helm command)")
    parser.add_argument("--atomic", "--rollback-on-failure", dest="atomic", action="store_true", help="roll back on failure (the right flag for the running Helm)")
    parser.add_argument("--wait", action="store_true", help="as helm --wait")
    parser.add_argument("--timeout", metavar="DURATION", help="as helm --timeout")
    parser.add_argument("--create-namespace", action="store_true", help="as helm (usually not allowed to tenants)")


def set_flags(args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    """Every ``--set*`` value given, as (flag, value), flag by flag in ``SET_FLAGS`` order."""
    return tuple((flag, value) for flag in SET_FLAGS for value in getattr(args, flag[2:].replace("-", "_")))


def chart_request(
    args: argparse.Namespace,
    *,
    post_render: bool = True,
    install: bool = False,
    env: Mapping[str, str] | None = None,
) -> ChartRequest:
    """The request for the flags of ``add_chart_arguments`` (and ``add_install_arguments``).

    A flag wins over the environment: ``--chart-archive`` over ``$JUPYTERHUB_CHART``,
    ``-n``/``--kube-context`` over what helm hands the plugin.
    """
    env = os.environ if env is None else env
    post = PostRenderOptions(
        registry=args.registry, mode=args.mode, config=args.config, pin=args.pin, report=args.report,
        keep_hook_puller=args.keep_hook_puller, gitops=bool(getattr(args, "gitops", False)),
    ) if post_render else None
    options = InstallOptions(
        dry_run=args.dry_run, atomic=args.atomic, wait=args.wait, timeout=args.timeout,
        create_namespace=args.create_namespace,
    ) if install else None
    return ChartRequest(
        release=args.release,
        chart=args.chart,
        values=tuple(args.values),
        set_flags=set_flags(args),
        namespace=args.namespace or env.get(NAMESPACE_ENV) or None,
        kube_context=args.kube_context or env.get(KUBE_CONTEXT_ENV) or None,
        chart_archive=args.chart_archive or env.get(charts.ARCHIVE_ENV) or None,
        chart_version=args.chart_version,
        post_renderer=post,
        install=options,
        kube_version=getattr(args, "kube_version", None) or None,
        api_versions=tuple(v for given in getattr(args, "api_versions", None) or () for v in given.split(",") if v),
    )


class ValuesRefused(UserError):
    """Placeholders or example values in the values: nothing was rendered (exit 2)."""


def _is_wrapper(chart: str | None) -> bool:
    from ..release import WRAPPER_CHART_NAME

    return chart is None or charts.chart_name(Path(chart)) == WRAPPER_CHART_NAME


@contextmanager
def prepared_request(
    args: argparse.Namespace,
    *,
    post_render: bool = True,
    install: bool = False,
    env: Mapping[str, str] | None = None,
) -> Iterator[ChartRequest]:
    """``chart_request``, after the values were read, imported where needed and linted.

    Prints the import notes and every finding on stderr; raises ``ValuesRefused`` (exit 2)
    when a finding was not accepted. The request's ``-f`` files are valid inside the block.
    """
    from ..release import plugin_root
    from ..values_layers import chart_defaults, prepare

    request = chart_request(args, post_render=post_render, install=install, env=env)
    wrapper = _is_wrapper(request.chart)
    chart_dir = Path(request.chart) if request.chart else plugin_root() / charts.WRAPPER_DIR
    with tempfile.TemporaryDirectory(prefix="ck8s-jupyter-values-") as tmp:
        prepared = prepare(
            request.values, request.set_flags, getattr(args, "allow_example", None) or (), tmp,
            wrapper_chart=wrapper, defaults=chart_defaults(chart_dir) if wrapper else None,
            gitops=bool(getattr(args, "gitops", False)),
        )
        for note in prepared.notes:
            say(note)
        if not getattr(args, "quiet", False):
            for finding in prepared.accepted:
                say(f"accepted on purpose: {finding.summary()}")
        if prepared.findings:
            for finding in prepared.findings:
                say(f"error: {finding.line()}")
            count = len(prepared.findings)
            if any(finding.rule in GITOPS_RULES for finding in prepared.findings):
                raise ValuesRefused(
                    f"{count} value{'s' if count > 1 else ''} cannot go into a GitOps render (a secret that would "
                    "end up in git, tokens with no stable source, or a placeholder); nothing was rendered: see "
                    "each line above and the README's GitOps section"
                )
            raise ValuesRefused(
                f"{count} value{'s are' if count > 1 else ' is'} a placeholder, an example or empty; nothing was "
                "rendered: fill them in (a second -f file will do), or accept one on purpose with "
                "--allow-example KEY.PATH or ck8s.allowExamples"
            )
        yield dataclasses.replace(request, values=prepared.files)


def show_start(call: HelmCall, *, command: bool) -> None:
    """What the user should know before helm runs: its notes, and (``command``) the command line."""
    for note in call.notes:
        say(note)
    if command:
        say("running " + call.command_line)


def show_outcome(outcome: Outcome, *, quiet: bool, notes: bool = False) -> None:
    """What came of a helm run: (``notes``) the call's notes, helm's captured messages when it
    failed, why nothing was post-rendered, and the post-renderer's report."""
    if notes:
        show_start(outcome.call, command=False)
    if outcome.returncode != 0 and outcome.stderr:
        sys.stderr.write(outcome.stderr)
    if outcome.problem:
        say(outcome.problem)
    if outcome.report is not None:
        sys.stderr.write(outcome.report.table(changes=not quiet))
