"""One training state against another in a few NumPy calls: the lockstep's measure.

`lockstep.state_errors` compares the cost and each parameter one by one (a `Comparison`
each, with the index of the largest difference): 2 L + 1 comparisons, twice a step, which
on the small built-in datasets cost as much as a scratch step. `StateMeter` computes the
same numbers with every parameter laid end to end in one float64 vector, layer by layer
(W1, b1, W2, b2, ...), so that the largest difference of each parameter and the size of
each layer are one reduction each over the whole model:

    theta        [P]     every parameter, raveled, in that order
    |theta_s - theta_r|  -> max over each parameter's segment      (np.maximum.reduceat)
    |theta_r|            -> max over each layer's segment (W[l], b[l]), at least `floor`
    rel_err(name)        = max |diff| of its segment / its layer's size

The arithmetic is relative_error's (float64 differences, the same divisions), so the
numbers are identical; a NaN or inf gives inf, as there. The lockstep builds a full
`Comparison` (with its index) only for a step it reports: a new largest, or a failure.
"""

from __future__ import annotations

import math

import numpy as np


def notes_order(names: list[str]) -> list[str] | None:
    """W1, b1, W2, b2, ...: `names` layer by layer, or None when they are not W[l], b[l]."""
    L = sum(1 for n in names if n.startswith("W"))
    order = [f"{k}{l}" for l in range(1, L + 1) for k in "Wb"]
    return order if sorted(order) == sorted(names) else None


class StateMeter:
    """The errors of a state (J and parameters) against a reference state, by name."""

    def __init__(self, shapes: dict[str, tuple[int, ...]], order: list[str]) -> None:
        self.order = order
        self.shapes = [shapes[n] for n in order]
        sizes = [math.prod(s) for s in self.shapes]
        self.usable = all(sizes)                       # reduceat needs non-empty segments
        starts = np.cumsum([0, *sizes[:-1]])
        self.starts = starts.astype(np.intp)           # each parameter's first entry
        self.layer_starts = self.starts[0::2]          # W[l]'s: its layer's first entry

    def vector(self, params: dict[str, np.ndarray]) -> np.ndarray | None:
        """The scratch parameters as one float64 vector [P]; None when a shape changed
        (the per-name comparison then says which)."""
        arrays = [params[n] for n in self.order]
        if not self.usable or any(np.shape(a) != s for a, s in zip(arrays, self.shapes, strict=True)):
            return None
        return np.concatenate([np.ravel(a) for a in arrays], dtype=np.float64)

    def errors(self, J: float, theta: np.ndarray, J_ref: float, theta_ref: np.ndarray,
               J_scale: float, floor: float) -> dict[str, float]:
        """{'cost': ..., 'W1': ..., ...}: what `state_errors` measures, rel_err only."""
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(theta - theta_ref)                        # [P]
            largest = np.maximum.reduceat(diff, self.starts)        # [2 L], one per parameter
            size = np.maximum(np.maximum.reduceat(np.abs(theta_ref), self.layer_starts), floor)
        found = {"cost": _ratio(abs(J - J_ref), max(abs(J_ref), J_scale))}
        sizes = np.repeat(size, 2)                                  # [2 L], each one's layer
        if np.isfinite(largest).all() and (sizes > 0).all():        # (no NaN size either)
            found.update(zip(self.order, (largest / sizes).tolist(), strict=True))
            return found
        for i, name in enumerate(self.order):                       # the special cases, one by one
            found[name] = _ratio(float(largest[i]), float(size[i // 2]))
        return found


def _ratio(difference: float, size: float) -> float:
    """difference / size as relative_error gives it: inf for a NaN or inf difference, and a
    zero size gives 0 (no difference) or inf."""
    if not math.isfinite(difference) or math.isnan(size):
        return math.inf
    if size == 0.0:
        return 0.0 if difference == 0.0 else math.inf
    return difference / size
