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
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


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
