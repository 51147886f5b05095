"""The skopeo wrapper: every ``skopeo`` call of the project, and what its failures mean.
Credentials and the auth files skopeo reads them from are ``jhub_ck8s.registry_auth``'s;
the mirroring logic (``jhub_ck8s.mirror``) sits on top.

Guarantees:

* **credentials never touch the command line**: a side with credentials gets
  ``--authfile`` pointing at ``registry_auth.AuthFiles``' file for that one registry;
  commands are shown as ``--dest-creds ***``, and every message taken from skopeo's output
  has the secrets removed. skopeo runs without ``$JHUB_CK8S_SRC_CREDS`` and
  ``$JHUB_CK8S_DEST_CREDS`` in its environment;
* **calls end**: each call runs in its own process group, with a time-out; a call that
  outlives it is killed with its whole group (``Failure.TIMEOUT``), and ``cancel()`` kills
  every running call's group and refuses new ones (``Cancelled``);
* **failures are typed**: ``SkopeoError`` carries a ``Failure`` kind, the ``Side`` of a copy
  it was on when skopeo says so, and skopeo's own message in one line. Callers never parse
  message text.

>>> classify('level=fatal msg="reading manifest 1 in h/x: manifest unknown"')[0]
<Failure.MISSING: 'missing'>
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .errors import UserError
from .imageref import ImageRef
from .registry_auth import Access, AuthFiles, Side, child_environment, normalize_host

SKOPEO_ENV = "JHUB_CK8S_SKOPEO"  # path of the skopeo binary (default: skopeo on PATH)
MASK = "***"
INDEX_MEDIA_TYPES = frozenset(
    {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
)


class Verb(enum.Enum):
    """The skopeo subcommands this project runs."""

    INSPECT = "inspect"
    COPY = "copy"


class Failure(enum.Enum):
    """What went wrong, as far as skopeo's message tells."""

    AUTH = "authentication"  # 401/403: wrong or missing credentials, or no permission
    MISSING = "missing"  # manifest unknown: the image (or that tag) is not there
    UNREACHABLE = "unreachable"  # connection refused, no such host, no route
    TIMEOUT = "time-out"  # no answer in time
    TLS = "tls"  # HTTPS expected but not spoken, or a certificate problem
    TRANSIENT = "transient"  # 5xx, 429, reset connections: worth another try
    OTHER = "other"

    @property
    def retryable(self) -> bool:
        return self in (Failure.UNREACHABLE, Failure.TIMEOUT, Failure.TRANSIENT)

    @property
    def registry_wide(self) -> bool:
        """Every call to the same registry would fail the same way."""
        return self in (Failure.AUTH, Failure.UNREACHABLE, Failure.TIMEOUT, Failure.TLS)


# --- commands --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hidden:
    """Arguments that carry a secret: run as ``actual``, shown as ``shown``."""

    actual: tuple[str, ...]
    shown: tuple[str, ...]
    secrets: tuple[str, ...] = ()
    descriptor: int | None = None  # an in-memory auth file the child must inherit


Arg = str | Hidden


@dataclass(frozen=True)
class Command:
    """One skopeo invocation; ``display`` masks its secrets."""

    verb: Verb
    args: tuple[Arg, ...]  # the binary, the verb's name, then its flags and references

    def argv(self) -> list[str]:
        return [part for a in self.args for part in (a.actual if isinstance(a, Hidden) else (a,))]

    def display(self) -> str:
        return " ".join(" ".join(a.shown) if isinstance(a, Hidden) else shlex.quote(a) for a in self.args)

    def secrets(self) -> list[str]:
        return [s for a in self.args if isinstance(a, Hidden) for s in a.secrets if s]

    def descriptors(self) -> tuple[int, ...]:
        return tuple(a.descriptor for a in self.args if isinstance(a, Hidden) and a.descriptor is not None)


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


# --- manifests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Child:
    """One entry of an index: a manifest digest and, when given, its platform."""

    digest: str
    platform: str = ""


@dataclass(frozen=True)
class Manifest:
    """What ``inspect --raw`` returned: its digest, its children (an index), a size estimate."""

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
    def is_index(self) -> bool:
        data = self._json()
        return data.get("mediaType") in INDEX_MEDIA_TYPES or (
            isinstance(data.get("manifests"), list) and "layers" not in data
        )

    @property
    def children(self) -> tuple[Child, ...]:
        """The manifests an index lists (empty for a single image)."""
        if not self.is_index:
            return ()
        found = []
        for entry in self._json().get("manifests") or []:
            if isinstance(entry, dict) and isinstance(entry.get("digest"), str):
                platform: dict[str, Any] = entry["platform"] if isinstance(entry.get("platform"), dict) else {}
                name = "/".join(str(platform[k]) for k in ("os", "architecture", "variant") if platform.get(k))
                found.append(Child(entry["digest"], name))
        return tuple(found)

    @property
    def blobs(self) -> tuple[tuple[str, str], ...]:
        """(digest, "config" or "layer N") of an image's blobs; empty for an index."""
        if self.is_index:
            return ()
        data = self._json()
        found = []
        config = data.get("config")
        if isinstance(config, dict) and isinstance(config.get("digest"), str):
            found.append((config["digest"], "config"))
        layers = data.get("layers") or [{"digest": f.get("blobSum")} for f in data.get("fsLayers") or [] if isinstance(f, dict)]
        for number, layer in enumerate(layers, start=1):
            if isinstance(layer, dict) and isinstance(layer.get("digest"), str):
                found.append((layer["digest"], f"layer {number}"))
        first: dict[str, str] = {}
        for digest, what in found:
            first.setdefault(digest, what)  # a blob named twice is checked once
        return tuple(first.items())

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


