"""Command-line entry points: the post-renderer (``jhub-ck8s``) and ``helm ck8s-jupyter``.

``helm ck8s-jupyter``: the parser is built from the command modules in
``jhub_ck8s.commands`` (each registers itself the same way), ``main`` dispatches to the
command's handler and turns errors into one line and an exit code. Exit codes are
documented in ``jhub_ck8s.errors``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .errors import EXIT_INPUT, EXIT_INTERNAL, SettingsError, UserError
from .report import REPORT_ENV
from .settings import MODES

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


class UsageError(UserError):
    """Flags that do not parse; the message is the whole line to print."""


class _Parser(argparse.ArgumentParser):
    """argparse that fails with exit code 2 and one line, like the rest of the tool."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see --help)")


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
    parser.add_argument("--mode", choices=MODES, help="enforce (default): policy errors fail; warn: report them and go on")
    parser.add_argument("--disable", metavar="TRANSFORM", action="append", default=[], help="skip a transform by ID, repeatable")
    parser.add_argument("--config", metavar="FILE", help="settings file (YAML)")
    parser.add_argument("--pin", metavar="LOCK", help="pin every image to its digest in this lock file (from mirror)")
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
    "pin": "--pin",
}


FLAGS_ORIGIN = "flags"


def _flag_error(exc: SettingsError) -> SettingsError:
    """Name the flag the user typed, not the settings key behind it."""
    flag = _FLAG_FOR_KEY.get(exc.setting)
    if exc.origin != FLAGS_ORIGIN or flag is None:
        return exc
    return SettingsError(f"{flag}: {exc.reason}", key=exc.key, reason=exc.reason, origin=flag)


def _flag_layer(args: argparse.Namespace) -> dict[str, Any]:
    from .settings import read_layer

    given = {
        "registry": args.registry,
        "registryMap": dict(args.registry_map) or None,
        "keepImages": args.keep_image or None,
        "pullSecret": args.pull_secret,
        "mode": args.mode,
        "disable": args.disable or None,
        "pin": args.pin,
    }
    try:
        return read_layer({k: v for k, v in given.items() if v is not None}, FLAGS_ORIGIN)
    except SettingsError as exc:
        raise _flag_error(exc) from None


def _internal_error(exc: BaseException) -> str:
    """One line for a bug; no exception text, which could quote the Secret."""
    import traceback

    if os.environ.get(DEBUG_ENV):
        traceback.print_exc()
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {os.path.basename(frame.filename)}:{frame.lineno}" if frame else ""
    return (
        f"jhub-ck8s: internal error ({type(exc).__name__}{where}); please report it "
        f"(set {DEBUG_ENV}=1 for a traceback)"
    )


def postrender_main(argv: Sequence[str] | None = None) -> int:
    """The post-renderer: stdin -> stdout. Returns the exit code."""
    import gc

    # A short-lived process whose objects are acyclic trees freed by reference counting:
    # the cycle collector only re-scans them (a third of the parse time on large streams).
    gc.disable()
    try:
        return _postrender(argv)
    finally:
        gc.enable()


def _report_paths_from_argv(argv: Sequence[str]) -> list[str]:
    """``--report FILE`` as typed, for a run that stops before the flags are parsed."""
    paths = []
    for index, arg in enumerate(argv):
        if arg.startswith("--report="):
            paths.append(arg.split("=", 1)[1])
        elif arg == "--report" and index + 1 < len(argv):
            paths.append(argv[index + 1])
    return paths


def _write_reports(report: Any, paths: Sequence[str | None]) -> None:
    """The JSON report to every path named (the flag, $JHUB_CK8S_REPORT, the ``report`` setting).

    Written on every exit path, fatal ones too: Helm 4 throws a post-renderer's stderr
    away, so ``helm ck8s-jupyter`` learns what went wrong only from this file.
    """
    for path in dict.fromkeys(p for p in paths if p):
        try:
            report.write_json(path)
        except OSError as exc:
            sys.stderr.write(f"jhub-ck8s: cannot write the report to {path}: {exc.strerror}\n")


def _read_stdin() -> str:
    if sys.stdin is None:
        raise UserError("stdin is closed: pipe the rendered release in (helm template ... | jhub-ck8s)")
    try:
        data = sys.stdin.buffer.read()
    except OSError as exc:
        raise UserError(f"stdin cannot be read ({exc.strerror}): pipe the rendered release in") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"stdin: not UTF-8 text (byte {exc.start}); Helm writes UTF-8: check what feeds stdin") from None


