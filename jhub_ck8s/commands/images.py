"""``helm ck8s-jupyter images``: every image the release needs, where it is used, where it goes.

Reads a rendered stream (``--from FILE|-``) or renders the wrapper chart with the
user's chart arguments (no post-renderer: the images are listed as the chart wrote
them), then prints ``inventory.collect``'s list as a table, JSON, or an image lock
(digests resolved at the source with ``skopeo inspect``: that form needs registry access).

Also holds the flag helpers ``mirror`` shares, so both commands read the same list
the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import inventory
from ..errors import EXIT_POLICY, UserError
from ..settings import load_file, read_layer
from .chart_flags import add_chart_arguments, prepared_request, set_flags, show_outcome

if TYPE_CHECKING:
    from ..lock import ImageLock
    from ..mirror import AccessRequest

EPILOG = """\
examples:
  helm ck8s-jupyter images -f values.yaml --chart-archive jupyterhub-4.4.0.tgz
  helm template jhub wrapper-chart/ -f values.yaml | helm ck8s-jupyter images --from - --output json
  helm ck8s-jupyter images --from release.yaml --registry harbor.example.com/jupyterhub --output lock > images.lock.yaml

Runtime images (the ones the hub hands KubeSpawner) are read from Secret/hub and shown
by key path; no other content of that Secret is ever printed. --output lock resolves
each digest with skopeo inspect, so it needs access to the source registries.
"""


class HelmFailed(UserError):
    exit_code = EXIT_POLICY


def _tls(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Chart arguments (as render) plus ``--from`` a rendered stream."""
    add_chart_arguments(parser, release_required=False)
    parser.add_argument("--from", dest="from_file", metavar="FILE", help="read a rendered stream (helm template output) from FILE, or - for stdin, instead of rendering")


def add_access_arguments(parser: argparse.ArgumentParser) -> None:
    """Registry access flags, named as skopeo names them."""
    parser.add_argument("--src-creds", action="append", metavar="[HOST=]USER:PASS", help="credentials for one source registry, repeatable; prefer $JHUB_CK8S_SRC_CREDS (one HOST=USER:PASS per line) or --authfile, which ps does not show; never printed")
    parser.add_argument("--dest-creds", action="append", metavar="[HOST=]USER:PASS|-", help="Harbor credentials; - reads them from stdin; prefer that, $JHUB_CK8S_DEST_CREDS or --authfile, which ps does not show; never printed")
    parser.add_argument("--authfile", metavar="FILE", help="containers auth file (keyed by registry host) for both sides (default: skopeo's, or $REGISTRY_AUTH_FILE)")
    parser.add_argument("--src-tls-verify", type=_tls, nargs="?", const=True, default=True, metavar="BOOL", help="require HTTPS at the source (--src-tls-verify=false for a plain-HTTP registry)")
    parser.add_argument("--dest-tls-verify", type=_tls, nargs="?", const=True, default=True, metavar="BOOL", help="require HTTPS at the destination (--dest-tls-verify=false for a plain-HTTP registry)")
    parser.add_argument("--timeout", type=at_least(1, float, "seconds"), default=30.0, metavar="SECONDS", help="give up on a registry that has not answered one manifest read within this time (default 30)")