# --- failures --------------------------------------------------------------------------------


@dataclass
class SkopeoError(Exception):
    """A classified skopeo failure; ``detail`` is skopeo's own message, secrets removed."""

    kind: Failure
    detail: str
    side: Side | None = None  # for a copy: the side skopeo named; None when it did not say
    verb: Verb | None = None  # the call that failed
    attempts: int = 1

    def __str__(self) -> str:
        return self.detail


class Cancelled(Exception):
    """The call was not started, or was killed, because ``Skopeo.cancel()`` was called."""


_PATTERNS: tuple[tuple[Failure, re.Pattern[str]], ...] = (
    (Failure.TLS, re.compile(r"server gave HTTP response to HTTPS client|x509:|certificate|tls: (?!handshake timeout)", re.I)),
    (Failure.AUTH, re.compile(r"unauthorized|authentication required|denied|forbidden|invalid username/password|\b401\b|\b403\b", re.I)),
    # Two pushes of the same blobs at once: the registry may not yet see a blob the other
    # push is writing when this one writes its manifest. The next try finds it.
    (Failure.TRANSIENT, re.compile(r"manifest blob unknown|blob upload unknown", re.I)),
    (Failure.MISSING, re.compile(r"manifest unknown|name unknown|not found|\b404\b", re.I)),
    (Failure.TIMEOUT, re.compile(r"timeout|timed out|deadline exceeded", re.I)),
    (Failure.UNREACHABLE, re.compile(r"connection refused|no such host|network is unreachable|no route to host|dial tcp", re.I)),
    (Failure.TRANSIENT, re.compile(
        r"connection reset|broken pipe|unexpected EOF|\bEOF\b|too many requests|\b429\b|"
        r"\b50[0-4]\b|internal server error|bad gateway|service unavailable|gateway time", re.I)),
)
_FATAL_MSG = re.compile(r'msg="((?:[^"\\]|\\.)*)"')
_NOISE = re.compile(r'^(?:Error parsing image name|initializing source|initializing destination) "?[^"]*"?: ')


_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"n": "\n", "t": " ", "r": "", '"': '"', "\\": "\\"}


def _one_line(text: str) -> str:
    """A registry's list of errors (``errors:\\nA\\nB\\n``) as ``A; B``: one line."""
    text = re.sub(r"errors:\s*\n", "", text)
    parts = [part.strip() for part in text.splitlines() if part.strip()]
    return "; ".join(dict.fromkeys(parts))


