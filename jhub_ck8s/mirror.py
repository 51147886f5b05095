"""Copying the release's images to Harbor, and checking they are there.

Every skopeo call goes through ``jhub_ck8s.skopeo`` (credentials: ``jhub_ck8s.registry_auth``;
blob checks: ``jhub_ck8s.registry_blobs``); this module decides what to call and what the
answers mean. ``Mirror`` guarantees:

* **whole images**: ``skopeo copy --all --preserve-digests`` from the source *by the digest
  just resolved* to the destination tag, so a multi-architecture index arrives whole with
  its digest, and the copied image is exactly the one recorded in the lock file;
* **idempotent, resumable**: an image counts as present only if the destination tag holds
  the source's digest **and**, for an index, every child manifest it lists, **and** the
  config and layer blobs of every image manifest (a HEAD each); what lacks any of them is
  copied again, which repairs it. A destination tag holding a *different* digest is an
  error unless ``force``. The lock file is written once before the first copy (so one that
  cannot be written stops the run before anything is copied), and gets an entry after each
  image, once the destination was read back: every entry is at the destination (the
  converse may lag by the images whose copy was interrupted after the registry stored
  them; a rerun finds them present). ``lock.LockFile`` merges concurrent runs;
* **failures stay where they belong**: a destination that refuses the credentials, cannot
  be reached, does not answer in time or speaks no TLS dooms every later copy, so nothing
  new starts (that problem is reported once). A source registry that cannot be reached,
  does not answer or speaks no TLS fails only its own images; a refused source image, a
  missing one or a conflict fails only that image. A copy that fails without naming a
  side is put to both registries: the one that does not answer is blamed. A copy slower
  than ``min_rate`` for its size (``copy_budget``) while both answer is put to the source
  with a one-byte blob read: the source is blamed if it stalls, else the destination,
  which then stops the run; only a copy past ``copy_timeout`` itself is that image's own
  failure. Retryable failures (unreachable, time-out, 5xx, 429, two pushes racing on a
  blob) are retried with exponential backoff, except a copy past its time-out (its budget
  is spent); every call has a time-out;
* **interrupts**: after ``Skopeo.cancel()`` nothing new starts, the running copies are
  killed, and their images are reported as interrupted (not in the lock file);
* credentials are bound to the registries they are for (``for_images``); two sources
  mapped to one destination never get here (``inventory.collect`` refuses them);
* **one destination, one image**: references of one repository and tag that only differ
  in a pinned digest (``x:1.0`` and ``x:1.0@sha256:...``) share a destination tag. Their
  copies run one after the other, never at once, and if they resolve to different digests
  the later one fails, even with ``force``: a tag cannot hold both.

``verify`` checks every destination (index children and blobs included) against the lock
file and says what is wrong: missing, incomplete (which platform manifest, which blob),
another digest, or not checkable (and why).
"""

from __future__ import annotations

import enum
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TypeVar

from . import lock as locks
from .errors import EXIT_POLICY, UserError
from .imageref import ImageRef
from .inventory import IN_TARGET, KEPT, MOVE, UNMAPPED, InventoryImage
from .registry_auth import DEST_CREDS_ENV, SRC_CREDS_ENV, Access, GivenCredentials, Side, bind, unused
from .registry_blobs import BlobChecker
from .skopeo import Cancelled, Child, Failure, Manifest, Skopeo, SkopeoError, Verb, transport

T = TypeVar("T")
_NO_TARGET = "no target registry is configured: pass --registry HOST/PROJECT (or set ck8s.registry / --config)"


