"""One hidden layer on the planar data (week 3): layer_sizes, forward_propagation, compute_cost,
backward_propagation, update_parameters, predict(parameters, X).

The net is tanh in its n_h hidden units and sigmoid at its output; parameters {'W1' [n_h, n_x],
'b1' [n_h, 1], 'W2' [n_y, n_h], 'b2' [n_y, 1]}; forward_propagation's cache {'Z1', 'A1', 'Z2',
'A2'}; backward_propagation's grads {'dW1', 'db1', 'dW2', 'db2'}. compute_cost(AL, Y) (or the
older compute_cost(A2, Y, parameters)) and update_parameters serve the deep exercise too, so
they are checked on its problems as well when it is among the exercises.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral
from typing import Any

import numpy as np

from compare.functions import mistakes, reference
from compare.functions.contract import Case, Context, Contract, tol
from compare.functions.judge import Measure, Mismatch, items, mapping, measure, number, predictions
from compare.functions.problems import Problem
from compare.proof.magnitude import magnitudes
from scratch.spec import ModelSpec

RATES = (1.2, 0.0075, 0.3, 0.05)        # update_parameters' learning_rate, problem by problem


def judge_sizes(n_x: int, n_y: int, m: int) -> Callable[[Any], list[Measure]]:
    def judge(value: Any) -> list[Measure]:
        got = items(value, 3, "(n_x, n_h, n_y)")
        if not all(isinstance(n, Integral) for n in got):
            raise Mismatch(f"returned {got!r}, expected three integers")
        found = []
        for name, n, want, shape in (("n_x", got[0], n_x, "X"), ("n_h", got[1], 4, ""),
                                     ("n_y", got[2], n_y, "Y")):
            fixed = "" if shape else " (the course's layer_sizes sets n_h = 4)"
            hint = (f"{name} is {shape}.shape[1] (m = {m}), expected {shape}.shape[0]" if n == m != want
                    else f"{name} = {n}, expected {want}{fixed}")
            found.append(Measure(name, 0.0 if n == want else np.inf, 0.0, "" if n == want else hint))
        return found
    return judge


def sizes_cases(ctx: Context) -> list[Case]:
    cases = []
    plain = [q for q in ctx.problems.each("tanh", 2) if q.variant == "plain" and q.dtype == "float64"]
    for i, p in enumerate(plain):
        n_y = 1 + i % 3
        Y = np.zeros((n_y, p.m))
        cases.append(Case(f"X {list(p.X.shape)}, Y {list(Y.shape)}", (p.X, Y),
                          judge_sizes(p.X.shape[0], n_y, p.m)))
    return cases


def scales(p: Problem) -> dict[str, np.ndarray]:
    """Magnitudes of every quantity of a problem's net (compare.proof.magnitude)."""
    spec = ModelSpec.build(p.shape.dims, activation=p.hidden, output="sigmoid", init="zeros")
    forward = {f"{q}{l}": f[q] for l, f in enumerate(p.layers, 1) for q in ("Z", "A")}
    forward["cost"] = np.float64(reference.cost(p.layers[-1]["A"], p.Y))
    s = magnitudes(spec, p.params, p.X, p.Y, forward, p.grads)
    s["dA0"] = np.abs(mistakes.f64(p.params["W1"])).T @ s["dZ1"]
    return s


def planar_cache(p: Problem) -> dict[str, np.ndarray]:
    return {f"{q}{l}": p.cast(f[q]) for l, f in enumerate(p.layers, 1) for q in ("Z", "A")}


def judge_forward(p: Problem) -> Callable[[Any], list[Measure]]:
    s, ref = scales(p), planar_cache(p)
    X, params = mistakes.f64(p.X), p.params
    other = {"sigmoid in the hidden layer instead of tanh": ("sigmoid", "sigmoid", True),
             "ReLU in the hidden layer instead of tanh": ("relu", "sigmoid", True),
             "the biases left out": ("tanh", "sigmoid", False),
             "tanh at the output instead of sigmoid": ("tanh", "tanh", True)}
    wrong = [(h, mistakes.forward(X, params, *args)[-1][1]) for h, args in other.items()]

    def judge(value: Any) -> list[Measure]:
        A2, cache = items(value, 2, "(A2, cache)")
        c = mapping(cache, tuple(ref), "cache")
        return [measure("A2", A2, ref["A2"], s["A2"], tol(p), p.m, wrong),
                *(measure(f"cache['{k}']", c[k], r, s[k], tol(p), p.m) for k, r in ref.items())]
    return judge


def forward_cases(ctx: Context) -> list[Case]:
    return [Case(p.label(), (p.X, p.params), judge_forward(p)) for p in ctx.problems.each("tanh", 2)]


def judge_cost(p: Problem) -> Callable[[Any], list[Measure]]:
    A, Y = mistakes.f64(p.AL()), mistakes.f64(p.Y)
    J = reference.cost(A, Y)
    with np.errstate(divide="ignore", invalid="ignore"):
        size = float(np.sum(np.abs(Y * np.log(A)) + np.abs((1 - Y) * np.log1p(-A))) / p.m) + 1.0
        wrong = [("only the Y log(A) term", -np.sum(Y * np.log(A)) / p.m),
                 ("only the (1 - Y) log(1 - A) term", -np.sum((1 - Y) * np.log1p(-A)) / p.m),
                 ("log(A) and log(1 - A) swapped", -np.sum(Y * np.log1p(-A) + (1 - Y) * np.log(A)) / p.m)]
    return lambda value: [measure("cost", number(value, "cost"), J, size, tol(p), p.m, wrong)]


