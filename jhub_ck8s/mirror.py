"""Copying the release's images to Harbor with skopeo, and checking they are there.

Every ``skopeo`` call of the project lives in ``Skopeo`` (one small class with a
``runner``, easy to fake). ``Mirror`` guarantees:

* **whole images**: ``skopeo copy --all --preserve-digests``, from the source *by the digest
  just resolved* to the destination tag, so a multi-architecture index arrives whole with
  its digest, and the copied image is exactly the one recorded in the lock file;
* **idempotent, resumable**: before copying, both sides are read with ``skopeo inspect
  --raw`` and compared by the sha256 of those bytes (the manifest or index digest). Same
  digest at the destination: skipped. A destination tag holding a *different* digest is
  an error unless ``force``. The lock file is merged with the existing one and rewritten
  atomically after every image, so an interrupted run keeps its progress;
* **credentials are never shown**: ``--creds`` values go to skopeo through private
  auth files (0600), never its command line; printed commands show ``--dest-creds ***``,
  and every message taken from skopeo's output has them removed;
* **failures are one line**: authentication failure, missing image (manifest unknown),
  unreachable registry, TLS mismatch; transient errors (connection refused, timeouts,
  HTTP 5xx, 429) are retried with exponential backoff; an authentication failure or an
  unreachable registry stops the images not yet started (they would fail the same way);
* bounded concurrency (``jobs`` threads).

``verify`` checks that every destination exists (with the lock's digest when it has one)
and lists the missing ones.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from . import lock as locks
from .errors import EXIT_POLICY, UserError
from .imageref import ImageRef
from .inventory import IN_TARGET, KEPT, MOVE, UNMAPPED, InventoryImage

SKOPEO_ENV = "JHUB_CK8S_SKOPEO"  # path of the skopeo binary (default: skopeo on PATH)
SRC_CREDS_ENV = "JHUB_CK8S_SRC_CREDS"
DEST_CREDS_ENV = "JHUB_CK8S_DEST_CREDS"
MASK = "***"
INSPECT_TIMEOUT = 120.0  # seconds; a hung registry must not hang the run
COPY_TIMEOUT = 3600.0  # one image, all platforms

# kinds of failure
AUTH = "auth"
MISSING = "missing"
UNREACHABLE = "unreachable"
TRANSIENT = "transient"
TLS = "tls"
CONFLICT = "conflict"
OTHER = "other"

Runner = Callable[..., subprocess.CompletedProcess]


class MirrorError(UserError):
    """The registries did not let the mirror or the check finish; exit 1, one line."""

    exit_code = EXIT_POLICY

    def __init__(self, message: str, kind: str = "other") -> None:
        super().__init__(message)
        self.kind = kind


# --- credentials and commands ------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """``USER:PASS`` for one registry side. ``repr`` never shows the password."""

    user: str
    password: str = field(repr=False)

    @classmethod
    def parse(cls, text: str, origin: str) -> Credentials:
        """From ``USER:PASS``; the message for a bad value never quotes it."""
        user, sep, password = text.partition(":")
        if not sep or not user or not password:
            raise UserError(f"{origin}: expected USER:PASS (the value is not shown)")
        return cls(user, password)

    @property
    def argument(self) -> str:
        return f"{self.user}:{self.password}"


@dataclass(frozen=True)
class Access:
    """How to reach one side: credentials, auth file, TLS verification."""

    creds: Credentials | None = None
    authfile: str | None = None
    tls_verify: bool = True


@dataclass(frozen=True)
class Hidden:
    """Arguments that carry a secret: run as ``actual``, shown as ``shown``.

    Credentials never go on skopeo's command line (every user of the machine can read
    it in the process list): they are written to a private auth file, and the command
    is shown the way the user gave it, ``--dest-creds ***``.
    """

    actual: tuple[str, ...]
    shown: tuple[str, ...]
    secrets: tuple[str, ...] = ()


Arg = str | Hidden


@dataclass(frozen=True)
class Command:
    """One skopeo invocation; ``display`` masks its secrets."""

    args: tuple[Arg, ...]

    def argv(self) -> list[str]:
        return [part for a in self.args for part in (a.actual if isinstance(a, Hidden) else (a,))]

    def display(self) -> str:
        return " ".join(
            " ".join(a.shown) if isinstance(a, Hidden) else shlex.quote(a) for a in self.args
        )

    def secrets(self) -> list[str]:
        return [s for a in self.args if isinstance(a, Hidden) for s in a.secrets if s]


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def transport(ref: ImageRef, *, by_digest: bool) -> str:
    """A ``docker://`` reference skopeo accepts (it takes a tag or a digest, not both).

    ``by_digest``: prefer the digest (reading); else prefer the tag (writing).
    """
    if ref.digest and (by_digest or not ref.tag):
        return f"docker://{ref.name}@{ref.digest}"
    return f"docker://{ref.name}:{ref.tag or 'latest'}"


# --- skopeo --------------------------------------------------------------------------------


@dataclass
class SkopeoError(Exception):
    """A classified skopeo failure; ``detail`` is skopeo's own message, credentials removed."""

    kind: str
    detail: str
    attempts: int = 1

    def __str__(self) -> str:
        return self.detail

    @property
    def transient(self) -> bool:
        return self.kind in (TRANSIENT, UNREACHABLE)


