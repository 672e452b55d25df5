"""Checks on the arrays a user hands to a model, at the boundary (`fit`, `predict`, any caller).

Each returns the array ready for the math (2-D, the model's dtype) or raises
`InvalidArgument` naming the argument, what it got and what was expected.
Nothing inside the training loop checks again.
"""

from __future__ import annotations

import numpy as np

from scratch.losses import one_hot
from scratch.spec import InvalidArgument, ModelSpec
from scratch.spec import check_training as check_training  # re-exported: its home is scratch.spec


def as_array(arg: str, value: object) -> np.ndarray:
    """np.asarray(value), with ragged nested lists refused by name."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(f"{arg}: cannot be read as an array ({exc}); expected a "
                              "rectangular array of numbers") from None


def check_X(X: object, spec: ModelSpec, dtype: np.dtype, arg: str = "X") -> np.ndarray:
    """X as [n_x, m] in `dtype`: 2-D, numeric, m >= 1, finite, n_x rows."""
    X = as_array(arg, X)
    if X.dtype.kind not in "biuf":
        raise InvalidArgument(f"{arg}: got dtype {X.dtype}, expected real numbers")
    if X.ndim != 2:
        raise InvalidArgument(
            f"{arg}: got shape {X.shape}, expected a 2-D array [n_x, m] with one column per sample"
        )
    n, m = X.shape
    if m == 0:
        raise InvalidArgument(f"{arg}: got shape {X.shape} with m = 0 samples, expected m >= 1")
    if n != spec.n_x:
        hint = " (is it transposed? scratch takes one column per sample)" if m == spec.n_x else ""
        raise InvalidArgument(
            f"{arg}: got {n} features (shape {X.shape}), expected n_x = {spec.n_x} rows "
            f"to match the first layer{hint}"
        )
    if not np.all(np.isfinite(X)):
        bad = np.argwhere(~np.isfinite(X))[0]
        raise InvalidArgument(
            f"{arg}: holds NaN or inf (first at [{bad[0]}, {bad[1]}]), expected finite values"
        )
    with np.errstate(over="ignore"):
        cast = np.ascontiguousarray(X, dtype=dtype)
    if not np.all(np.isfinite(cast)):
        bad = np.argwhere(~np.isfinite(cast))[0]
        raise InvalidArgument(
            f"{arg}: holds {X[bad[0], bad[1]]:.3g} (first at [{bad[0]}, {bad[1]}]), beyond the "
            f"largest {np.dtype(dtype).name}, {np.finfo(dtype).max:.3g}; expected values the "
            "model's dtype can hold (scale the features)"
        )
    return cast


def check_samples(arg: str, X: object) -> np.ndarray:
    """A real matrix [n, m], one column a sample, whatever the model (e.g. before a layout change)."""
    X = as_array(arg, X)
    if X.ndim != 2 or X.dtype.kind not in "biuf":
        raise InvalidArgument(f"{arg}: got shape {X.shape} of {X.dtype}, expected real numbers "
                              "[n, m], one column per sample (scratch's layout)")
    return X


def check_targets(Y: object, output: str, arg: str = "Y") -> np.ndarray:
    """Targets in scratch's layout whatever the model's size: [1, m] of 0/1 (sigmoid), or
    class indices [1, m] or one-hot [K, m] (softmax)."""
    Y = as_array(arg, Y)
    if Y.ndim != 2 or Y.dtype.kind not in "biuf":
        raise InvalidArgument(f"{arg}: got shape {Y.shape} of {Y.dtype}, expected labels [1, m] "
                              "or one-hot [K, m] (scratch's layout)")
    if output == "sigmoid":
        if Y.shape[0] != 1:
            raise InvalidArgument(f"{arg}: got shape {Y.shape}, expected 0/1 labels [1, m] for a "
                                  "sigmoid output")
    elif Y.shape[0] == 1:
        if not np.all((Y == np.round(Y)) & (Y >= 0)):
            raise InvalidArgument(f"{arg}: holds class indices that are not whole numbers >= 0")
    elif first_not_one_hot(Y) is not None:
        raise InvalidArgument(f"{arg}: got shape {Y.shape} whose columns are not one-hot, "
                              "expected one-hot [K, m] or class indices [1, m]")
    return Y


def first_not_one_hot(Y: np.ndarray) -> int | None:
    """The first column of Y [K, m] that is not one-hot (one 1, the rest 0), or None."""
    bad = np.flatnonzero(~(((Y == 0) | (Y == 1)).all(axis=0) & (Y.sum(axis=0) == 1)))
    return int(bad[0]) if bad.size else None


def check_output(AL: object, spec: ModelSpec, arg: str = "AL") -> np.ndarray:
    """A[L] as given to the cost: [n_y, m] probabilities in [0, 1] (m >= 1)."""
    AL = as_array(arg, AL)
    if AL.dtype.kind not in "biuf" or AL.ndim != 2 or AL.shape[0] != spec.n_y or AL.shape[1] == 0:
        raise InvalidArgument(f"{arg}: got shape {AL.shape} of {AL.dtype}, expected probabilities "
                              f"[{spec.n_y}, m] (the A[L] of forward)")
    if not np.all((AL >= 0) & (AL <= 1)):
        raise InvalidArgument(f"{arg}: holds values outside [0, 1] (or NaN), expected probabilities")
    return AL


def check_Y(Y: object, spec: ModelSpec, m: int, dtype: np.dtype, arg: str = "Y",
            m_from: str = "X") -> np.ndarray:
    """Y ready for the cost: [1, m] of 0/1 (sigmoid) or one-hot [K, m] (softmax).

    For a softmax output, class indices [1, m] in 0..K-1 are accepted too and
    turned into one-hot columns.
    """
    Y = as_array(arg, Y)
    if Y.dtype.kind not in "biuf":
        raise InvalidArgument(f"{arg}: got dtype {Y.dtype}, expected numbers")
    K = spec.n_y
    expected = "[1, m] of 0/1 labels" if spec.output == "sigmoid" else \
        f"one-hot [{K}, m] or class indices [1, m] in 0..{K - 1}"
    if Y.ndim != 2:
        raise InvalidArgument(
            f"{arg}: got shape {Y.shape}, expected a 2-D array {expected} (a 1-D y becomes "
            "y.reshape(1, -1))"
        )
    if Y.shape[1] != m:
        hint = " (is it transposed? labels are a row, one column per sample)" \
            if Y.shape[0] == m else ""
        raise InvalidArgument(
            f"{arg}: got {Y.shape[1]} samples (shape {Y.shape}), expected m = {m} as in "
            f"{m_from}{hint}"
        )
    if not np.all(np.isfinite(Y)):
        raise InvalidArgument(f"{arg}: holds NaN or inf, expected {expected}")
    if spec.output == "sigmoid":
        return binary_labels(Y, dtype, arg, expected)
    return class_labels(Y, K, dtype, arg, expected)


def binary_labels(Y: np.ndarray, dtype: np.dtype, arg: str, expected: str) -> np.ndarray:
    """The y of a sigmoid output: [1, m] of 0/1 (finite, m already checked)."""
    if Y.shape[0] != 1:
        raise InvalidArgument(f"{arg}: got shape {Y.shape}, expected {expected}")
    if not np.all((Y == 0) | (Y == 1)):
        bad = sorted(set(np.unique(Y).tolist()) - {0, 1})[:3]
        raise InvalidArgument(
            f"{arg}: holds labels {bad} outside {{0, 1}}, expected binary labels "
            "for a sigmoid output (for K classes use output='softmax')"
        )
    return np.ascontiguousarray(Y, dtype=dtype)


def class_labels(Y: np.ndarray, K: int, dtype: np.dtype, arg: str, expected: str) -> np.ndarray:
    """The one-hot Y [K, m] of a softmax output, from class indices [1, m] in 0..K-1 or
    from one-hot columns (finite, m already checked)."""
    if Y.shape[0] == 1:
        if not np.all((Y == np.round(Y)) & (Y >= 0) & (Y < K)):
            bad = sorted(set(np.unique(Y).tolist()) - set(range(K)))[:3]
            raise InvalidArgument(
                f"{arg}: holds class indices {bad} outside 0..{K - 1}, expected {expected}"
            )
        return one_hot(Y, K, dtype)
    if Y.shape[0] != K:
        raise InvalidArgument(f"{arg}: got {Y.shape[0]} rows (shape {Y.shape}), expected {expected}")
    column = first_not_one_hot(Y)
    if column is not None:
        raise InvalidArgument(
            f"{arg}: column {column} is not one-hot (one 1, the rest 0), expected {expected}"
        )
    return np.ascontiguousarray(Y, dtype=dtype)
