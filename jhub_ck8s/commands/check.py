"""`helm ck8s-jupyter check`: audit a rendered stream, or render the chart and audit that.

``check FILE|-`` reads a rendered stream (a first argument that is ``-`` or an
existing file); ``check [RELEASE] [CHART] -f values.yaml ...`` renders the release as
``render`` does (wrapper chart, the user's values, the post-renderer) and audits the
result. The verdict goes to stdout in the chosen ``--output`` form; exit 0 when
admissible, 1 when not (or when rendering failed on policy errors), 2 on bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from ..errors import EXIT_INPUT, UserError
from .chart_flags import add_chart_arguments, prepared_request, say, show_outcome, show_start

if TYPE_CHECKING:
    from ..check.model import Audit

EPILOG = """\
examples:
  helm ck8s-jupyter check release.yaml --registry harbor.example.com/jupyterhub
  helm template jhub jupyterhub/jupyterhub | helm ck8s-jupyter check - --output junit > check.xml
  helm ck8s-jupyter check jhub -f values.yaml --chart-archive jupyterhub-4.4.0.tgz --kubernetes-version 1.33.0

what is checked: Pod Security baseline and restricted (every rule, per pod, with the
highest level each pod satisfies), the platform safeguards (trusted registry, disallowed
tags, resource requests, NetworkPolicy coverage, minimum replicas, LoadBalancer,
eviction-blocking PodDisruptionBudget, Localhost seccomp), cluster-scoped objects, and
the user pods the hub will spawn (built from Secret/hub with kubespawner). Values: before
rendering, placeholders and reserved example names in the values stop the command (exit 2,
--allow-example KEY.PATH accepts one); on a rendered stream the same rules judge Ingress
hosts and TLS hosts and the OAuth settings in Secret/hub (key paths only): values-* errors.

exit codes: 0 admissible; 1 not admissible (with --strict, warnings count too);
2 bad input; 3 internal error.
"""

# chart-argument flags that mean nothing when a rendered stream is given
_RENDER_ONLY = {
    "values": "-f/--values", "set": "--set", "set_string": "--set-string", "set_file": "--set-file",
    "set_json": "--set-json", "set_literal": "--set-literal", "chart_archive": "--chart-archive", "keep_hook_puller": "--keep-hook-puller",
    "mode": "--mode", "config": "--config", "pin": "--pin", "report": "--report",
    "namespace": "--namespace", "kube_context": "--kube-context", "no_post_render": "--no-post-render",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    from ..check.output import FORMATS

    parser = subparsers.add_parser(
        "check", help="prove a release (and the user pods it spawns) would be admitted",
        description="Audit a rendered stream (check FILE|-) or render the chart like `render` and audit it.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
    )
    add_chart_arguments(parser, release_required=False)
    parser.add_argument("-o", "--output", choices=FORMATS, default="text", help="report form (default: text)")
    parser.add_argument("--strict", action="store_true", help="count warnings (trusted registry, NetworkPolicy, replicas) as failures")
    parser.add_argument("--kubernetes-version", metavar="X.Y.Z", help="evaluate Pod Security as of this version and validate every document with kubeconform -strict")
    parser.add_argument("--no-user-pods", action="store_true", help="do not rebuild and audit the spawned user pods")
    parser.add_argument("--no-post-render", action="store_true", help="when rendering: audit the chart's output without the post-renderer")
    parser.set_defaults(handler=run)


def _is_stream_argument(value: str | None) -> bool:
    return value == "-" or (value is not None and os.path.isfile(value))


def _read(path: str) -> str:
    from ..inputs import read_text

    return read_text(path)


def _rendered(args: argparse.Namespace) -> tuple[str | None, int]:
    """The stream to audit, or (None, exit code) when rendering failed."""
    from .. import release

    with prepared_request(args, post_render=not args.no_post_render) as request:
        outcome = release.run_chart(request, capture=True)
    if outcome.exit_code != 0 or outcome.returncode != 0:
        show_outcome(outcome, quiet=args.quiet, notes=True)
        say("rendering failed, nothing was audited (see the messages above)")
        return None, outcome.exit_code or 1
    show_start(outcome.call, command=False)
    if not args.quiet:  # the post-renderer's warnings, errors and summary, not its list of changes
        show_outcome(outcome, quiet=True)
    return outcome.stdout, 0


def _values_rules(text: str, result: Audit, allow: list[str]) -> None:
    """The values linter's rules on what reached the objects of a rendered stream (no values
    at hand): Ingress hosts and TLS hosts, the OAuth settings in Secret/hub (key paths only).
    Each finding is an error (``values-placeholder``, ``values-example-name``, ``values-required``);
    ``--allow-example KIND/NAME[.WHERE]`` accepts one on purpose."""
    from ..check.model import ERROR, Finding, Subject
    from ..hubconfig import find
    from ..stream import parse
    from ..values_lint import lint_stream

    documents = parse(text)
    hub = find(documents)
    for found in lint_stream(documents, hub.values if hub is not None else None):
        key = f"{found.label}.{found.where}"
        if any(key == a or key.startswith((a + ".", a + "[", a + " ")) or found.label == a for a in allow):
            continue
        subject = next((s for s in result.subjects if s.label == found.label and s.document is not None), None)
        if subject is None:
            kind, _, name = found.label.partition("/")
            subject = Subject(found.label, kind, name)
            result.subjects.append(subject)
        subject.add(Finding(f"values-{found.rule}", ERROR, found.message, found.where, found.fix))


def run(args: argparse.Namespace) -> int:
    from ..check import Options, audit
    from ..check.output import render

    if _is_stream_argument(args.release):
        if args.chart:
            raise UserError(f"check {args.release}: a rendered stream takes no CHART argument ({args.chart!r})")
        given = [flag for key, flag in _RENDER_ONLY.items() if getattr(args, key, None)]
        if given:
            raise UserError(f"{', '.join(given)}: only when check renders the chart, not with a rendered stream")
        text = _read(args.release)
    else:
        if args.release and args.release.endswith((".yaml", ".yml")) and not args.chart:
            raise UserError(f"{args.release}: no such file")
        rendered, code = _rendered(args)
        if rendered is None:
            return code
        text = rendered
    if not text.strip():
        raise UserError("the rendered stream is empty: nothing to check")
    options = Options(
        registry=args.registry, strict=args.strict, kubernetes_version=args.kubernetes_version,
        user_pods=not args.no_user_pods,
    )
    result = audit(text, options)
    if _is_stream_argument(args.release):
        _values_rules(text, result, args.allow_example)
    sys.stdout.write(render(result, args.output, quiet=args.quiet))
    sys.stdout.flush()
    return result.exit_code


__all__ = ["EXIT_INPUT", "register", "run"]
