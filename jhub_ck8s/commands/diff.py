"""``helm ck8s-jupyter diff``: what a deploy would change, before it happens. Changes nothing.

Takes ``deploy``'s chart flags. Prints a unified diff of paths (colour on a terminal) or
``-o json``; nothing at all when nothing would change. Exit codes: 0 (with
``--detailed-exitcode``: 0 no change, 2 changes, as helm-diff), 1 helm failed or the
post-renderer refused the release, 2 bad input, no reachable cluster or a bad kubeconfig.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .chart_flags import add_chart_arguments, prepared_request, show_outcome

EPILOG = """\
examples:
  helm ck8s-jupyter diff jhub -n jhub -f values.yaml --chart-archive jupyterhub-4.4.0.tgz
  helm ck8s-jupyter diff jhub -n jhub -f values.yaml -o json --detailed-exitcode   # CI: 2 when it would change
"""
EXIT_CHANGES = 2


def register(subparsers: Any) -> None:
    diff = subparsers.add_parser(
        "diff", help="what deploy would change: objects, the hub's config key by key, user pods",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
    )
    add_chart_arguments(diff, release_required=True)
    diff.add_argument("-o", "--output", choices=("diff", "json"), default="diff", help="unified diff (default) or JSON")
    diff.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there are changes, 0 when none")
    diff.add_argument("--show-secrets", action="store_true",
                      help="show the data of Secrets (Secret/hub's credentials stay masked)")
    diff.add_argument("--color", "--colour", dest="colour", choices=("auto", "always", "never"), default="auto",
                      help="colour the diff (auto: on a terminal)")
    diff.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..live import diff_output
    from ..live.diff import HelmFailed, run_diff

    try:
        with prepared_request(args) as request:
            done = run_diff(request, show_secrets=args.show_secrets)
    except HelmFailed as failed:
        show_outcome(failed.outcome, quiet=True, notes=True)
        return failed.outcome.exit_code or 1
    result = done.result
    if args.output == "json":
        sys.stdout.write(diff_output.as_json(result, request.release, done.namespace))
    elif result.changed:
        colour = args.colour == "always" or (args.colour == "auto" and sys.stdout.isatty())
        sys.stdout.write(diff_output.text(result, colour=colour))
    return EXIT_CHANGES if args.detailed_exitcode and result.changed else 0
