"""The inputs every function is checked on: fresh random networks of several shapes, each in
three variants, in float64 and float32, all consistent (caches hold what the forward pass of
those parameters computes).

    Shape((4, 3, 2, 1), m=7)      layer sizes n[0..L] (n[L] = 1: one sigmoid unit) and m samples

The default shapes have no two sizes alike in a layer's product, so that a missing transpose
raises or gives a wrong shape instead of hiding; one has m = 1 (where a missing 1/m is no
mistake, and a sum over the wrong axis may pass unseen).

Variants:
    plain       W[l] ~ N(0, 1/n[l-1]), b[l] ~ N(0, 0.5^2) (non-zero biases, so a forgotten b
                shows), X ~ N(0, 1), labels 0/1 with both classes when m >= 2
    saturated   the output layer scaled so that max |Z[L]| is 25 (float64) or 10 (float32) and
                the labels agree with it (1 - A down to 1e-11), hidden weights tripled (tanh
                saturates); wrong-label saturation is left out: there the course's cost from
                A, log(1 - A), is ill-conditioned (one ulp of A moves it by u / (1 - A))
    zero        every b = 0, the first column of X zeros and the first row of W[1] zeros:
                Z is exactly 0 there in every layer, where ReLU'(0) = 0 (the course's
                relu_backward, `dZ[Z <= 0] = 0`)

In float32 the inputs are rounded to float32 and the reference is computed in float64 from
those rounded values; the caches handed to backward functions are the reference's, rounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compare.functions import reference

VARIANTS = ("plain", "saturated", "zero")
DTYPES = ("float64", "float32")
SATURATION = {"float64": 25.0, "float32": 10.0}     # max |Z[L]| of the saturated variant


@dataclass(frozen=True)
class Shape:
    """A network's layer sizes (n[0], ..., n[L]) and a number of samples m."""

    dims: tuple[int, ...]
    m: int

    def __post_init__(self) -> None:
        if len(self.dims) < 2 or min(self.dims) < 1 or self.m < 1:
            raise ValueError(f"a Shape needs >= 2 layer sizes >= 1 and m >= 1, got {self}")


SHAPES = (Shape((4, 3, 2, 1), 7), Shape((3, 5, 1), 1), Shape((2, 6, 4, 3, 1), 9), Shape((6, 2, 1), 5))


