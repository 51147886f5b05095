"""``helm ck8s-jupyter mirror``: copy every image of the release to Harbor, or check they are there.

The image list is ``images``' (same flags, same code); the copying and checking is
``jhub_ck8s.mirror``, which returns data; this module builds the request and prints.
Progress and the summary go to stderr; ``--dry-run`` prints the skopeo commands
(credentials masked) to stdout. Exit codes: 0 done; 1 an image could not be copied, or
``--verify`` found missing images or could not check them; 2 bad flags or input;
128 + N when stopped by signal N (130 for Ctrl-C, 143 for SIGTERM).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from .images import access_requests, add_access_arguments, add_source_arguments, at_least, load_inventory

if TYPE_CHECKING:
    from ..interrupts import Interrupts
    from ..mirror import ImageResult, Problem, Summary, VerifyResult

EPILOG = """\
examples:
  export JHUB_CK8S_DEST_CREDS="harbor.example.com=$ROBOT:$TOKEN"   # or: --authfile auth.json, or --dest-creds - < secret
  helm ck8s-jupyter mirror -f values.yaml --registry harbor.example.com/jupyterhub
  helm ck8s-jupyter mirror --from release.yaml --registry harbor.example.com/jupyterhub --dry-run
  helm ck8s-jupyter mirror -f values.yaml --registry harbor.example.com/jupyterhub --verify
  helm ck8s-jupyter render -f values.yaml --pin images.lock.yaml > release.yaml

Copies with skopeo copy --all --preserve-digests (multi-arch indexes arrive whole). An image
already at the destination with the same digest (and every platform manifest) is skipped; a
destination tag holding a different image is an error unless --force. The lock file is updated
after every image, so an interrupted run, run again, finishes the rest.

Credentials are bound to one registry: --src-creds HOST=USER:PASS (repeatable), one
HOST=USER:PASS per line in $JHUB_CK8S_SRC_CREDS / $JHUB_CK8S_DEST_CREDS, --dest-creds - (stdin),
or an auth file keyed by host (--authfile, $REGISTRY_AUTH_FILE). A value without HOST= is
refused when the run talks to more than one registry on that side. Values on the command
line are visible to every user of the machine (ps): prefer the environment, stdin or a file.

Ctrl-C or SIGTERM: no new copies, the running skopeo processes are stopped, every image in
the lock file is at the destination (one whose copy was stopped may be there too without an
entry: run again), and the run says what was done and what was not.

A copy may take its size at --min-rate (kB/s), at least --copy-timeout-min and at most
--copy-timeout seconds; a small image that takes longer while both registries answer reads
is a stalled registry, not a slow link.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "mirror",
        help="copy every image to Harbor with skopeo (or --verify they are there); writes images.lock.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    add_source_arguments(parser)
    add_access_arguments(parser)
    parser.add_argument("--copy-timeout", type=at_least(1, float, "seconds"), default=1800.0, metavar="SECONDS", help="give up on one image copy (all platforms) after this long, however large the image (default 1800)")
    parser.add_argument("--min-rate", type=at_least(0.001, float, "kB per second"), default=100.0, metavar="KB_PER_S", help="a copy slower than this (kB/s of the image's size) is stalled: the time-out of each copy is its size at this rate, at least --copy-timeout-min, at most --copy-timeout (default 100)")
    parser.add_argument("--copy-timeout-min", type=at_least(1, float, "seconds"), default=120.0, metavar="SECONDS", help="the shortest time-out of a copy, however small the image (default 120)")
    parser.add_argument("--lock", metavar="FILE", default="images.lock.yaml", help="lock file to merge into (default: images.lock.yaml)")
    parser.add_argument("--jobs", type=at_least(1, int, "a whole number"), default=4, metavar="N", help="images copied at the same time (default 4)")
    parser.add_argument("--retries", type=at_least(0, int, "a whole number"), default=3, metavar="N", help="retries on transient errors: connection refused, time-outs, HTTP 5xx (default 3)")
    parser.add_argument("--retry-delay", type=at_least(0, float, "seconds"), default=1.0, metavar="SECONDS", help="wait before the first retry, doubled each time (default 1)")
    parser.add_argument("--force", action="store_true", help="overwrite a destination tag that holds a different image")
    parser.add_argument("--dry-run", action="store_true", help="read both sides as a real run would, print the skopeo copy commands it would run (credentials masked), change nothing")
    parser.add_argument("--verify", action="store_true", help="copy nothing: check every destination (index children too) against the lock file's digests, list what is wrong")
    parser.set_defaults(handler=run)


def _say(line: str) -> None:
    sys.stderr.write(f"mirror: {line}\n")


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


class _Problems:
    """Says a problem in full the first time it is printed, in a few words after that:
    "above" is the order of the lines, not the order in which the images failed."""

    def __init__(self) -> None:
        self._shown: set[object] = set()

    def text(self, problem: Problem) -> str:
        key = problem.registry_key or problem
        if key not in self._shown:
            self._shown.add(key)
            return problem.message
        if problem.registry and problem.side:
            return f"{problem.side.value} registry {problem.registry}: same problem as above"
        return "same problem as above"


