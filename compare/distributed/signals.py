"""Stop signals while ranks run on this machine: the terminal's Ctrl-C, SIGTERM and SIGHUP go
to the launcher alone, which passes each on to rank 0; rank 0 stops as one process does (after
its step, checkpoints written, logs closed) and tells the other ranks (`ddp.Coordinator`).

    detach(folder)   in each rank, first: a process group of its own (the terminal signals
                     the foreground group, which is the launcher's), killed with the launcher
                     (Linux), rank 0's pid left in `folder` for the Relay
    ignore()         in each rank, once its work is done: the teardown is not cut short
    Relay(folder)    in the launcher, while the ranks run: a stop signal passed on to rank 0
                     (before rank 0 is up, the ranks killed and the signal raised here at
                     once: there is nothing to save yet), every rank killed `GRACE_S` after
                     the first one; `signum` says it came

Without the Relay a Ctrl-C would reach every rank at once: rank 0 twice (from the terminal
and from the agent, so it would stop at once, without checkpoints), and the others in the
middle of a collective. A signal this process ignores (inherited SIG_IGN) stays ignored. A
rank is detached only once it runs (after its imports, a few seconds): a terminal's Ctrl-C
before that reaches it too, and it stops at once, saying so.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

GRACE_S = 15.0            # after the first stop signal, every rank still alive is killed
SIGINT = int(signal.SIGINT)
STOPS = tuple(int(getattr(signal, name)) for name in ("SIGINT", "SIGTERM", "SIGHUP")
              if hasattr(signal, name))
PID_FILE = "rank-0.pid"
PR_SET_PDEATHSIG = 1      # prctl(2): the signal this process gets when its parent dies


def detach(folder: Path) -> None:
    """This rank in a process group of its own and, on Linux, killed when the launcher dies
    (no rank outlives it); rank 0 writes its pid to `folder`."""
    launcher = os.getppid()
    if hasattr(os, "setpgrp"):
        os.setpgrp()
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
        if os.getppid() != launcher:          # the launcher died before the line above
            os._exit(1)
    if os.environ.get("RANK") == "0":
        partial = folder / f"{PID_FILE}.partial"
        partial.write_text(str(os.getpid()))
        os.replace(partial, folder / PID_FILE)


def ignore() -> None:
    """The rest of this rank's life (the teardown, once its work is done): stop signals
    ignored, so that a late one cannot cut the teardown short; `Relay`'s timer still ends it."""
    if threading.current_thread() is threading.main_thread():
        for sig in STOPS:
            signal.signal(sig, signal.SIG_IGN)


@contextlib.contextmanager
def agent_environment() -> Iterator[None]:
    """TORCHELASTIC_SIGNALS_TO_HANDLE, which the launcher sets for good, as it was after it."""
    name = "TORCHELASTIC_SIGNALS_TO_HANDLE"
    before = os.environ.get(name)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


class Relay:
    """A stop signal to this process goes on to rank 0 (a second one too: rank 0 then stops at
    once); `GRACE_S` after the first, every rank this launch started is killed (SIGKILL)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.signum: int | None = None
        self.previous: dict[int, object] = {}
        self.before: set[int] = set()
        self.timer: threading.Timer | None = None

    def __enter__(self) -> Relay:
        self.before = set(self.ranks())
        if threading.current_thread() is threading.main_thread():
            for sig in STOPS:
                if signal.getsignal(sig) != signal.SIG_IGN:
                    self.previous[sig] = signal.signal(sig, self.handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.timer is not None:
            self.timer.cancel()
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def ranks(self) -> list[int]:
        """The pids of the ranks this launch started that are still alive."""
        return [p.pid for p in multiprocessing.active_children()
                if p.pid is not None and p.pid not in self.before]

    def rank0(self) -> int | None:
        try:
            pid = int((self.folder / PID_FILE).read_text())
        except (OSError, ValueError):
            return None
        return pid if pid in self.ranks() else None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        first = self.signum is None
        self.signum = self.signum or signum
        pid = self.rank0()
        if pid is None:                # rank 0 not up (or gone): nothing to finish, so any
            self.kill()                # rank still starting goes now, silently
            raise KeyboardInterrupt
        if first:
            self.timer = threading.Timer(GRACE_S, self.kill)
            self.timer.daemon = True
            self.timer.start()
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    def kill(self) -> None:
        for pid in self.ranks():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
