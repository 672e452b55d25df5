"""The deep network's forward pass (week 4): linear_forward, linear_activation_forward,
L_model_forward.

    linear_forward(A, W, b)                          -> (Z, cache = (A, W, b))
    linear_activation_forward(A_prev, W, b, act)     -> (A, cache = ((A_prev, W, b), Z))
    L_model_forward(X, parameters)                   -> (AL, caches: one cache per layer)

ReLU in the hidden layers, sigmoid at the output. The caches must hold what the course's
backward functions read, in the course's layout; the values they hold are compared exactly
(the inputs) or as Z is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from compare.functions import mistakes, reference
from compare.functions.contract import Case, Context, Contract, tol
from compare.functions.judge import Candidates, Measure, Mismatch, exact, items, measure
from compare.functions.planar import scales
from compare.functions.problems import Problem

LINEAR = ("A_prev", "W", "b")


def linear_size(A: Any, W: Any, b: Any) -> np.ndarray:
    """|W| |A| + |b|: the size of what Z = W A + b sums."""
    return np.abs(mistakes.f64(W)) @ np.abs(mistakes.f64(A)) + np.abs(mistakes.f64(b))


def linear_cache(value: Any, ref: tuple[Any, ...], name: str, A_scale: Any = None,
                 t: float = 0.0) -> list[Measure]:
    """A linear cache (A_prev, W, b) holding the layer's inputs, in that order: W and b exactly,
    A_prev exactly too, or (`A_scale` given: A_prev computed by the learner) within `t`."""
    got = items(value, 3, f"{name} = (A_prev, W, b)")
    m = np.shape(ref[0])[-1]
    found = [exact(f"{name}[0] (A_prev)", got[0], ref[0], 0.0) if A_scale is None
             else measure(f"{name}[0] (A_prev)", got[0], ref[0], A_scale, t, m),
             exact(f"{name}[1] (W)", got[1], ref[1], 0.0), exact(f"{name}[2] (b)", got[2], ref[2], 0.0)]
    if not all(x.passed for x in found):
        order = [next((n for r, n in zip(ref, LINEAR, strict=True) if np.shape(g) == np.shape(r)
                       and np.allclose(g, r, rtol=1e-4, atol=0)), "?") for g in got]
        if sorted(order) == sorted(LINEAR):
            raise Mismatch(f"{name} is ({', '.join(order)}): in another order, expected (A_prev, W, b)")
    return found


def course_cache(value: Any, ref: tuple[Any, ...], Z: np.ndarray, Z_scale: Any, t: float, name: str,
                 A_scale: Any = None) -> list[Measure]:
    """A layer's cache ((A_prev, W, b), Z), as the course's backward functions unpack it."""
    first, second = items(value, 2, f"{name} = ((A_prev, W, b), Z)")
    if isinstance(second, (tuple, list)) and not isinstance(first, (tuple, list)):
        raise Mismatch(f"{name} is (Z, (A_prev, W, b)): in another order, expected "
                       "(linear_cache, activation_cache) = ((A_prev, W, b), Z)")
    found = linear_cache(first, ref, f"{name}[0]", A_scale, t)
    found.append(measure(f"{name}[1] (Z)", second, Z, Z_scale, t, Z.shape[1]))
    if not found[-1].passed and not found[-1].hint:
        found[-1].hint = f"{name}[1] is not Z (the activation cache holds Z, which the backward pass needs)"
    return found


def judge_linear(p: Problem, l: int) -> Callable[[Any], list[Measure]]:
    (A, W, b), _ = p.cache(l)
    Z = p.layers[l - 1]["Z"]
    a, w, bb = mistakes.f64(A), mistakes.f64(W), mistakes.f64(b)
    wrong = [("b left out: Z = W A", w @ a), ("b subtracted: Z = W A - b", w @ a - bb)]

    def judge(value: Any) -> list[Measure]:
        got, cache = items(value, 2, "(Z, cache)")
        return [measure("Z", got, Z, linear_size(A, W, b), tol(p), p.m, wrong),
                *linear_cache(cache, (A, W, b), "cache")]
    return judge


def linear_cases(ctx: Context) -> list[Case]:
    return [Case(f"{p.label()}, layer {l}", p.cache(l)[0], judge_linear(p, l))
            for p in ctx.problems.each("relu") for l in range(1, p.L + 1)]


def judge_activation(p: Problem, l: int, name: str) -> Callable[[Any], list[Measure]]:
    (A_prev, W, b), Zc = p.cache(l)
    Z = reference.linear_forward(A_prev, W, b)
    A = reference.activation(name, Z)
    gp = A * (1 - A) if name == "sigmoid" else (Z > 0).astype(float)
    size = gp * linear_size(A_prev, W, b) + np.abs(A)
    other = "relu" if name == "sigmoid" else "sigmoid"
    wrong: Candidates = [(f"{other} applied instead of {name}", reference.activation(other, Z)),
                         ("the activation not applied: A = Z", Z),
                         ("b left out", reference.activation(name, mistakes.f64(W) @ mistakes.f64(A_prev)))]

    def judge(value: Any) -> list[Measure]:
        got, cache = items(value, 2, "(A, cache)")
        return [measure("A", got, A, size, tol(p), p.m, wrong),
                *course_cache(cache, (A_prev, W, b), Z, linear_size(A_prev, W, b), tol(p), "cache")]
    return judge


def activation_cases(ctx: Context) -> list[Case]:
    return [Case(f"{p.label()}, layer {l}, {name}", (*p.cache(l)[0], name), judge_activation(p, l, name))
            for p in ctx.problems.each("relu") for l in range(1, p.L + 1) for name in ("relu", "sigmoid")]


def judge_model(p: Problem) -> Callable[[Any], list[Measure]]:
    s = scales(p)
    X = mistakes.f64(p.X)
    other = {"the last layer ReLU instead of sigmoid": ("relu", "relu", True),
             "sigmoid in every layer": ("sigmoid", "sigmoid", True),
             "the biases left out": ("relu", "sigmoid", False)}
    wrong = [(h, mistakes.forward(X, p.params, *args)[-1][1]) for h, args in other.items()]

    def judge(value: Any) -> list[Measure]:
        AL, caches = items(value, 2, "(AL, caches)")
        if not isinstance(caches, (list, tuple)) or len(caches) != p.L:
            got = f"{len(caches)} entries" if isinstance(caches, (list, tuple)) else type(caches).__name__
            raise Mismatch(f"caches has {got}, expected L = {p.L}: one cache per layer")
        found = [measure("AL", AL, p.layers[-1]["A"], s[f"A{p.L}"], tol(p), p.m, wrong)]
        for l, cache in enumerate(caches, 1):
            f = p.layers[l - 1]
            ref = (f["A_prev"], p.params[f"W{l}"], p.params[f"b{l}"])
            found += course_cache(cache, ref, f["Z"], s[f"Z{l}"], tol(p), f"caches[{l - 1}]",
                                  s[f"A{l - 1}"] if l > 1 else None)
        return found
    return judge


def model_cases(ctx: Context) -> list[Case]:
    return [Case(p.label(), (p.X, p.params), judge_model(p)) for p in ctx.problems.each("relu")]


CONTRACTS = [
    Contract("linear_forward", ("deep",), ("A", "W", "b"), "(Z, cache = (A, W, b))",
             "torch W @ A + b, every layer", linear_cases),
    Contract("linear_activation_forward", ("deep",), ("A_prev", "W", "b", "activation"),
             "(A, cache = ((A_prev, W, b), Z))", "torch relu / sigmoid of W @ A + b, every layer, both",
             activation_cases),
    Contract("L_model_forward", ("deep",), ("X", "parameters"), "(AL, caches)",
             "torch net, ReLU hidden, sigmoid output; every cache", model_cases),
]
