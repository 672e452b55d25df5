"""A network with one hidden layer of n_h units (§3), its equations written out.

Forward (§3.2, vectorized over the m columns of X):
    Z1 = W1 X + b1,   A1 = g1(Z1),   Z2 = W2 A1 + b2,   A2 = sigma(Z2)
Backward (§3.4):
    dZ2 = A2 - Y
    dW2 = (1/m) dZ2 A1^T,   db2 = (1/m) sum(dZ2, axis=1)
    dZ1 = W2^T dZ2 * g1'(Z1)
    dW1 = (1/m) dZ1 X^T,    db1 = (1/m) sum(dZ1, axis=1)
"""

from __future__ import annotations

import numpy as np

from scratch.model import LayerCache, Model
from scratch.spec import ModelSpec, check_int


class ShallowNet(Model):
    """Two layers: n_x inputs -> n_h hidden units (g1) -> n_y outputs (sigmoid or softmax).

    Args:
        n_x: number of features.
        n_h: hidden units (the course's flower example uses 4).
        n_y: output units (1 for sigmoid; K >= 2 for softmax).
        activation: g1, one of 'sigmoid', 'tanh', 'relu', 'leaky_relu'.
        output: 'sigmoid' or 'softmax'.
        init: 'small' (N(0, 1) * 0.01, the notes' choice), 'zeros', 'xavier' or 'he'.
        seed: seed of the generator that draws W1, W2.
        alpha: Leaky ReLU slope, in (0, 1).
        dtype: 'float32' or 'float64'.

    Shape:
        X [n_x, m] -> A1 [n_h, m] -> A2 [n_y, m].
    """

    def __init__(self, n_x: int, n_h: int = 4, n_y: int = 1, activation: str = "tanh",
                 output: str = "sigmoid", init: str = "small", seed: int = 1,
                 alpha: float = 0.01, dtype: object = "float64") -> None:
        dims = [check_int("n_x", n_x, 1), check_int("n_h", n_h, 1), check_int("n_y", n_y, 1)]
        spec = ModelSpec.build(dims, activation=activation, output=output, init=init, alpha=alpha)
        super().__init__(spec, seed, dtype)

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, list[LayerCache]]:
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        Z1 = W1 @ X + b1                        # [n_h, m]
        A1 = self.g[0].forward(Z1)              # [n_h, m]
        Z2 = W2 @ A1 + b2                       # [n_y, m]
        A2 = self.g_out.forward(Z2)             # [n_y, m]
        return A2, [LayerCache(X, W1, Z1, A1), LayerCache(A1, W2, Z2, A2)]

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: list[LayerCache],
                 intermediates: bool = False) -> dict[str, np.ndarray]:
        (X, W1, Z1, A1), (_, W2, _, A2) = caches
        m = X.shape[1]
        dZ2 = self.output_dZ(A2, Y, caches[1])                     # [n_y, m]  A2 - Y
        dW2 = (1 / m) * (dZ2 @ A1.T)                               # [n_y, n_h]
        db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)         # [n_y, 1]
        dA1 = W2.T @ dZ2                                           # [n_h, m]
        dZ1 = self.g[0].backward(dA1, Z1, A1)                      # [n_h, m]  W2^T dZ2 * g1'(Z1)
        dW1 = (1 / m) * (dZ1 @ X.T)                                # [n_h, n_x]
        db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)         # [n_h, 1]
        grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        if intermediates:
            grads.update(dZ2=dZ2, dA1=dA1, dZ1=dZ1)
        return grads