_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (TLS, re.compile(r"server gave HTTP response to HTTPS client|x509:|certificate|tls: ", re.I)),
    (AUTH, re.compile(r"unauthorized|authentication required|denied|forbidden|invalid username/password|\b401\b|\b403\b", re.I)),
    (MISSING, re.compile(r"manifest unknown|name unknown|not found|\b404\b", re.I)),
    (UNREACHABLE, re.compile(r"connection refused|no such host|network is unreachable|no route to host|dial tcp", re.I)),
    (TRANSIENT, re.compile(
        r"timeout|timed out|connection reset|broken pipe|unexpected EOF|\bEOF\b|too many requests|\b429\b|"
        r"\b50[0-4]\b|internal server error|bad gateway|service unavailable|gateway time", re.I)),
)
_FATAL_MSG = re.compile(r'msg="((?:[^"\\]|\\.)*)"')
_NOISE = re.compile(r'^(?:Error parsing image name|initializing source|initializing destination) "?[^"]*"?: ')


def classify(stderr: str) -> tuple[str, str]:
    """(kind, one-line detail) of a skopeo failure from its stderr."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "skopeo failed without a message"
    match = _FATAL_MSG.search(last)
    detail = match.group(1).replace('\\"', '"') if match else last.strip()
    detail = _NOISE.sub("", detail)
    for kind, pattern in _PATTERNS:
        if pattern.search(detail):
            return kind, detail
    return OTHER, detail


@dataclass
class Skopeo:
    """The one place that runs skopeo."""

    binary: str = "skopeo"
    runner: Runner = subprocess.run
    env: dict[str, str] | None = None
    _auth_dir: str | None = field(default=None, init=False, repr=False)
    # mirror runs skopeo from several threads: one writer of auth files at a time
    _auth_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def from_environment(cls) -> Skopeo:
        """``$JHUB_CK8S_SKOPEO`` or skopeo on PATH; UserError saying how to install it."""
        binary = os.environ.get(SKOPEO_ENV) or shutil.which("skopeo")
        if not binary:
            raise UserError("skopeo not found: install it (Debian/Ubuntu: apt-get install skopeo) or set " + SKOPEO_ENV)
        return cls(binary)

    def _authfile(self, creds: Credentials, registry: str) -> str:
        """A private (0600, in a 0700 folder) auth file holding ``creds`` for ``registry``."""
        with self._auth_lock:
            return self._write_authfile(creds, registry)

    def _write_authfile(self, creds: Credentials, registry: str) -> str:
        if self._auth_dir is None:
            self._auth_dir = tempfile.mkdtemp(prefix="jhub-ck8s-auth-")
            weakref.finalize(self, shutil.rmtree, self._auth_dir, True)
        token = base64.b64encode(creds.argument.encode()).decode()
        name = hashlib.sha256(f"{registry}\0{creds.argument}".encode()).hexdigest()[:16]
        path = os.path.join(self._auth_dir, f"{name}.json")
        if not os.path.exists(path):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump({"auths": {registry: {"auth": token}}}, handle)
        return path

    def _access_args(self, access: Access, side: str, registry: str) -> list[Arg]:
        """Flags for one side; ``side`` is "" (inspect), "src-" or "dest-" (copy)."""
        args: list[Arg] = [f"--{side}tls-verify={'true' if access.tls_verify else 'false'}"]
        authfile_flag = f"--{side}authfile" if side else "--authfile"
        if access.creds:
            path = self._authfile(access.creds, registry)
            args.append(
                Hidden((authfile_flag, path), (f"--{side}creds", MASK), (access.creds.argument, access.creds.password))
            )
        elif access.authfile:
            args += [authfile_flag, access.authfile]
        return args

    def inspect_command(self, ref: ImageRef, access: Access) -> Command:
        return Command(
            (self.binary, "inspect", "--raw", *self._access_args(access, "", ref.registry), transport(ref, by_digest=True))
        )

    def copy_command(self, source: ImageRef, destination: ImageRef, src: Access, dest: Access) -> Command:
        return Command(
            (
                self.binary, "copy", "--all", "--preserve-digests", "--quiet",
                *self._access_args(src, "src-", source.registry), *self._access_args(dest, "dest-", destination.registry),
                transport(source, by_digest=True), transport(destination, by_digest=False),
            )
        )

    def run(self, command: Command, timeout: float | None = None) -> bytes:
        """Run; return stdout bytes or raise SkopeoError (credentials removed from its text).

        A call that outlives ``timeout`` seconds is killed and counts as a transient error.
        """
        try:
            result = self.runner(command.argv(), capture_output=True, check=False, env=self.env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SkopeoError(TRANSIENT, f"skopeo {command.argv()[1]} timed out after {timeout:.0f}s") from None
        except OSError as exc:
            raise UserError(f"cannot run {self.binary}: {exc.strerror}") from None
        if result.returncode != 0:
            stderr = result.stderr.decode("utf-8", "replace") if isinstance(result.stderr, bytes) else str(result.stderr or "")
            kind, detail = classify(stderr)
            raise SkopeoError(kind, redact(detail, command.secrets()))
        return result.stdout if isinstance(result.stdout, bytes) else str(result.stdout).encode()

    def inspect_raw(self, ref: ImageRef, access: Access) -> bytes:
        return self.run(self.inspect_command(ref, access), INSPECT_TIMEOUT)

    def copy(self, source: ImageRef, destination: ImageRef, src: Access, dest: Access) -> None:
        self.run(self.copy_command(source, destination, src, dest), COPY_TIMEOUT)


# --- manifests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """What ``inspect --raw`` returned: its digest and a cheap size estimate."""

    raw: bytes

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.raw).hexdigest()

    def _json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.raw)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def platforms(self) -> int:
        """Number of manifests in an index (0 for a single image)."""
        manifests = self._json().get("manifests")
        return len(manifests) if isinstance(manifests, list) else 0

    @property
    def size(self) -> int:
        """Manifest + config + layers for an image; index + its manifests for an index."""
        data = self._json()
        total = len(self.raw)
        parts = data.get("manifests") if "manifests" in data else [data.get("config"), *(data.get("layers") or [])]
        for part in parts or []:
            if isinstance(part, dict) and isinstance(part.get("size"), int):
                total += part["size"]
        return total


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


# --- the lock file ---------------------------------------------------------------------------


class LockWriter:
    """Merges entries into the lock file and rewrites it atomically after each one."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._guard = threading.Lock()
        self.current = locks.load(path) if os.path.exists(path) else None

    def add(self, entry: locks.LockEntry) -> None:
        with self._guard:
            self.current = locks.merge(self.current, [entry])
            folder = os.path.dirname(os.path.abspath(self.path))
            fd, tmp = tempfile.mkstemp(prefix=".images.lock.", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(self.current.to_yaml())
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise


# --- mirroring -------------------------------------------------------------------------------

COPIED = "copied"
PRESENT = "present"
IN_PLACE = "in place"
FAILED = "failed"
NOT_STARTED = "not started"


@dataclass
class MirrorOptions:
    src: Access = field(default_factory=Access)
    dest: Access = field(default_factory=Access)
    jobs: int = 4
    retries: int = 3
    retry_delay: float = 1.0  # seconds before the first retry; doubled each time
    force: bool = False


@dataclass
class ImageResult:
    image: InventoryImage
    status: str
    digest: str | None = None
    size: int = 0
    seconds: float = 0.0
    error: str | None = None
    kind: str | None = None  # failure kind


@dataclass
class Summary:
    results: list[ImageResult]
    seconds: float

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[ImageResult]:
        return [r for r in self.results if r.status in (FAILED, NOT_STARTED)]

    def line(self) -> str:
        parts = [f"{self.count(COPIED)} copied", f"{self.count(PRESENT)} already present"]
        if self.count(IN_PLACE):
            parts.append(f"{self.count(IN_PLACE)} already in place")
        parts.append(f"{self.count(FAILED)} failed")
        if self.count(NOT_STARTED):
            parts.append(f"{self.count(NOT_STARTED)} not started")
        return f"{len(self.results)} images: " + ", ".join(parts) + f" in {self.seconds:.1f}s"


@dataclass(frozen=True)
class Missing:
    image: InventoryImage
    why: str  # "missing", "digest differs (...)", or a failure message


class Mirror:
    """Copies and verifies a list of images; reports progress through ``progress``."""

    def __init__(
        self,
        skopeo: Skopeo,
        options: MirrorOptions,
        progress: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.skopeo = skopeo
        self.options = options
        self.progress = progress or (lambda line: sys.stderr.write(line + "\n"))
        self.sleep = sleep
        self._stop = threading.Event()
        self._stop_reason = ""
        self._print = threading.Lock()

    # one call with retries and a user-facing message
    def _inspect(self, ref: ImageRef, access: Access, side: str) -> Manifest | None:
        """The manifest, or None when the image does not exist there."""
        try:
            return Manifest(self._retrying(lambda: self.skopeo.inspect_raw(ref, access)))
        except SkopeoError as exc:
            if exc.kind == MISSING:
                return None
            raise MirrorError(self.message(exc, ref, side), exc.kind) from None

    def _retrying(self, call: Callable[[], bytes]) -> bytes:
        attempt = 0
        while True:
            try:
                return call()
            except SkopeoError as exc:
                if not exc.transient or attempt >= self.options.retries or self._stop.is_set():
                    exc.attempts = attempt + 1
                    raise
                self.sleep(self.options.retry_delay * (2**attempt))
                attempt += 1

    def message(self, exc: SkopeoError, ref: ImageRef, side: str) -> str:
        """One line for a person, naming the registry, the image and what to do."""
        host = ref.registry
        flag = "--src-creds" if side == "source" else "--dest-creds"
        env = SRC_CREDS_ENV if side == "source" else DEST_CREDS_ENV
        tls = "--src-tls-verify=false" if side == "source" else "--dest-tls-verify=false"
        attempts = exc.attempts
        if exc.kind == AUTH:
            return f"{side} registry {host}: authentication failed or access denied for {ref.normalized} ({exc.detail}); check {flag}, ${env} or the auth file (--authfile, $REGISTRY_AUTH_FILE)"
        if exc.kind == MISSING:
            return f"{side} image {ref.normalized} does not exist (manifest unknown)"
        if exc.kind == UNREACHABLE:
            return f"{side} registry {host} is unreachable after {attempts} attempt(s): {exc.detail}"
        if exc.kind == TLS:
            return f"{side} registry {host}: TLS problem ({exc.detail}); for a plain-HTTP registry on loopback pass {tls}"
        if exc.kind == TRANSIENT:
            return f"{side} registry {host} kept failing after {attempts} attempt(s): {exc.detail}"
        return f"{side} {ref.normalized}: skopeo failed: {exc.detail}"

    def resolve(self, ref: ImageRef, access: Access, side: str = "source") -> Manifest:
        """The manifest of an image that must exist; MirrorError otherwise."""
        manifest = self._inspect(ref, access, side)
        if manifest is None:
            raise MirrorError(f"{side} image {ref.normalized} does not exist (manifest unknown)", MISSING)
        if ref.digest and manifest.digest != ref.digest:
            raise MirrorError(f"{side} image {ref.normalized} resolved to {manifest.digest}, not the digest it names")
        return manifest

    def _one(self, image: InventoryImage, writer: LockWriter | None) -> ImageResult:
        start = time.monotonic()
        if self._stop.is_set():
            return ImageResult(image, NOT_STARTED, error=self._stop_reason)
        assert image.destination is not None
        source, destination = image.source, image.destination
        try:
            if image.status != MOVE:
                # Already where it runs from: record its digest, copy nothing.
                access = self.options.dest if image.status == IN_TARGET else self.options.src
                manifest = self.resolve(source, access, "destination" if image.status == IN_TARGET else "source")
                status = IN_PLACE
            else:
                manifest = self.resolve(source, self.options.src, "source")
                pinned_source = ImageRef(source.registry, source.repository, None, manifest.digest)
                present = self._inspect(destination, self.options.dest, "destination")
                if present is not None and present.digest == manifest.digest:
                    status = PRESENT
                else:
                    if present is not None and not self.options.force:
                        raise MirrorError(
                            f"destination {destination.normalized} already holds a different image "
                            f"({present.digest}; the source is {manifest.digest}); pass --force to overwrite it",
                            CONFLICT,
                        )
                    try:
                        self._retrying(lambda: self.skopeo.copy(pinned_source, destination, self.options.src, self.options.dest) or b"")
                    except SkopeoError as exc:
                        # Both sides were just read, so a failure now is mostly the push:
                        # blame the source only when skopeo names it and not the destination.
                        named_source = source.registry in exc.detail and destination.registry not in exc.detail
                        side = "source" if named_source else "destination"
                        raise MirrorError(
                            self.message(exc, destination if side == "destination" else source, side), exc.kind
                        ) from None
                    copied = self._inspect(destination, self.options.dest, "destination")
                    if copied is None or copied.digest != manifest.digest:
                        raise MirrorError(
                            f"destination {destination.normalized}: after the copy it holds "
                            f"{copied.digest if copied else 'nothing'}, not {manifest.digest}"
                        )
                    status = COPIED
            if writer is not None:
                writer.add(locks.LockEntry(source.normalized, manifest.digest, destination.normalized))
            return ImageResult(image, status, manifest.digest, manifest.size, time.monotonic() - start)
        except MirrorError as exc:
            text = str(exc)
            if exc.kind in (AUTH, UNREACHABLE, TLS):  # every later image would fail the same way
                self._stop_reason = text
                self._stop.set()
            return ImageResult(image, FAILED, seconds=time.monotonic() - start, error=text, kind=exc.kind)

    def _report(self, index: int, total: int, result: ImageResult) -> None:
        image = result.image
        head = f"mirror: [{index}/{total}] {result.status:<8} {image.source.normalized}"
        if result.status == FAILED:
            line = f"{head}: {result.error}"
        elif result.status == NOT_STARTED:
            line = f"{head}: stopped after an earlier failure"
        else:
            target = "" if result.status == IN_PLACE else f" -> {image.destination}"
            size = human_size(result.size)
            line = f"{head}{target} {result.digest} ({size}, {result.seconds:.1f}s)"
        with self._print:
            self.progress(line)

    def run(self, images: Sequence[InventoryImage], lock_path: str | None) -> Summary:
        """Mirror every image with a destination; the lock file is updated after each one."""
        unmapped = [i for i in images if i.status == UNMAPPED]
        if unmapped:
            raise UserError("no target registry is configured: pass --registry HOST/PROJECT (or set ck8s.registry / --config)")
        writer = LockWriter(lock_path) if lock_path else None
        start = time.monotonic()
        results: list[ImageResult] = []
        with ThreadPoolExecutor(max_workers=max(1, self.options.jobs)) as pool:
            futures = [pool.submit(self._one, image, writer) for image in images]
            for done, future in enumerate(as_completed(futures), start=1):
                result = future.result()
                self._report(done, len(images), result)
                results.append(result)
        results.sort(key=lambda r: r.image.source.normalized)
        return Summary(results, time.monotonic() - start)

    def dry_run(self, images: Sequence[InventoryImage]) -> list[str]:
        """The copy commands a run would issue (credentials masked), one per image to move."""
        lines = []
        for image in images:
            if image.status == UNMAPPED:
                raise UserError("no target registry is configured: pass --registry HOST/PROJECT (or set ck8s.registry / --config)")
            if image.needs_copy and image.destination is not None:
                command = self.skopeo.copy_command(image.source, image.destination, self.options.src, self.options.dest)
                lines.append(command.display())
        return lines

    def verify(self, images: Sequence[InventoryImage], lock: locks.ImageLock | None) -> list[Missing]:
        """Destinations that are missing (or hold another digest than the lock's)."""
        expected = lock.by_source() if lock else {}
        missing: list[Missing] = []
        guard = threading.Lock()

        def check(image: InventoryImage) -> None:
            if image.destination is None:
                raise UserError("no target registry is configured: pass --registry HOST/PROJECT")
            access = self.options.src if image.status == KEPT else self.options.dest
            side = "source" if image.status == KEPT else "destination"
            try:
                manifest = self._inspect(image.destination, access, side)
            except MirrorError as exc:
                problem: Missing | None = Missing(image, str(exc))
            else:
                entry = expected.get(image.source.normalized)
                if manifest is None:
                    problem = Missing(image, "missing")
                elif entry is not None and entry.digest != manifest.digest:
                    problem = Missing(image, f"holds {manifest.digest}, the lock file says {entry.digest}")
                else:
                    problem = None
            if problem is not None:
                with guard:
                    missing.append(problem)

        with ThreadPoolExecutor(max_workers=max(1, self.options.jobs)) as pool:
            list(pool.map(check, images))
        return sorted(missing, key=lambda m: m.image.source.normalized)


__all__ = [
    "DEST_CREDS_ENV",
    "SRC_CREDS_ENV",
    "Access",
    "Command",
    "Credentials",
    "ImageResult",
    "LockWriter",
    "Manifest",
    "Mirror",
    "MirrorError",
    "MirrorOptions",
    "Missing",
    "Skopeo",
    "SkopeoError",
    "Summary",
    "classify",
    "redact",
]
