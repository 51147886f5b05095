"""The post-renderer as a process: flags, stdin, stdout, the report, the exit code.

``helm ... --post-renderer jhub-ck8s`` starts this on every helm call, so it is kept
lean: the flags Helm passes are read by a small exact parser; argparse (which on its
first use looks up translations on disk and the terminal size) is built only for
``--help``, ``--version`` and anything the small parser does not recognise, so every
usage message still comes from argparse. All the work is in ``pipeline.run``.

Exit codes are documented in ``jhub_ck8s.errors``; on every exit the JSON report is
written where ``--report``, ``$JHUB_CK8S_REPORT`` and the ``report`` setting say.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

from .errors import EXIT_INPUT, EXIT_INTERNAL, SettingsError, UsageError, UserError, internal_error_line
from .report import REPORT_ENV

if TYPE_CHECKING:
    import argparse

    from .report import Report

EPILOG = """\
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

FLAGS_ORIGIN = "flags"


class Flag(NamedTuple):
    """One flag of the post-renderer: how it is typed, where it goes, how --help shows it."""

    name: str  # as typed: --registry
    field: str  # the Flags field it fills
    setting: str  # the settings key it sets ("" for --config and --report, which are not settings)
    metavar: str
    help: str
    repeatable: bool = False


# The one table of the post-renderer's flags (-q/--quiet and --version, which take no value,
# are the only others). The fast parser, argparse, the settings layer and the messages that
# name a flag are all built from it.
FLAGS = (
    Flag("--registry", "registry", "registry", "HOST/PROJECT", "target registry, e.g. harbor.example.com/jupyterhub"),
    Flag("--registry-map", "registry_map", "registryMap", "SRC=DEST",
         "send images of registry SRC to DEST (Harbor proxy cache), repeatable", repeatable=True),
    Flag("--keep-image", "keep_image", "keepImages", "GLOB",
         "leave matching images or registries as they are, repeatable", repeatable=True),
    Flag("--pull-secret", "pull_secret", "pullSecret", "NAME", "image pull secret to add to every pod spec"),
    Flag("--mode", "mode", "mode", "MODE", "enforce (default): policy errors fail; warn: report them and go on"),
    Flag("--disable", "disable", "disable", "TRANSFORM", "skip a transform by ID, repeatable", repeatable=True),
    Flag("--config", "config", "", "FILE", "settings file (YAML)"),
    Flag("--pin", "pin", "pin", "LOCK", "pin every image to its digest in this lock file (from mirror)"),
    Flag("--report", "report", "", "FILE", f"write the JSON report here (default: ${REPORT_ENV})"),
    Flag("--gitops", "gitops", "gitops", "true|false",
         "stable renders for GitOps: the hub's tokens come from hub.existingSecret, none is generated"),
)
_BY_NAME = {flag.name: flag for flag in FLAGS}
# settings key -> the flag that sets it, so messages name what the user typed
FLAG_FOR_KEY = {flag.setting: flag.name for flag in FLAGS if flag.setting}
_WRITE_CHARS = 1 << 20  # characters encoded per write of the output stream


class Flags(NamedTuple):
    """The post-renderer's flags, as given: one field per row of FLAGS, and quiet."""

    registry: str | None = None
    registry_map: tuple[tuple[str, str], ...] = ()
    keep_image: tuple[str, ...] = ()
    pull_secret: str | None = None
    mode: str | None = None
    disable: tuple[str, ...] = ()
    config: str | None = None
    pin: str | None = None
    report: str | None = None
    gitops: str | None = None
    quiet: bool = False


def _registry_map_value(text: str) -> tuple[str, str] | None:
    source, sep, dest = text.partition("=")
    return (source, dest) if sep and source and dest else None


def _fast_parse(argv: Sequence[str]) -> Flags | None:
    """The flags, or None when argparse must decide (help, version, abbreviations, errors)."""
    from .settings import MODES

    values: dict[str, Any] = {}
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-q", "--quiet"):
            values["quiet"] = True
            continue
        name, eq, value = arg.partition("=")
        flag = _BY_NAME.get(name)
        if flag is None:
            return None
        if not eq:
            if not args or args[0].startswith("-"):
                return None
            value = args.pop(0)
        parsed: Any = value
        if flag.field == "registry_map":
            parsed = _registry_map_value(value)
        if parsed is None or (flag.field == "mode" and value not in MODES):
            return None
        values[flag.field] = (*values.get(flag.field, ()), parsed) if flag.repeatable else parsed
    return Flags(**values)


