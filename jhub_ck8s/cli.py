"""Command-line entry points. A thin layer: parse flags, call the library, print, exit.

Exit codes are documented in ``jhub_ck8s.errors``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .errors import EXIT_INPUT, EXIT_INTERNAL, SettingsError, UserError

REPORT_ENV = "JHUB_CK8S_REPORT"
DEBUG_ENV = "JHUB_CK8S_DEBUG"

POSTRENDER_EPILOG = """\
examples:
  helm template jhub wrapper-chart/ | jhub-ck8s --registry harbor.example.com/jupyterhub
  helm install jhub wrapper-chart/ --post-renderer jhub-ck8s \\
      --post-renderer-args --registry=harbor.example.com/jupyterhub
  jhub-ck8s --config settings.yaml --mode warn --report report.json < rendered.yaml

settings come from, strongest first: flags, --config FILE, the PostRenderSettings
document in the stream (rendered by the wrapper chart from ck8s:), defaults.

exit codes: 0 ok; 1 policy errors in enforce mode; 2 bad input or settings;
3 internal error. On any non-zero exit nothing is written to stdout.
The JSON report goes to --report FILE, or to the path in $JHUB_CK8S_REPORT.
"""


class _Parser(argparse.ArgumentParser):
    """argparse that fails with exit code 2 and one line, like the rest of the tool."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def _registry_map_flag(text: str) -> tuple[str, str]:
    source, sep, dest = text.partition("=")
    if not sep or not source or not dest:
        raise argparse.ArgumentTypeError(f"expected SOURCE=DEST such as docker.io=harbor.example.com/proxy, got {text!r}")
    return source, dest


def postrender_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="jhub-ck8s",
        description="Helm post-renderer: make a rendered JupyterHub release admissible on Compliant Kubernetes.",
        epilog=POSTRENDER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--registry", metavar="HOST/PROJECT", help="target registry, e.g. harbor.example.com/jupyterhub")
    parser.add_argument(
        "--registry-map", metavar="SRC=DEST", action="append", type=_registry_map_flag, default=[],
        help="send images of registry SRC to DEST (Harbor proxy cache), repeatable",
    )
    parser.add_argument("--keep-image", metavar="GLOB", action="append", default=[], help="leave matching images or registries as they are, repeatable")
    parser.add_argument("--pull-secret", metavar="NAME", help="image pull secret to add to every pod spec")
    parser.add_argument("--mode", choices=("enforce", "warn"), help="enforce (default): policy errors fail; warn: report them and go on")
    parser.add_argument("--disable", metavar="TRANSFORM", action="append", default=[], help="skip a transform by ID, repeatable")
    parser.add_argument("--config", metavar="FILE", help="settings file (YAML)")
    parser.add_argument("--report", metavar="FILE", help=f"write the JSON report here (default: ${REPORT_ENV})")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only warnings, errors and the summary")
    parser.add_argument("--version", action="version", version=f"jhub-ck8s {__version__}")
    return parser


_FLAG_FOR_KEY = {
    "registry": "--registry",
    "registryMap": "--registry-map",
    "keepImages": "--keep-image",
    "pullSecret": "--pull-secret",
    "mode": "--mode",
    "disable": "--disable",
}


def _flag_layer(args: argparse.Namespace) -> dict[str, Any]:
    import re

    from .settings import read_layer

    given = {
        "registry": args.registry,
        "registryMap": dict(args.registry_map) or None,
        "keepImages": args.keep_image or None,
        "pullSecret": args.pull_secret,
        "mode": args.mode,
        "disable": args.disable or None,
    }
    try:
        return read_layer({k: v for k, v in given.items() if v is not None}, "flags")
    except SettingsError as exc:
        # Name the flag the user typed, not the settings key behind it.
        message = re.sub(
            r"^flags: setting '?([A-Za-z]+)[^:]*",
            lambda m: _FLAG_FOR_KEY.get(m.group(1), m.group(0)),
            str(exc),
        )
        raise SettingsError(message) from None


def _internal_error(exc: BaseException) -> int:
    """One line for a bug; no exception text, which could quote the Secret."""
    import traceback

    if os.environ.get(DEBUG_ENV):
        traceback.print_exc()
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {os.path.basename(frame.filename)}:{frame.lineno}" if frame else ""
    sys.stderr.write(
        f"jhub-ck8s: internal error ({type(exc).__name__}{where}); please report it "
        f"(set {DEBUG_ENV}=1 for a traceback)\n"
    )
    return EXIT_INTERNAL


def postrender_main(argv: Sequence[str] | None = None) -> int:
    """The post-renderer: stdin -> stdout. Returns the exit code."""
    args = postrender_parser().parse_args(argv)
    report_path = args.report or os.environ.get(REPORT_ENV)
    try:
        from .pipeline import run
        from .report import Report
        from .settings import load_file

        try:
            flag_layer = _flag_layer(args)
            file_layer = load_file(args.config) if args.config else {}
            data = sys.stdin.buffer.read()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UserError(f"stdin: not UTF-8 text (byte {exc.start})") from None
        except UserError as exc:
            report = Report(fatal=f"error: {exc}", exit_code=exc.exit_code)
            sys.stderr.write(report.fatal + "\n")
            if report_path:
                report.write_json(report_path)
            return report.exit_code
        result = run(text, file_layer=file_layer, flag_layer=flag_layer)
        report = result.report
        if result.settings is not None and result.settings.report and not args.report:
            report_path = result.settings.report
        if args.quiet:
            lines = [f.line() for f in report.findings if f.severity in ("warning", "error")]
            lines += [report.fatal] if report.fatal else []
            sys.stderr.write("".join(line + "\n" for line in lines) + report.summary() + "\n")
        else:
            sys.stderr.write(report.table())
        if report_path:
            try:
                report.write_json(report_path)
            except OSError as exc:
                sys.stderr.write(f"jhub-ck8s: cannot write the report to {report_path}: {exc.strerror}\n")
        if result.exit_code == 0:
            sys.stdout.write(result.output)
            sys.stdout.flush()
        return result.exit_code
    except BrokenPipeError:
        return EXIT_INPUT
    except Exception as exc:  # a bug: keep it to one line and no partial stdout
        return _internal_error(exc)


def postrender_entry() -> NoReturn:
    sys.exit(postrender_main())
