"""SIGINT, SIGTERM and SIGHUP as a request to stop, for commands that run child processes.

Inside ``Interrupts()`` these signals no longer end the process on the spot (which would
orphan skopeo, skip every ``finally`` and leave credentials on disk): each one is recorded
and the registered callbacks run, in a thread of their own, because a signal handler runs
in the middle of whatever the main thread was doing and must not wait for a lock that code
may hold. The command then ends its work in order and exits with ``exit_code`` (128 + the
signal). SIGHUP is the terminal or ssh session going away. A signal the process was
started with ignored (``nohup``, a background job's SIGINT) stays ignored.

    with Interrupts() as interrupts, Skopeo.from_environment() as skopeo:
        interrupts.call(skopeo.cancel)
        ...
    if interrupts.received: return interrupts.exit_code
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupts:
    def __init__(self) -> None:
        self.received: list[signal.Signals] = []
        self._callbacks: list[Callable[[], None]] = []
        self._previous: dict[signal.Signals, object] = {}

    def call(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the first signal (now, if one already came)."""
        self._callbacks.append(callback)
        if self.received:
            callback()

    @property
    def exit_code(self) -> int:
        return 128 + int(self.received[0]) if self.received else 0

    @property
    def name(self) -> str:
        return self.received[0].name if self.received else ""

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signal.Signals(signum))
        if len(self.received) == 1:
            threading.Thread(target=self._fire, name="interrupt", daemon=True).start()

    def _fire(self) -> None:
        for callback in list(self._callbacks):
            callback()

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for sig in _SIGNALS:
                if signal.getsignal(sig) is not signal.SIG_IGN:
                    self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous = {}
