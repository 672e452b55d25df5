"""Failures of the environment, not of nncompare: a full disk, a folder made read-only, a
standard output that cannot be written. Each is one line naming the path and the error
(`nncompare` exits 2), and whatever was complete is kept.

TensorBoard's writers write from a thread of their own: an error there is raised again in
the main thread on the next write (and reported as above), so `quiet_writer_threads` keeps
the thread's own traceback off the terminal.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO

# what the machine, not the program, is to blame for
ENVIRONMENT = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EDQUOT,
               errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EMFILE, errno.ENFILE, errno.ENAMETOOLONG}


class EnvironmentFailure(Exception):
    """An OSError of the environment, with the path it happened at and what was kept."""


def is_environmental(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in ENVIRONMENT


def environment_failure(exc: OSError, path: object, kept: str = "") -> str:
    """'cannot write PATH (No space left on device)[; KEPT]'."""
    where = exc.filename if exc.filename is not None else path
    why = exc.strerror or os.strerror(exc.errno) if exc.errno else str(exc)
    text = f"cannot write {where} ({why})" if where is not None else f"{why}"
    return text + (f"; {kept}" if kept else "")


def _writer_thread(args: threading.ExceptHookArgs) -> bool:
    thread = args.thread
    return thread is not None and type(thread).__name__ == "_AsyncWriterThread" and \
        isinstance(args.exc_value, OSError)


@contextlib.contextmanager
def quiet_writer_threads() -> Iterator[None]:
    """While active, an OSError that ends a TensorBoard writer thread prints nothing there
    (the writer raises it again in the main thread, which reports it)."""
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if not _writer_thread(args):
            previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous


class NamedOutput:
    """Standard output whose write errors name it: an OSError there (a full disk behind
    `> file`, /dev/full) comes out with the filename 'standard output', as a file's would,
    so that it is reported as the one line of an environment failure. Everything else is
    the stream's own."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as exc:
            raise _named(exc) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            raise _named(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _named(exc: OSError) -> OSError:
    """`exc` with the filename 'standard output' (the subclass its errno gives: a reader that
    left is still a BrokenPipeError)."""
    if exc.filename is not None or exc.errno is None:
        return exc
    return OSError(exc.errno, exc.strerror or os.strerror(exc.errno), "standard output")


@contextlib.contextmanager
def named_stdout() -> Iterator[None]:
    """While active, sys.stdout is a `NamedOutput` of what it was (put back after, unless the
    block has replaced it, as it does to silence an output that failed)."""
    stream = sys.stdout
    named = NamedOutput(stream)
    sys.stdout = named  # type: ignore[assignment]
    try:
        yield
    finally:
        if sys.stdout is named:
            sys.stdout = stream