def cost_cases(ctx: Context) -> list[Case]:
    found = ctx.problems.each("tanh", 2) + (ctx.problems.each("relu") if "deep" in ctx.exercises else [])
    return [Case(p.label(), (p.AL(), p.Y, p.params), judge_cost(p)) for p in found]


def judge_backward(p: Problem) -> Callable[[Any], list[Measure]]:
    s, cache = scales(p), planar_cache(p)
    primes = {"tanh' left out of dZ1 (dZ1 = W2^T dZ2)": lambda c: 1.0,
              "tanh' taken at Z1 (1 - Z1^2) instead of from A1 (1 - A1^2)": lambda c: 1 - c["Z1"] ** 2,
              "tanh' written as A1 (1 - A1), the sigmoid's": lambda c: c["A1"] * (1 - c["A1"])}
    wrong = {h: mistakes.planar_backward(p.params, cache, p.X, p.Y, g) for h, g in primes.items()}

    def judge(value: Any) -> list[Measure]:
        g = mapping(value, ("dW1", "db1", "dW2", "db2"), "grads")
        return [measure(k, g[k], p.grads[k], s[k], tol(p), p.m, [(h, w[k]) for h, w in wrong.items()])
                for k in ("dW2", "db2", "dW1", "db1")]
    return judge


def backward_cases(ctx: Context) -> list[Case]:
    return [Case(p.label(), (p.params, planar_cache(p), p.X, p.Y), judge_backward(p))
            for p in ctx.problems.each("tanh", 2)]


def judge_update(p: Problem, grads: dict[str, np.ndarray], lr: float) -> Callable[[Any], list[Measure]]:
    P, G = {k: mistakes.f64(v) for k, v in p.params.items()}, {k: mistakes.f64(v) for k, v in grads.items()}

    def judge(value: Any) -> list[Measure]:
        new = mapping(value, tuple(P), "the returned parameters")
        found = []
        for k, v in P.items():
            d = G["d" + k]
            wrong = [("the gradient added (+): gradient ascent", v + lr * d),
                     ("the learning rate left out", v - d), ("returned unchanged", v)]
            found.append(measure(k, new[k], v - lr * d, np.abs(v) + lr * np.abs(d), tol(p), p.m, wrong))
        return found
    return judge


def update_cases(ctx: Context) -> list[Case]:
    found = ctx.problems.each("tanh", 2) + (ctx.problems.each("relu") if "deep" in ctx.exercises else [])
    cases = []
    for i, p in enumerate(found):
        lr = RATES[i % len(RATES)]
        keep = ("dW", "db") if p.hidden == "tanh" else ("dW", "db", "dA")      # as each exercise's grads
        grads = {k: p.cast(v) for k, v in p.grads.items() if k.startswith(keep)}
        cases.append(Case(f"{p.label()}, lr {lr:g}", (p.params, grads, lr), judge_update(p, grads, lr)))
    return cases


def judge_predict(p: Problem) -> Callable[[Any], list[Measure]]:
    s = scales(p)
    Z2, A2 = p.layers[-1]["Z"], p.layers[-1]["A"]
    ties = np.abs(Z2) <= tol(p) * s["Z2"]
    return predictions("predictions", Z2, A2, ties, p.m, "A2", "Z2")


def predict_cases(ctx: Context) -> list[Case]:
    return [Case(p.label(), (p.params, p.X), judge_predict(p)) for p in ctx.problems.each("tanh", 2)]


CONTRACTS = [
    Contract("layer_sizes", ("shallow",), ("X", "Y"), "(n_x, n_h = 4, n_y)",
             "exact integers", sizes_cases),
    Contract("forward_propagation", ("shallow",), ("X", "parameters"), "(A2, cache {'Z1', 'A1', 'Z2', 'A2'})",
             "torch tanh / sigmoid net, every cache entry", forward_cases),
    Contract("compute_cost", ("shallow", "deep"), ("AL", "Y", "parameters"), "J, one number",
             "torch -mean(Y log A + (1 - Y) log(1 - A))", cost_cases, arities=(2, 3)),
    Contract("backward_propagation", ("shallow",), ("parameters", "cache", "X", "Y"),
             "grads {'dW1', 'db1', 'dW2', 'db2'}", "autograd of J through the tanh layer", backward_cases),
    Contract("update_parameters", ("shallow", "deep"), ("parameters", "grads", "learning_rate"),
             "parameters - learning_rate * grads", "exact formula, 2 layers (and L with the deep exercise)",
             update_cases, may_mutate=frozenset({"parameters"})),
    Contract("predict", ("shallow",), ("parameters", "X"), "predictions [1, m] of 0/1",
             "labels A2 > 0.5 (ties within rounding of 0.5 not judged)", predict_cases),
]
