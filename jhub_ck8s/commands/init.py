"""``helm ck8s-jupyter init``: write a commented starter values file for the wrapper chart.

The file is ``jhub_ck8s.starter``'s; an existing file is kept unless ``--force``. What it
leaves for the user to fill (no ``--host``: the Ingress host) is listed by the values
linter, as ``render`` would refuse it.
"""

from __future__ import annotations

import argparse
from typing import Any

from .chart_flags import say

EPILOG = "example:\n  helm ck8s-jupyter init values.yaml --registry harbor.example.com/jupyterhub --host jupyter.example.com"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "init", help="write a commented starter values file", formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    parser.add_argument("file", nargs="?", default="values.yaml", help="where to write (default: values.yaml)")
    parser.add_argument("--registry", metavar="HOST/PROJECT", help="the Harbor project images come from")
    parser.add_argument("--pull-secret", default="pull-secret", help="image pull secret name (default: pull-secret)")
    parser.add_argument("--host", help="the ingress host name users open")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..starter import write_starter_values
    from ..values_layers import lint_text

    text = write_starter_values(args.file, registry=args.registry, pull_secret=args.pull_secret, host=args.host, force=args.force)
    say(f"wrote {args.file}; next: helm ck8s-jupyter render -f {args.file}")
    refused, _ = lint_text(text, args.file)
    for finding in refused:
        say(f"to fill before rendering: {finding.line()}")
    return 0
