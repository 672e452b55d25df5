"""Parameter initialization (§3.4): W[l] drawn by a named rule, b[l] = 0.

    zeros   W = 0                                    (keeps hidden units symmetric, §3.4)
    small   W ~ N(0, 1) * 0.01                       (the notes' choice)
    xavier  W ~ N(0, 1) * sqrt(1 / n[l-1])           (the course's Xavier, for tanh)
    he      W ~ N(0, 1) * sqrt(2 / n[l-1])           (He et al., for ReLU)

fan_in = n[l-1] = W.shape[1]; the table of scales is `scratch.spec.INIT_SCALES`, which
every implementation shares. Draws come from one `numpy.random.Generator`, layer by
layer (W1 first), always in float64 and then cast, so a float32 and a float64 model
with the same seed hold the same numbers up to rounding.
"""

from __future__ import annotations

import numpy as np

from scratch.spec import INITS, check_choice, init_scale


def weight_scale(init: str, fan_in: int) -> float:
    """The factor that multiplies a standard normal draw for W[l] (`init` checked by name)."""
    return init_scale(check_choice("init", init, INITS), fan_in)


def initialize(layer_dims: tuple[int, ...], init: str, rng: np.random.Generator,
               dtype: np.dtype | type = np.float64) -> dict[str, np.ndarray]:
    """{'W1': [n1, n0], 'b1': [n1, 1], ..., 'WL', 'bL'} drawn by `init`."""
    params: dict[str, np.ndarray] = {}
    for l in range(1, len(layer_dims)):
        n_l, n_prev = layer_dims[l], layer_dims[l - 1]
        scale = weight_scale(init, n_prev)
        if scale == 0.0:
            W = np.zeros((n_l, n_prev))                          # [n_l, n_{l-1}]
        else:
            W = rng.standard_normal((n_l, n_prev)) * scale       # [n_l, n_{l-1}]
        params[f"W{l}"] = W.astype(dtype)
        params[f"b{l}"] = np.zeros((n_l, 1), dtype=dtype)        # [n_l, 1]
    return params
