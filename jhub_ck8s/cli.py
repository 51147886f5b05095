"""Command-line entry points: the post-renderer (``jhub-ck8s``) and ``helm ck8s-jupyter``.

``helm ck8s-jupyter``: the parser is built from the command modules in
``jhub_ck8s.commands`` (each registers itself the same way), ``main`` dispatches to the
command's handler and turns errors into one line and an exit code. Exit codes are
documented in ``jhub_ck8s.errors``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

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
  preflight RELEASE [CHART]  will the release work in this namespace? every check against the live cluster
  diff RELEASE [CHART]       what deploy would change: objects, the hub's config key by key, user pods
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
        sys.stderr.write(internal_error_line(exc) + "\n")
        return EXIT_INTERNAL


def main_entry() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
