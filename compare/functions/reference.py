"""The torch reference of every function in the catalogue, in float64.

Values come from torch's own operations; every gradient from autograd of the same
computation built in torch: `dZ = dA * g'(Z)` is the gradient of sum(dA * g(Z)) with respect
to Z, `(dA_prev, dW, db)` of a linear layer the gradient of sum(dZ * (W A_prev + b)) (dW and
db then take the course's 1/m), the output layer's dZ[L] = m dJ/dZ[L] of the cost J itself.
The course's dZ and dA carry no 1/m (column i is sample i's own derivative); its dW, db are
dJ/dW, dJ/db.

NumPy arrays in and out, in the course's layout: X [n_x, m], W[l] [n[l], n[l-1]], b[l] [n[l], 1],
Y [1, m]. Inputs of any float dtype are taken as float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

ACTIVATIONS = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh}

Layer = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]     # (A_prev, W, b, Z) of a layer


def tensor(x: Any, grad: bool = False) -> torch.Tensor:
    """A float64 tensor copy of `x` (a leaf of autograd when `grad`)."""
    return torch.tensor(np.asarray(x, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def array(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy().copy()


def activation(name: str, Z: Any) -> np.ndarray:
    """g(Z), elementwise."""
    with torch.no_grad():
        return array(ACTIVATIONS[name](tensor(Z)))


def activation_backward(name: str, dA: Any, Z: Any) -> np.ndarray:
    """dZ = dA * g'(Z) by autograd; ReLU'(0) = 0, as the course's relu_backward has it."""
    Zt = tensor(Z, grad=True)
    (ACTIVATIONS[name](Zt) * tensor(dA)).sum().backward()
    assert Zt.grad is not None
    return array(Zt.grad)


def linear_forward(A: Any, W: Any, b: Any) -> np.ndarray:
    """Z = W A + b, b broadcast over the m columns."""
    with torch.no_grad():
        return array(tensor(W) @ tensor(A) + tensor(b))


def linear_backward(dZ: Any, A_prev: Any, W: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dA_prev [n[l-1], m], dW [n[l], n[l-1]], db [n[l], 1]) by autograd of sum(dZ * Z)."""
    At, Wt, bt = tensor(A_prev, True), tensor(W, True), tensor(b, True)
    ((Wt @ At + bt) * tensor(dZ)).sum().backward()
    assert At.grad is not None and Wt.grad is not None and bt.grad is not None
    m = np.shape(A_prev)[1]
    return array(At.grad), array(Wt.grad) / m, array(bt.grad) / m


def cost(AL: Any, Y: Any) -> float:
    """J = -(1/m) sum(Y log A + (1 - Y) log(1 - A)), from A as the course computes it (log1p
    for accuracy near A = 0)."""
    with torch.no_grad():
        A, Yt = tensor(AL), tensor(Y)
        return float(-(Yt * torch.log(A) + (1 - Yt) * torch.log1p(-A)).sum() / A.shape[-1])


def losses(Z: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Each sample's cross-entropy loss from its logit, log(1 + e^z) - y z (finite for any z)."""
    return torch.logaddexp(torch.zeros_like(Z), Z) - Y * Z


def output_delta(ZL: Any, Y: Any) -> np.ndarray:
    """dZ[L] = m dJ/dZ[L] of the cross-entropy cost of a sigmoid output, by autograd."""
    Zt = tensor(ZL, grad=True)
    losses(Zt, tensor(Y)).sum().backward()
    assert Zt.grad is not None
    return array(Zt.grad)


def forward(X: Any, params: dict[str, Any], hidden: str) -> list[dict[str, np.ndarray]]:
    """Every layer of an L-layer net ({'A_prev', 'W', 'b', 'Z', 'A'} each): `hidden` in the
    hidden layers, sigmoid at the output."""
    L = len(params) // 2
    layers, A = [], np.asarray(X, dtype=np.float64)
    for l in range(1, L + 1):
        W, b = np.asarray(params[f"W{l}"], np.float64), np.asarray(params[f"b{l}"], np.float64)
        Z = linear_forward(A, W, b)                                       # [n_l, m]
        layers.append({"A_prev": A, "W": W, "b": b, "Z": Z,
                       "A": activation(hidden if l < L else "sigmoid", Z)})
        A = layers[-1]["A"]
    return layers


def backward(Y: Any, layers: Sequence[Layer], hidden: str) -> dict[str, np.ndarray]:
    """{'dA{l-1}', 'dW{l}', 'db{l}', 'dZ{l}'} of the course's backprop from each layer's cached
    (A_prev, W, b, Z), by autograd stage by stage."""
    grads: dict[str, np.ndarray] = {}
    L = len(layers)
    dA = np.zeros(0)
    for l in range(L, 0, -1):
        A_prev, W, b, Z = layers[l - 1]
        dZ = output_delta(Z, Y) if l == L else activation_backward(hidden, dA, Z)
        dA, grads[f"dW{l}"], grads[f"db{l}"] = linear_backward(dZ, A_prev, W, b)
        grads[f"dA{l - 1}"], grads[f"dZ{l}"] = dA, dZ
    return grads


def logistic(w: Any, b: Any, X: Any, Y: Any) -> tuple[np.ndarray, float, float, np.ndarray]:
    """(dw [n_x, 1], db, J, A [1, m]) of logistic regression A = sigmoid(w^T X + b), by autograd."""
    wt, bt = tensor(w, True), tensor(np.asarray(b, dtype=np.float64).reshape(()), True)
    Z = wt.T @ tensor(X) + bt                                             # [1, m]
    J = losses(Z, tensor(Y)).mean()                                       # over the m samples
    J.backward()
    assert wt.grad is not None and bt.grad is not None
    return array(wt.grad), float(bt.grad.detach()), float(J.detach()), array(torch.sigmoid(Z))


def optimize(w: Any, b: Any, X: Any, Y: Any, iterations: int, lr: float) -> dict[str, Any]:
    """The course's optimize: `iterations` steps of gradient descent, the cost kept every 100
    (before that step's update), with the A it was computed from; the last step's grads; and
    the sizes of what was summed."""
    w, b = np.asarray(w, dtype=np.float64), float(np.asarray(b))
    costs, probabilities, size_w, size_b = [], [], np.abs(w), abs(b)
    for i in range(iterations):
        dw, db, J, A = logistic(w, b, X, Y)
        w, b = w - lr * dw, b - lr * db
        size_w, size_b = size_w + lr * np.abs(dw), size_b + lr * abs(db)
        if i % 100 == 0:
            costs.append(J)
            probabilities.append(A)
    return {"w": w, "b": b, "dw": dw, "db": db, "costs": costs, "A": probabilities,
            "size_w": size_w, "size_b": size_b}
