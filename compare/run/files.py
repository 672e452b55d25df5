"""Files written whole: the complete new file appears under its name, or the old one stays.

Every file nncompare writes (the JSON report, generated docs, benchmark results,
checkpoints) goes through `replace_atomically`: written to a temporary file in the
same folder, flushed to disk, given the mode `open()` would give it, then renamed
over the target in one step.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from compare.run import rundir
from scratch.errors import InvalidArgument

STARTED = time.time()     # a temporary file older than this process is no write in progress


def clean_stale(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files (`.NAME.*.tmp`) that writes killed mid-way left in `folder`
    and the folders below it, those older than this process; the paths deleted."""
    removed = []
    for tmp in Path(folder).rglob(".*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.is_file() and not tmp.is_symlink() and tmp.stat().st_mtime < STARTED:
                tmp.unlink()
                removed.append(tmp)
    return removed


def replace_atomically(path: str | os.PathLike, fill: Callable[[BinaryIO], object]) -> None:
    """Create or replace `path` with what `fill(file)` writes.

    Raises:
        OSError: the file or the folders above it cannot be written (no temporary file
            is left behind; an old file at `path` is untouched).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot create a file in {str(target.parent)!r}: "
                                 f"{exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def mode_for(target: Path) -> int:
    """The mode open() would give `target`: an existing file keeps its own, a new one
    0o666 less the umask (not the 0o600 of a temporary file)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~umask()


def umask() -> int:
    """The process's umask, read without changing it where the system shows it (Linux)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)      # elsewhere: set and restore it
    os.umask(mask)
    return mask


def check_output_file(flag: str, path: str | os.PathLike, *, stdout: bool = False) -> Path | None:
    """Check, before any work, that the file `--flag PATH` names can be written; create nothing.

    The path must not be empty nor a folder, and its nearest existing folder above it must be a
    folder nncompare can create files in (missing folders between are created when writing).
    With `stdout`, '-' means standard output (returns None); otherwise '-' is refused, as a
    file named '-' is almost never what was meant.

    Raises:
        InvalidArgument: naming the flag, the path and what was expected.
    """
    text = os.fspath(path)
    wanted = "a file path" + (", or - for standard output" if stdout else "")
    if not text.strip():
        raise InvalidArgument(f"{flag}: got {text!r}, expected {wanted}")
    if text == "-":
        if stdout:
            return None
        raise InvalidArgument(f"{flag}: got '-', expected a file path (this option cannot "
                              "write to standard output; write ./- for a file named '-')")
    target = Path(text)
    if target.is_dir():
        raise InvalidArgument(f"{flag}: {target} is a folder, expected {wanted}")
    existing = rundir.nearest_existing(target.parent)
    if not existing.is_dir():
        raise InvalidArgument(f"{flag}: cannot write {target}: {existing} is not a folder")
    why = rundir.cannot_create_in(existing)
    if why is not None:
        raise InvalidArgument(f"{flag}: cannot write {target}: nothing can be created in "
                              f"{existing} ({why}); expected a path in a writable folder")
    return target


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` atomically (`compare.run.files`): a complete file appears under `path`, or
    the old one stays; a new file gets the mode `open()` would give it.

    Raises:
        OSError: the file or the folders above it cannot be written (nothing is left behind).
    """
    replace_atomically(path, lambda f: f.write(text.encode()))
