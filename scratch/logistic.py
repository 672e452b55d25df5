"""Logistic regression, a network with no hidden layer (§2).

    z = w^T x + b,   y_hat = a = sigma(z)                       (§2.0, §2.1)
    J = -(1/m) sum[y log a + (1 - y) log(1 - a)]                 (§2.2)
    dz = a - y,  dw = (1/m) X (A - Y)^T,  db = (1/m) sum(A - Y)  (§2.3)

In the notes' matrix notation the row vector w^T is W1 [1, n_x], so dW1 = dw^T.
With output='softmax' and K outputs it is multinomial logistic regression.
"""

from __future__ import annotations

import numpy as np

from scratch.model import LayerCache, Model
from scratch.spec import ModelSpec, check_int


class LogisticRegression(Model):
    """y_hat = sigma(W1 X + b1).

    Args:
        n_x: number of features n.
        n_y: output units (1 for sigmoid; K >= 2 classes for softmax).
        output: 'sigmoid' (binary) or 'softmax'.
        init: 'zeros' (the course's choice here: no hidden units, so no symmetry
            to break), 'small', 'xavier' or 'he'.
        seed: seed of the generator that draws W1.
        dtype: 'float32' or 'float64'.

    Shape:
        X [n_x, m] -> A1 [n_y, m].

    Examples:
        >>> model = LogisticRegression(n_x=2)
        >>> AL, caches = model.forward(np.zeros((2, 5)))
        >>> AL.shape
        (1, 5)
    """

    def __init__(self, n_x: int, n_y: int = 1, output: str = "sigmoid", init: str = "zeros",
                 seed: int = 1, dtype: object = "float64") -> None:
        spec = ModelSpec.build([check_int("n_x", n_x, 1), check_int("n_y", n_y, 1)],
                               activation=(), output=output, init=init)
        super().__init__(spec, seed, dtype)

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, list[LayerCache]]:
        W1, b1 = self.params["W1"], self.params["b1"]
        Z1 = W1 @ X + b1                        # [n_y, m]  z = w^T x + b for every sample
        A1 = self.g_out.forward(Z1)             # [n_y, m]  y_hat = sigma(z)
        return A1, [LayerCache(X, W1, Z1, A1)]

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: list[LayerCache],
                 intermediates: bool = False) -> dict[str, np.ndarray]:
        X = caches[0].A_prev                    # [n_x, m]
        m = X.shape[1]
        dZ1 = self.output_dZ(AL, Y, caches[0])  # [n_y, m]  dz = a - y
        grads = {
            "dW1": (1 / m) * (dZ1 @ X.T),                          # [n_y, n_x] = dw^T
            "db1": (1 / m) * np.sum(dZ1, axis=1, keepdims=True),   # [n_y, 1]
        }
        if intermediates:
            grads["dZ1"] = dZ1
        return grads
