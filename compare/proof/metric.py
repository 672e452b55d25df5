"""Comparing two arrays by name: the error measure every check and report uses.

The error of a quantity q (scratch) against its reference r is the largest
difference relative to a scale, in the infinity norm:

    rel_err = max_i |q_i - r_i| / max_i s_i

where s is |r| by default, or the magnitude of the terms r is computed from
(`compare.proof.magnitude`), which keeps a sum that cancels to nearly zero from
counting its rounding as a 100% error. Unlike an entry-by-entry relative error
it does not blow up on single entries near zero, and it is what
`torch.testing.assert_close(q, r, rtol=0, atol=tol * max(s))` accepts.
A quantity passes when rel_err <= its tolerance, or when both are exactly equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Comparison:
    """How one named quantity compares with its reference."""

    name: str                        # 'Z1', 'dW2', 'cost', ...
    rel_err: float                   # max |q - r| / max |r| (inf on a shape mismatch or NaN)
    max_abs_err: float
    index: tuple[int, ...] | None    # where |q - r| is largest
    passed: bool
    note: str = ""                   # why it failed where the numbers cannot say
    where: str = ""                  # 'at random parameters', 'at step 12', ...
    step: int | None = None          # the training step, for trajectory comparisons

    def describe(self) -> str:
        """'dW2 differs: max rel err 3.1e-01 at [0, 2]' or 'dW2 ok (1.2e-15)'."""
        name = f"{self.name} {self.where}" if self.where else self.name
        if self.passed:
            return f"{name} ok ({self.rel_err:.1e})"
        if self.note:
            return f"{name} differs: {self.note}"
        at = f" at [{', '.join(map(str, self.index))}]" if self.index else ""
        return f"{name} differs: max rel err {self.rel_err:.1e}{at}"


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """np.unravel_index of one flat index, as Python ints."""
    index = []
    for n in reversed(shape):
        flat, i = divmod(flat, n)
        index.append(i)
    return tuple(reversed(index))


def relative_error(q: np.ndarray, r: np.ndarray, scale: np.ndarray | float | None = None
                   ) -> tuple[float, float, tuple[int, ...] | None]:
    """(rel_err, max_abs_err, index of the largest difference) of q against r, in float64;
    `scale` (an array or a number) replaces |r| as the measure of size.

    A NaN or inf difference gives inf, at the first non-finite entry. (Called for every
    parameter twice a lockstep step, so each NumPy call counts: argmax finds a NaN as
    well as the largest entry, and a number scale is not made an array.)
    """
    q64, r64 = np.asarray(q, dtype=np.float64), np.asarray(r, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.abs(q64 - r64)
    if diff.size == 0:
        return 0.0, 0.0, None
    flat = int(diff.argmax())                         # the first NaN, if there is one
    max_abs = float(diff.flat[flat])
    if not math.isfinite(max_abs):                    # NaN or inf: name the first of them
        bad = np.argwhere(~np.isfinite(diff))[0]
        return np.inf, np.inf, tuple(int(i) for i in bad)
    index = _unravel(flat, diff.shape)
    if scale is None:
        size = float(np.abs(r64).max())
    elif isinstance(scale, (float, int)):
        size = abs(float(scale))
    else:
        size = float(np.abs(scale).max())
    if size == 0.0:
        return (0.0 if max_abs == 0.0 else np.inf), max_abs, index
    return max_abs / size, max_abs, index


def compare(name: str, q: object, r: object, tol: float,
            scale: np.ndarray | float | None = None) -> Comparison:
    """Compare the scratch quantity `q` with the reference `r` under the relative tolerance `tol`."""
    if q is None:
        return Comparison(name, np.inf, np.inf, None, False, "missing on the scratch side")
    q, r = np.asarray(q), np.asarray(r)
    if q.shape != r.shape:
        return Comparison(name, np.inf, np.inf, None, False,
                          f"shape {list(q.shape)}, expected {list(r.shape)}")
    rel, max_abs, index = relative_error(q, r, scale)
    return Comparison(name, rel, max_abs, index, bool(rel <= tol))
