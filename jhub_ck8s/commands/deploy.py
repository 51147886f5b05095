"""``helm ck8s-jupyter deploy`` and ``render``: the release through the wrapper chart and the post-renderer.

``deploy`` runs ``preflight`` first (``--skip-preflight`` turns it off) and stops when
it fails; then ``helm upgrade --install``, ``render`` runs ``helm template`` (the manifests
go to stdout, for GitOps or review); both hand helm our post-renderer and print its report
once helm is done (Helm 4 throws a post-renderer's stderr away; the report file is read
back on both majors). Before helm runs, the values are read as helm will merge them: a
file written for the upstream chart (the platform guide's) is imported in memory, and
placeholders or example values stop the command (exit 2, nothing rendered). Exit code:
the post-renderer's when it failed, else 1 when helm failed, else 0.
"""

from __future__ import annotations

import argparse
from typing import Any

from .chart_flags import add_chart_arguments, add_install_arguments, prepared_request, say, show_outcome, show_start
from .preflight import add_preflight_arguments, preflight_gate

DEPLOY_EPILOG = "example:\n  helm ck8s-jupyter deploy jhub -n jhub -f values.yaml --chart-archive jupyterhub-4.4.0.tgz --wait"
RENDER_EPILOG = "example:\n  helm ck8s-jupyter render jhub -f values.yaml --chart-archive jupyterhub-4.4.0.tgz > release.yaml"


def register(subparsers: Any) -> None:
    deploy = subparsers.add_parser(
        "deploy", help="install or upgrade the release", formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=DEPLOY_EPILOG,
    )
    add_chart_arguments(deploy, release_required=True)
    add_install_arguments(deploy)
    add_preflight_arguments(deploy, kubeconfig=False)
    deploy.add_argument("--skip-preflight", action="store_true",
                        help="do not run helm ck8s-jupyter preflight first (it stops the deploy on failures)")
    deploy.set_defaults(handler=run_deploy)

    render = subparsers.add_parser(
        "render", help="helm template through the post-renderer, to stdout",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=RENDER_EPILOG,
    )
    add_chart_arguments(render, release_required=False)
    render.add_argument(
        "--gitops", action="store_true",
        help="stable renders for GitOps (Argo CD, Flux): the hub's tokens come from hub.existingSecret, "
             "secrets in the values are refused, two renders of the same inputs are byte-identical",
    )
    render.add_argument(
        "--output-dir", metavar="DIR",
        help="write one file per object and a kustomization.yaml into DIR instead of stdout",
    )
    render.add_argument("--kube-version", metavar="VERSION", help="as helm template: the cluster's Kubernetes version")
    render.add_argument(
        "--api-versions", action="append", default=[], metavar="LIST",
        help="as helm template: API versions the cluster serves (repeatable, or comma-separated)",
    )
    render.set_defaults(handler=run_render)


def _run(args: argparse.Namespace, *, install: bool) -> int:
    from .. import release

    with prepared_request(args, install=install) as request:
        # the values were read and linted once, for the preflight and the release alike
        if install and not args.skip_preflight:
            code = preflight_gate(args, request)
            if code:
                return code
        # helm's own output goes straight to the terminal: say first what it is going to do
        outcome = release.run_chart(request, on_start=lambda call: show_start(call, command=install))
    show_outcome(outcome, quiet=args.quiet)
    return outcome.exit_code


def run_deploy(args: argparse.Namespace) -> int:
    return _run(args, install=True)


def run_render(args: argparse.Namespace) -> int:
    if not (args.gitops or args.output_dir):
        return _run(args, install=False)
    return _render_captured(args)


def _render_captured(args: argparse.Namespace) -> int:
    """``render --gitops`` / ``--output-dir``: helm's output is kept and written only when the
    whole render succeeded and holds objects (an empty render reaching Argo CD with pruning
    on would delete the release)."""
    import sys
    from pathlib import Path

    from .. import hydrate, release
    from ..errors import EXIT_POLICY
    from ..stream import parse

    with prepared_request(args, install=False) as request:
        outcome = release.run_chart(request, capture=True, on_start=lambda call: show_start(call, command=False))
    if outcome.returncode == 0 and outcome.stderr:
        sys.stderr.write(outcome.stderr)
    show_outcome(outcome, quiet=args.quiet)
    if outcome.exit_code:
        return outcome.exit_code
    if not any(not doc.removed for doc in parse(outcome.stdout)):
        say("error: the render holds no object; nothing was written (an empty render would make GitOps prune the release)")
        return EXIT_POLICY
    if args.output_dir:
        names = hydrate.write(outcome.stdout, Path(args.output_dir))
        say(f"wrote {len(names)} objects and {hydrate.KUSTOMIZATION} into {args.output_dir}")
    else:
        sys.stdout.write(outcome.stdout)
    return 0
