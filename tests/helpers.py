"""Small tools the tests share."""

import numpy as np


def central_differences(model, X, Y, h=1e-5):
    """dJ/dp for every entry of every parameter, by (J(p + h) - J(p - h)) / 2h, in float64.

    h = 1e-5 balances truncation (h^2 |d3J| / 6 ~ 1e-11) against rounding (u |J| / h ~ 1e-11),
    so gradients of 1e-3 and up are resolved to ~1e-8 relative.
    """
    grads = {}
    for name, p in model.params.items():
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + h
            AL, caches = model.forward(X)
            J_plus = model.cost(AL, Y, caches)
            p[i] = old - h
            AL, caches = model.forward(X)
            J_minus = model.cost(AL, Y, caches)
            p[i] = old
            g[i] = (J_plus - J_minus) / (2 * h)
        grads["d" + name] = g
    return grads


def rel_err(a, b):
    """max |a - b| / max |b|."""
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def problem(n_x=3, m=40, K=1, seed=0):
    """Standardized inputs X [n_x, m] and targets: 0/1 [1, m] (K = 1) or one-hot [K, m]."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    if K == 1:
        return X, (rng.random((1, m)) > 0.5).astype(float)
    Y = np.zeros((K, m))
    Y[rng.integers(0, K, m), np.arange(m)] = 1
    return X, Y


def jitter_biases(model, seed=0, scale=0.5):
    """Non-zero biases keep ReLU pre-activations away from the kink at 0 (and test the biases)."""
    rng = np.random.default_rng(seed)
    for name, p in model.params.items():
        if name.startswith("b"):
            p += rng.standard_normal(p.shape) * scale