class MirrorError(UserError):
    """The registries did not let the check finish; exit 1, one line."""

    exit_code = EXIT_POLICY

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(frozen=True)
class Problem:
    """Why one image failed, for people (``message``) and for the run (the other fields)."""

    message: str
    side: Side | None = None
    registry: str | None = None
    failure: Failure | None = None  # None: not a registry failure (a conflict, a wrong digest)

    @property
    def registry_key(self) -> tuple[Side | None, str | None, Failure | None] | None:
        """Identifies a failure that dooms a whole registry, so it is reported once.

        A source that refuses one image may well serve the next (permissions are often per
        repository): that one is the image's own failure.
        """
        if self.failure is None or not self.failure.registry_wide:
            return None
        if self.side is Side.SOURCE and self.failure is Failure.AUTH:
            return None
        return self.side, self.registry, self.failure


class _Failed(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


class _Skipped(Exception):
    """Not started: an earlier failure dooms this image (``problem``)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


# --- options, requests, results --------------------------------------------------------------


@dataclass(frozen=True)
class MirrorOptions:
    jobs: int = 4
    retries: int = 3
    retry_delay: float = 1.0  # seconds before the first retry; doubled each time
    force: bool = False
    timeout: float = 30.0  # seconds for one manifest read (skopeo inspect)
    copy_timeout: float = 1800.0  # seconds for one image copy, all platforms, however large
    min_rate: float = 100_000.0  # bytes per second a copy must at least reach ...
    copy_timeout_min: float = 120.0  # ... once this many seconds have passed

    def copy_budget(self, size: int) -> float:
        """Seconds one copy of ``size`` bytes may take: its size at ``min_rate``, at least
        ``copy_timeout_min``, at most ``copy_timeout``."""
        return min(self.copy_timeout, max(self.copy_timeout_min, size / self.min_rate))


@dataclass(frozen=True)
class AccessRequest:
    """What the user gave for one side, before credentials are bound to registries."""

    credentials: tuple[GivenCredentials, ...] = ()
    authfile: str | None = None
    tls_verify: bool = True


class Status(enum.Enum):
    COPIED = "copied"
    WOULD_COPY = "would copy"  # dry run
    PRESENT = "present"
    IN_PLACE = "in place"
    FAILED = "failed"
    NOT_STARTED = "not started"
    INTERRUPTED = "interrupted"

    @property
    def done(self) -> bool:
        return self in (Status.COPIED, Status.WOULD_COPY, Status.PRESENT, Status.IN_PLACE)


@dataclass
class ImageResult:
    image: InventoryImage
    status: Status
    digest: str | None = None
    size: int = 0
    seconds: float = 0.0
    problem: Problem | None = None
    repeated: bool = False  # the same registry-wide problem was reported for an earlier image
    command: str | None = None  # dry run: the copy that would run, credentials masked
    finished: int = 0  # 1 for the first image to finish, 2 for the next, ...


@dataclass
class Summary:
    results: list[ImageResult]  # sorted by source
    seconds: float
    interrupted: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def not_done(self) -> list[ImageResult]:
        return [r for r in self.results if not r.status.done]

    @property
    def first_problem(self) -> Problem | None:
        """The problem that happened first (later ones are often its consequences)."""
        failed = [r for r in self.results if r.problem is not None and r.status == Status.FAILED]
        return min(failed, key=lambda r: r.finished).problem if failed else None


class Verdict(enum.Enum):
    MISSING = "missing"
    INCOMPLETE = "incomplete"
    DIFFERS = "differs"
    NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class VerifyResult:
    image: InventoryImage
    verdict: Verdict
    detail: str
    problem: Problem | None = None  # NOT_CHECKED: why
    repeated: bool = False


@dataclass(frozen=True)
class MissingBlob:
    digest: str
    what: str  # "config", "layer 2"
    platform: str = ""  # the index entry it belongs to, when there is one

    def __str__(self) -> str:
        return f"{self.digest} ({self.what}{', ' + self.platform if self.platform else ''})"


@dataclass
class Gaps:
    """What a destination lacks of an image whose top manifest it has."""

    children: list[Child]
    blobs: list[MissingBlob]

    def __bool__(self) -> bool:
        return bool(self.children or self.blobs)

    def describe(self, manifest: Manifest) -> str:
        parts = []
        if self.children:
            named = ", ".join(f"{c.digest} ({c.platform})" if c.platform else c.digest for c in self.children)
            parts.append(f"{len(self.children)} of {len(manifest.children)} platform manifests of the index are missing: {named}")
        if self.blobs:
            parts.append(f"{len(self.blobs)} blob(s) are missing: {', '.join(map(str, self.blobs))}")
        return "; ".join(parts)


# --- the run -----------------------------------------------------------------------------------


def registries(images: Iterable[InventoryImage], side: Side) -> set[str]:
    """The registry hosts one side of a run reads from or writes to."""
    hosts = set()
    for image in images:
        if side is Side.SOURCE and image.status in (MOVE, KEPT):
            hosts.add(image.source.registry)
        elif side is Side.DESTINATION and image.status == MOVE and image.destination is not None:
            hosts.add(image.destination.registry)
        elif side is Side.DESTINATION and image.status == IN_TARGET:
            hosts.add(image.source.registry)
    return hosts


class Mirror:
    """Copies, plans or verifies a list of images; ``on_result`` hears of each one as it ends."""

    def __init__(
        self,
        skopeo: Skopeo,
        source: Access,
        destination: Access,
        options: MirrorOptions | None = None,
        on_result: Callable[[ImageResult, int, int], None] | None = None,
        sleep: Callable[[float], None] | None = None,
        blobs: BlobChecker | None = None,
    ) -> None:
        self.skopeo = skopeo
        self.blobs = blobs or BlobChecker()
        self.access = {Side.SOURCE: source, Side.DESTINATION: destination}
        self.options = options or MirrorOptions()
        self.on_result = on_result
        self._sleep = sleep
        self._guard = threading.Lock()
        self._stop: Problem | None = None  # a destination failure: nothing new starts
        self._doomed: dict[str, Problem] = {}  # source registry -> the failure that dooms it
        self._reported: set[tuple[Side | None, str | None, Failure | None]] = set()
        self._finished = itertools.count(1)
        # destination reference -> its lock, and the (source, digest) this run gave it
        self._destination_locks: dict[str, threading.Lock] = {}
        self._claims: dict[str, tuple[str, str]] = {}

    @classmethod
    def for_images(
        cls,
        skopeo: Skopeo,
        images: Sequence[InventoryImage],
        source: AccessRequest,
        destination: AccessRequest,
        options: MirrorOptions | None = None,
        on_result: Callable[[ImageResult, int, int], None] | None = None,
        warn: Callable[[str], object] | None = None,
    ) -> Mirror:
        """A Mirror whose credentials are bound to the registries of ``images``.

        UserError when an unscoped credential would reach more than one registry; ``warn``
        hears one line per value given for a host that side never talks to.
        """
        def access(request: AccessRequest, side: Side) -> Access:
            hosts = registries(images, side)
            bound = bind(request.credentials, hosts, side)
            if warn is not None:
                for line in unused(request.credentials, hosts, side):
                    warn(line)
            return Access(bound, request.authfile, request.tls_verify)

        return cls(skopeo, access(source, Side.SOURCE), access(destination, Side.DESTINATION), options, on_result)

    # -- one call, with retries and a problem for people

    def _pause(self, seconds: float) -> None:
        if self._sleep is not None:
            self._sleep(seconds)
            return
        deadline = time.monotonic() + seconds
        while not self.skopeo.cancelled and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    def _retrying(self, call: Callable[[], T], keep_going: Callable[[], bool]) -> T:
        attempt = 0
        while True:
            try:
                return call()
            except SkopeoError as exc:
                # A copy that outlived --copy-timeout spent the whole budget: starting the
                # transfer over would only double the wait.
                spent = exc.kind is Failure.TIMEOUT and exc.verb is Verb.COPY
                if spent or not exc.kind.retryable or attempt >= self.options.retries or not keep_going():
                    exc.attempts = attempt + 1
                    raise
                self._pause(self.options.retry_delay * (2**attempt))
                attempt += 1

    def _keep_going(self, side: Side, registry: str) -> Callable[[], bool]:
        def check() -> bool:
            if self.skopeo.cancelled or self._stop is not None:
                return False
            return side is Side.DESTINATION or registry not in self._doomed

        return check

    def _inspect(self, ref: ImageRef, side: Side) -> Manifest | None:
        """The manifest, or None when the image does not exist there."""
        access = self.access[side]
        try:
            manifest = self._retrying(
                lambda: self.skopeo.inspect(ref, access, self.options.timeout), self._keep_going(side, ref.registry)
            )
        except SkopeoError as exc:
            if exc.kind is Failure.MISSING:
                return None
            raise _Failed(self.problem(exc, ref, side)) from None
        return manifest

    def problem(self, exc: SkopeoError, ref: ImageRef, side: Side) -> Problem:
        """One line for a person, naming the registry, the image and what to do."""
        host, name, where = ref.registry, ref.normalized, side.value
        flag, env = ("--src-creds", SRC_CREDS_ENV) if side is Side.SOURCE else ("--dest-creds", DEST_CREDS_ENV)
        tls = "--src-tls-verify=false" if side is Side.SOURCE else "--dest-tls-verify=false"
        messages = {
            Failure.AUTH: f"{where} registry {host}: authentication failed or access denied for {name} ({exc.detail}); "
            f"check {flag} {host}=USER:PASS, ${env} or the auth file (--authfile, $REGISTRY_AUTH_FILE)",
            Failure.MISSING: f"{where} image {name} does not exist (manifest unknown)",
            Failure.UNREACHABLE: f"{where} registry {host} is unreachable after {exc.attempts} attempt(s): {exc.detail}",
            Failure.TIMEOUT: f"{where} registry {host} did not answer in time after {exc.attempts} attempt(s): "
            f"{exc.detail}; raise {'--copy-timeout' if exc.verb is Verb.COPY else '--timeout'} if it is only slow",
            Failure.TLS: f"{where} registry {host}: TLS problem ({exc.detail}); for a plain-HTTP registry on loopback pass {tls}",
            Failure.TRANSIENT: f"{where} registry {host} kept failing after {exc.attempts} attempt(s): {exc.detail}",
        }
        what = "skopeo failed" if exc.verb is not None else "reading a blob failed"  # verb None: registry_blobs
        message = messages.get(exc.kind, f"{where} {name}: {what}: {exc.detail}")
        return Problem(message, side, host, exc.kind)

    def resolve(self, ref: ImageRef, side: Side) -> Manifest:
        """The manifest of an image that must exist; MirrorError otherwise."""
        try:
            return self._resolve(ref, side)
        except _Failed as exc:
            raise MirrorError(exc.problem) from None

    def _resolve(self, ref: ImageRef, side: Side) -> Manifest:
        manifest = self._inspect(ref, side)
        if manifest is None:
            raise _Failed(Problem(f"{side.value} image {ref.normalized} does not exist (manifest unknown)", side, ref.registry))
        if ref.digest and manifest.digest != ref.digest:
            raise _Failed(
                Problem(f"{side.value} image {ref.normalized} resolved to {manifest.digest}, not the digest it names", side, ref.registry)
            )
        return manifest

    def _gaps(self, ref: ImageRef, manifest: Manifest, side: Side, platform: str = "") -> Gaps:
        """What ``ref``'s repository lacks of ``manifest``: children of an index (nested ones
        too), and the config and layer blobs of every image manifest (a HEAD each)."""
        gaps = Gaps([], [])
        for child in manifest.children:
            at = ImageRef(ref.registry, ref.repository, None, child.digest)
            found = self._inspect(at, side)
            if found is None or found.digest != child.digest:
                gaps.children.append(child)
            else:
                deeper = self._gaps(at, found, side, child.platform or platform)
                gaps.children += deeper.children
                gaps.blobs += deeper.blobs
        for digest, what in manifest.blobs:
            if not self._blob_exists(ref, digest, side):
                gaps.blobs.append(MissingBlob(digest, what, platform))
        return gaps

    def _blob_exists(self, ref: ImageRef, digest: str, side: Side) -> bool:
        access = self.access[side]

        def head() -> bool:
            if self.skopeo.cancelled:
                raise Cancelled
            return self.blobs.exists(ref.registry, ref.repository, digest, access, self.options.timeout)

        try:
            return self._retrying(head, self._keep_going(side, ref.registry))
        except SkopeoError as exc:
            raise _Failed(self.problem(exc, ref, side)) from None

    # -- stopping early

    def _check_not_doomed(self, side: Side, registry: str) -> None:
        if self._stop is not None:
            raise _Skipped(self._stop)
        if side is Side.SOURCE and registry in self._doomed:
            raise _Skipped(self._doomed[registry])

    def _record(self, problem: Problem) -> tuple[bool, int]:
        """Note a failure: stop or doom what it dooms. (repeated, finish number)."""
        with self._guard:
            key = problem.registry_key
            repeated = key in self._reported
            if key is not None:
                self._reported.add(key)
                if problem.side is Side.DESTINATION:
                    if self._stop is None:
                        self._stop = problem
                elif problem.registry:  # unreachable, time-out, TLS: its other images fail alike
                    self._doomed.setdefault(problem.registry, problem)
            return repeated, next(self._finished)

    # -- mirroring

    @staticmethod
    def _pushed_to(destination: ImageRef) -> str:
        """What a copy writes, as the copy names it (the tag; a pinned digest only without one)."""
        return transport(destination, by_digest=False).removeprefix("docker://")

    def _destination_lock(self, destination: ImageRef) -> threading.Lock:
        with self._guard:
            return self._destination_locks.setdefault(self._pushed_to(destination), threading.Lock())

    def _claim(self, image: InventoryImage, manifest: Manifest) -> None:
        """Refuse a second digest for a destination tag this run already gave another one."""
        assert image.destination is not None
        target, source = self._pushed_to(image.destination), image.source.normalized
        with self._guard:
            earlier = self._claims.setdefault(target, (source, manifest.digest))
        if earlier[1] != manifest.digest:
            raise _Failed(
                Problem(
                    f"destination {target} would hold two images: {earlier[0]} is {earlier[1]}, "
                    f"{source} is {manifest.digest}; pin both to one digest, or give one its own "
                    "repository in registryMap",
                    Side.DESTINATION, image.destination.registry,
                )
            )

    def _copy(self, image: InventoryImage, dry_run: bool) -> tuple[Status, Manifest, str | None]:
        assert image.destination is not None
        # one image at a time per destination tag: two jobs must not both find it missing
        with self._destination_lock(image.destination):
            return self._copy_one(image, dry_run)

    def _copy_one(self, image: InventoryImage, dry_run: bool) -> tuple[Status, Manifest, str | None]:
        source, destination = image.source, image.destination
        assert destination is not None
        manifest = self._resolve(source, Side.SOURCE)
        self._claim(image, manifest)
        self._check_not_doomed(Side.DESTINATION, destination.registry)
        present = self._inspect(destination, Side.DESTINATION)
        if present is not None and present.digest != manifest.digest and not self.options.force:
            raise _Failed(
                Problem(
                    f"destination {destination.normalized} already holds a different image "
                    f"({present.digest}; the source is {manifest.digest}); pass --force to overwrite it",
                    Side.DESTINATION, destination.registry,
                )
            )
        same = present is not None and present.digest == manifest.digest
        if same and present is not None and not self._gaps(destination, present, Side.DESTINATION):
            return Status.PRESENT, manifest, None  # a child or a blob missing: copied again, which repairs it
        pinned = ImageRef(source.registry, source.repository, None, manifest.digest)
        src, dest = self.access[Side.SOURCE], self.access[Side.DESTINATION]
        if dry_run:
            return Status.WOULD_COPY, manifest, self.skopeo.copy_command(pinned, destination, src, dest).display()
        keep_going = self._keep_going(Side.DESTINATION, destination.registry)
        size = self._content_size(pinned, manifest)
        budget = self.options.copy_budget(size)
        try:
            self._retrying(lambda: self.skopeo.copy(pinned, destination, src, dest, budget), keep_going)
        except SkopeoError as exc:
            raise _Failed(self._copy_problem(exc, source, pinned, destination, manifest, size, budget)) from None
        copied = self._inspect(destination, Side.DESTINATION)
        if copied is None or copied.digest != manifest.digest:
            holds = copied.digest if copied else "nothing"
            raise _Failed(
                Problem(f"destination {destination.normalized}: after the copy it holds {holds}, not {manifest.digest}",
                        Side.DESTINATION, destination.registry)
            )
        gaps = self._gaps(destination, copied, Side.DESTINATION)
        if gaps:
            raise _Failed(
                Problem(f"destination {destination.normalized}: after the copy {gaps.describe(copied)}",
                        Side.DESTINATION, destination.registry)
            )
        return Status.COPIED, manifest, None

    def _content_size(self, pinned: ImageRef, manifest: Manifest) -> int:
        """Bytes a copy moves: an image's manifest, config and layers; an index's, for every
        platform (each child is read at the source)."""
        total = manifest.size
        for child in manifest.children:
            found = self._inspect(ImageRef(pinned.registry, pinned.repository, None, child.digest), Side.SOURCE)
            if found is not None:
                total += self._content_size(pinned, found)
        return total

    def _source_blob(self, pinned: ImageRef, manifest: Manifest) -> str | None:
        """A small blob of the image at the source (the config of it, or of its first platform)."""
        if manifest.blobs:
            return manifest.blobs[0][0]
        for child in manifest.children[:1]:
            found = self._inspect(ImageRef(pinned.registry, pinned.repository, None, child.digest), Side.SOURCE)
            return self._source_blob(pinned, found) if found is not None else None
        return None

    def _copy_problem(
        self, exc: SkopeoError, source: ImageRef, pinned: ImageRef, destination: ImageRef,
        manifest: Manifest, size: int, budget: float,
    ) -> Problem:
        """Whom a failed copy blames.

        skopeo names the side of most failures. A copy that timed out or lost its connection
        without saying where is put to both registries with one manifest read each: the
        first that does not answer now is blamed (the destination stops the run, a source
        fails only its own images). If both answer, a copy that outlived the budget its size
        gives it (``copy_budget``, below ``copy_timeout``) asks the source for a blob's first
        byte: a source that stalls on blobs fails its images; one that serves them leaves the
        destination, which answers reads but does not take writes: that stops the run. Only
        an image that hit ``copy_timeout`` itself is its own problem (large, or a slow link).
        """
        if exc.side is not None:
            return self.problem(exc, source if exc.side is Side.SOURCE else destination, exc.side)
        if not exc.kind.retryable:
            return self.problem(exc, destination, Side.DESTINATION)
        for side, ref in ((Side.DESTINATION, destination), (Side.SOURCE, pinned)):
            try:
                self.skopeo.inspect(ref, self.access[side], self.options.timeout)
            except SkopeoError as probe:
                if probe.kind.retryable or probe.kind is Failure.TLS:
                    return self.problem(exc, source if side is Side.SOURCE else destination, side)
        if exc.kind is Failure.TIMEOUT and budget < self.options.copy_timeout:
            return self._stalled(exc, source, pinned, destination, manifest, size, budget)
        flag = "--copy-timeout" if exc.kind is Failure.TIMEOUT else "--retries"
        return Problem(
            f"copy of {source.normalized} to {destination.normalized} failed after {exc.attempts} attempt(s) "
            f"({exc.detail}), while both registries answer: this image is the problem (large, or a slow "
            f"link); raise {flag}, or copy it on its own with --jobs 1",
        )

    def _stalled(
        self, exc: SkopeoError, source: ImageRef, pinned: ImageRef, destination: ImageRef,
        manifest: Manifest, size: int, budget: float,
    ) -> Problem:
        """A copy slower than ``min_rate`` while both registries answer manifest reads."""
        rate = f"{self.options.min_rate / 1000:g} kB/s"
        took = f"the copy of {source.normalized} ({size} bytes) did not finish within {budget:g}s"
        fix = f"if it is only slow, lower --min-rate (now {rate}) or raise --copy-timeout-min (now {self.options.copy_timeout_min:g}s)"
        blob = self._source_blob(pinned, manifest)
        if blob is not None:
            try:
                self.blobs.readable(pinned.registry, pinned.repository, blob, self.access[Side.SOURCE], self.options.timeout)
            except SkopeoError as probe:
                if probe.kind.retryable or probe.kind is Failure.TLS:
                    return Problem(
                        f"source registry {source.registry} answers manifest reads but not blob reads: {took} "
                        f"and a read of {blob} failed ({probe.detail}); {fix}",
                        Side.SOURCE, source.registry, Failure.TIMEOUT,
                    )
        return Problem(
            f"destination registry {destination.registry} answers reads but takes no uploads: {took} "
            f"(below {rate}) while the source serves its blobs; check the registry (its storage, quota, "
            f"a proxy in front of it); {fix}",
            Side.DESTINATION, destination.registry, Failure.TIMEOUT,
        )

    def _one(self, image: InventoryImage, lock: locks.LockFile | None, dry_run: bool) -> ImageResult:
        start = time.monotonic()
        if self.skopeo.cancelled:
            return ImageResult(image, Status.NOT_STARTED, finished=self._next())
        command = None
        try:
            if image.status == MOVE:
                self._check_not_doomed(Side.SOURCE, image.source.registry)
                status, manifest, command = self._copy(image, dry_run)
            else:
                # Already where it runs from: record its digest, copy nothing.
                side = Side.DESTINATION if image.status == IN_TARGET else Side.SOURCE
                self._check_not_doomed(side, image.source.registry)
                manifest = self._resolve(image.source, side)
                status = Status.IN_PLACE
            assert image.destination is not None
            if lock is not None and not dry_run:
                self._write(lock, locks.LockEntry(image.source.normalized, manifest.digest, image.destination.normalized))
        except _Failed as exc:
            repeated, finished = self._record(exc.problem)
            return ImageResult(image, Status.FAILED, seconds=time.monotonic() - start, problem=exc.problem,
                               repeated=repeated, finished=finished)
        except _Skipped as exc:
            return ImageResult(image, Status.NOT_STARTED, problem=exc.problem, repeated=True, finished=self._next())
        except Cancelled:
            return ImageResult(image, Status.INTERRUPTED, seconds=time.monotonic() - start, finished=self._next())
        return ImageResult(image, status, manifest.digest, manifest.size, time.monotonic() - start,
                           command=command, finished=self._next())

    def _write(self, lock: locks.LockFile, entry: locks.LockEntry) -> None:
        """Add to the lock file; a lock file that cannot be written stops the run."""
        try:
            lock.add(entry)
        except UserError as exc:
            problem = Problem(str(exc))
            with self._guard:
                self._stop = self._stop or problem
            raise _Failed(problem) from None

    def _next(self) -> int:
        with self._guard:
            return next(self._finished)

    def run(self, images: Sequence[InventoryImage], lock: locks.LockFile | None, *, dry_run: bool = False) -> Summary:
        """Mirror (or, ``dry_run``, plan) every image; the lock file gets each one as it is done.

        The lock file is checked before the first copy.
        """
        if any(i.status == UNMAPPED or i.destination is None for i in images):
            raise UserError(_NO_TARGET)
        if lock is not None:
            lock.prepare(try_write=not dry_run)
        start = time.monotonic()
        results: list[ImageResult] = []
        with ThreadPoolExecutor(max_workers=max(1, self.options.jobs)) as pool:
            futures = [pool.submit(self._one, image, lock, dry_run) for image in images]
            for done, future in enumerate(as_completed(futures), start=1):
                result = future.result()
                results.append(result)
                if self.on_result is not None:
                    self.on_result(result, done, len(images))
        results.sort(key=lambda r: r.image.source.normalized)
        return Summary(results, time.monotonic() - start, self.skopeo.cancelled)

    # -- checking

    def verify(self, images: Sequence[InventoryImage], lock: locks.ImageLock | None) -> list[VerifyResult]:
        """Destinations that are missing, incomplete, hold another digest than the lock's, or
        could not be checked (with the reason); sorted by source."""
        if any(i.destination is None for i in images):
            raise UserError(_NO_TARGET)
        expected = lock.by_source() if lock else {}
        results: list[VerifyResult] = []
        guard = threading.Lock()

        def check(image: InventoryImage) -> None:
            assert image.destination is not None
            side = Side.SOURCE if image.status == KEPT else Side.DESTINATION
            try:
                if self.skopeo.cancelled:
                    raise Cancelled
                self._check_not_doomed(side, image.destination.registry)
                result = self._verify_one(image, side, expected.get(image.source.normalized))
            except _Failed as exc:
                repeated, _ = self._record(exc.problem)
                result = VerifyResult(image, Verdict.NOT_CHECKED, exc.problem.message, exc.problem, repeated)
            except _Skipped as exc:
                result = VerifyResult(image, Verdict.NOT_CHECKED, exc.problem.message, exc.problem, True)
            except Cancelled:
                result = VerifyResult(image, Verdict.NOT_CHECKED, "interrupted")
            if result is not None:
                with guard:
                    results.append(result)

        with ThreadPoolExecutor(max_workers=max(1, self.options.jobs)) as pool:
            list(pool.map(check, images))
        return sorted(results, key=lambda r: r.image.source.normalized)

    def _verify_one(self, image: InventoryImage, side: Side, entry: locks.LockEntry | None) -> VerifyResult | None:
        assert image.destination is not None
        manifest = self._inspect(image.destination, side)
        if manifest is None:
            return VerifyResult(image, Verdict.MISSING, "not at the destination")
        if entry is not None and entry.digest != manifest.digest:
            return VerifyResult(image, Verdict.DIFFERS, f"holds {manifest.digest}, the lock file says {entry.digest}")
        gaps = self._gaps(image.destination, manifest, side)
        if gaps:
            return VerifyResult(image, Verdict.INCOMPLETE, gaps.describe(manifest))
        return None

    def lock_of(self, images: Sequence[InventoryImage]) -> locks.ImageLock:
        """An ImageLock with every digest resolved where the image is read from (MirrorError, Cancelled)."""
        entries = []
        for image in images:
            side = Side.DESTINATION if image.status == IN_TARGET else Side.SOURCE
            manifest = self.resolve(image.source, side)
            destination = image.destination or image.source
            entries.append(locks.LockEntry(image.source.normalized, manifest.digest, destination.normalized))
        return locks.merge(None, entries)


__all__ = [
    "DEST_CREDS_ENV",
    "SRC_CREDS_ENV",
    "AccessRequest",
    "ImageResult",
    "Mirror",
    "MirrorError",
    "MirrorOptions",
    "Problem",
    "Status",
    "Summary",
    "Verdict",
    "VerifyResult",
    "registries",
]