def at_least(minimum: float, convert: Callable[[str], float], unit: str) -> Callable[[str], Any]:
    """An argparse type: a number of ``unit`` no smaller than ``minimum``."""

    def read(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {unit}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {minimum:g} or more")
        return value

    return read


def _read_secret(flag: str) -> str:
    """``FLAG -``: the value from stdin (without echo when stdin is a terminal)."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"{flag} ([HOST=]USER:PASS, not shown): ")
    from ..inputs import read_text

    return read_text("-", label=f"{flag} -")


def access_requests(args: argparse.Namespace) -> tuple[AccessRequest, AccessRequest]:
    """What the user gave for the source and the destination side (flags win over the environment)."""
    from ..mirror import DEST_CREDS_ENV, SRC_CREDS_ENV, AccessRequest
    from ..registry_auth import GivenCredentials

    stdin_users = [flag for flag, values in (("--src-creds", args.src_creds), ("--dest-creds", args.dest_creds)) for v in values or () if v == "-"]
    if args.from_file == "-":
        stdin_users.append("--from")
    if len(stdin_users) > 1:
        raise UserError(f"{' and '.join(stdin_users)} both read stdin; give one of them another way")

    def given(values: list[str] | None, flag: str, env: str) -> tuple[GivenCredentials, ...]:
        found = []
        for value in values or ():
            if value == "-":
                origin = f"{flag} -"
                entries = GivenCredentials.parse_lines(_read_secret(flag), origin)
                if not entries:
                    raise UserError(f"{origin}: stdin held no credentials")
                found += entries
            else:
                found.append(GivenCredentials.parse(value, flag))
        if not values and os.environ.get(env):
            found = GivenCredentials.parse_lines(os.environ[env], f"${env}")
        return tuple(found)

    return (
        AccessRequest(given(args.src_creds, "--src-creds", SRC_CREDS_ENV), args.authfile, args.src_tls_verify),
        AccessRequest(given(args.dest_creds, "--dest-creds", DEST_CREDS_ENV), args.authfile, args.dest_tls_verify),
    )


def _read_stream(path: str) -> str:
    from ..inputs import read_text

    return read_text(path, label=f"--from {path}")


def load_inventory(args: argparse.Namespace) -> inventory.Inventory:
    """The inventory of the stream given by ``--from`` or rendered from the chart arguments."""
    from ..stream import parse

    if args.from_file:
        given = [flag for flag, value in (("CHART", args.chart), ("-f", args.values)) if value]
        given += dict.fromkeys(flag for flag, _ in set_flags(args))
        if given:
            raise UserError(f"--from reads a rendered stream; it cannot be combined with {', '.join(given)}")
        text = _read_stream(args.from_file)
    else:
        from .. import release

        # no post-renderer: the images as the chart wrote them
        with prepared_request(args, post_render=False) as request:
            outcome = release.run_chart(request, capture=True)
        if outcome.returncode != 0:
            show_outcome(outcome, quiet=args.quiet)
            raise HelmFailed("helm template failed (see helm's message above)")
        text = outcome.stdout
    documents = parse(text)
    file_layer = load_file(args.config) if args.config else {}
    flag_layer = read_layer({"registry": args.registry}, "--registry") if args.registry else {}
    return inventory.collect(documents, inventory.settings_for(documents, file_layer, flag_layer))


def lock_for(inv: inventory.Inventory, args: argparse.Namespace) -> ImageLock:
    """An ImageLock with every source digest resolved by skopeo (needs registry access)."""
    from ..interrupts import Interrupts
    from ..mirror import Mirror, MirrorOptions
    from ..skopeo import Cancelled, Skopeo

    source, destination = access_requests(args)
    options = MirrorOptions(retries=args.retries, timeout=args.timeout)
    with Interrupts() as interrupts, Skopeo.from_environment() as skopeo:
        interrupts.call(skopeo.cancel)
        mirror = Mirror.for_images(skopeo, inv.images, source, destination, options,
                                   warn=lambda line: sys.stderr.write(f"ck8s-jupyter: warning: {line}\n"))
        try:
            return mirror.lock_of(inv.images)
        except Cancelled:
            raise Interrupted(interrupts.name, interrupts.exit_code) from None


class Interrupted(UserError):
    """Stopped by a signal; the exit code is 128 + its number."""

    def __init__(self, name: str, exit_code: int) -> None:
        super().__init__(f"interrupted by {name}; nothing was printed")
        self.exit_code = exit_code


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "images",
        help="list every image the release needs (pod specs and the hub's runtime images)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    add_source_arguments(parser)
    parser.add_argument("-o", "--output", choices=("table", "json", "lock"), default="table", help="table (default), json, or lock (an ImageLock; resolves digests with skopeo, needs registry access)")
    add_access_arguments(parser)
    parser.add_argument("--retries", type=at_least(0, int, "a whole number"), default=3, metavar="N", help="--output lock: retries on transient registry errors (default 3)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    inv = load_inventory(args)
    if args.output == "json":
        sys.stdout.write(json.dumps(inv.to_json(), indent=2) + "\n")
    elif args.output == "lock":
        sys.stdout.write(lock_for(inv, args).to_yaml())
    else:
        sys.stdout.write(inventory.table(inv))
        if not inv.settings.registry and not inv.settings.registry_map:
            sys.stderr.write("ck8s-jupyter: no target registry is configured (--registry HOST/PROJECT or ck8s.registry): destinations are not known\n")
    unpinned = [image.source.normalized for image in inv.images if not image.source.pinned]
    if unpinned:
        sys.stderr.write(f"ck8s-jupyter: warning: not pinned to a version (the platform rejects them): {', '.join(unpinned)}\n")
    return 0
