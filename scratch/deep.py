"""A deep network of L layers (§4): any layer sizes, an activation per hidden layer.

Forward (§4.1), for l = 1..L, keeping a cache per layer:
    Z[l] = W[l] A[l-1] + b[l],   A[l] = g[l](Z[l]),   A[0] = X,   y_hat = A[L]
Backward (§4.2, corrected), walking the layers in reverse:
    dZ[L] = A[L] - Y                              (not "dA[L] = A[L] - Y")
    dZ[l] = dA[l] * g[l]'(Z[l])                   for l < L
    dW[l] = (1/m) dZ[l] A[l-1]^T                  (the notes drop the transpose)
    db[l] = (1/m) sum(dZ[l], axis=1)              (sum over the m samples)
    dA[l-1] = W[l]^T dZ[l]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scratch.model import LayerCache, Model
from scratch.spec import ModelSpec


class DeepNet(Model):
    """An L-layer network, L = len(layer_dims) - 1.

    Args:
        layer_dims: [n[0], n[1], ..., n[L]]: features, hidden units per layer, outputs.
        activation: g for every hidden layer, or a list with one name per hidden layer
            ('sigmoid', 'tanh', 'relu', 'leaky_relu').
        output: 'sigmoid' (n[L] = 1, binary) or 'softmax' (n[L] = K >= 2 classes).
        init: 'he' (N(0, 2 / n[l-1])), 'xavier' (N(0, 1 / n[l-1])), 'small' or 'zeros'.
        seed: seed of the generator that draws W[1..L] in order.
        alpha: Leaky ReLU slope, in (0, 1).
        dtype: 'float32' or 'float64'.

    Shape:
        X [n[0], m] -> A[l] [n[l], m] -> A[L] [n[L], m].

    Examples:
        >>> net = DeepNet([2, 5, 3, 1], activation=["relu", "tanh"])
        >>> [p.shape for p in net.params.values()]
        [(5, 2), (5, 1), (3, 5), (3, 1), (1, 3), (1, 1)]
    """

    def __init__(self, layer_dims: Sequence[int], activation: str | Sequence[str] = "relu",
                 output: str = "sigmoid", init: str = "he", seed: int = 1,
                 alpha: float = 0.01, dtype: object = "float64") -> None:
        spec = ModelSpec.build(layer_dims, activation=activation, output=output, init=init,
                               alpha=alpha)
        super().__init__(spec, seed, dtype)

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, list[LayerCache]]:
        L = self.spec.L
        caches: list[LayerCache] = []
        A = X                                               # [n0, m]  A[0] = X
        for l in range(1, L + 1):
            W, b = self.params[f"W{l}"], self.params[f"b{l}"]
            g = self.g[l - 1] if l < L else self.g_out
            A_prev = A
            Z = W @ A_prev                                  # [n_l, m]
            Z += b                                          # [n_l, m]  W[l] A[l-1] + b[l], in place
            A = g.forward(Z)                                # [n_l, m]
            caches.append(LayerCache(A_prev, W, Z, A))
        return A, caches

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: list[LayerCache],
                 intermediates: bool = False) -> dict[str, np.ndarray]:
        """grads {'dW1', 'db1', ..., 'dWL', 'dbL'}; with `intermediates`, also every dZ[l]
        and dA[l-1] for l >= 2 (dZ = m dJ/dZ, the notes' convention)."""
        L = len(caches)
        m = AL.shape[1]
        grads: dict[str, np.ndarray] = {}
        dA = np.empty(0)                                    # dA[l], set by layer l + 1
        dZ = self.output_dZ(AL, Y, caches[-1])              # [n_L, m]  dZ[L] = A[L] - Y
        for l in range(L, 0, -1):
            A_prev, W, Z, A = caches[l - 1]
            if l < L:
                dZ = self.g[l - 1].backward(dA, Z, A)       # [n_l, m]  dA[l] * g'(Z[l])
                del dA                                      # spent: freed before dA[l-1] is made
            if intermediates:
                grads[f"dZ{l}"] = dZ
            grads[f"dW{l}"] = (1 / m) * (dZ @ A_prev.T)                    # [n_l, n_{l-1}]
            grads[f"db{l}"] = (1 / m) * np.sum(dZ, axis=1, keepdims=True)  # [n_l, 1]
            if l > 1:
                dA = W.T @ dZ                               # [n_{l-1}, m]
                del dZ                                      # spent: freed before dZ[l-1] is made
                if intermediates:
                    grads[f"dA{l - 1}"] = dA
        return grads
