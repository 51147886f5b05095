"""``helm ck8s-jupyter import-values``: a values file for the upstream chart, made one for the wrapper.

The conversion is ``jhub_ck8s.values_import``'s; the result goes to stdout or ``-o FILE``,
and every change made is listed on stderr.
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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..inputs import read_text
    from ..values_import import import_values

    text = read_text(args.file)
    try:
        result = import_values(text, registry=args.registry)
    except ValueError as exc:
        raise UserError(f"{args.file}: {exc}") from None
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
    return 0
