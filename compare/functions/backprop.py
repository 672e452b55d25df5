"""The deep network's backward pass (week 4): linear_backward, linear_activation_backward,
L_model_backward.

    linear_backward(dZ, cache = (A_prev, W, b))      -> (dA_prev, dW, db)
    linear_activation_backward(dA, cache, act)       -> (dA_prev, dW, db)
    L_model_backward(AL, Y, caches)                  -> grads {'dA0', ..., 'dA{L-1}', 'dW1', 'db1', ...}

The course's dZ and dA carry no 1/m; dW = (1/m) dZ A_prev^T and db = (1/m) sum(dZ, axis=1,
keepdims=True) are dJ/dW and dJ/db. Every reference value is autograd's, from the caches the
function is given (the reference forward of the problem, rounded to its dtype).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from compare.functions import mistakes, reference
from compare.functions.contract import Case, Context, Contract, tol
from compare.functions.judge import Measure, items, mapping, measure
from compare.functions.planar import scales
from compare.functions.problems import Problem

OUTPUTS = ("dA_prev", "dW", "db")


def linear_sizes(size_dZ: np.ndarray, A_prev: Any, W: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sizes of what dA_prev, dW and db sum, from the size of dZ's terms."""
    m = np.shape(A_prev)[1]
    return (np.abs(mistakes.f64(W)).T @ size_dZ, size_dZ @ np.abs(mistakes.f64(A_prev)).T / m,
            np.sum(size_dZ, axis=1, keepdims=True) / m)


def judge_triple(ref: Sequence[np.ndarray], sizes: Sequence[np.ndarray], t: float, m: int,
                 wrong: Mapping[str, Sequence[np.ndarray]]) -> Callable[[Any], list[Measure]]:
    """(dA_prev, dW, db) against the reference; `wrong` maps a likely cause to what it returns."""
    def judge(value: Any) -> list[Measure]:
        got = items(value, 3, "(dA_prev, dW, db)")
        return [measure(n, g, r, s, t, m, [(h, w[i]) for h, w in wrong.items()])
                for i, (n, g, r, s) in enumerate(zip(OUTPUTS, got, ref, sizes, strict=True))]
    return judge


def linear_cases(ctx: Context) -> list[Case]:
    cases = []
    for p in ctx.problems.each("relu"):
        for l in range(1, p.L + 1):
            dZ, ((A_prev, W, b), _) = p.cast(p.grads[f"dZ{l}"]), p.cache(l)
            ref = reference.linear_backward(dZ, A_prev, W, b)
            sizes = linear_sizes(np.abs(mistakes.f64(dZ)), A_prev, W)
            cases.append(Case(f"{p.label()}, layer {l}", (dZ, (A_prev, W, b)),
                              judge_triple(ref, sizes, tol(p), p.m, {})))
    return cases


def upstream(p: Problem, l: int) -> np.ndarray:
    """The dA that flows into layer l: the course's dA[L] = -(Y/A - (1-Y)/(1-A)) at the output."""
    if l < p.L:
        return p.cast(p.grads[f"dA{l}"])
    AL, Y = mistakes.f64(p.AL()), mistakes.f64(p.Y)
    return p.cast(-(Y / AL - (1 - Y) / (1 - AL)))


def activation_case(p: Problem, l: int, name: str) -> Case:
    dA, ((A_prev, W, b), Z) = upstream(p, l), p.cache(l)
    dZ = reference.activation_backward(name, dA, Z)
    a = reference.activation("sigmoid", Z)
    size_dZ = np.abs(mistakes.f64(dA)) * (a * (1 + a) if name == "sigmoid" else 1.0)
    d, z = mistakes.f64(dA), mistakes.f64(Z)
    other = "relu" if name == "sigmoid" else "sigmoid"
    primes = {"dA passed to linear_backward as dZ: g'(Z) not applied": "none",
              f"{other}'s derivative used for {name}": other,
              **({"the derivative taken at A instead of Z (sigmoid applied twice)": "sigmoid at A"}
                 if name == "sigmoid" else {"relu'(0) taken as 1 (Z >= 0)": "relu at 0 = 1"})}
    wrong = {h: mistakes.linear_backward(d * mistakes.PRIME[k](z), A_prev, W) for h, k in primes.items()}
    judge = judge_triple(reference.linear_backward(dZ, A_prev, W, b), linear_sizes(size_dZ, A_prev, W),
                         tol(p), p.m, wrong)
    return Case(f"{p.label()}, layer {l}, {name}", (dA, ((A_prev, W, b), Z), name), judge)


def activation_cases(ctx: Context) -> list[Case]:
    return [activation_case(p, l, name) for p in ctx.problems.each("relu") for l in range(1, p.L + 1)
            for name in (("relu", "sigmoid") if l < p.L else ("sigmoid",))]


def judge_model(p: Problem) -> Callable[[Any], list[Measure]]:
    s = scales(p)
    caches = p.caches()
    layers = [(mistakes.f64(A), mistakes.f64(W), mistakes.f64(b), mistakes.f64(Z)) for (A, W, b), Z in caches]
    ref = reference.backward(p.Y, layers, "relu")
    names = [f"{q}{l}" for l in range(p.L, 0, -1) for q in ("dW", "db")]
    names += [f"dA{l}" for l in range(p.L - 1, -1, -1)]
    AL, Y = p.AL(), p.Y
    chains: dict[str, dict[str, Any]] = {
        "A[L] - Y used as dA[L]: g' applied twice (dZ[L] = A[L] - Y is already dA[L] g'(Z[L]))":
            {"dA_is_dZ": True},
        "relu'(0) taken as 1 (Z >= 0)": {"hidden": "relu at 0 = 1"},
        "the hidden layers' dA passed to linear_backward as dZ (relu' not applied)": {"hidden": "none"},
        "the output layer's backward with relu instead of sigmoid": {"output": "relu"},
        "the hidden layers' backward with sigmoid instead of relu": {"hidden": "sigmoid"}}

    def wrong() -> dict[str, dict[str, np.ndarray]]:      # only when a grad differs
        return {h: mistakes.backward(AL, Y, caches, **kw) for h, kw in chains.items()}

    def judge(value: Any) -> list[Measure]:
        g = mapping(value, names, "grads")
        return [measure(n, g[n], ref[n], s[n], tol(p), p.m, picked(wrong, n))
                for n in names]
    return judge


def picked(wrong: Callable[[], dict[str, dict[str, np.ndarray]]],
           name: str) -> Callable[[], list[tuple[str, Any]]]:
    """The mistakes' values of the grad `name`, computed when asked (on a failure)."""
    return lambda: [(h, w[name]) for h, w in wrong().items()]


def model_cases(ctx: Context) -> list[Case]:
    return [Case(p.label(), (p.AL(), p.Y, p.caches()), judge_model(p)) for p in ctx.problems.each("relu")]


CONTRACTS = [
    Contract("linear_backward", ("deep",), ("dZ", "cache"), "(dA_prev, dW, db)",
             "autograd of sum(dZ * (W A_prev + b)), every layer", linear_cases),
    Contract("linear_activation_backward", ("deep",), ("dA", "cache", "activation"), "(dA_prev, dW, db)",
             "autograd through g(W A_prev + b), every layer, both activations", activation_cases),
    Contract("L_model_backward", ("deep",), ("AL", "Y", "caches"), "grads {'dA{l-1}', 'dW{l}', 'db{l}'}",
             "autograd of J, stage by stage from the caches", model_cases),
]
