"""The image lock file (``images.lock.yaml``): what was mirrored, and the digest it resolved to.

``mirror`` writes it; the post-renderer reads it with ``--pin LOCK`` (setting ``pin``)
and then writes ``destination@sha256:...`` for every image, so what runs is exactly what
was mirrored. Format::

    apiVersion: jhub-ck8s.io/v1alpha1
    kind: ImageLock
    images:
      - source: quay.io/jupyterhub/k8s-hub:4.4.0          # normalised source reference
        digest: sha256:...                                # resolved at the source (index digest)
        destination: harbor.example.com/jupyterhub/jupyterhub/k8s-hub:4.4.0
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from . import API_VERSION
from .errors import UserError

LOCK_API_VERSION = API_VERSION
LOCK_KIND = "ImageLock"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class LockEntry:
    source: str
    digest: str
    destination: str


@dataclass(frozen=True)
class ImageLock:
    entries: tuple[LockEntry, ...]

    def by_source(self) -> dict[str, LockEntry]:
        return {entry.source: entry for entry in self.entries}

    def by_destination(self) -> dict[str, LockEntry]:
        return {entry.destination: entry for entry in self.entries}

    def to_yaml(self) -> str:
        from .documents import dump_yaml

        return dump_yaml(
            {
                "apiVersion": LOCK_API_VERSION,
                "kind": LOCK_KIND,
                "images": [
                    {"source": e.source, "digest": e.digest, "destination": e.destination}
                    for e in sorted(self.entries, key=lambda e: e.source)
                ],
            }
        )


def merge(old: ImageLock | None, new: Iterable[LockEntry]) -> ImageLock:
    entries = {e.source: e for e in (old.entries if old else ())}
    entries.update({e.source: e for e in new})
    return ImageLock(tuple(entries[k] for k in sorted(entries)))


def load(path: str) -> ImageLock:
    """Read and validate a lock file; UserError with one line for anything wrong."""
    from .documents import load_yaml

    try:
        with open(path, encoding="utf-8") as handle:
            raw = load_yaml(handle.read())
    except OSError as exc:
        raise UserError(f"lock file {path}: cannot read it ({exc.strerror}); run helm ck8s-jupyter mirror first") from None
    except Exception:
        raise UserError(f"lock file {path}: not valid YAML") from None
    if not isinstance(raw, dict) or raw.get("kind") != LOCK_KIND or not isinstance(raw.get("images"), list):
        raise UserError(f"lock file {path}: expected kind {LOCK_KIND} with a list of images")
    entries = []
    for i, item in enumerate(raw["images"]):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("source", "digest", "destination")):
            raise UserError(f"lock file {path}: images[{i}] needs source, digest and destination strings")
        if not _DIGEST.match(item["digest"]):
            raise UserError(f"lock file {path}: images[{i}].digest is not a sha256 digest")
        entries.append(LockEntry(item["source"], item["digest"], item["destination"]))
    return ImageLock(tuple(entries))


class LockFile:
    """The lock file ``mirror`` writes: checked before the first copy, merged on every write.

    * ``prepare()`` fails with one line, before anything is copied, when the folder does not
      exist or cannot be written, or an existing file is not a valid lock;
    * ``add(entry)`` takes an exclusive ``flock`` on the folder, reads the file as it is on
      disk now, merges the entry and replaces the file atomically: runs that share one lock
      file (threads of one run, or concurrent runs) never lose each other's entries, and a
      reader never sees half a file;
    * an existing file keeps its mode (and owner and group, where allowed); a new one gets
      the mode the umask gives a new file.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.folder = os.path.dirname(os.path.abspath(path))
        self.written = False  # by this object, at least once

    def prepare(self, *, try_write: bool = True) -> None:
        """The checks before the first copy; ``try_write`` (not in a dry run) also writes
        the file as ``add`` will, with the content it has: permission bits do not tell
        everything (root, an immutable file or folder, a read-only mount, another user's
        file in a sticky folder)."""
        if not os.path.isdir(self.folder):
            raise UserError(f"--lock {self.path}: the folder {self.folder} does not exist; create it or choose another path")
        if os.path.isdir(self.path):
            raise UserError(f"--lock {self.path}: is a folder; name a file")
        if not os.access(self.folder, os.W_OK | os.X_OK):
            raise UserError(f"--lock {self.path}: the folder {self.folder} is not writable")
        if os.path.exists(self.path):
            load(self.path)
        if try_write:
            try:
                with self._locked():
                    self._replace(None)
            except OSError as exc:
                raise UserError(
                    f"--lock {self.path}: cannot write it ({exc.strerror}); nothing was copied. Make it writable "
                    "(lsattr/chattr -i for an immutable file or folder, a read-write mount) or choose another path"
                ) from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        import fcntl

        descriptor = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # releases the lock

    def add(self, entry: LockEntry) -> ImageLock:
        """The lock as written; UserError (one line) when it cannot be written."""
        try:
            return self._add(entry)
        except OSError as exc:
            raise UserError(f"--lock {self.path}: cannot write it ({exc.strerror})") from None

    def _add(self, entry: LockEntry) -> ImageLock:
        with self._locked():
            current = self._replace(entry)
            self.written = True
            return current

    def _replace(self, entry: LockEntry | None) -> ImageLock:
        """Merge ``entry`` into the file on disk and replace it atomically; with None, write
        back exactly the bytes it has (a new file: create a temporary one and remove it)."""
        try:
            info: os.stat_result | None = os.stat(self.path)
        except FileNotFoundError:
            info = None
        current = merge(load(self.path) if info else None, [entry] if entry else [])
        if entry is None and info:
            with open(self.path, "rb") as handle:
                content = handle.read()
        else:
            content = current.to_yaml().encode()
        tmp = os.path.join(self.folder, f".{os.path.basename(self.path)}.{uuid.uuid4().hex[:8]}.tmp")
        # 0o666 minus the umask for a new file, like any new file; an old file's own mode
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if info else 0o666)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                if info:
                    os.fchmod(handle.fileno(), stat.S_IMODE(info.st_mode))
                    with contextlib.suppress(OSError):
                        os.fchown(handle.fileno(), info.st_uid, info.st_gid)
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            if entry is None and not info:
                os.unlink(tmp)  # the folder takes a new file; there is nothing to write yet
            else:
                os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return current
