"""``helm ck8s-jupyter import-values``: a values file for the upstream chart, made one for the wrapper.

The conversion is ``jhub_ck8s.values_import``'s; the result goes to stdout or ``-o FILE``,
and every change made is listed on stderr. The result is linted (``values_lint``):
placeholders and example values are reported and the exit code stays 0; with
``--strict`` they are errors (exit 2, nothing written).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import UserError
from .chart_flags import say

EPILOG = "example:\n  helm ck8s-jupyter import-values old-values.yaml -o values.yaml"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import-values", help="convert values written for the upstream chart",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
    )
    parser.add_argument("file", metavar="OLD.yaml", help="values file written for the upstream jupyterhub chart")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--registry", metavar="HOST/PROJECT", help="the Harbor project, when the old file does not name it")
    parser.add_argument("--strict", action="store_true", help="placeholders and example values in the result are errors (exit 2, nothing written)")
    parser.add_argument("--allow-example", action="append", default=[], metavar="KEY.PATH", help="accept a placeholder or example value at this key path (repeatable)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..inputs import read_text
    from ..values_import import import_values

    text = read_text(args.file)
    try:
        result = import_values(text, registry=args.registry)
    except ValueError as exc:
        raise UserError(f"{args.file}: {exc}") from None
    from ..values_layers import lint_text

    refused, _ = lint_text(result.text, args.output or "(output)", allow=args.allow_example)
    if refused and args.strict:
        for finding in refused:
            say(f"error: {finding.line()}")
        raise UserError(
            f"{args.file}: {len(refused)} placeholder or example value(s) in the result (--strict); nothing was written"
        )
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(result.text)
        except OSError as exc:
            raise UserError(f"-o {args.output}: cannot write it ({exc.strerror})") from None
    else:
        sys.stdout.write(result.text)
    for change in result.changes:
        say(change)
    for finding in refused:
        say(f"to fill before rendering: {finding.line()}")
    return 0