@dataclass
class Problem:
    """A consistent network problem in one dtype: inputs (rounded to `dtype`) and the float64
    reference values computed from them."""

    shape: Shape
    variant: str
    dtype: str
    hidden: str                                  # 'relu' (deep) or 'tanh' (planar)
    X: np.ndarray                                # [n0, m], in dtype
    Y: np.ndarray                                # [1, m], 0/1 in dtype
    params: dict[str, np.ndarray]                # W1, b1, ..., in dtype
    layers: list[dict[str, np.ndarray]]          # the reference's forward, float64
    grads: dict[str, np.ndarray] = field(default_factory=dict)   # the reference's backward
    index: int = 0                               # of its shape among the check's shapes

    @property
    def L(self) -> int:
        return len(self.params) // 2

    @property
    def m(self) -> int:
        return self.X.shape[1]

    def cast(self, x: Any) -> Any:
        """`x` (an array, or a tuple/list/dict of them) rounded to this problem's dtype."""
        if isinstance(x, dict):
            return {k: self.cast(v) for k, v in x.items()}
        if isinstance(x, (tuple, list)):
            return type(x)(self.cast(v) for v in x)
        return np.asarray(x).astype(self.dtype)

    def cache(self, l: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
        """Layer l's course cache ((A_prev, W, b), Z), in dtype."""
        f = self.layers[l - 1]
        return (self.cast(f["A_prev"]), self.cast(f["W"]), self.cast(f["b"])), self.cast(f["Z"])

    def caches(self) -> list[Any]:
        return [self.cache(l) for l in range(1, self.L + 1)]

    def AL(self) -> np.ndarray:
        return self.cast(self.layers[-1]["A"])

    def label(self) -> str:
        """'n = [4, 3, 2, 1], m = 7, saturated, float32' (plain and float64 go unsaid)."""
        parts = [f"n = {list(self.shape.dims)}", f"m = {self.m}"]
        return ", ".join(parts + [p for p in (self.variant, self.dtype) if p not in ("plain", "float64")])


def draw(shape: Shape, variant: str, dtype: str, hidden: str, seed: Any) -> Problem:
    """The problem of `shape` in `variant` and `dtype`, seeded."""
    rng = np.random.default_rng(seed)
    dims, m = shape.dims, shape.m
    X = rng.standard_normal((dims[0], m))
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])
        params[f"b{l}"] = rng.standard_normal((dims[l], 1)) * 0.5
    Y = (rng.random((1, m)) < 0.5).astype(float)
    if m >= 2:
        Y[0, :2] = (0.0, 1.0)                                          # both classes present
    if variant == "zero":
        X[:, 0] = 0.0
        params["W1"][0, :] = 0.0
        params.update({k: np.zeros_like(v) for k, v in params.items() if k.startswith("b")})
    if variant == "saturated":
        Y = saturate(X, params, hidden, SATURATION[dtype])
    problem = Problem(shape, variant, dtype, hidden, X, Y, params, [])
    problem.X, problem.Y, problem.params = problem.cast(X), problem.cast(Y), problem.cast(params)
    problem.layers = reference.forward(problem.X, problem.params, hidden)
    problem.grads = reference.backward(problem.Y, [layer_of(f) for f in problem.layers], hidden)
    return problem


def saturate(X: np.ndarray, params: dict[str, np.ndarray], hidden: str, size: float) -> np.ndarray:
    """Scale `params` in place so that max |Z[L]| = size (hidden weights tripled first); the
    labels that agree with the sign of Z[L]."""
    L = len(params) // 2
    for l in range(1, L):
        params[f"W{l}"] *= 3.0
    ZL = reference.forward(X, params, hidden)[-1]["Z"]                 # [1, m]
    top = float(np.max(np.abs(ZL))) or 1.0
    params[f"W{L}"] *= size / top
    params[f"b{L}"] *= size / top
    return (ZL > 0).astype(float)


def layer_of(f: dict[str, np.ndarray]) -> reference.Layer:
    return f["A_prev"], f["W"], f["b"], f["Z"]


class Problems:
    """The problems of one check, drawn once and shared by every function's cases."""

    def __init__(self, shapes: tuple[Shape, ...], dtypes: tuple[str, ...], seed: int) -> None:
        self.shapes, self.dtypes, self.seed = shapes, dtypes, seed
        self._drawn: dict[tuple[int, str, str, str], Problem] = {}

    def each(self, hidden: str = "relu", depth: int | None = None) -> list[Problem]:
        """Every (shape, variant, dtype) problem with `hidden` activations; `depth` = 2 keeps the
        planar net's layers n[0], n[1], n[L] of each shape, 1 logistic regression's n[0], n[L]."""
        found = []
        for i, shape in enumerate(self.shapes):
            for variant in VARIANTS:
                for dtype in self.dtypes:
                    found.append(self.get(i, shape, variant, dtype, hidden, depth))
        return found

    def get(self, i: int, shape: Shape, variant: str, dtype: str, hidden: str,
            depth: int | None) -> Problem:
        key = (i, variant, dtype, f"{hidden}{depth}")
        if key not in self._drawn:
            dims = shape.dims
            if depth == 2:
                dims = (dims[0], dims[1] if len(dims) > 2 else 4, dims[-1])
            elif depth == 1:
                dims = (dims[0], dims[-1])
            seed = [self.seed, i, VARIANTS.index(variant), depth or 0]
            self._drawn[key] = draw(Shape(dims, shape.m), variant, dtype, hidden, seed)
            self._drawn[key].index = i
        return self._drawn[key]
