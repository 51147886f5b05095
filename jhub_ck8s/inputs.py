"""Reading what the user hands us, a file or stdin, as UTF-8 text: one place, one-line errors."""

from __future__ import annotations

import sys

from .errors import UserError


def read_text(source: str, *, label: str | None = None, error: type[UserError] = UserError) -> str:
    """The text of file ``source``, or of stdin for ``-``; ``error`` with one line if it cannot be read.

    ``label`` names the source in messages (default: the path, or ``stdin``).
    """
    name = label or ("stdin" if source == "-" else source)
    try:
        if source == "-":
            if sys.stdin is None:
                raise error(f"{name} is closed: pipe the input in")
            data = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as handle:
                data = handle.read()
    except OSError as exc:
        raise error(f"{name}: cannot read it ({exc.strerror})") from None
    return decode(data, name, error=error)


def decode(data: bytes, name: str, *, error: type[UserError] = UserError) -> str:
    """``data`` (read from ``name``: a file, stdin, an archive member) as UTF-8 text; ``error`` if it is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{name}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
