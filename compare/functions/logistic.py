"""Logistic regression (week 2): initialize_with_zeros, propagate, optimize, predict(w, b, X).

w is [n_x, 1], b a number, X [n_x, m], Y [1, m]; A = sigmoid(w^T X + b). propagate's grads
are {'dw' [n_x, 1], 'db' a number} and its cost J; optimize runs num_iterations steps of
gradient descent and keeps the cost every 100 (before that step's update), returning the last
step's grads. db and the cost may be a number or an array of one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from compare.functions import mistakes, reference
from compare.functions.contract import Case, Context, Contract, tol
from compare.functions.judge import Measure, Mismatch, items, mapping, measure, number, predictions
from compare.functions.problems import Problem
from compare.proof.magnitude import magnitudes
from scratch.spec import ModelSpec

STEPS = (1, 7, 101, 250)            # optimize's num_iterations, shape by shape
RATES = (0.5, 0.1, 0.009, 1.2)      # and its learning_rate


def judge_zeros(dim: int) -> Callable[[Any], list[Measure]]:
    def judge(value: Any) -> list[Measure]:
        w, b = items(value, 2, "(w, b)")
        w = np.asarray(w)
        if w.shape != (dim, 1):
            raise Mismatch(f"w is {list(w.shape)}, expected [{dim}, 1]" +
                           (": transposed" if w.shape == (1, dim) else ""))
        if w.dtype.kind != "f":
            raise Mismatch(f"w is {w.dtype}, expected floats (np.zeros((dim, 1)))")
        if np.any(w != 0) or number(b, "b") != 0:
            raise Mismatch("w or b is not zero")
        return [Measure("w", 0.0, 0.0), Measure("b", 0.0, 0.0)]
    return judge


def zeros_cases(ctx: Context) -> list[Case]:
    dims = sorted({1, 2, 10, *(s.dims[0] for s in ctx.problems.shapes)})
    return [Case(f"dim = {d}", (d,), judge_zeros(d)) for d in dims]


def inputs(p: Problem) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """(w [n_x, 1], b, X, Y) of a one-layer problem, in its dtype (b a Python float)."""
    return p.params["W1"].T.copy(), float(p.params["b1"][0, 0]), p.X, p.Y


def scales(p: Problem, w: np.ndarray, b: float) -> dict[str, Any]:
    """The magnitudes of dw, db and J at (w, b) (compare.proof.magnitude, one layer)."""
    dw, db, J, A = reference.logistic(w, b, p.X, p.Y)
    spec = ModelSpec.build([w.shape[0], 1], activation=(), output="sigmoid", init="zeros")
    Z = reference.linear_forward(p.X, w.T, np.array([[b]]))
    s = magnitudes(spec, {"W1": w.T, "b1": np.array([[b]])}, p.X, p.Y,
                   {"Z1": Z, "A1": A, "cost": np.float64(J)}, {})
    return {"dw": s["dW1"].T, "db": s["db1"], "cost": s["cost"], "ref": (dw, db, J, A)}


def judge_propagate(p: Problem) -> Callable[[Any], list[Measure]]:
    w, b, X, Y = inputs(p)
    s = scales(p, w, b)
    dw, db, J, A = s["ref"]
    A64, Y64 = mistakes.f64(A), mistakes.f64(Y)
    terms = [("only the Y log(A) term", -np.sum(Y64 * np.log(A64)) / p.m),
             ("only the (1 - Y) log(1 - A) term", -np.sum((1 - Y64) * np.log1p(-A64)) / p.m)]

    def judge(value: Any) -> list[Measure]:
        grads, cost = items(value, 2, "(grads, cost)")
        g = mapping(grads, ("dw", "db"), "grads")
        return [measure("dw", g["dw"], dw, s["dw"], tol(p), p.m),
                measure("db", g["db"], db, s["db"], tol(p), p.m),
                measure("cost", number(cost, "cost"), J, s["cost"], tol(p), p.m, terms)]
    return judge


def propagate_cases(ctx: Context) -> list[Case]:
    return [Case(p.label(), inputs(p), judge_propagate(p)) for p in ctx.problems.each(depth=1)]


def judge_optimize(p: Problem, steps: int, lr: float) -> Callable[[Any], list[Measure]]:
    w, b, X, Y = inputs(p)
    r = reference.optimize(w, b, X, Y, steps, lr)
    size_grad = np.abs(mistakes.f64(X)) @ (1 + np.abs(mistakes.f64(Y))).T / p.m     # [n_x, 1]
    size_cost = 1 + np.max(np.abs(r["costs"]))
    # where a sample's A or 1 - A is under the dtype's epsilon (a long run on separable data),
    # the course's 1 / (1 + e^-z) may round to exactly 0 or 1 and its cost from log(A) and
    # log(1 - A) be 0 log 0 = NaN: that cost is not judged, as predict's ties are not
    eps = float(np.finfo(p.dtype).eps)
    judged = [i for i, A in enumerate(r["A"]) if float(np.min(np.minimum(A, 1 - A))) > eps]

    def judge(value: Any) -> list[Measure]:
        params, grads, costs = items(value, 3, "(params, grads, costs)")
        q, g = mapping(params, ("w", "b"), "params"), mapping(grads, ("dw", "db"), "grads")
        if not isinstance(costs, (list, tuple, np.ndarray)) or len(costs) != len(r["costs"]):
            raise Mismatch(f"costs holds {len(costs) if hasattr(costs, '__len__') else costs!r}, "
                           f"expected {len(r['costs'])} (the cost at every 100th of {steps} iterations)")
        t, got = tol(p), [number(c, "a cost") for c in costs]
        found = [measure("w", q["w"], r["w"], r["size_w"], t, p.m),
                 measure("b", q["b"], r["b"], r["size_b"], t, p.m),
                 measure("dw", g["dw"], r["dw"], size_grad, t, p.m),
                 measure("db", g["db"], r["db"], np.mean(1 + np.abs(mistakes.f64(Y))), t, p.m)]
        if judged:
            found.append(measure("costs", [got[i] for i in judged], [r["costs"][i] for i in judged],
                                 size_cost, t, p.m))
        return found
    return judge


def optimize_cases(ctx: Context) -> list[Case]:
    cases = []
    for p in ctx.problems.each(depth=1):
        if p.variant == "zero":
            continue
        steps, lr = STEPS[p.index % len(STEPS)], RATES[p.index % len(RATES)]
        cases.append(Case(f"{p.label()}, {steps} iterations, lr {lr:g}", (*inputs(p), steps, lr),
                          judge_optimize(p, steps, lr), {"print_cost": False}))
    return cases


def judge_predict(p: Problem) -> Callable[[Any], list[Measure]]:
    w, b, X, _ = inputs(p)
    Z = reference.linear_forward(X, w.T, np.array([[b]]))                    # [1, m]
    s_Z = np.abs(mistakes.f64(w)).T @ np.abs(mistakes.f64(X)) + abs(b)
    ties = np.abs(Z) <= tol(p) * s_Z
    A = reference.activation("sigmoid", Z)
    return predictions("Y_prediction", Z, A, ties, p.m, "A", "z = w^T X + b")


def predict_cases(ctx: Context) -> list[Case]:
    return [Case(p.label(), inputs(p)[:3], judge_predict(p)) for p in ctx.problems.each(depth=1)]


CONTRACTS = [
    Contract("initialize_with_zeros", ("logistic",), ("dim",), "(w [dim, 1] zeros, b = 0)",
             "shape, float dtype, zeros", zeros_cases),
    Contract("propagate", ("logistic",), ("w", "b", "X", "Y"), "(grads {'dw', 'db'}, cost)",
             "dw, db by autograd of J, J by torch", propagate_cases),
    Contract("optimize", ("logistic",), ("w", "b", "X", "Y", "num_iterations", "learning_rate"),
             "(params {'w', 'b'}, grads {'dw', 'db'}, costs every 100 iterations)",
             "torch gradient descent (autograd) for 1 to 250 iterations", optimize_cases,
             keywords=("print_cost",)),
    Contract("predict", ("logistic",), ("w", "b", "X"), "Y_prediction [1, m] of 0/1",
             "labels A > 0.5 (ties within rounding of 0.5 not judged)", predict_cases),
]
