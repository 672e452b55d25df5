"""Calling a learner's function safely: under a time limit, on copies, checked for mutation.

    outcome = call(fn, args, names, limit=10.0)      # args: the course's positional arguments

Every call

- gets deep copies of its arguments, and afterwards what it got is compared with a pristine
  copy: a function that writes into an input (`dA[Z <= 0] = 0` on the caller's dA) is named;
- runs under a time limit (SIGALRM through `signal.setitimer` in the main thread, restoring
  any timer that was set before, e.g. pytest-timeout's; a daemon thread elsewhere, which a
  hung function keeps busy in the background);
- runs with NumPy's floating-point errors and Python's warnings silenced (the course's
  `1 / (1 + np.exp(-z))` overflows at z = -800 and is right), so the values decide;
- leaves NumPy's global random state as it found it (the course's initializers call
  `np.random.seed`).

A function that raises, hangs or mutates gives an `Outcome` whose `problem` is one line.
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

TIME_LIMIT = 10.0       # seconds a call may take (the course's functions take microseconds)
HERE = os.path.dirname(os.path.abspath(__file__))


class TimedOut(BaseException):
    """The call ran past its limit (a BaseException, so a learner's `except Exception` cannot
    swallow it)."""


@dataclass
class Outcome:
    """What one call gave: its value, or a one-line `problem`."""

    value: Any = None
    problem: str = ""
    hint: str = ""          # a likely cause of the problem, when the error says one


def call(fn: Callable[..., Any], args: Sequence[Any], names: Sequence[str], limit: float = TIME_LIMIT,
         kwargs: dict[str, Any] | None = None, may_mutate: frozenset[str] = frozenset()) -> Outcome:
    """`fn(*args, **kwargs)` on copies, under `limit` seconds; `names` name the arguments (as the
    course does) in the problem line; those in `may_mutate` may be changed in place."""
    pristine = copy.deepcopy(list(args))
    given = copy.deepcopy(list(args))
    try:
        value = limited(lambda: quietly(fn, given, kwargs or {}), limit)
    except TimedOut:
        return Outcome(problem=f"did not return within {limit:g} s (an endless loop?)")
    except Exception as exc:
        return Outcome(problem=f"raised {raised(exc)}", hint=shape_hint(exc))
    changed = [name for name, before, after in zip(names, pristine, given, strict=False)
               if name not in may_mutate and not same(before, after)]
    if changed:
        return Outcome(value, problem=f"changes its input {' and '.join(changed)} in place "
                                      "(work on a copy, e.g. np.array(x, copy=True))")
    return Outcome(value)


def quietly(fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    """`fn(*args)` with NumPy's errors and all warnings silenced, NumPy's global random state
    restored afterwards."""
    state = np.random.get_state()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    finally:
        np.random.set_state(state)


def limited(work: Callable[[], Any], limit: float) -> Any:
    """`work()`, raising TimedOut past `limit` seconds."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        with alarm(limit):
            return work()
    return in_thread(work, limit)


@contextlib.contextmanager
def alarm(limit: float) -> Iterator[None]:
    """SIGALRM after `limit` seconds raises TimedOut; the previous handler and timer come back."""
    def ring(signum: int, frame: object) -> None:
        raise TimedOut
    previous = signal.signal(signal.SIGALRM, ring)
    delay, interval = signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if delay > 0:                        # someone else's timer: give it its remaining time
            left = max(delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, interval)


def in_thread(work: Callable[[], Any], limit: float) -> Any:
    """`work()` in a daemon thread, waited for `limit` seconds (outside the main thread)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:     # handed to the caller's thread
            box["error"] = exc
    worker = threading.Thread(target=run, daemon=True, name="nncompare-check-call")
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise TimedOut
    if "error" in box:
        raise box["error"]
    return box.get("value")


def same(a: Any, b: Any) -> bool:
    """Whether two argument values are equal: arrays by shape, dtype and every entry (NaN equal
    to NaN), dicts, lists and tuples entry by entry."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    try:
        return bool(a == b)
    except Exception:
        return False


def learner_frames(exc: BaseException) -> list[traceback.FrameSummary]:
    """The traceback's frames outside NumPy, torch and this package: the learner's code."""
    skip = (f"{os.sep}numpy{os.sep}", f"{os.sep}torch{os.sep}")
    return [f for f in traceback.extract_tb(exc.__traceback__)
            if not any(s in f.filename for s in skip) and not f.filename.startswith(HERE)]


def raised(exc: BaseException) -> str:
    """'ValueError: shapes (3,7) and (4,7) not aligned (course.py:87: dW = np.dot(dZ, A_prev))'."""
    message = " ".join(str(exc).split()) or "(no message)"
    frames = learner_frames(exc)
    where = (f" ({os.path.basename(frames[-1].filename)}:{frames[-1].lineno}: "
             f"{(frames[-1].line or '').strip()})") if frames else ""
    return f"{type(exc).__name__}: {message}{where}"


def shape_hint(exc: BaseException) -> str:
    """A likely cause read off NumPy's shape errors ('' when the error names none)."""
    text = str(exc)
    if "not aligned" in text or "core dimension" in text:
        return "the shapes of a matrix product do not fit: a missing transpose (.T)?"
    if "broadcast" in text:
        return "shapes that do not broadcast: a missing keepdims=True, or a transpose?"
    return ""
