"""Command-line entry points. A thin layer: parse flags, call the library, print, exit.

Exit codes are documented in ``jhub_ck8s.errors``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .errors import EXIT_INPUT, EXIT_INTERNAL, UsageError, UserError, internal_error_line


class _Parser(argparse.ArgumentParser):
    """argparse that fails with exit code 2 and one line, like the rest of the tool."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see --help)")


def postrender_entry() -> NoReturn:
    """The ``jhub-ck8s`` console script: the post-renderer (``jhub_ck8s.postrenderer``)."""
    from .postrenderer import entry

    entry()


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
        sys.stderr.write(internal_error_line(exc) + "\n")
        return EXIT_INTERNAL


def main_entry() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
