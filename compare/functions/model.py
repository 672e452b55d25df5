"""The whole model from the learner's own functions, checked end to end by `compare.check_model`.

When every function a model needs is provided and agrees, they are put behind the harness's
protocol (`compare.proof.protocol`: params, forward, cost, backward, update), as
examples/course_style.py's CourseNet does by hand, and checked on the flower set: forward,
gradients, finite differences and lockstep training against the torch reference, with
TensorBoard logs of both sides as for any run (`<logs>/<model>/{scratch,torch,diff}`).

    deep       L_model_forward, compute_cost, L_model_backward, update_parameters   [2, 10, 5, 1] ReLU
    shallow    forward_propagation, compute_cost, backward_propagation, update_parameters   [2, 4, 1] tanh
    logistic   sigmoid, propagate    (forward is sigmoid(w^T X + b); the harness updates)

The start is the learner's own initialize_parameters_deep / initialize_parameters /
initialize_with_zeros when it agrees, else N(0, 1/n[l-1]) weights and zero biases.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from compare.functions import calls

if TYPE_CHECKING:
    from compare.proof.result import ModelReport

NEEDS = {"deep": ("L_model_forward", "compute_cost", "L_model_backward", "update_parameters"),
         "shallow": ("forward_propagation", "compute_cost", "backward_propagation", "update_parameters"),
         "logistic": ("sigmoid", "propagate")}
INIT = {"deep": "initialize_parameters_deep", "shallow": "initialize_parameters",
        "logistic": "initialize_with_zeros"}
DIMS = {"deep": (2, 10, 5, 1), "shallow": (2, 4, 1), "logistic": (2, 1)}
LR = {"deep": 0.3, "shallow": 1.2, "logistic": 1.2}
MODEL_TIME_LIMIT = 300.0        # seconds for one model's whole check_model


class Assembled:
    """A learner's functions behind the protocol; `fns` maps the course's names to them (the
    logistic model has no update: the harness takes p -= lr dp)."""

    output = "sigmoid"

    def __init__(self, fns: dict[str, Callable[..., Any]], params: dict[str, np.ndarray],
                 cost_args: int) -> None:
        self.fns, self.params, self.cost_args = fns, params, cost_args


class Updating(Assembled):
    """A model whose cost and update are the learner's compute_cost and update_parameters."""

    def cost(self, AL: np.ndarray, Y: np.ndarray) -> float:
        extra = (self.params,) if self.cost_args == 3 else ()
        return self.fns["compute_cost"](AL, Y, *extra)

    def update(self, grads: dict[str, np.ndarray], lr: float) -> None:
        new = self.fns["update_parameters"](self.params, grads, lr)
        for name, p in self.params.items():
            p[...] = new[name]                  # in place: the harness keeps these arrays


class DeepModel(Updating):
    activation = "relu"

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, Any]:
        return self.fns["L_model_forward"](X, self.params)

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: Any) -> dict[str, np.ndarray]:
        return self.fns["L_model_backward"](AL, Y, caches)


class ShallowModel(Updating):
    activation = "tanh"

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, Any]:
        A2, cache = self.fns["forward_propagation"](X, self.params)
        return A2, (cache, X)                   # backward_propagation needs X too

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: Any) -> dict[str, np.ndarray]:
        cache, X = caches
        return self.fns["backward_propagation"](self.params, cache, X, Y)


class LogisticModel(Assembled):
    """W1 = w^T [1, n_x], b1 = [[b]]; forward by their sigmoid, cost and grads by their propagate."""

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, Any]:
        A = self.fns["sigmoid"](np.dot(self.params["W1"], X) + self.params["b1"])
        return (A[0] if isinstance(A, tuple | list) else A), X

    def _propagate(self, X: np.ndarray, Y: np.ndarray) -> tuple[dict[str, Any], float]:
        return self.fns["propagate"](self.params["W1"].T, float(self.params["b1"][0, 0]), X, Y)

    def cost(self, AL: np.ndarray, Y: np.ndarray, caches: Any = None) -> float:
        return self._propagate(caches, Y)[1]

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: Any) -> dict[str, np.ndarray]:
        grads = self._propagate(caches, Y)[0]
        return {"dW1": np.asarray(grads["dw"]).T, "db1": np.asarray(grads["db"], dtype=float).reshape(1, 1)}


CLASSES = {"deep": DeepModel, "shallow": ShallowModel, "logistic": LogisticModel}


def start(kind: str, fns: dict[str, Callable[..., Any]], seed: int) -> dict[str, np.ndarray]:
    """The learner's own initial parameters when its initializer is given and agrees, else
    W[l] ~ N(0, 1/n[l-1]) and zero biases."""
    dims, init = DIMS[kind], fns.get(INIT[kind])
    if init is not None:
        args = {"deep": (list(dims),), "shallow": dims, "logistic": (dims[0],)}[kind]
        got = calls.call(init, args, ("dims",)).value
        if kind == "logistic" and got is not None:
            return {"W1": np.array(got[0], dtype=float).T, "b1": np.full((1, 1), float(got[1]))}
        if got is not None:
            return {k: np.array(v, dtype=float) for k, v in got.items()}
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])
        params[f"b{l}"] = np.zeros((dims[l], 1))
    return params


def check(kind: str, fns: dict[str, Callable[..., Any]], cost_args: int, iterations: int, seed: int,
          logs: Path | None = None) -> ModelReport:
    """`compare.check_model` of the `kind` model assembled from `fns`, on the flower set, through
    the job runner (Ctrl-C stops after the step); logged to TensorBoard under `logs`/`kind`
    ({scratch, torch, diff}, as every run) unless `logs` is None."""
    from compare.output.tensorboard.logger import Cadence, ModelLogger
    from compare.run.job import Runner
    from scratch import datasets

    model = CLASSES[kind](fns, start(kind, fns, seed), cost_args)
    data = datasets.load("flower", seed=1)
    name = f"{kind} (your functions)"
    config = {"check": "your functions", "model": kind, "functions": ", ".join(sorted(fns)),
              "dataset": data.name, "seed": seed}
    logger = None if logs is None else ModelLogger(logs / kind, name, data, lr=LR[kind],
                                                   iterations=iterations, config=config,
                                                   cadence=Cadence.auto(iterations))
    with Runner() as runner:
        return calls.limited(lambda: runner.check(model, data, logger, lr=LR[kind], iterations=iterations,
                                                  seed=seed, name=name), MODEL_TIME_LIMIT)
