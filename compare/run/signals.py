"""The signals that stop a run: Ctrl-C (SIGINT), SIGTERM (`kill`, a scheduler's stop) and
SIGHUP (the terminal closed), all handled alike; imports nothing but the standard library, so
that the command line installs it before anything else (`install_early`).

A signal that the parent set to be ignored (`nncompare &` in a script, `nohup`) stays ignored:
the state each signal has when this module is first imported is remembered, and no handler
here ever replaces an inherited SIG_IGN.

    install_early()   while the program starts (imports): a signal prints one line and exits
                      at once with 128 + the signal's number (there is nothing to save yet)
    install_raising() from `main` on: a signal raises `Interrupted` (a KeyboardInterrupt)
                      where the program is, which `main` turns into that exit code

`compare.run.job.StopAtStep` takes them over while a model trains.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

STOPS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _inherited() -> frozenset[int]:
    """The stop signals ignored when this process started (SIG_IGN from the parent)."""
    ignored = set()
    for sig in STOPS:
        try:
            if signal.getsignal(sig) == signal.SIG_IGN:
                ignored.add(int(sig))
        except (ValueError, OSError):      # not the main thread's to read: leave it alone
            ignored.add(int(sig))
    return frozenset(ignored)


IGNORED = _inherited()


class Interrupted(KeyboardInterrupt):
    """A stop signal, raised where the program was; `where` says what was saved (set by the
    code that knew it), `code` is the exit code (128 + the signal's number)."""

    def __init__(self, signum: int = int(signal.SIGINT), where: str = "") -> None:
        super().__init__(where or name(signum))
        self.signum, self.where = int(signum), where

    @property
    def code(self) -> int:
        return 128 + self.signum


def name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def handled() -> tuple[signal.Signals, ...]:
    """The stop signals this process may handle: those not ignored by inheritance."""
    return tuple(sig for sig in STOPS if int(sig) not in IGNORED)


def _exit_now(signum: int, frame: FrameType | None) -> None:
    try:
        os.write(2, f"nncompare: interrupted ({name(signum)}) while starting; nothing was "
                    "written\n".encode())
    finally:
        os._exit(128 + signum)


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def install(handler: object) -> dict[int, object]:
    """Set `handler` for every handled stop signal (main thread only); the previous ones."""
    previous: dict[int, object] = {}
    for sig in handled():
        try:
            previous[int(sig)] = signal.signal(sig, handler)  # type: ignore[arg-type]
        except ValueError:                 # not the main thread: signals are not ours
            break
    return previous


def restore(previous: dict[int, object]) -> None:
    for sig, handler in previous.items():
        if handler is not None:
            signal.signal(sig, handler)  # type: ignore[arg-type]


def install_early() -> None:
    install(_exit_now)


def install_raising() -> None:
    install(_raise)
