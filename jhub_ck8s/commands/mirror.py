"""``helm ck8s-jupyter mirror``: copy every image of the release to Harbor, or check they are there.

The image list is ``images``' (same flags, same code); the copying and checking is
``jhub_ck8s.mirror``. Progress and the summary go to stderr; ``--dry-run`` prints the
skopeo commands (credentials masked) to stdout. Exit codes: 0 done; 1 an image could
not be copied, or ``--verify`` found missing images; 2 bad flags or input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from ..errors import UserError
from .images import access, add_access_arguments, add_source_arguments, load_inventory

EPILOG = """\
examples:
  JHUB_CK8S_DEST_CREDS="$ROBOT:$TOKEN" helm ck8s-jupyter mirror -f values.yaml --registry harbor.example.com/jupyterhub
  helm ck8s-jupyter mirror --from release.yaml --registry harbor.example.com/jupyterhub --dry-run
  helm ck8s-jupyter mirror -f values.yaml --registry harbor.example.com/jupyterhub --verify
  helm ck8s-jupyter render -f values.yaml --pin images.lock.yaml > release.yaml

Copies with skopeo copy --all --preserve-digests (multi-arch indexes arrive whole). An image
already at the destination with the same digest is skipped; a destination tag holding a
different image is an error unless --force. The lock file is updated after every image,
so an interrupted run, run again, finishes the rest. Credentials: --src-creds/--dest-creds,
$JHUB_CK8S_SRC_CREDS/$JHUB_CK8S_DEST_CREDS, or the auth file (--authfile, $REGISTRY_AUTH_FILE).
"""


def _at_least(minimum: float, convert: Callable[[str], float], unit: str) -> Callable[[str], Any]:
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


_positive = _at_least(1, int, "a whole number")
_count = _at_least(0, int, "a whole number")
_seconds = _at_least(0, float, "seconds")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "mirror",
        help="copy every image to Harbor with skopeo (or --verify they are there); writes images.lock.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    add_source_arguments(parser)
    add_access_arguments(parser)
    parser.add_argument("--lock", metavar="FILE", default="images.lock.yaml", help="lock file to merge into (default: images.lock.yaml)")
    parser.add_argument("--jobs", type=_positive, default=4, metavar="N", help="images copied at the same time (default 4)")
    parser.add_argument("--retries", type=_count, default=3, metavar="N", help="retries on transient errors: connection refused, timeouts, HTTP 5xx (default 3)")
    parser.add_argument("--retry-delay", type=_seconds, default=1.0, metavar="SECONDS", help="wait before the first retry, doubled each time (default 1)")
    parser.add_argument("--force", action="store_true", help="overwrite a destination tag that holds a different image")
    parser.add_argument("--dry-run", action="store_true", help="print the skopeo copy commands (credentials masked) and change nothing")
    parser.add_argument("--verify", action="store_true", help="copy nothing: check every destination exists (with the lock's digest), list the missing ones")
    parser.set_defaults(handler=run)


def _skopeo(dry_run: bool) -> Any:
    from ..mirror import SKOPEO_ENV, Skopeo

    if dry_run:
        return Skopeo(os.environ.get(SKOPEO_ENV) or "skopeo")
    return Skopeo.from_environment()


def run(args: argparse.Namespace) -> int:
    from .. import lock as locks
    from ..mirror import Mirror, MirrorOptions

    if args.dry_run and args.verify:
        raise UserError("--dry-run and --verify cannot be combined")
    inv = load_inventory(args)
    options = MirrorOptions(access(args, "src"), access(args, "dest"), args.jobs, args.retries, args.retry_delay, args.force)
    progress = (lambda line: None) if args.quiet else None
    mirror = Mirror(_skopeo(args.dry_run), options, progress=progress)

    if args.dry_run:
        lines = mirror.dry_run(inv.images)
        sys.stdout.write("".join(line + "\n" for line in lines))
        sys.stderr.write(f"mirror: dry run: {len(lines)} of {len(inv.images)} images would be copied (the others are already in place)\n")
        return 0

    if args.verify:
        lock = locks.load(args.lock) if os.path.exists(args.lock) else None
        missing = mirror.verify(inv.images, lock)
        for item in missing:
            sys.stderr.write(f"mirror: missing {item.image.destination}: {item.why}\n")
        if missing:
            sys.stderr.write(f"mirror: verify failed: {len(missing)} of {len(inv.images)} images are not in place; run helm ck8s-jupyter mirror\n")
            return 1
        with_digest = " with the lock file's digests" if lock else ""
        sys.stderr.write(f"mirror: verify ok: all {len(inv.images)} images are in place{with_digest}\n")
        return 0

    summary = mirror.run(inv.images, args.lock)
    sys.stderr.write(f"mirror: {summary.line()}; lock file {args.lock}\n")
    failed = summary.failed
    if failed:
        if args.quiet:  # the progress lines that name each failure were not shown
            for result in failed:
                if result.error and result.status == "failed":
                    sys.stderr.write(f"mirror: failed: {result.image.source.normalized}: {result.error}\n")
        first = next((r.error for r in failed if r.error), "see above")
        sys.stderr.write(f"error: {len(failed)} of {len(summary.results)} images were not mirrored; first problem: {first}\n")
        return 1
    return 0