class _Parser:
    """argparse, built only when needed, failing with exit 2 and one line like the rest of the tool."""

    @staticmethod
    def build() -> argparse.ArgumentParser:
        import argparse

        from . import __version__
        from .settings import MODES

        class Parser(argparse.ArgumentParser):
            def error(self, message: str) -> NoReturn:
                raise UsageError(f"{self.prog}: error: {message} (see --help)")

        def registry_map(text: str) -> tuple[str, str]:
            pair = _registry_map_value(text)
            if pair is None:
                raise argparse.ArgumentTypeError(
                    f"expected SOURCE=DEST such as docker.io=harbor.example.com/proxy, got {text!r}"
                )
            return pair

        parser = Parser(
            prog="jhub-ck8s",
            description="Helm post-renderer: make a rendered JupyterHub release admissible on Compliant Kubernetes.",
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        for flag in FLAGS:
            options: dict[str, Any] = {"dest": flag.field, "help": flag.help}
            if flag.field == "mode":
                options["choices"] = MODES
            else:
                options["metavar"] = flag.metavar
            if flag.repeatable:
                options.update(action="append", default=[])
            if flag.field == "registry_map":
                options["type"] = registry_map
            parser.add_argument(flag.name, **options)
        parser.add_argument("-q", "--quiet", action="store_true", help="print only warnings, errors and the summary")
        parser.add_argument("--version", action="version", version=f"jhub-ck8s {__version__}")
        return parser


def parser() -> argparse.ArgumentParser:
    """The full argparse parser of the post-renderer (for --help and usage errors)."""
    return _Parser.build()


def parse_flags(argv: Sequence[str]) -> Flags:
    """The flags; usage errors raise UsageError; --help and --version exit as argparse does."""
    flags = _fast_parse(argv)
    if flags is not None:
        return flags
    args = vars(parser().parse_args(list(argv)))
    values: dict[str, Any] = {flag.field: tuple(args[flag.field]) if flag.repeatable else args[flag.field] for flag in FLAGS}
    return Flags(quiet=args["quiet"], **values)


def flag_error(exc: SettingsError) -> SettingsError:
    """Name the flag the user typed, not the settings key behind it."""
    flag = FLAG_FOR_KEY.get(exc.setting)
    if exc.origin != FLAGS_ORIGIN or flag is None:
        return exc
    return SettingsError(f"{flag}: {exc.reason}", key=exc.key, reason=exc.reason, origin=flag)


def flag_layer(flags: Flags) -> dict[str, Any]:
    """The settings the flags set, validated like any other source of settings."""
    from .settings import read_layer

    given: dict[str, Any] = {}
    for flag in FLAGS:
        value = getattr(flags, flag.field)
        if not flag.setting or value is None or (flag.repeatable and not value):
            continue
        given[flag.setting] = dict(value) if flag.field == "registry_map" else list(value) if flag.repeatable else value
    try:
        return read_layer(given, FLAGS_ORIGIN)
    except SettingsError as exc:
        raise flag_error(exc) from None


def _report_paths_from_argv(argv: Sequence[str]) -> list[str]:
    """``--report FILE`` as typed, for a run that stops before the flags are parsed."""
    paths = []
    for index, arg in enumerate(argv):
        if arg.startswith("--report="):
            paths.append(arg.split("=", 1)[1])
        elif arg == "--report" and index + 1 < len(argv):
            paths.append(argv[index + 1])
    return paths


def _write_reports(report: Report, paths: Sequence[str | None]) -> None:
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
    from .inputs import read_text

    if sys.stdin is None:  # said in Helm's words
        raise UserError("stdin is closed: pipe the rendered release in (helm template ... | jhub-ck8s)")
    return read_text("-")


def _write_stdout(text: str) -> bool:
    """Write the output stream; False if stdout is closed or the reader went away."""
    if sys.stdout is None:
        return False
    try:
        sys.stdout.flush()
        fd = sys.stdout.fileno()
    except (ValueError, OSError):  # closed, or not a file (a test's StringIO)
        fd = -1
    try:
        if fd < 0:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            # os.write, counting bytes: a reader that goes away mid-stream makes one write
            # come back short, which io.TextIOWrapper does not report (exit 0 with half a
            # stream); the next write then fails with EPIPE.
            # Encoded a slice at a time: a stream of tens of MB is not held twice (peak memory).
            for start in range(0, len(text), _WRITE_CHARS):
                view = memoryview(text[start:start + _WRITE_CHARS].encode("utf-8"))
                while view:
                    view = view[os.write(fd, view):]
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


def main(argv: Sequence[str] | None = None) -> int:
    """The post-renderer: stdin -> stdout. Returns the exit code."""
    import gc

    # A short-lived process whose objects are acyclic trees freed by reference counting:
    # the cycle collector only re-scans them (a third of the parse time on large streams).
    gc.disable()
    try:
        return _run(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:  # Ctrl-C: 128 + SIGINT, as every command, without a traceback
        return 130
    finally:
        gc.enable()


def _run(argv: list[str]) -> int:
    from .report import Report

    report_paths: list[str | None] = [*_report_paths_from_argv(argv), os.environ.get(REPORT_ENV)]
    report = Report()
    output = ""
    try:
        flags = parse_flags(argv)
        report_paths = [flags.report or os.environ.get(REPORT_ENV)]
        from .pipeline import run
        from .settings import load_file

        layer = flag_layer(flags)
        file_layer = load_file(flags.config) if flags.config else {}
        result = run(_read_stdin(), file_layer=file_layer, flag_layer=layer)
        report, output = result.report, result.output
        # the `report` setting too, if it names another file
        report_paths.append(result.settings.report if result.settings else None)
    except UsageError as exc:
        report = Report(fatal=str(exc), exit_code=exc.exit_code)
        sys.stderr.write(report.fatal + "\n")
        _write_reports(report, report_paths)
        return report.exit_code
    except SettingsError as exc:
        report = Report(fatal=f"error: {flag_error(exc)}", exit_code=exc.exit_code)
    except UserError as exc:
        report = Report(fatal=f"error: {exc}", exit_code=exc.exit_code)
    except Exception as exc:  # a bug: keep it to one line and no partial stdout
        report = Report(fatal=internal_error_line(exc), exit_code=EXIT_INTERNAL)
    quiet = "-q" in argv or "--quiet" in argv
    sys.stderr.write(report.table(changes=not quiet))
    _write_reports(report, report_paths)
    if report.exit_code == 0 and not _write_stdout(output):
        # the reader of stdout went away (`| head`): what it got is incomplete and must not
        # pass, but as for any Unix filter that is all there is to say
        return EXIT_INPUT
    return report.exit_code


def entry() -> NoReturn:
    sys.exit(main())
