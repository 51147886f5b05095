"""Errors that end a run with a one-line message for a person, and the exit codes.

Exit codes (the same for the post-renderer and every `helm ck8s-jupyter` command):

* 0 -- success (findings of severity warning or info may have been reported);
* 1 -- policy errors in enforce mode: the release would not be admitted;
* 2 -- bad input or bad settings: nothing was rendered;
* 3 -- an internal error (a bug in jhub-ck8s); set JHUB_CK8S_DEBUG=1 for a traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_POLICY = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 3


class UserError(Exception):
    """An error caused by what the user gave us; the message is the whole explanation."""

    exit_code = EXIT_INPUT


class UsageError(UserError):
    """Flags that do not parse; the message is the whole line to print (argparse's usage error)."""


class InputError(UserError):
    """The rendered stream cannot be read (malformed YAML, not a Kubernetes object, ...)."""


class SettingsError(UserError):
    """A setting is unknown, has the wrong type or an impossible value.

    Besides the message, it says which setting (``key``, such as ``registry`` or
    ``patches[0].target``), what is wrong with it (``reason``) and where it was given
    (``origin``), so a caller can name the flag the user typed without reading the text.
    """

    def __init__(self, message: str, *, key: str = "", reason: str = "", origin: str = "") -> None:
        super().__init__(message)
        self.key = key
        self.reason = reason or message
        self.origin = origin

    @property
    def setting(self) -> str:
        """The top-level setting named by ``key`` (``patches`` for ``patches[0].target``)."""
        return self.key.split(".", 1)[0].split("[", 1)[0]


def shape_of(value: object) -> str:
    """A value's shape in words ("a number", "a list"), for messages that must not show it.

    Values may come from a Secret; messages name shapes and key paths, never contents.
    """
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


DEBUG_ENV = "JHUB_CK8S_DEBUG"


def internal_error_line(exc: BaseException) -> str:
    """One line for a bug, with no exception text (it could quote the Secret); a traceback with $JHUB_CK8S_DEBUG."""
    import os
    import traceback

    if os.environ.get(DEBUG_ENV):
        traceback.print_exc()
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {os.path.basename(frame.filename)}:{frame.lineno}" if frame else ""
    return f"jhub-ck8s: internal error ({type(exc).__name__}{where}); please report it (set {DEBUG_ENV}=1 for a traceback)"
