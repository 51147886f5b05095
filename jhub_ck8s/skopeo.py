"""The skopeo wrapper: every ``skopeo`` call of the project, the credentials it hands over,
and what its failures mean. The mirroring logic (``jhub_ck8s.mirror``) sits on top.

Guarantees:

* **credentials belong to one registry**: each ``Credentials`` is bound to a registry host
  (``HOST=USER:PASS``; ``bind`` binds an unscoped value only when exactly one registry is
  involved, and refuses otherwise), and skopeo gets them in an auth file that holds that
  one host only, so no other registry ever sees them;
* **credentials never touch the command line or the disk**: the auth file is an anonymous
  in-memory file (``memfd``) passed to skopeo as ``/dev/fd/N``; where the system has no
  memfd, a 0600 file in a 0700 folder that ``close()`` removes (the command layer calls it on
  every exit path, signals included). Commands are shown as ``--dest-creds ***``, and every
  message taken from skopeo's output has the secrets removed;
* **calls end**: each call runs in its own process group, with a time-out; a call that
  outlives it is killed with its whole group (``Failure.TIMEOUT``), and ``cancel()`` kills
  every running call's group and refuses new ones (``Cancelled``);
* **failures are typed**: ``SkopeoError`` carries a ``Failure`` kind, the ``Side`` of a copy
  it was on when skopeo says so, and skopeo's own message in one line. Callers never parse
  message text.

>>> Credentials.parse("robot:t0ken", "--dest-creds")
Credentials(user='robot')
>>> GivenCredentials.parse("quay.io=reader:pw", "--src-creds").host
'quay.io'
"""

from __future__ import annotations

import base64
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
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import UserError
from .imageref import DOCKER_HUB, ImageRef, ImageRefError, split_registry_path

