"""The notes' formulas as printed, where they are wrong, each as a scratch model.

Each class is one of our models with one formula replaced by its printed form
(`docs/NOTES.md#formulas-the-notes-print-wrong`). The harness must catch every one
and name the quantity the printed formula computes; the corrected models pass. They are
used by the errata experiment and by the tests, never in training.

One erratum is not a formula: §3.2's "four hidden layers" describes a network of
one hidden layer of four units, which `ShallowNet(n_h=4)` is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scratch.deep import DeepNet
from scratch.logistic import LogisticRegression
from scratch.model import LayerCache
from scratch.shallow import ShallowNet


class PrintedDLDA(LogisticRegression):
    """§2.3: dL/da = -y/a - (1 - y)/(1 - a) (the second sign should be +), then dz = dL/da * a(1 - a)."""

    def output_dZ(self, AL: np.ndarray, Y: np.ndarray, cache: LayerCache) -> np.ndarray:
        dA = -Y / AL - (1 - Y) / (1 - AL)                        # [1, m], printed
        return dA * AL * (1 - AL)                                # [1, m]


class PrintedSigmoidDerivative(DeepNet):
    """§4.2: the sigmoid output's g'(z) = z(1 - z) (should be a(1 - a)), with the correct dA[L]."""

    def output_dZ(self, AL: np.ndarray, Y: np.ndarray, cache: LayerCache) -> np.ndarray:
        dA = -Y / AL + (1 - Y) / (1 - AL)                        # [1, m]
        return dA * cache.Z * (1 - cache.Z)                      # [1, m], printed g'


class PrintedOutputDA(DeepNet):
    """§4.2: "for cross-entropy dA[L] is A[L] - y", then dZ[L] = dA[L] * g'(Z[L])."""

    def output_dZ(self, AL: np.ndarray, Y: np.ndarray, cache: LayerCache) -> np.ndarray:
        dA = AL - Y                                              # [1, m], printed
        return dA * AL * (1 - AL)                                # [1, m]


class PrintedDWNoTranspose(DeepNet):
    """§4.2: dW[l] = (1/m) dZ[l] A[l-1] (the transpose of A[l-1] is missing)."""

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: list[LayerCache],
                 intermediates: bool = False) -> dict[str, np.ndarray]:
        grads = super().backward(AL, Y, caches, intermediates=True)
        m = AL.shape[1]
        for l, cache in enumerate(caches, start=1):
            grads[f"dW{l}"] = (1 / m) * np.dot(grads[f"dZ{l}"], cache.A_prev)   # printed
        return grads


class PrintedBiasUpdate(ShallowNet):
    """§3.4: b[1] = b[1] - alpha dWb[1], read as the weight gradient dW[1]."""

    def update(self, grads: dict[str, np.ndarray], lr: float) -> None:
        super().update(grads, lr)
        self.params["b1"] = self.params["b1"] + lr * grads["db1"] - lr * grads["dW1"]  # printed


class PrintedCostOverN(ShallowNet):
    """§3.4: J = (1/m) sum_{i=1}^{n} L(...): the sum runs over n (features), not the m samples."""

    def cost(self, AL: np.ndarray, Y: np.ndarray, caches: list[LayerCache] | None = None) -> float:
        n = self.spec.n_x
        first = [c._replace(Z=c.Z[:, :n], A=c.A[:, :n]) for c in caches] if caches else None
        m, n_used = Y.shape[1], min(n, Y.shape[1])
        return super().cost(AL[:, :n], Y[:, :n], first) * n_used / m   # (1/m) sum over n


class PrintedBiasShape(ShallowNet):
    """§3.2: b[1] of shape [n2, 1] (that is b[2]'s shape; b[1] is [n1, 1])."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params["b1"] = np.zeros((self.spec.n_y, 1), dtype=self.dtype)  # printed shape


class PrintedNoBias(LogisticRegression):
    """§2.2: y_hat = sigma(w^T x) (the bias b is missing)."""

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, list[LayerCache]]:
        W1 = self.params["W1"]
        Z1 = W1 @ X                                              # [n_y, m], printed: no + b
        A1 = self.g_out.forward(Z1)
        return A1, [LayerCache(X, W1, Z1, A1)]


@dataclass(frozen=True)
class Erratum:
    """One printed formula, the model that uses it, and the quantity the harness must name."""

    section: str
    printed: str
    correct: str
    model: type[Any]
    names: str           # the quantity the report must point at (first divergence)


ERRATA: tuple[Erratum, ...] = (
    Erratum("2.3", "dL/da = -y/a - (1-y)/(1-a)", "dL/da = -y/a + (1-y)/(1-a)", PrintedDLDA, "dZ1"),
    Erratum("4.2", "sigmoid g'(z) = z(1-z)", "g'(z) = a(1-a)", PrintedSigmoidDerivative, "dZ3"),
    Erratum("4.2", "dW[l] = (1/m) dZ[l] A[l-1]", "dW[l] = (1/m) dZ[l] A[l-1]^T",
            PrintedDWNoTranspose, "dW3"),
    Erratum("4.2", "dA[L] = A[L] - Y", "dZ[L] = A[L] - Y", PrintedOutputDA, "dZ3"),
    Erratum("3.4", "b[1] = b[1] - alpha dWb[1]", "b[1] = b[1] - alpha db[1]",
            PrintedBiasUpdate, "b1"),
    Erratum("3.4", "J = (1/m) sum_{i=1}^{n} L", "J = (1/m) sum_{i=1}^{m} L", PrintedCostOverN, "cost"),
    Erratum("3.2", "b[1] is [n2, 1]", "b[1] is [n1, 1]", PrintedBiasShape, "b1"),
    Erratum("2.2", "y_hat = sigma(w^T x)", "y_hat = sigma(w^T x + b)", PrintedNoBias, "Z1"),
)


def build(erratum: Erratum, n_x: int, seed: int = 1) -> Any:
    """The printed model for a binary problem with `n_x` features (deep nets: [n_x, 5, 3, 1])."""
    cls = erratum.model
    if issubclass(cls, DeepNet):
        return cls([n_x, 5, 3, 1], activation="tanh", init="xavier", seed=seed)
    if issubclass(cls, ShallowNet):
        return cls(n_x, 4, seed=seed)
    return cls(n_x, seed=seed)