def _write_stdout(text: str) -> bool:
    """Write the output stream; False if stdout is closed or the reader went away."""
    if sys.stdout is None:
        return False
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except (BrokenPipeError, ValueError, OSError):
        # Nothing more can go to stdout; point it at /dev/null so the interpreter's own
        # flush at exit does not print "Exception ignored" (the Python docs' recipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        finally:
            os.close(devnull)
        return False
    return True


def _postrender(argv: Sequence[str] | None) -> int:
    from .report import Report

    argv = list(sys.argv[1:] if argv is None else argv)
    report_paths: list[str | None] = [*_report_paths_from_argv(argv), os.environ.get(REPORT_ENV)]
    report = Report()
    try:
        args = postrender_parser().parse_args(argv)
        report_paths = [args.report or os.environ.get(REPORT_ENV)]
        from .pipeline import run
        from .settings import load_file

        flag_layer = _flag_layer(args)
        file_layer = load_file(args.config) if args.config else {}
        result = run(_read_stdin(), file_layer=file_layer, flag_layer=flag_layer)
        report = result.report
        # the `report` setting too, if it names another file
        report_paths.append(result.settings.report if result.settings else None)
    except UsageError as exc:
        report = Report(fatal=str(exc), exit_code=exc.exit_code)
        sys.stderr.write(report.fatal + "\n")
        _write_reports(report, report_paths)
        return report.exit_code
    except SettingsError as exc:
        report = Report(fatal=f"error: {_flag_error(exc)}", exit_code=exc.exit_code)
    except UserError as exc:
        report = Report(fatal=f"error: {exc}", exit_code=exc.exit_code)
    except Exception as exc:  # a bug: keep it to one line and no partial stdout
        report = Report(fatal=_internal_error(exc), exit_code=EXIT_INTERNAL)
    quiet = "-q" in argv or "--quiet" in argv
    sys.stderr.write(report.table(changes=not quiet))
    _write_reports(report, report_paths)
    if report.exit_code == 0 and not _write_stdout(result.output):
        return EXIT_INPUT  # the reader of stdout went away: the output is incomplete, quietly
    return report.exit_code


def postrender_entry() -> NoReturn:
    sys.exit(postrender_main())


# --- helm ck8s-jupyter ---------------------------------------------------------------------

MAIN_EPILOG = """\
commands:
  deploy RELEASE [CHART]     helm upgrade --install through the wrapper chart and the post-renderer
  render [RELEASE] [CHART]   the same with helm template, to stdout (GitOps, review)
  images                     list every image the release needs, user pods included
  mirror                     copy them to Harbor with skopeo, write images.lock.yaml (--verify checks)
  check [FILE|-]             would the platform admit the release and the user pods it spawns?
  init [FILE]                write a commented starter values file for the wrapper chart
  import-values OLD.yaml     turn a values file written for the upstream chart into one for the wrapper
  setup                      link the post-renderer executable for Helm 3 (--post-renderer jhub-ck8s)

examples:
  helm ck8s-jupyter init values.yaml --registry harbor.example.com/jupyterhub --host jupyter.example.com
  helm ck8s-jupyter render -f values.yaml --chart-archive jupyterhub-4.4.0.tgz > release.yaml
  helm ck8s-jupyter mirror -f values.yaml --chart-archive jupyterhub-4.4.0.tgz --dest-creds - < robot.txt
  helm ck8s-jupyter deploy jhub -n jhub -f values.yaml --pin images.lock.yaml --dry-run

exit codes: 0 ok; 1 policy errors (enforce mode) or helm failed; 2 bad input or settings;
3 internal error. The post-renderer's report is printed after helm finishes, on Helm 3 and 4.
"""


def main_parser() -> argparse.ArgumentParser:
    """The parser of every command, built from the registry ``commands.MODULES``."""
    from . import __version__
    from .commands import command_modules

    parser = _Parser(
        prog="helm ck8s-jupyter",
        description="JupyterHub on Compliant Kubernetes (Welkin), correctly, in one command.",
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ck8s-jupyter {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in command_modules():
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = main_parser()
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help(sys.stderr)
            return EXIT_INPUT
        return int(args.handler(args))
    except UsageError as exc:  # argparse's own "prog: error: ..." line
        sys.stderr.write(f"{exc}\n")
        return exc.exit_code
    except UserError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line, no partial output
        sys.stderr.write(_internal_error(exc) + "\n")
        return EXIT_INTERNAL


def main_entry() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