def _progress_line(result: ImageResult, done: int, total: int, problems: _Problems) -> str:
    from ..mirror import Status

    status, image, problem = result.status, result.image, result.problem
    head = f"[{done}/{total}] {status.value:<8} {image.source.normalized}"
    if status is Status.INTERRUPTED:
        return f"{head}: stopped while running; not in the lock file"
    if problem is None and not status.done:
        return f"{head}: interrupted before it started"
    if problem is not None:
        return f"{head}: {problems.text(problem)}"
    target = "" if status is Status.IN_PLACE else f" -> {image.destination}"
    return f"{head}{target} {result.digest} ({_human_size(result.size)}, {result.seconds:.1f}s)"


def _counts(summary: Summary) -> str:
    from ..mirror import Status

    words = {Status.PRESENT: "already present", Status.IN_PLACE: "already in place"}
    always = (Status.COPIED, Status.PRESENT, Status.FAILED)
    parts = [
        f"{summary.count(status)} {words.get(status, status.value)}"
        for status in Status
        if status in always or summary.count(status)
    ]
    return f"{len(summary.results)} images: " + ", ".join(parts) + f" in {summary.seconds:.1f}s"


def run(args: argparse.Namespace) -> int:
    from .. import lock as locks
    from ..interrupts import Interrupts
    from ..mirror import Mirror, MirrorOptions
    from ..skopeo import Skopeo

    if args.dry_run and args.verify:
        raise UserError("--dry-run and --verify cannot be combined")
    source, destination = access_requests(args)
    inv = load_inventory(args)
    options = MirrorOptions(args.jobs, args.retries, args.retry_delay, args.force, args.timeout, args.copy_timeout,
                            args.min_rate * 1000, args.copy_timeout_min)

    problems = _Problems()

    def report(result: ImageResult, done: int, total: int) -> None:
        if not args.quiet:
            _say(_progress_line(result, done, total, problems))

    lock_file = locks.LockFile(args.lock)
    with Interrupts() as interrupts, Skopeo.from_environment() as skopeo:
        interrupts.call(skopeo.cancel)
        mirror = Mirror.for_images(skopeo, inv.images, source, destination, options, report,
                                   lambda line: _say(f"warning: {line}"))
        if args.verify:
            lock = locks.load(args.lock) if os.path.exists(args.lock) else None
            return _verify(mirror.verify(inv.images, lock), len(inv.images), lock is not None, interrupts)
        summary = mirror.run(inv.images, lock_file, dry_run=args.dry_run)

    if args.dry_run:
        commands = [r.command for r in summary.results if r.command]
        sys.stdout.write("".join(command + "\n" for command in commands))
    lock_note = ""
    if not args.dry_run and lock_file.written:
        lock_note = f"; lock file {args.lock}"
    elif not args.dry_run and os.path.exists(args.lock):
        lock_note = f"; lock file {args.lock} unchanged"
    _say(("dry run: " if args.dry_run else "") + _counts(summary) + lock_note)

    if interrupts.received:
        not_done = summary.not_done
        _say(f"interrupted by {interrupts.name}: {len(summary.results) - len(not_done)} of {len(summary.results)} images done; "
             f"not done: {', '.join(r.image.source.normalized for r in not_done) or 'none'}")
        return interrupts.exit_code
    failed = summary.not_done
    if failed:
        if args.quiet:  # the progress lines that name each failure were not shown
            for result in failed:
                if result.problem is not None and not result.repeated:
                    _say(f"failed: {result.image.source.normalized}: {result.problem.message}")
        first = summary.first_problem
        verb = "would not be mirrored" if args.dry_run else "were not mirrored"
        sys.stderr.write(f"error: {len(failed)} of {len(summary.results)} images {verb}; "
                         f"first problem: {first.message if first else 'see above'}\n")
        return 1
    return 0


def _verify(results: list[VerifyResult], total: int, with_lock: bool, interrupts: Interrupts) -> int:
    from ..mirror import Verdict

    problems = _Problems()
    for result in results:
        detail = problems.text(result.problem) if result.problem is not None else result.detail
        _say(f"{result.verdict.value} {result.image.destination}: {detail}")
    if interrupts.received:
        _say(f"interrupted by {interrupts.name}: verify did not finish")
        return interrupts.exit_code
    unchecked = [r for r in results if r.verdict is Verdict.NOT_CHECKED]
    wrong = [r for r in results if r.verdict is not Verdict.NOT_CHECKED]
    if unchecked:
        first = next((r for r in unchecked if not r.repeated), unchecked[0])
        sys.stderr.write(f"error: verify could not check {len(unchecked)} of {total} images: {first.detail}\n")
        return 1
    if wrong:
        _say(f"verify failed: {len(wrong)} of {total} images are not in place; run helm ck8s-jupyter mirror")
        return 1
    with_digest = " with the lock file's digests" if with_lock else ""
    _say(f"verify ok: all {total} images are in place{with_digest}")
    return 0
