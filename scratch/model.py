"""What the three scratch models share: parameters by the notes' names, the cost, prediction,
the gradient-descent update.

Each model (`LogisticRegression` §2, `ShallowNet` §3, `DeepNet` §4) writes its own
`forward(X) -> (AL, caches)` and `backward(AL, Y, caches) -> grads`; caches hold
one `LayerCache` per layer, in the order of the forward pass.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from scratch import losses
from scratch.activations import Activation, get
from scratch.initializers import initialize
from scratch.spec import ModelSpec, check_dtype, check_seed
from scratch.validate import check_output, check_X, check_Y


def labels_from_output(AL: np.ndarray, output: str) -> np.ndarray:
    """Predicted labels [1, m] from A[L]: A[L] > 0.5 (sigmoid) or the most probable class (softmax)."""
    if output == "sigmoid":
        return (AL > 0.5).astype(np.int64)                     # [1, m]
    return np.argmax(AL, axis=0)[None, :]                      # [1, m]


def accuracy_of(predicted: np.ndarray, Y: np.ndarray, output: str) -> float:
    """Share of the m samples whose predicted label [1, m] matches Y ([1, m] or one-hot [K, m])."""
    labels = Y if output == "sigmoid" else np.argmax(Y, axis=0)[None, :]   # [1, m]
    return float(np.mean(predicted == labels))


class LayerCache(NamedTuple):
    """What layer l's forward keeps for its backward."""

    A_prev: np.ndarray  # [n[l-1], m]  A[l-1], with A[0] = X
    W: np.ndarray       # [n[l], n[l-1]]
    Z: np.ndarray       # [n[l], m]    W[l] A[l-1] + b[l]
    A: np.ndarray       # [n[l], m]    g[l](Z[l])


class Model:
    """Base of the scratch models.

    Attributes:
        spec: the validated architecture (layer sizes, activations, output, init).
        params: {'W1': [n1, n0], 'b1': [n1, 1], ..., 'WL', 'bL'}, drawn by `spec.init`
            from `numpy.random.default_rng(seed)`; biases start at zero.
        dtype: numpy.float32 or numpy.float64; every array the model makes has it.
    """

    def __init__(self, spec: ModelSpec, seed: int = 1, dtype: object = "float64") -> None:
        self.spec = spec
        self.seed = check_seed(seed)
        self.dtype = np.dtype(check_dtype(dtype))
        rng = np.random.default_rng(self.seed)
        self.params: dict[str, np.ndarray] = initialize(spec.layer_dims, spec.init, rng, self.dtype)
        self.g: list[Activation] = [get(a, spec.alpha) for a in spec.activations]  # g[1..L-1]
        self.g_out: Activation = get(spec.output)                                  # g[L]

    def __repr__(self) -> str:
        s = self.spec
        return (f"{type(self).__name__}(layer_dims={list(s.layer_dims)}, "
                f"activations={list(s.activations)}, output={s.output!r}, init={s.init!r}, "
                f"dtype={self.dtype.name})")

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, list[LayerCache]]:
        raise NotImplementedError

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: list[LayerCache],
                 intermediates: bool = False) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def output_dZ(self, AL: np.ndarray, Y: np.ndarray, cache: LayerCache) -> np.ndarray:
        """dZ[L] = A[L] - Y: the cross-entropy's dA[L] = -Y/A[L] + (1 - Y)/(1 - A[L]) times
        g'(Z[L]) = A[L](1 - A[L]) for sigmoid (likewise softmax), simplified (§3.4, §4.2)."""
        return losses.output_delta(AL, Y)                      # [n_L, m]

    def cost(self, AL: np.ndarray, Y: np.ndarray, caches: list[LayerCache] | None = None) -> float:
        """J = -(1/m) sum of the cross-entropy of each sample (§2.2).

        With the `caches` of the forward pass, J is computed from the logits Z[L] and
        is finite for any logit; without, from A[L] by the printed formula.
        """
        if caches is None:
            AL = check_output(AL, self.spec)
            Y = check_Y(Y, self.spec, AL.shape[1], self.dtype, m_from="AL")
            return losses.cross_entropy_from_probabilities(AL, Y)
        ZL = caches[-1].Z                                      # [n_L, m]
        if self.spec.output == "sigmoid":
            return losses.binary_cross_entropy_with_logits(ZL, Y)
        return losses.softmax_cross_entropy_with_logits(ZL, Y)

    def predict_proba(self, X: object) -> np.ndarray:
        """A[L] for the samples X [n_x, m]: P(y = 1) [1, m] or class probabilities [K, m]."""
        AL, _ = self.forward(check_X(X, self.spec, self.dtype))
        return AL

    def predict(self, X: object) -> np.ndarray:
        """Predicted labels [1, m]: A[L] > 0.5 (sigmoid) or the most probable class (softmax)."""
        return labels_from_output(self.predict_proba(X), self.spec.output)

    def accuracy(self, X: object, Y: object) -> float:
        """Fraction of samples whose predicted label equals the label in Y."""
        X = check_X(X, self.spec, self.dtype)
        Y = check_Y(Y, self.spec, X.shape[1], self.dtype)
        return accuracy_of(self.predict(X), Y, self.spec.output)

    def update(self, grads: dict[str, np.ndarray], lr: float) -> None:
        """One step of gradient descent, in place: W[l] := W[l] - alpha dW[l], b[l] := b[l] - alpha db[l]."""
        for name, p in self.params.items():
            p -= lr * grads["d" + name]