SKOPEO_ENV = "JHUB_CK8S_SKOPEO"  # path of the skopeo binary (default: skopeo on PATH)
MASK = "***"
INDEX_MEDIA_TYPES = frozenset(
    {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
)


class Side(enum.Enum):
    SOURCE = "source"
    DESTINATION = "destination"


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


# --- credentials ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """``USER:PASS``. ``repr`` never shows the password."""

    user: str
    password: str = field(repr=False)

    @classmethod
    def parse(cls, text: str, origin: str) -> Credentials:
        """From ``USER:PASS``; the message for a bad value never quotes it."""
        user, sep, password = text.partition(":")
        if not sep or not user or not password:
            raise UserError(f"{origin}: expected [HOST=]USER:PASS (the value is not shown)")
        return cls(user, password)

    @property
    def argument(self) -> str:
        return f"{self.user}:{self.password}"


def normalize_host(host: str) -> str:
    host = host.lower().rstrip("/")
    return DOCKER_HUB if host in ("index.docker.io", "registry-1.docker.io") else host


@dataclass(frozen=True)
class GivenCredentials:
    """One credentials value as the user gave it: bound to a registry host, or not (yet)."""

    credentials: Credentials
    host: str | None  # None: not scoped; ``bind`` decides whether that is unambiguous
    origin: str  # where it came from, for messages: "--src-creds", "$JHUB_CK8S_SRC_CREDS"

    @classmethod
    def parse(cls, text: str, origin: str) -> GivenCredentials:
        """``HOST=USER:PASS`` or ``USER:PASS``.

        A prefix before ``=`` counts as a host only if it reads as one (a name with a dot or
        a port, or ``localhost``) and a ``USER:PASS`` follows; so a password holding ``=``
        stays a password.
        """
        prefix, sep, rest = text.partition("=")
        if sep and ":" in rest:
            try:
                host, path = split_registry_path(prefix)
            except ImageRefError:
                host, path = "", ""
            if host and not path:
                return cls(Credentials.parse(rest, f"{origin} {host}="), normalize_host(host), origin)
        return cls(Credentials.parse(text, origin), None, origin)

    @classmethod
    def parse_lines(cls, text: str, origin: str) -> list[GivenCredentials]:
        """One value per line (environment variables and stdin); blank lines are skipped."""
        return [cls.parse(line.strip(), origin) for line in text.splitlines() if line.strip()]


def bind(given: Sequence[GivenCredentials], hosts: Iterable[str], side: Side) -> dict[str, Credentials]:
    """Credentials by registry host, for the ``hosts`` a run will talk to.

    An unscoped value is bound to the one host there is; with more than one host it is
    refused, because sending it to all of them hands it to registries it was not made for.
    """
    wanted = sorted({normalize_host(host) for host in hosts})
    flag = "--src-creds" if side is Side.SOURCE else "--dest-creds"
    bound: dict[str, Credentials] = {}
    unscoped = [g for g in given if g.host is None]
    for item in given:
        if item.host is not None:
            if item.host in bound:
                raise UserError(f"{item.origin}: {item.host} is given twice; give one value per registry")
            bound[item.host] = item.credentials
    if unscoped:
        origin = unscoped[0].origin
        fix = f"bind each value to its registry, {flag} HOST=USER:PASS (repeatable), or use an auth file (--authfile)"
        if len(unscoped) > 1 or bound:
            raise UserError(f"{origin}: more than one value, and not every one names its registry host: {fix}")
        if len(wanted) > 1:
            raise UserError(
                f"{origin} names no registry host, and this run talks to {len(wanted)} {side.value} registries "
                f"({', '.join(wanted)}): {fix}"
            )
        if wanted:
            bound[wanted[0]] = unscoped[0].credentials
    return bound


@dataclass(frozen=True)
class Access:
    """How to reach the registries of one side: credentials by host, auth file, TLS."""

    credentials: Mapping[str, Credentials] = field(default_factory=dict)
    authfile: str | None = None
    tls_verify: bool = True

    def for_host(self, host: str) -> Credentials | None:
        return self.credentials.get(normalize_host(host))


class _AuthFiles:
    """One auth file per (registry, credentials) holding only that registry.

    In memory (memfd, shown to skopeo as /dev/fd/N) where the system has it: nothing on
    disk, nothing to clean up even after ``kill -9``. Otherwise a private folder that
    ``close`` removes.
    """

    def __init__(self, in_memory: bool) -> None:
        self.in_memory = in_memory
        self._by_key: dict[str, tuple[str, int | None]] = {}
        self._folder: str | None = None
        self._guard = threading.Lock()  # threads build commands at the same time

    @property
    def folder(self) -> str | None:
        return self._folder

    def get(self, registry: str, creds: Credentials) -> tuple[str, int | None]:
        """(path, descriptor to pass to the child or None)."""
        key = hashlib.sha256(f"{registry}\0{creds.argument}".encode()).hexdigest()[:16]
        with self._guard:
            if key not in self._by_key:
                token = base64.b64encode(creds.argument.encode()).decode()
                content = json.dumps({"auths": {registry: {"auth": token}}}).encode()
                if self.in_memory:
                    try:
                        self._by_key[key] = self._memory(content)
                        return self._by_key[key]
                    except OSError:  # no memfd in this kernel or sandbox: files, then
                        self.in_memory = False
                self._by_key[key] = self._file(key, content)
            return self._by_key[key]

    @staticmethod
    def _memory(content: bytes) -> tuple[str, int]:
        descriptor = os.memfd_create("jhub-ck8s-auth", os.MFD_CLOEXEC)
        os.write(descriptor, content)
        return f"/dev/fd/{descriptor}", descriptor

    def _file(self, key: str, content: bytes) -> tuple[str, None]:
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="jhub-ck8s-auth-")  # 0700
        path = os.path.join(self._folder, f"{key}.json")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        return path, None

    def close(self) -> None:
        with self._guard:
            for _, descriptor in self._by_key.values():
                if descriptor is not None:
                    with contextlib.suppress(OSError):
                        os.close(descriptor)
            self._by_key.clear()
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None


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
    (Failure.MISSING, re.compile(r"manifest unknown|name unknown|not found|\b404\b", re.I)),
    (Failure.TIMEOUT, re.compile(r"timeout|timed out|deadline exceeded", re.I)),
    (Failure.UNREACHABLE, re.compile(r"connection refused|no such host|network is unreachable|no route to host|dial tcp", re.I)),
    (Failure.TRANSIENT, re.compile(
        r"connection reset|broken pipe|unexpected EOF|\bEOF\b|too many requests|\b429\b|"
        r"\b50[0-4]\b|internal server error|bad gateway|service unavailable|gateway time", re.I)),
)
_FATAL_MSG = re.compile(r'msg="((?:[^"\\]|\\.)*)"')
_NOISE = re.compile(r'^(?:Error parsing image name|initializing source|initializing destination) "?[^"]*"?: ')


def _message(stderr: str) -> str:
    """skopeo's fatal message, unquoted (the whole last line when it has none)."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "skopeo failed without a message"
    match = _FATAL_MSG.search(last)
    return match.group(1).replace('\\"', '"') if match else last.strip()


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
        self.env = env
        self._runner = runner or self._spawn
        self._auth = _AuthFiles(hasattr(os, "memfd_create") if in_memory is None else in_memory)
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
    "Access",
    "Cancelled",
    "Child",
    "Command",
    "Credentials",
    "Failure",
    "GivenCredentials",
    "Manifest",
    "Side",
    "Skopeo",
    "SkopeoError",
    "Verb",
    "bind",
    "classify",
    "normalize_host",
    "redact",
    "transport",
]
