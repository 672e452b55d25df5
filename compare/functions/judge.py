"""Judging one returned value against the reference: its structure, its numbers, a likely cause.

Structure first: a tuple of the right length, a dict with the course's keys, an array, one
number; anything else raises `Mismatch` with one line. Then each array is measured as the
harness measures (`compare.proof.metric.relative_error`): max |q - r| / max(s), where s is the
magnitude of the terms r is computed from, so a sum that cancels is not held to its own tiny
size. It passes at or under the tolerance of its dtype:

    float64   1e-12    float32   1e-5

Two correct implementations differ by a few units of roundoff u relative to s (u = 1.1e-16,
6.0e-8): the bounds are ~1e4 u and ~170 u, and the worst seen over the property tests is
listed in the README. A wrong formula is off by 1e-3 to 1.

A quantity that differs is examined for a likely cause, first by the contract's own list of
known mistakes (each recomputed in NumPy and matched to 1e-6 of s), then by shape
(transposed, [n] for [n, 1], summed over the wrong axis) and by ratio (exactly m, 1/m, -1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from compare.proof.metric import relative_error

TOLERANCE = {"float64": 1e-12, "float32": 1e-5}
MATCH = 1e-6            # how close a known mistake must come to the returned value to be named

# (hint, what that mistake returns) pairs, or a function giving them (called only on a failure)
Candidates = Sequence[tuple[str, Any]] | Callable[[], Sequence[tuple[str, Any]]]


class Mismatch(Exception):
    """A returned value whose structure is not the contract's (one line)."""

    def __init__(self, message: str, hint: str = "", malformed: bool = False) -> None:
        super().__init__(message)
        self.hint = hint
        self.malformed = malformed      # not the contract's kind of value at all (None, a wrong tuple)


@dataclass
class Measure:
    """One returned quantity against its reference."""

    name: str
    err: float
    tol: float
    hint: str = ""
    note: str = ""          # what a passing check found worth saying (an initializer's scale)

    @property
    def passed(self) -> bool:
        return self.err <= self.tol


def listed(candidates: Candidates | None) -> Sequence[tuple[str, Any]]:
    if candidates is None:
        return ()
    return candidates() if callable(candidates) else candidates


def fmt_shape(x: Any) -> str:
    return str(list(np.shape(x)))


def items(value: Any, n: int, what: str) -> tuple[Any, ...]:
    """`value` as a tuple of n items (a tuple or a list), else Mismatch."""
    if value is None:
        raise Mismatch(f"returned None, expected {what} (a missing return?)", malformed=True)
    if not isinstance(value, (tuple, list)):
        raise Mismatch(f"returned {kind(value)}, expected {what}", malformed=True)
    if len(value) != n:
        raise Mismatch(f"returned a {type(value).__name__} of {len(value)}, expected {n}: {what}",
                       malformed=True)
    return tuple(value)


def mapping(value: Any, keys: Sequence[str], what: str) -> dict[str, Any]:
    """`value` as a dict holding every one of `keys` (others allowed), else Mismatch."""
    if value is None:
        raise Mismatch(f"returned None, expected {what} (a missing return?)", malformed=True)
    if not isinstance(value, dict):
        raise Mismatch(f"{what} is {kind(value)}, expected a dict with keys {', '.join(keys)}",
                       malformed=True)
    missing = [k for k in keys if k not in value]
    if missing:
        raise Mismatch(f"{what} has no {', '.join(repr(k) for k in missing)} "
                       f"(its keys: {', '.join(map(repr, value)) or 'none'})", malformed=True)
    return value


