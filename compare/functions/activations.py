"""The activation helpers: sigmoid(z), relu(Z), sigmoid_backward(dA, cache), relu_backward(dA, cache).

The logistic exercise's sigmoid returns the array; the deep exercise's helpers (dnn_utils)
return (A, cache = Z): both are accepted, and a returned cache must be Z itself. Checked on
the Z of every problem (Z exactly 0 in the zero variant) and on extremes, z = +-800 in float64
(+-100 in float32) and 0, where 1 / (1 + e^-z) overflows to the right answer (so that relu
and relu_backward have cases even where no shape has a hidden layer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from compare.functions import mistakes, reference
from compare.functions.contract import Case, Context, Contract, tol
from compare.functions.judge import Candidates, Measure, exact, items, measure
from compare.functions.problems import Problem

EXTREMES = {"float64": [-800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0],
            "float32": [-100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0]}


def judge_forward(Z: np.ndarray, A: np.ndarray, t: float,
                  candidates: Candidates) -> Callable[[Any], list[Measure]]:
    """A, or (A, cache = Z), against the reference A = g(Z)."""
    def judge(value: Any) -> list[Measure]:
        if isinstance(value, (tuple, list)):
            got, cache = items(value, 2, "A, or (A, cache) with cache = Z")
            found = [measure("A", got, A, np.abs(A), t, Z.shape[-1], candidates),
                     exact("cache", cache, Z, 0.0)]
            if not found[1].passed and exact("cache", cache, A, 0.0).passed:
                found[1].hint = "the cache holds A, expected Z (what the backward pass needs)"
            return found
        return [measure("A", value, A, np.abs(A), t, Z.shape[-1], candidates)]
    return judge


def inputs(ctx: Context, layers: str) -> list[tuple[str, Problem, np.ndarray]]:
    """(where, problem, Z) of each problem's output layer (`layers` 'output') or hidden layers."""
    found = []
    for p in ctx.problems.each("relu"):
        chosen = [p.L] if layers == "output" else range(1, p.L)
        found += [(f"{p.label()}, Z{l}", p, p.cast(p.layers[l - 1]["Z"])) for l in chosen]
    return found


def sigmoid_cases(ctx: Context) -> list[Case]:
    cases = []
    for where, p, Z in inputs(ctx, "output") + extremes(ctx):
        A = reference.activation("sigmoid", Z)
        z = mistakes.f64(Z)
        wrong = [("computes sigmoid(-z) = 1 - sigmoid(z): the sign of the exponent",
                 mistakes.sigmoid(-z)), ("tanh instead of sigmoid", np.tanh(z))]
        cases.append(Case(where, (Z,), judge_forward(Z, A, tol(p), wrong)))
    return cases


def extremes(ctx: Context) -> list[tuple[str, Problem, np.ndarray]]:
    p = ctx.problems.each("relu")
    return [(f"z = {EXTREMES[d][0]:g} .. {EXTREMES[d][-1]:g}, {d}",
             next(q for q in p if q.dtype == d), np.array([EXTREMES[d]], dtype=d))
            for d in ctx.problems.dtypes]


def relu_cases(ctx: Context) -> list[Case]:
    cases = []
    for where, p, Z in inputs(ctx, "hidden") + extremes(ctx):
        A = reference.activation("relu", Z)
        z = mistakes.f64(Z)
        wrong = [("returns Z unchanged: the max with 0 is missing", z),
                 ("keeps the negative part: max(0, Z) the wrong way round", np.minimum(z, 0))]
        cases.append(Case(where, (Z,), judge_forward(Z, A, tol(p), wrong)))
    return cases


def judge_backward(dA: np.ndarray, Z: np.ndarray, name: str, t: float) -> Callable[[Any], list[Measure]]:
    """dZ = dA * g'(Z) against autograd, relative to |dA| times the size of g''s terms."""
    dZ = reference.activation_backward(name, dA, Z)
    a = reference.activation("sigmoid", Z)
    size = np.abs(mistakes.f64(dA)) * (a * (1 + a) if name == "sigmoid" else 1.0)
    d, z = mistakes.f64(dA), mistakes.f64(Z)

    def wrong() -> list[tuple[str, np.ndarray]]:
        found = [("dA returned unchanged: g'(Z) not applied", d)]
        if name == "sigmoid":
            found += [("the derivative taken at A instead of Z (sigmoid applied twice)",
                       d * mistakes.PRIME["sigmoid at A"](z)),
                      ("the cache Z used as if it were A: dA * Z * (1 - Z)", d * mistakes.PRIME["Z as A"](z))]
        else:
            found += [("relu'(0) taken as 1 (Z >= 0); the course sets dZ = 0 where Z <= 0",
                       d * mistakes.PRIME["relu at 0 = 1"](z)),
                      ("the mask the wrong way round (Z < 0 kept)", d * (z < 0))]
        return found

    def judge(value: Any) -> list[Measure]:
        return [measure("dZ", value, dZ, size, t, z.shape[-1], wrong)]
    return judge


def sigmoid_backward_cases(ctx: Context) -> list[Case]:
    cases = []
    for where, p, Z in inputs(ctx, "output"):
        AL, Y = mistakes.f64(p.AL()), mistakes.f64(p.Y)
        dA = p.cast(-(Y / AL - (1 - Y) / (1 - AL)))                         # the course's dA[L]
        cases.append(Case(where, (dA, Z), judge_backward(dA, Z, "sigmoid", tol(p))))
    for where, p, Z in extremes(ctx):
        dA = p.cast(np.random.default_rng(ctx.seed).standard_normal(Z.shape))
        cases.append(Case(where, (dA, Z), judge_backward(dA, Z, "sigmoid", tol(p))))
    return cases


def relu_backward_cases(ctx: Context) -> list[Case]:
    cases = []
    for p in ctx.problems.each("relu"):
        for l in range(1, p.L):
            dA, Z = p.cast(p.grads[f"dA{l}"]), p.cast(p.layers[l - 1]["Z"])
            cases.append(Case(f"{p.label()}, Z{l}", (dA, Z), judge_backward(dA, Z, "relu", tol(p))))
    for where, p, Z in extremes(ctx):
        dA = p.cast(np.random.default_rng(ctx.seed).standard_normal(Z.shape))
        cases.append(Case(where, (dA, Z), judge_backward(dA, Z, "relu", tol(p))))
    return cases


CONTRACTS = [
    Contract("sigmoid", ("logistic", "deep"), ("z",), "A, or (A, cache = z)",
             "torch.sigmoid on every problem's Z[L] and on z = +-800", sigmoid_cases),
    Contract("relu", ("deep",), ("Z",), "(A, cache = Z)",
             "torch.relu on the hidden Z, exact zeros included, and on z = +-800", relu_cases),
    Contract("sigmoid_backward", ("deep",), ("dA", "cache"), "dZ",
             "autograd of sum(dA * sigmoid(Z)), at the course's dA[L] and at z = +-800",
             sigmoid_backward_cases),
    Contract("relu_backward", ("deep",), ("dA", "cache"), "dZ",
             "autograd of sum(dA * relu(Z)); relu'(0) = 0 at the exact zeros; z = +-800",
             relu_backward_cases),
]
