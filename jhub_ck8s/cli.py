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
    from .report import Report, table

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
    sys.stderr.write(table(report.to_json(), changes=not quiet))
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
    from . import __version__
    from .release import add_chart_arguments

    parser = _Parser(
        prog="helm ck8s-jupyter",
        description="JupyterHub on Compliant Kubernetes (Welkin), correctly, in one command.",
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ck8s-jupyter {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    deploy = commands.add_parser("deploy", help="install or upgrade the release", formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="example:\n  helm ck8s-jupyter deploy jhub -n jhub -f values.yaml --chart-archive jupyterhub-4.4.0.tgz --wait")
    add_chart_arguments(deploy, release_required=True)
    deploy.add_argument("--dry-run", action="store_true", help="render and validate with helm, change nothing (prints the helm command)")
    deploy.add_argument("--atomic", "--rollback-on-failure", dest="atomic", action="store_true", help="roll back on failure (the right flag for the running Helm)")
    deploy.add_argument("--wait", action="store_true", help="as helm --wait")
    deploy.add_argument("--timeout", metavar="DURATION", help="as helm --timeout")
    deploy.add_argument("--create-namespace", action="store_true", help="as helm (usually not allowed to tenants)")

    render = commands.add_parser("render", help="helm template through the post-renderer, to stdout", formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="example:\n  helm ck8s-jupyter render jhub -f values.yaml --chart-archive jupyterhub-4.4.0.tgz > release.yaml")
    add_chart_arguments(render, release_required=False)

    init = commands.add_parser("init", help="write a commented starter values file", formatter_class=argparse.RawDescriptionHelpFormatter,
                               epilog="example:\n  helm ck8s-jupyter init values.yaml --registry harbor.example.com/jupyterhub --host jupyter.example.com")
    init.add_argument("file", nargs="?", default="values.yaml", help="where to write (default: values.yaml)")
    init.add_argument("--registry", metavar="HOST/PROJECT", help="the Harbor project images come from")
    init.add_argument("--pull-secret", default="pull-secret", help="image pull secret name (default: pull-secret)")
    init.add_argument("--host", help="the ingress host name users open")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")

    importer = commands.add_parser("import-values", help="convert values written for the upstream chart", formatter_class=argparse.RawDescriptionHelpFormatter,
                                   epilog="example:\n  helm ck8s-jupyter import-values old-values.yaml -o values.yaml")
    importer.add_argument("file", metavar="OLD.yaml", help="values file written for the upstream jupyterhub chart")
    importer.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    importer.add_argument("--registry", metavar="HOST/PROJECT", help="the Harbor project, when the old file does not name it")

    setup = commands.add_parser("setup", help="link the post-renderer for Helm 3", formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="example:\n  helm ck8s-jupyter setup --bin-dir ~/.local/bin")
    setup.add_argument("--bin-dir", metavar="DIR", help="folder on PATH for the jhub-ck8s link (default: ~/.local/bin)")
    for module in _command_modules():
        module.register(commands)
    return parser


def _command_modules() -> list[Any]:
    """Commands that live in jhub_ck8s/commands/, one module each, with register(subparsers)."""
    import importlib
    import pkgutil

    from . import commands

    return [
        importlib.import_module(f"{commands.__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name)
    ]


def _chart_command(args: argparse.Namespace, *, install: bool) -> int:
    from .release import print_report, run_chart

    outcome = run_chart(args, install=install)
    print_report(outcome.report, args.quiet)
    return outcome.exit_code


def _init(args: argparse.Namespace) -> int:
    from .starter import write_starter_values

    write_starter_values(args.file, registry=args.registry, pull_secret=args.pull_secret, host=args.host, force=args.force)
    sys.stderr.write(f"ck8s-jupyter: wrote {args.file}; next: helm ck8s-jupyter render -f {args.file}\n")
    return 0


def _import_values(args: argparse.Namespace) -> int:
    from .values_import import import_values

    try:
        with open(args.file, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise UserError(f"{args.file}: cannot read it ({exc.strerror})") from None
    try:
        result = import_values(text, registry=args.registry)
    except ValueError as exc:
        raise UserError(f"{args.file}: {exc}") from None
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(result.text)
    else:
        sys.stdout.write(result.text)
    for change in result.changes:
        sys.stderr.write(f"ck8s-jupyter: {change}\n")
    return 0


def _setup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .release import plugin_root

    target = plugin_root() / "bin" / "jhub-ck8s"
    bin_dir = Path(args.bin_dir).expanduser() if args.bin_dir else Path.home() / ".local" / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    link = bin_dir / "jhub-ck8s"
    if link.is_symlink() or link.exists():
        if link.resolve() == target.resolve():
            sys.stderr.write(f"ck8s-jupyter: {link} already points to {target}\n")
            return 0
        raise UserError(f"{link} exists and is not ours; remove it or choose --bin-dir")
    link.symlink_to(target)
    sys.stderr.write(f"ck8s-jupyter: linked {link} -> {target}\n")
    on_path = str(bin_dir) in os.environ.get("PATH", "").split(os.pathsep)
    sys.stderr.write(
        "ck8s-jupyter: Helm 3 can now use --post-renderer jhub-ck8s\n"
        if on_path
        else f"ck8s-jupyter: {bin_dir} is not on PATH; add it, or pass --post-renderer {link}\n"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = main_parser()
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help(sys.stderr)
            return EXIT_INPUT
        if args.command in ("deploy", "render"):
            return _chart_command(args, install=args.command == "deploy")
        builtin = {"init": _init, "import-values": _import_values, "setup": _setup}
        handler = builtin.get(args.command) or args.handler
        return handler(args)
    except UserError as exc:
        message = str(exc)
        prefix = "" if isinstance(exc, UsageError) or message.startswith("error:") else "error: "
        sys.stderr.write(f"{prefix}{message}\n")
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
