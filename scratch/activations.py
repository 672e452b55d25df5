"""Activation functions g(Z) and their backward dZ = dA * g'(Z), side by side (§3.3).

Every forward takes `Z` ([n, m], one column per sample) and returns `A` of the same
shape. Every backward takes `(dA, Z, A)` and returns `dZ = dA * g'(Z)`; it may use
the cached `A` where g' is cheaper in terms of it (sigmoid, tanh).

At exactly z = 0, where ReLU and Leaky ReLU have no derivative, PyTorch's
convention is used: ReLU'(0) = 0, Leaky'(0) = alpha.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from scratch.spec import HIDDEN_ACTIVATIONS, check_choice, check_real


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^-z), stable for any z: e^-|z| never overflows."""
    E = np.exp(-np.abs(Z))                        # [n, m], in (0, 1]
    S = 1.0 / (1.0 + E)                           # [n, m], sigma(|z|)
    return np.where(Z >= 0, S, E * S)             # [n, m], sigma(-|z|) = e^-|z| sigma(|z|)


def sigmoid_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """g'(z) = a (1 - a) with a = sigma(z) (the notes' §4.2 print z(1 - z); that is wrong)."""
    return dA * A * (1.0 - A)                     # [n, m]


def sigmoid_derivative_size(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """a (1 + a), the size of the terms of g' = a (1 - a) (see tanh_derivative_size)."""
    return A * (1.0 + A)                          # [n, m]


def tanh(Z: np.ndarray) -> np.ndarray:
    """tanh(z) = (e^z - e^-z) / (e^z + e^-z) = 2 sigma(2z) - 1."""
    return np.tanh(Z)                             # [n, m]


def tanh_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """g'(z) = 1 - a^2."""
    return dA * (1.0 - A * A)                     # [n, m]


def tanh_derivative_size(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """1 + a^2, the size of the terms of g' = 1 - a^2: what its rounding is relative to (one
    ulp of a saturated a moves 1 - a^2 by 2 a^2 u, far more than |1 - a^2| u)."""
    return 1.0 + A * A                            # [n, m]


def relu(Z: np.ndarray) -> np.ndarray:
    """max(0, z)."""
    return np.maximum(Z, 0)                       # [n, m]


def relu_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """g'(z) = 1 for z > 0, 0 for z <= 0."""
    return dA * (Z > 0)                           # [n, m]


def relu_derivative_size(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """|g'|, exact: ReLU's derivative has no rounding."""
    return (Z > 0).astype(np.float64)             # [n, m]


def leaky_relu(Z: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    """max(alpha z, z) for 0 < alpha < 1."""
    return np.where(Z > 0, Z, alpha * Z)          # [n, m]


def leaky_relu_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray,
                        alpha: float = 0.01) -> np.ndarray:
    """g'(z) = 1 for z > 0, alpha for z <= 0."""
    return np.where(Z > 0, dA, alpha * dA)        # [n, m]


def leaky_relu_derivative_size(Z: np.ndarray, A: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    """|g'|, exact."""
    return np.where(Z > 0, 1.0, alpha)            # [n, m]


def softmax(Z: np.ndarray) -> np.ndarray:
    """softmax(z)_j = e^{z_j} / sum_k e^{z_k}, per column; shifting by the column max keeps e^z <= 1."""
    E = np.exp(Z - Z.max(axis=0, keepdims=True))  # [K, m]
    return E / E.sum(axis=0, keepdims=True)       # [K, m]


def softmax_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """dZ = A * (dA - sum_k A_k dA_k), the Jacobian-vector product per column."""
    return A * (dA - np.sum(A * dA, axis=0, keepdims=True))  # [K, m]


@dataclass(frozen=True)
class Activation:
    """One activation: `forward(Z) -> A`, `backward(dA, Z, A) -> dZ`, and `derivative_size(Z, A)`,
    the size of the terms g'(Z) is computed from (None for softmax, whose backward is not
    elementwise)."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    derivative_size: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None


def get(name: str, alpha: float = 0.01) -> Activation:
    """The activation called `name` ('sigmoid', 'tanh', 'relu', 'leaky_relu', 'softmax')."""
    name = check_choice("activation", name, (*HIDDEN_ACTIVATIONS, "softmax"))
    if name == "leaky_relu":
        alpha = check_real("alpha", alpha, 0.0, 1.0)
        return Activation(name, partial(leaky_relu, alpha=alpha),
                          partial(leaky_relu_backward, alpha=alpha),
                          partial(leaky_relu_derivative_size, alpha=alpha))
    forward, backward, size = {
        "sigmoid": (sigmoid, sigmoid_backward, sigmoid_derivative_size),
        "tanh": (tanh, tanh_backward, tanh_derivative_size),
        "relu": (relu, relu_backward, relu_derivative_size),
        "softmax": (softmax, softmax_backward, None),
    }[name]
    return Activation(name, forward, backward, size)
