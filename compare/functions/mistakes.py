"""The learners' usual mistakes, recomputed in NumPy (float64) so that a differing result can be
matched to one and named: the forward pass with another activation or without the biases, the
backward pass with dA[L] taken as A[L] - Y, with g' left out or taken at the wrong point, with
ReLU'(0) = 1. Only for naming a likely cause: the verdict always comes from the torch reference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Fn = Callable[[np.ndarray], np.ndarray]


def f64(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-Z))


def relu(Z: np.ndarray) -> np.ndarray:
    return np.maximum(Z, 0.0)


G: dict[str, Fn] = {"sigmoid": sigmoid, "relu": relu, "tanh": np.tanh, "identity": lambda Z: Z}

# g'(Z) of each activation, and the usual wrong ones
PRIME: dict[str, Fn] = {
    "sigmoid": lambda Z: sigmoid(Z) * (1 - sigmoid(Z)),
    "relu": lambda Z: (Z > 0).astype(float),
    "tanh": lambda Z: 1 - np.tanh(Z) ** 2,
    "relu at 0 = 1": lambda Z: (Z >= 0).astype(float),
    "sigmoid at A": lambda Z: sigmoid(sigmoid(Z)) * (1 - sigmoid(sigmoid(Z))),
    "Z as A": lambda Z: Z * (1 - Z),
    "none": np.ones_like,
}


def forward(X: Any, params: dict[str, Any], hidden: str, output: str = "sigmoid",
            bias: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(Z1, A1), ..., (ZL, AL)] with `hidden` and `output` activations (`bias` False: b left out)."""
    L = len(params) // 2
    A, layers = f64(X), []
    for l in range(1, L + 1):
        Z = f64(params[f"W{l}"]) @ A + (f64(params[f"b{l}"]) if bias else 0.0)
        A = G[hidden if l < L else output](Z)
        layers.append((Z, A))
    return layers


def linear_backward(dZ: np.ndarray, A_prev: Any, W: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = np.shape(A_prev)[1]
    return f64(W).T @ dZ, dZ @ f64(A_prev).T / m, np.sum(dZ, axis=1, keepdims=True) / m


def backward(AL: Any, Y: Any, caches: Sequence[Any], hidden: str = "relu", output: str = "sigmoid",
             dA_is_dZ: bool = False) -> dict[str, np.ndarray]:
    """The course's L_model_backward over course caches, with PRIME[`hidden`] in the hidden
    layers and PRIME[`output`] at the output; `dA_is_dZ`: dA[L] taken as A[L] - Y."""
    AL, Y = f64(AL), f64(Y).reshape(np.shape(AL))
    with np.errstate(divide="ignore", invalid="ignore"):
        dA = AL - Y if dA_is_dZ else -(Y / AL - (1 - Y) / (1 - AL))
    grads, L = {}, len(caches)
    for l in range(L, 0, -1):
        (A_prev, W, _), Z = caches[l - 1]
        dZ = dA * PRIME[output if l == L else hidden](f64(Z))
        dA, grads[f"dW{l}"], grads[f"db{l}"] = linear_backward(dZ, A_prev, W)
        grads[f"dA{l - 1}"] = dA
    return grads


def planar_backward(params: dict[str, Any], cache: dict[str, Any], X: Any, Y: Any,
                    prime: Callable[[dict[str, np.ndarray]], np.ndarray]) -> dict[str, np.ndarray]:
    """The planar net's backward_propagation with the hidden layer's g' = prime(cache)."""
    c = {k: f64(v) for k, v in cache.items()}
    dZ2 = c["A2"] - f64(Y)
    _, dW2, db2 = linear_backward(dZ2, c["A1"], params["W2"])
    dZ1 = f64(params["W2"]).T @ dZ2 * prime(c)
    _, dW1, db1 = linear_backward(dZ1, X, params["W1"])
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
