"""How large the rounding error of each quantity may be: the magnitude of what it is made of.

Rounding error analysis (Higham, "Accuracy and Stability of Numerical Algorithms",
§3) bounds the error of a computed sum by a small multiple of u * sum |terms|, not
of u * |sum|. A gradient that cancels to nearly zero (db of a balanced batch at
zero initialization is exactly 0 in exact arithmetic) can therefore differ
between two correct implementations by 100% of its own size while both are
right to the last bit of its terms. So every quantity is compared against its
magnitude s, an upper bound of |value| that also carries the magnitudes of the
terms summed into it and of the errors flowing in from earlier layers:

    s_A[0] = |X|
    s_Z[l] = |W[l]| s_A[l-1] + |b[l]|                  s_A[l] = |g'(Z[l])| s_Z[l] + |A[l]|
    s_J    = |J| + (1/m) sum |A[L] - Y| s_Z[L] + 1  (each sample's log(1 + e^-|z|), or
             log sum_k e^(z_k - max), is the log of a number >= 1: accurate to ~u absolute)
    s_dZ[L] = s_A[L] + |Y|                             s_dZ[l] = s_dA[l] |g'|_terms + |dZ[l]|
    s_dW[l] = (1/m) s_dZ[l] s_A[l-1]^T                 s_db[l] = (1/m) sum_samples s_dZ[l]
    s_dA[l-1] = |W[l]|^T s_dZ[l]

where |g'|_terms is the size of the terms g' is computed from (1 + a^2 for tanh's
1 - a^2, a (1 + a) for sigmoid's a (1 - a): `scratch.activations`): at a saturated unit,
one ulp of difference in a between two correct implementations moves 1 - a^2 by 2 a^2 u,
which is no error of either. All are computed from the reference (torch) values in float64, to first order.
Two correct implementations then agree to a few units of roundoff relative to
max(s); a wrong formula is off by a sizeable fraction of it.
"""

from __future__ import annotations

import numpy as np

from scratch import activations
from scratch.spec import ModelSpec


def derivative(name: str, Z: np.ndarray, A: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """(|g'(Z)|, the size of the terms g' is computed from) of a hidden activation or a
    sigmoid output, elementwise, as scratch's own activations compute them."""
    g = activations.get(name, alpha)
    assert g.derivative_size is not None                        # not softmax
    return np.abs(g.backward(np.ones_like(Z), Z, A)), g.derivative_size(Z, A)


def magnitudes(spec: ModelSpec, params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray,
               forward: dict[str, np.ndarray], backward: dict[str, np.ndarray]) -> dict:
    """{name: s} for Z1, A1, ..., cost, dZL, dWL, ...: the scale each quantity is measured against."""
    L, m = spec.L, X.shape[1]
    f = {k: np.asarray(v, dtype=np.float64) for k, v in forward.items()}
    b = {k: np.asarray(v, dtype=np.float64) for k, v in backward.items()}
    W = {l: np.abs(np.asarray(params[f"W{l}"], dtype=np.float64)) for l in range(1, L + 1)}
    s: dict[str, np.ndarray] = {"A0": np.abs(np.asarray(X, dtype=np.float64))}
    size: dict[int, np.ndarray] = {}                      # of g'(Z[l]) as backward computes it
    for l in range(1, L + 1):
        Z, A = f[f"Z{l}"], f[f"A{l}"]
        bias = np.abs(np.asarray(params[f"b{l}"], dtype=np.float64))
        s[f"Z{l}"] = W[l] @ s[f"A{l - 1}"] + bias                            # [n_l, m]
        if l < L or spec.output == "sigmoid":
            gp, size[l] = derivative(spec.activations[l - 1] if l < L else "sigmoid", Z, A,
                                     spec.alpha)
            s[f"A{l}"] = gp * s[f"Z{l}"] + np.abs(A)                          # [n_l, m]
        else:  # softmax: dA_k = A_k (dz_k - sum_j A_j dz_j)
            spread = np.sum(A * s[f"Z{l}"], axis=0, keepdims=True)           # [1, m]
            s[f"A{l}"] = A * (s[f"Z{l}"] + spread) + np.abs(A)                # [K, m]
    AL = f[f"A{L}"]
    Y64 = np.asarray(Y, dtype=np.float64)
    s["cost"] = np.float64(abs(f["cost"]) + np.sum(np.abs(AL - Y64) * s[f"Z{L}"]) / m + 1.0)
    s[f"dZ{L}"] = s[f"A{L}"] + np.abs(Y64)                                    # [n_L, m]
    for l in range(L, 0, -1):
        if l < L:
            s[f"dZ{l}"] = s[f"dA{l}"] * size[l] + np.abs(b.get(f"dZ{l}", 0.0))   # [n_l, m]
        s[f"dW{l}"] = s[f"dZ{l}"] @ s[f"A{l - 1}"].T / m                      # [n_l, n_{l-1}]
        s[f"db{l}"] = np.sum(s[f"dZ{l}"], axis=1, keepdims=True) / m          # [n_l, 1]
        if l > 1:
            s[f"dA{l - 1}"] = W[l].T @ s[f"dZ{l}"]                            # [n_{l-1}, m]
    return s
