"""Registry credentials: what the user gave, which registry each value is for, and the auth
files skopeo reads them from. Running skopeo is ``jhub_ck8s.skopeo``'s job.

Guarantees:

* **credentials belong to one registry**: each ``Credentials`` is bound to a registry host
  (``HOST=USER:PASS``; ``bind`` binds an unscoped value only when exactly one registry is
  involved, and refuses otherwise), and skopeo gets them in an auth file that holds that
  one host only, so no other registry ever sees them. Hosts are compared as
  ``imageref.host_key`` compares them (case-insensitive, Docker Hub's aliases are one);
  ``unused`` names the hosts a value was given for that the run never talks to;
* **credentials never touch the command line, nor a name**: the auth file is an anonymous
  in-memory file (``memfd``) passed to skopeo as ``/dev/fd/N``; where the system has no
  memfd, a 0600 file in a 0700 folder that ``close()`` removes (the command layer calls it
  on every exit path, signals included). The names of those files are random: nothing in
  ``ps`` or ``$TMPDIR`` is derived from a host, a user or a password;
* **the children do not inherit them**: ``child_environment`` is the environment without
  ``$JHUB_CK8S_SRC_CREDS`` and ``$JHUB_CK8S_DEST_CREDS``.

>>> Credentials.parse("robot:t0ken", "--dest-creds")
Credentials(user='robot')
>>> GivenCredentials.parse("Quay.IO=reader:pw", "--src-creds").host
'quay.io'
"""

from __future__ import annotations

import base64
import contextlib
import enum
import json
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .errors import UserError
from .imageref import ImageRefError, host_key, split_registry_path

SRC_CREDS_ENV = "JHUB_CK8S_SRC_CREDS"
DEST_CREDS_ENV = "JHUB_CK8S_DEST_CREDS"
CREDENTIAL_ENVS = (SRC_CREDS_ENV, DEST_CREDS_ENV)


class Side(enum.Enum):
    """The two sides of a copy; each has its own credentials."""

    SOURCE = "source"
    DESTINATION = "destination"

    @property
    def flag(self) -> str:
        return "--src-creds" if self is Side.SOURCE else "--dest-creds"

    @property
    def env(self) -> str:
        return SRC_CREDS_ENV if self is Side.SOURCE else DEST_CREDS_ENV


def normalize_host(host: str) -> str:
    """A registry host as credentials are keyed: ``imageref.host_key`` (the one definition)."""
    return host_key(host)


def child_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: this process's) without the credentials variables."""
    return {k: v for k, v in (os.environ if environ is None else environ).items() if k not in CREDENTIAL_ENVS}


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
    bound: dict[str, Credentials] = {}
    unscoped = [g for g in given if g.host is None]
    for item in given:
        if item.host is not None:
            if item.host in bound:
                raise UserError(f"{item.origin}: {item.host} is given twice; give one value per registry")
            bound[item.host] = item.credentials
    if unscoped:
        origin = unscoped[0].origin
        fix = f"bind each value to its registry, {side.flag} HOST=USER:PASS (repeatable), or use an auth file (--authfile)"
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


def unused(given: Sequence[GivenCredentials], hosts: Iterable[str], side: Side) -> list[str]:
    """One line per value bound to a host this side of the run never talks to (a typo, or a
    registry the release no longer uses); names the host and where the value came from,
    never the value."""
    wanted = {normalize_host(host) for host in hosts}
    return [
        f"{item.origin}: credentials for {item.host} are not used: no {side.value} image is on {item.host}"
        + (f" (this run's {side.value} registries: {', '.join(sorted(wanted))})" if wanted else "")
        for item in given
        if item.host is not None and item.host not in wanted
    ]


@dataclass(frozen=True)
class Access:
    """How to reach the registries of one side: credentials by host, auth file, TLS."""

    credentials: Mapping[str, Credentials] = field(default_factory=dict)
    authfile: str | None = None
    tls_verify: bool = True

    def for_host(self, host: str) -> Credentials | None:
        return self.credentials.get(normalize_host(host))


def auth_file_paths(authfile: str | None, environ: Mapping[str, str] | None = None) -> list[str]:
    """Where skopeo looks for stored logins, in its order: ``--authfile``, else
    ``$REGISTRY_AUTH_FILE``, else ``$XDG_RUNTIME_DIR/containers/auth.json``,
    ``~/.config/containers/auth.json`` and ``~/.docker/config.json``."""
    env = os.environ if environ is None else environ
    if authfile or env.get("REGISTRY_AUTH_FILE"):
        return [authfile or env["REGISTRY_AUTH_FILE"]]
    home = env.get("HOME") or os.path.expanduser("~")
    paths = [os.path.join(env["XDG_RUNTIME_DIR"], "containers", "auth.json")] if env.get("XDG_RUNTIME_DIR") else []
    return [*paths, os.path.join(home, ".config", "containers", "auth.json"), os.path.join(home, ".docker", "config.json")]


def stored_credentials(host: str, authfile: str | None) -> Credentials | None:
    """The login an auth file holds for ``host`` (the first file that has one), or None.
    Credential helpers are not run; a file that cannot be read is passed over."""
    wanted = normalize_host(host)
    for path in auth_file_paths(authfile):
        try:
            with open(path, encoding="utf-8") as handle:
                auths = json.load(handle).get("auths") or {}
        except (OSError, ValueError, AttributeError):
            continue
        for key, entry in auths.items() if isinstance(auths, dict) else ():
            name = str(key).removeprefix("https://").removeprefix("http://").split("/", 1)[0]
            if normalize_host(name) != wanted or not isinstance(entry, dict) or not isinstance(entry.get("auth"), str):
                continue
            try:
                user, sep, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except ValueError:
                continue
            if sep and user and password:
                return Credentials(user, password)
    return None


class AuthFiles:
    """One auth file per (registry, credentials) holding only that registry.

    In memory (memfd, shown to skopeo as /dev/fd/N) where the system has it: nothing on
    disk, nothing to clean up even after ``kill -9``. Otherwise a private folder that
    ``close`` removes. File names are random: they carry nothing about what is inside.
    """

    def __init__(self, in_memory: bool) -> None:
        self.in_memory = in_memory
        self._by_key: dict[tuple[str, Credentials], tuple[str, int | None]] = {}
        self._folder: str | None = None
        self._guard = threading.Lock()  # threads build commands at the same time

    @property
    def folder(self) -> str | None:
        return self._folder

    def get(self, registry: str, creds: Credentials) -> tuple[str, int | None]:
        """(path, descriptor to pass to the child or None)."""
        key = (registry, creds)  # in this process's memory only
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
                self._by_key[key] = self._file(content)
            return self._by_key[key]

    @staticmethod
    def _memory(content: bytes) -> tuple[str, int]:
        descriptor = os.memfd_create("jhub-ck8s-auth", os.MFD_CLOEXEC)
        os.write(descriptor, content)
        return f"/dev/fd/{descriptor}", descriptor

    def _file(self, content: bytes) -> tuple[str, None]:
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="jhub-ck8s-auth-")  # 0700
        path = os.path.join(self._folder, f"{secrets.token_hex(8)}.json")
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


__all__ = [
    "CREDENTIAL_ENVS",
    "DEST_CREDS_ENV",
    "SRC_CREDS_ENV",
    "Access",
    "AuthFiles",
    "Credentials",
    "GivenCredentials",
    "Side",
    "auth_file_paths",
    "bind",
    "child_environment",
    "normalize_host",
    "stored_credentials",
    "unused",
]
