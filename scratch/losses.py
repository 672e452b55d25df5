"""Cross-entropy costs J and the output-layer gradient dZ[L] (§2.2, §3.4, §4.2).

`J` is the mean of the per-sample loss L over the m samples (the notes' §3.4 print
the sum over n; it runs over the m samples). Computed from the output
pre-activation Z[L] (the logits), J is finite for any logit, as PyTorch's
`BCEWithLogitsLoss` and `CrossEntropyLoss` are; computed from A[L], it is the
printed formula and becomes infinite once sigmoid saturates to exactly 0 or 1.
"""

from __future__ import annotations

import numpy as np


def binary_cross_entropy(AL: np.ndarray, Y: np.ndarray) -> float:
    """J = -(1/m) sum[y log a + (1 - y) log(1 - a)], the formula of §2.2, from A[L] = a.

    Infinite where a saturates to exactly the wrong label; prefer the logits version.
    """
    m = Y.shape[1]
    with np.errstate(divide="ignore"):
        losses = -(y_log(Y, np.log(AL)) + y_log(1 - Y, np.log1p(-AL)))  # [1, m]
    return float(np.sum(losses) / m) + 0.0                              # + 0.0: no -0.0


def y_log(Y: np.ndarray, log_A: np.ndarray) -> np.ndarray:
    """Y * log A with 0 * log 0 = 0 (the limit): a label of 0 takes nothing from log A."""
    with np.errstate(invalid="ignore"):
        return np.where(Y == 0, 0.0, Y * log_A)


def binary_cross_entropy_with_logits(ZL: np.ndarray, Y: np.ndarray) -> float:
    """The same J from z = Z[L]: L = max(z, 0) - z y + log(1 + e^-|z|), finite for every z.

    Shape: ZL and Y are [1, m]; Y holds 0 or 1.
    """
    m = Y.shape[1]
    losses = np.maximum(ZL, 0) - ZL * Y + np.log1p(np.exp(-np.abs(ZL)))  # [1, m]
    return float(np.sum(losses) / m)


def log_softmax(ZL: np.ndarray) -> np.ndarray:
    """log softmax(z) per column, z - max - log sum e^(z - max): no overflow, no log(0)."""
    shifted = ZL - ZL.max(axis=0, keepdims=True)                         # [K, m]
    return shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))  # [K, m]


def softmax_cross_entropy_with_logits(ZL: np.ndarray, Y: np.ndarray) -> float:
    """J = -(1/m) sum_i sum_k y_k log softmax(z)_k, from the logits Z[L].

    Shape: ZL and Y are [K, m]; each column of Y is one-hot.
    """
    m = Y.shape[1]
    return float(-np.sum(Y * log_softmax(ZL)) / m)


def cross_entropy_from_probabilities(AL: np.ndarray, Y: np.ndarray) -> float:
    """J from A[L] alone: binary for one output unit, categorical for K >= 2."""
    if AL.shape[0] == 1:
        return binary_cross_entropy(AL, Y)
    m = Y.shape[1]
    with np.errstate(divide="ignore"):
        logs = np.log(AL)                                                 # [K, m]
    return float(-np.sum(y_log(Y, logs)) / m) + 0.0


def output_delta(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dZ[L] = A[L] - Y for a sigmoid or softmax output with cross-entropy.

    This is dZ[L], not dA[L] as §4.2 prints: dA[L] = -Y/A[L] + (1 - Y)/(1 - A[L]),
    and multiplying by g'(Z[L]) gives A[L] - Y. Like the notes, dZ here is m times
    dJ/dZ (the 1/m is applied in dW and db).
    """
    return AL - Y                                                         # [n_L, m]


def one_hot(labels: np.ndarray, K: int, dtype: np.dtype | type = np.float64) -> np.ndarray:
    """Class indices [1, m] (or [m]) as one-hot columns Y [K, m]."""
    y = np.asarray(labels).reshape(-1).astype(np.int64)                  # [m]
    Y = np.zeros((K, y.size), dtype=dtype)                                # [K, m]
    Y[y, np.arange(y.size)] = 1
    return Y