def _message(stderr: str) -> str:
    """skopeo's fatal message, unquoted as Go quoted it, in one line (the whole last line
    when it has none)."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "skopeo failed without a message"
    match = _FATAL_MSG.search(last)
    if not match:
        return last.strip()
    return _one_line(_ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), match.group(1)))


def classify(stderr: str) -> tuple[Failure, str]:
    """(kind, one-line detail) of a skopeo failure from its stderr."""
    detail = _NOISE.sub("", _message(stderr))
    for kind, pattern in _PATTERNS:
        if pattern.search(detail):
            return kind, detail
    return Failure.OTHER, detail


def _copy_side(message: str, source: ImageRef, destination: ImageRef) -> Side | None:
    """The side a failed copy names: skopeo says "initializing source/destination" or the name."""
    if message.startswith("initializing source"):
        return Side.SOURCE
    if message.startswith("initializing destination") or " at destination" in message:
        return Side.DESTINATION
    names_source, names_destination = source.name in message, destination.name in message
    if names_source != names_destination:
        return Side.SOURCE if names_source else Side.DESTINATION
    return None


# --- running -----------------------------------------------------------------------------------

Runner = Callable[..., subprocess.CompletedProcess]  # (argv, *, timeout, pass_fds) like subprocess.run


class Skopeo:
    """The one place that runs skopeo. Use it as a context manager (or call ``close``)."""

    def __init__(
        self,
        binary: str = "skopeo",
        *,
        runner: Runner | None = None,
        env: dict[str, str] | None = None,
        in_memory: bool | None = None,
    ) -> None:
        self.binary = binary
        self.env = child_environment(env)  # never the credentials variables
        self._runner = runner or self._spawn
        self._auth = AuthFiles(hasattr(os, "memfd_create") if in_memory is None else in_memory)
        self._running: set[subprocess.Popen[bytes]] = set()
        self._guard = threading.RLock()
        self._cancelled = False

    @classmethod
    def from_environment(cls) -> Skopeo:
        """``$JHUB_CK8S_SKOPEO`` or skopeo on PATH; UserError saying how to install it."""
        binary = os.environ.get(SKOPEO_ENV) or shutil.which("skopeo")
        if not binary:
            raise UserError("skopeo not found: install it (Debian/Ubuntu: apt-get install skopeo) or set " + SKOPEO_ENV)
        return cls(binary)

    def __enter__(self) -> Skopeo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill what still runs and remove every auth file."""
        self.cancel()
        self._auth.close()

    @property
    def auth_folder(self) -> str | None:
        """The private folder of on-disk auth files (None: none, or they live in memory)."""
        return self._auth.folder

    # -- cancelling -- safe to call from any thread; takes no lock a caller might hold

    def cancel(self) -> None:
        """Refuse new calls and kill the process group of every running one."""
        self._cancelled = True
        for process in list(self._running):
            _kill_group(process)

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    # -- commands

    def _access_args(self, access: Access, side: str, registry: str) -> list[Arg]:
        """Flags for one side; ``side`` is "" (inspect), "src-" or "dest-" (copy)."""
        args: list[Arg] = [f"--{side}tls-verify={'true' if access.tls_verify else 'false'}"]
        authfile_flag = f"--{side}authfile" if side else "--authfile"
        creds = access.for_host(registry)
        if creds:
            path, descriptor = self._auth.get(normalize_host(registry), creds)
            shown = (f"--{side}creds", MASK)
            args.append(Hidden((authfile_flag, path), shown, (creds.argument, creds.password), descriptor))
        elif access.authfile:
            args += [authfile_flag, access.authfile]
        return args

    def inspect_command(self, ref: ImageRef, access: Access) -> Command:
        return Command(
            Verb.INSPECT,
            (self.binary, Verb.INSPECT.value, "--raw", *self._access_args(access, "", ref.registry), transport(ref, by_digest=True))
        )

    def copy_command(self, source: ImageRef, destination: ImageRef, src: Access, dest: Access) -> Command:
        return Command(
            Verb.COPY,
            (
                self.binary, Verb.COPY.value, "--all", "--preserve-digests", "--quiet",
                *self._access_args(src, "src-", source.registry), *self._access_args(dest, "dest-", destination.registry),
                transport(source, by_digest=True), transport(destination, by_digest=False),
            )
        )

    # -- calls

    def _spawn(self, argv: list[str], *, timeout: float | None, pass_fds: tuple[int, ...]) -> subprocess.CompletedProcess:
        """Run in a new process group, so a time-out or a cancel kills skopeo and all it started."""
        with self._guard:
            if self._cancelled:
                raise Cancelled
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=self.env, pass_fds=pass_fds, start_new_session=True,
            )
            self._running.add(process)
        try:
            if self._cancelled:  # cancel() ran while the process was being started
                _kill_group(process)
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(process)
                process.communicate()
                raise
            except BaseException:
                _kill_group(process)
                process.communicate()
                raise
        finally:
            with self._guard:
                self._running.discard(process)
        if process.returncode != 0 and self._cancelled:
            raise Cancelled
        return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)

    def run(
        self, command: Command, timeout: float | None, blame: Callable[[str], Side | None] | None = None
    ) -> bytes:
        """Run; return stdout bytes or raise SkopeoError (secrets removed from its text) or Cancelled."""
        if self._cancelled:
            raise Cancelled
        try:
            result = self._runner(command.argv(), timeout=timeout, pass_fds=command.descriptors())
        except subprocess.TimeoutExpired:
            raise SkopeoError(
                Failure.TIMEOUT, f"no answer within {timeout:g}s (skopeo {command.verb.value} was stopped)", verb=command.verb
            ) from None
        except OSError as exc:
            raise UserError(f"cannot run {self.binary}: {exc.strerror}") from None
        if result.returncode != 0:
            stderr = result.stderr.decode("utf-8", "replace") if isinstance(result.stderr, bytes) else str(result.stderr or "")
            kind, detail = classify(stderr)
            side = blame(_message(stderr)) if blame else None
            raise SkopeoError(kind, redact(detail, command.secrets()), side, command.verb)
        return result.stdout if isinstance(result.stdout, bytes) else str(result.stdout).encode()

    def inspect(self, ref: ImageRef, access: Access, timeout: float | None) -> Manifest:
        return Manifest(self.run(self.inspect_command(ref, access), timeout))

    def copy(
        self, source: ImageRef, destination: ImageRef, src: Access, dest: Access, timeout: float | None
    ) -> None:
        self.run(
            self.copy_command(source, destination, src, dest), timeout,
            lambda message: _copy_side(message, source, destination),
        )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


__all__ = [
    "MASK",
    "SKOPEO_ENV",
    "Cancelled",
    "Child",
    "Command",
    "Failure",
    "Manifest",
    "Skopeo",
    "SkopeoError",
    "Verb",
    "classify",
    "redact",
    "transport",
]
