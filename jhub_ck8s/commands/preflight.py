"""``helm ck8s-jupyter preflight``: will this release work in this namespace of this cluster?

Renders the release as ``render`` does (wrapper chart, values, post-renderer), then runs
every check of ``jhub_ck8s.live`` against the cluster of the kube context, read-only (the
only writes are server-side dry runs). ``deploy`` calls ``preflight_gate`` first and stops
when it fails (``--skip-preflight`` turns that off).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from .chart_flags import KUBE_CONTEXT_ENV, NAMESPACE_ENV, add_chart_arguments, prepared_request, say, show_outcome

if TYPE_CHECKING:
    from ..release import ChartRequest

EPILOG = """\
examples:
  helm ck8s-jupyter preflight jhub -n team-a -f values.yaml --chart-archive jupyterhub-4.4.0.tgz
  helm ck8s-jupyter preflight jhub -f values.yaml --users 20 -o json > preflight.json

checks (each with a stable ID; pass, warn, fail or skip with the reason and the fix):
  Access           access-release-kinds, access-role-grantable (SelfSubjectAccessReviews)
  Admission        admission-object, admission-user-pods (server-side dry runs)
  Images           images-pull-secret, images-pull, images-pin (the registry, with the pull secret)
  Capacity         capacity-quota (--users N), capacity-limit-range
  Ingress and TLS  ingress-class, ingress-issuer
  Namespace        namespace-pod-security, namespace-network-policy
  Storage          storage-class
A read the user may not make (cluster-scoped objects) is a skip saying what to ask the
platform administrator, never a failure. Secret contents are never printed.

exit codes: 0 nothing failed; 1 a check failed (with --fail-on warn, or warned);
2 bad input (no cluster, unusable kubeconfig, a namespace the user cannot use); 3 internal error.
"""


def add_preflight_arguments(parser: argparse.ArgumentParser, *, kubeconfig: bool = True) -> None:
    """The flags preflight shares with ``deploy`` (which takes no ``--kubeconfig``: its helm
    call would not see it; inside helm, helm's own ``--kubeconfig`` sets ``$KUBECONFIG`` for both)."""
    parser.add_argument("--users", type=_positive_int, default=1, metavar="N",
                        help="concurrent user servers the quota must hold (default: 1)")
    parser.add_argument("--registry-timeout", type=_positive_float, default=10.0, metavar="SECONDS",
                        help="time-out of each registry request (default: 10)")
    parser.add_argument("--fail-on", choices=("fail", "warn"), default="fail",
                        help="warn: warnings fail the preflight too (default: fail)")
    if kubeconfig:
        parser.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (as helm; inside helm, $KUBECONFIG)")
    else:
        parser.set_defaults(kubeconfig=None)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text}")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "preflight", help="will the release work in this namespace? every check against the live cluster",
        description="Render the release and check it against the live cluster: access, admission, images, "
                    "capacity, ingress and TLS, namespace, storage.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
    )
    add_chart_arguments(parser, release_required=True)
    add_preflight_arguments(parser)
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="report form (default: text)")
    parser.set_defaults(handler=run)


def preflight_report(args: argparse.Namespace, request: ChartRequest) -> tuple[Any, int]:
    """(the report, 0), or (None, exit code) when rendering failed. Bad input raises UserError.

    ``request`` is the release as the user asked for it (``prepared_request``); it is only
    rendered here, never installed.
    """
    from dataclasses import replace

    from .. import release
    from ..live import preflight
    from ..live.model import Options

    env = os.environ
    client = preflight.connect(
        args.kubeconfig,  # else $KUBECONFIG, else ~/.kube/config, as helm
        args.kube_context or env.get(KUBE_CONTEXT_ENV) or None,
        args.namespace or env.get(NAMESPACE_ENV) or None,
    )
    # the namespace the checks use is the one the release is rendered for
    request = replace(request, namespace=client.namespace, install=None)
    outcome = release.run_chart(request, capture=True)
    if outcome.exit_code != 0 or outcome.returncode != 0:
        show_outcome(outcome, quiet=True, notes=True)
        say("rendering failed, nothing was checked (see the messages above)")
        return None, outcome.exit_code or 1
    options = Options(users=args.users, registry_timeout=args.registry_timeout, pin=args.pin)
    return preflight.run(client, preflight.release_of(args.release, outcome.stdout), options), 0


def run(args: argparse.Namespace) -> int:
    import json

    with prepared_request(args) as request:
        report, code = preflight_report(args, request)
    if report is None:
        return code
    if args.output == "json":
        sys.stdout.write(json.dumps(report.to_json(args.fail_on), indent=2) + "\n")
    else:
        sys.stdout.write(report.text(quiet=args.quiet))
    sys.stdout.flush()
    return int(report.exit_code(args.fail_on))


def preflight_gate(args: argparse.Namespace, request: ChartRequest) -> int:
    """For ``deploy``: the report on stderr; 0 to go on, else the exit code to stop with."""
    report, code = preflight_report(args, request)
    if report is None:
        return code
    sys.stderr.write(report.text(quiet=True))
    result = int(report.exit_code(args.fail_on))
    if result:
        say("preflight failed: nothing was deployed (fix what it says, or --skip-preflight to deploy anyway)")
    return result