def kind(value: Any) -> str:
    """'None', 'a tuple of 3', 'an array [3, 1]', 'float'."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array {fmt_shape(value)}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return type(value).__name__


def numeric(value: Any, name: str) -> np.ndarray:
    """`value` as a numeric array (bools as 0/1), else Mismatch."""
    if value is None:
        raise Mismatch(f"{name} is None, expected an array", malformed=True)
    try:
        q = np.asarray(value)
    except Exception:
        raise Mismatch(f"{name} is {kind(value)}, expected an array", malformed=True) from None
    if q.dtype.kind not in "biuf":
        raise Mismatch(f"{name} is {kind(value)} of {q.dtype}, expected numbers", malformed=True)
    return q


def number(value: Any, name: str) -> float:
    """One number (a float, an int, or an array of one entry), else Mismatch."""
    q = numeric(value, name)
    if q.size != 1:
        raise Mismatch(f"{name} is an array {fmt_shape(q)}, expected one number", malformed=True)
    return float(q.reshape(()))


def measure(name: str, value: Any, ref: Any, scale: Any, tol: float, m: int,
            candidates: Candidates | None = None) -> Measure:
    """`value` against `ref` (float64), relative to `scale`; a shape mismatch is an infinite
    error with its likely cause; a failure is examined for one."""
    q, r = numeric(value, name), np.asarray(ref, dtype=np.float64)
    if q.shape != r.shape:
        if q.size == r.size == 1:
            q = q.reshape(r.shape)
        else:
            return Measure(name, math.inf, tol, shape_cause(name, q, r, m))
    err = relative_error(q, r, scale)[0]
    if err <= tol:
        return Measure(name, err, tol)
    with np.errstate(all="ignore"):              # q may hold inf or NaN (a log of 0)
        return Measure(name, err, tol, value_cause(name, q, r, scale, m, candidates))


def exact(name: str, value: Any, ref: Any, tol: float) -> Measure:
    """`value` must equal `ref` entry by entry (a cache holding the inputs, labels)."""
    q, r = numeric(value, name), np.asarray(ref)
    if q.shape != r.shape:
        return Measure(name, math.inf, tol, f"{name} is {fmt_shape(q)}, expected {fmt_shape(r)}")
    if q.size == 0:
        return Measure(name, 0.0, tol)
    size = float(np.max(np.abs(r))) or 1.0
    return Measure(name, float(np.max(np.abs(q.astype(np.float64) - r))) / size, tol)


def shape_cause(name: str, q: np.ndarray, r: np.ndarray, m: int) -> str:
    """Why `q` has another shape than `r`, when a usual mistake explains it."""
    got, want = fmt_shape(q), fmt_shape(r)
    if r.ndim == 2 and r.shape[1] == 1 and q.shape == (r.shape[0],):
        return f"{name} is {got}, expected {want}: keepdims=True missing in the sum"
    if r.ndim == 2 and r.shape[1] == 1 and q.shape in ((1, m), (m,)) and m != r.shape[0]:
        return f"{name} is {got}, expected {want}: summed over axis 0 (the units) instead of " \
               "axis 1 (the m samples)"
    if r.ndim == 2 and r.shape[1] == 1 and q.shape == (r.shape[0], m) and m > 1:
        return f"{name} is {got}, expected {want}: not summed over the m samples (axis=1)"
    if r.ndim == 2 and q.shape == r.shape[::-1]:
        return f"{name} is {got}, expected {want}: transposed"
    return f"{name} is {got}, expected {want}"


def value_cause(name: str, q: np.ndarray, r: np.ndarray, scale: Any, m: int,
                candidates: Candidates | None) -> str:
    """The likely cause of a differing `q`: a known mistake it matches, or its ratio to `r`."""
    size = float(np.max(np.abs(scale))) if scale is not None else float(np.max(np.abs(r)))
    close = MATCH * (size or 1.0)
    for hint, wrong in listed(candidates):
        w = np.asarray(wrong, dtype=np.float64)
        if w.shape == q.shape and np.all(np.abs(q - w) <= close):
            return hint
    if r.ndim == 2 and r.shape[0] == r.shape[1] > 1 and np.all(np.abs(q - r.T) <= close):
        return f"{name} is transposed"
    if not np.all(np.isfinite(q)):
        what = "NaN" if np.isnan(q).any() else "inf"
        bad = np.isnan(q) if what == "NaN" else ~np.isfinite(q)
        return f"{name} holds {what} (first at {np.argwhere(np.atleast_1d(bad))[0].tolist()})"
    return ratio_cause(name, q, r, close, m)


def ratio_cause(name: str, q: np.ndarray, r: np.ndarray, close: float, m: int) -> str:
    """'dW is m = 7 times the reference: the 1/m is missing', or '' when q is no multiple of r."""
    rr = float(np.sum(r * r))
    if rr == 0.0:
        return f"{name} should be 0 here" if np.any(q != 0) else ""
    c = float(np.sum(q * r)) / rr
    if not np.all(np.abs(q - c * r) <= close):
        return ""
    if m > 1 and math.isclose(c, m, rel_tol=1e-6):
        return f"{name} is m = {m} times the reference: the 1/m is missing"
    if m > 1 and math.isclose(c, 1 / m, rel_tol=1e-6):
        return f"{name} is 1/m of the reference (m = {m}): divided by m once too often"
    if math.isclose(c, -1.0, rel_tol=1e-6):
        return f"{name} has its sign flipped"
    if abs(c) < 1e-12:
        return f"{name} is 0 where the reference is not"
    return f"{name} is {c:.4g} times the reference"


def worst(measures: Sequence[Measure]) -> Measure:
    """The failing measure that says most (the first with a cause, else the largest error), or
    the largest error when all pass."""
    failing = [x for x in measures if not x.passed]
    if failing:
        return next((x for x in failing if x.hint), max(failing, key=lambda x: x.err))
    return max(measures, key=lambda x: x.err)


def labels(name: str, value: Any, ref: np.ndarray, ties: np.ndarray, m: int,
           candidates: Candidates | None = None) -> Measure:
    """0/1 predictions (bools or numbers) against `ref` [1, m], exactly; the entries in `ties`,
    within rounding of the threshold A = 0.5, are not judged. The error is the share of
    labels that differ."""
    q = numeric(value, name)
    if q.shape != ref.shape:
        return Measure(name, math.inf, 0.0, shape_cause(name, q, ref, m))
    keep = ~ties
    wrong = (q.astype(np.float64) != ref) & keep
    if not wrong.any():
        return Measure(name, 0.0, 0.0)
    hint = next((h for h, w in listed(candidates)
                 if np.shape(w) == q.shape and np.allclose(q[keep], np.asarray(w)[keep])), "")
    return Measure(name, float(wrong.sum()) / max(int(keep.sum()), 1), 0.0,
                   hint or f"{int(wrong.sum())} of {int(keep.sum())} labels differ")


def predictions(name: str, Z: np.ndarray, A: np.ndarray, ties: np.ndarray, m: int,
                a: str, z: str) -> Callable[[Any], list[Measure]]:
    """The judge of a `predict`: labels (A > 0.5) against the value, with the usual mistakes
    (the probabilities returned, the labels inverted, Z thresholded at 0.5) as likely causes;
    `a`, `z` name A and Z in the messages."""
    ref = (A > 0.5).astype(np.float64)
    wrong = [(f"returns the probabilities {a}, expected 0/1 labels", A),
             (f"labels inverted ({a} < 0.5 taken as 1)", 1 - ref),
             (f"thresholds {z} at 0.5 instead of {a}", (Z > 0.5).astype(float))]
    return lambda value: [labels(name, value, ref, ties, m, wrong)]
