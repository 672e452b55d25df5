"""A run's hold on its folder: an exclusive lock (`flock`) on `<experiment>/.nncompare-lock`,
taken before anything is written or cleared there and kept while the run lasts, so that two
runs never log into one folder nor clear each other's. A second run that wants the folder
(`--overwrite` of the same name, a `--resume` of it) is refused with one line naming the
process that holds it. The system lets go of the lock when the process ends, however it ends
(kill -9 too), so a folder is never left locked; the file itself stays, holding the id of the
last process that held it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from scratch.errors import InvalidArgument

try:
    import fcntl
except ImportError:          # no flock (Windows): folders are not locked there
    fcntl = None  # type: ignore[assignment]

LOCK = ".nncompare-lock"
_HELD: dict[Path, int] = {}    # folder -> the open lock file this process holds it by


def claim(folder: Path) -> None:
    """Hold `folder` for this run until `release` (or the process ends): an exclusive lock on
    its `.nncompare-lock`, which then holds this process's id. Claiming a folder this process
    holds already does nothing.

    Raises:
        InvalidArgument: another process holds it, or the lock file cannot be made (a file
            system that has no locks goes on unlocked).
    """
    if fcntl is None or _holds(folder):
        return
    try:
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise InvalidArgument(f"experiment: cannot claim {folder} for this run: cannot write "
                              f"{folder / LOCK} ({exc.strerror or exc})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _in_use(folder, fd) from None
    except OSError:                     # a file system without locks (some network ones)
        os.close(fd)
        return
    _HELD[folder.absolute()] = fd
    with contextlib.suppress(OSError):  # who holds it, for the message of the next one
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def check_free(folder: Path) -> None:
    """InvalidArgument, as `claim` raises it, if another process holds `folder` now; takes
    nothing and writes nothing (for what must be read before the folder is claimed, such as
    the checkpoints a resume starts from: a run that holds the folder may be replacing them)."""
    if fcntl is None or _holds(folder):
        return
    try:
        fd = os.open(folder / LOCK, os.O_RDONLY)
    except OSError:                     # no lock file: no run has held it, or it is unreadable
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _in_use(folder, fd) from None
    except OSError:
        pass
    os.close(fd)                        # (closing lets go of the probe's lock)


def _in_use(folder: Path, fd: int) -> InvalidArgument:
    """The refusal of a folder another process holds by the lock file open as `fd` (closed)."""
    holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
    os.close(fd)
    by = f" (pid {holder})" if holder.isdigit() else ""
    return InvalidArgument(f"experiment: {folder} is in use by another nncompare run{by}; "
                           "wait for it to end, or choose another name")


def _holds(folder: Path) -> bool:
    """Whether this process holds `folder`'s lock (on the lock file that is there now)."""
    fd = _HELD.get(folder.absolute())
    if fd is None:
        return False
    with contextlib.suppress(OSError):
        if os.fstat(fd).st_ino == os.stat(folder / LOCK).st_ino:
            return True
    release(folder)                    # the folder was deleted and made again meanwhile
    return False


def release(folder: Path) -> None:
    """Let go of a folder `claim` took (nothing if this process does not hold it)."""
    fd = _HELD.pop(folder.absolute(), None)
    if fd is not None:
        os.close(fd)
