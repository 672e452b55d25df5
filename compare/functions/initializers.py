"""The initializers: initialize_parameters(n_x, n_h, n_y) (planar, and the deep exercise's
two-layer start) and initialize_parameters_deep(layer_dims).

Checked by what the course asks of them, never by matching a random stream: every W[l]
[n[l], n[l-1]] and b[l] [n[l], 1], floats, the biases exactly 0, no W all zeros (the units
would stay identical), and the scale of the draw, by a statistical test on one large call:

    under W[l] ~ N(0, sigma_l^2):  T = sum (w / sigma_l)^2 ~ chi-square(N),
                                   S = sum (w / sigma_l) / sqrt(N) ~ N(0, 1)

over all N entries of every W. A rule passes when T lies in the chi-square interval of
probability 1 - 1e-6 and |S| under the normal quantile of 1 - 1e-6 / 2: a correct
initializer is refused with probability at most 2e-6 per rule. The rules are the course's:
`randn * 0.01` for initialize_parameters; `randn * 0.01` (step by step),
`randn / sqrt(n[l-1])` (the application) or `randn * sqrt(2 / n[l-1])` (He, the next course)
for initialize_parameters_deep. The large call draws 1,400 (planar) or 3,220 (deep) entries:
the interval then admits a standard deviation within about 15% (9%) of the rule's.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
import torch

from compare.functions.contract import Case, Context, Contract
from compare.functions.judge import Measure, Mismatch, mapping, shape_cause

FALSE_ALARM = 1e-6
PLANAR_DRAW = (30, 40, 5)           # n_x, n_h, n_y of the large call
DEEP_DRAW = (60, 40, 20, 1)         # layer_dims of the large call
PLANAR_RULES = {"randn * 0.01": lambda n_prev: 0.01}
DEEP_RULES = {"randn * 0.01": lambda n_prev: 0.01,
              "randn / sqrt(n[l-1])": lambda n_prev: 1 / math.sqrt(n_prev),
              "randn * sqrt(2 / n[l-1])": lambda n_prev: math.sqrt(2 / n_prev)}


def scale_fits(draws: Sequence[tuple[np.ndarray, float]]) -> tuple[bool, float]:
    """Whether the W of `draws` ((values, sigma) pairs) pass both tests; and std / sigma.

    T's two tail probabilities are the regularized incomplete gamma functions P(N/2, T/2) and
    Q(N/2, T/2) (torch.special.gammainc, gammaincc); S's bound is the normal quantile."""
    x = np.concatenate([np.asarray(w, dtype=np.float64).ravel() / sigma for w, sigma in draws])
    N = x.size
    T, S = float(np.sum(x * x)), float(np.sum(x)) / math.sqrt(N)
    half, t = torch.tensor(N / 2, dtype=torch.float64), torch.tensor(T / 2, dtype=torch.float64)
    below, above = float(torch.special.gammainc(half, t)), float(torch.special.gammaincc(half, t))
    z = statistics.NormalDist().inv_cdf(1 - FALSE_ALARM / 2)
    return bool(min(below, above) >= FALSE_ALARM / 2 and abs(S) <= z), math.sqrt(T / N)


def check_shapes(params: Any, dims: Sequence[int]) -> list[Measure]:
    """Keys, shapes, float dtype, zero biases and no all-zero W, else Mismatch."""
    L = len(dims) - 1
    p = mapping(params, [f"{q}{l}" for l in range(1, L + 1) for q in "Wb"], "parameters")
    for l in range(1, L + 1):
        for name, shape in ((f"W{l}", (dims[l], dims[l - 1])), (f"b{l}", (dims[l], 1))):
            value = np.asarray(p[name])
            if value.shape != shape:
                raise Mismatch(shape_cause(name, value, np.zeros(shape), 0))
            if value.dtype.kind != "f":
                raise Mismatch(f"{name} is {value.dtype}, expected floats")
        if np.any(np.asarray(p[f"b{l}"]) != 0):
            raise Mismatch(f"b{l} is not zero: the course starts every bias at 0 (np.zeros)")
        if not np.any(np.asarray(p[f"W{l}"])) and dims[l] * dims[l - 1] > 1:
            raise Mismatch(f"W{l} is all zeros: its units would stay identical (draw it with randn)")
    return [Measure("shapes", 0.0, 0.0)]


def judge_scale(dims: Sequence[int],
                rules: dict[str, Callable[[int], float]]) -> Callable[[Any], list[Measure]]:
    def judge(value: Any) -> list[Measure]:
        check_shapes(value, dims)
        Ws = [np.asarray(value[f"W{l}"]) for l in range(1, len(dims))]
        fits = {rule: scale_fits([(W, sigma(dims[l])) for l, W in enumerate(Ws)])
                for rule, sigma in rules.items()}
        found = next((rule for rule, (ok, _) in fits.items() if ok), None)
        if found is not None:
            return [Measure("scale", 0.0, 0.0, note=f"scale {found} (std {fits[found][1]:.3f} x that)")]
        return [Measure("scale", math.inf, 0.0, scale_cause(Ws, fits))]
    return judge


def scale_cause(Ws: Sequence[np.ndarray], fits: dict[str, tuple[bool, float]]) -> str:
    """Which course rule the draw is nearest to, how far, and a likely cause."""
    rule, (_, ratio) = min(fits.items(), key=lambda kv: abs(math.log(kv[1][1] or 1e-300)))
    values = np.concatenate([W.ravel() for W in Ws])
    if np.all(values >= 0):
        return f"every W entry is >= 0 (mean {values.mean():.3g}): np.random.rand (uniform) instead of randn?"
    text = f"the draw's std is {ratio:.3g} x that of {rule}"
    if len(fits) > 1:
        text += f", the nearest of the course's {', '.join(fits)}"
    if 0.8 <= float(values.std()) <= 1.25:
        text += f" (its std is {values.std():.2f}: randn with its scale left out?)"
    return text


def planar_cases(ctx: Context) -> list[Case]:
    sizes = sorted({(s.dims[0], s.dims[1] if len(s.dims) > 2 else 4, s.dims[-1])
                    for s in ctx.problems.shapes})
    cases = [Case(f"n_x, n_h, n_y = {n}", n, partial(check_shapes, dims=n)) for n in sizes]
    return cases + [Case(f"n_x, n_h, n_y = {PLANAR_DRAW} (the scale)", PLANAR_DRAW,
                         judge_scale(PLANAR_DRAW, PLANAR_RULES))]


def deep_cases(ctx: Context) -> list[Case]:
    sizes = sorted({s.dims for s in ctx.problems.shapes})
    cases = [Case(f"layer_dims = {list(n)}", (list(n),), partial(check_shapes, dims=n)) for n in sizes]
    return cases + [Case(f"layer_dims = {list(DEEP_DRAW)} (the scale)", (list(DEEP_DRAW),),
                         judge_scale(DEEP_DRAW, DEEP_RULES))]


CONTRACTS = [
    Contract("initialize_parameters", ("shallow", "deep"), ("n_x", "n_h", "n_y"),
             "parameters {'W1', 'b1', 'W2', 'b2'}", "shapes, zero biases, scale randn * 0.01 "
             f"(chi-square, false alarm {FALSE_ALARM:g})", planar_cases),
    Contract("initialize_parameters_deep", ("deep",), ("layer_dims",),
             "parameters {'W1', 'b1', ..., 'WL', 'bL'}",
             "shapes, zero biases, scale randn * 0.01, / sqrt(n[l-1]) or * sqrt(2 / n[l-1]) "
             f"(chi-square, false alarm {FALSE_ALARM:g})", deep_cases),
]
