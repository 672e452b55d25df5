"""Gradient descent (§2.3, §4.2): W := W - alpha dW, b := b - alpha db, repeated.

`step` is one iteration (forward, cost, backward, update); `fit` repeats it over
the whole batch (batch gradient descent) or over mini-batches, and returns the
cost of every step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from scratch import spec
from scratch.errors import TrainingDiverged
from scratch.model import Model
from scratch.spec import PROGRESS_FROM, check_callback, check_int, check_seed, check_trainable, check_training
from scratch.threads import blas_threads
from scratch.validate import check_X, check_Y

Callback = Callable[[int, float, dict[str, np.ndarray]], None]


def batch_order(m: int, batch_size: int | None, iterations: int, seed: int = 1,
                start_step: int = 0) -> Iterator[np.ndarray | None]:
    """`scratch.spec.batch_order` with a fresh permutation every epoch from
    `numpy.random.default_rng(seed)`: None (all m) for batch gradient descent, else index
    arrays [batch_size] (the last of an epoch shorter); steps start_step ..
    start_step + iterations - 1, so a resumed run sees the batches an uninterrupted one would."""
    yield from spec.batch_order(m, batch_size, iterations, np.random.default_rng(seed).permutation,
                                start_step)


class Trainable(Protocol):
    """What `step` calls: a scratch model, or anything that follows the same protocol."""

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, Any]: ...
    def cost(self, AL: np.ndarray, Y: np.ndarray, caches: Any = None) -> float: ...
    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: Any) -> dict[str, np.ndarray]: ...
    def update(self, grads: dict[str, np.ndarray], lr: float) -> None: ...


def step(model: Trainable, X: np.ndarray, Y: np.ndarray, lr: float) -> tuple[float, dict[str, np.ndarray]]:
    """One iteration of gradient descent on (X, Y); returns J before the update and the grads."""
    AL, caches = model.forward(X)                        # [n_L, m]
    J = model.cost(AL, Y, caches)
    grads = model.backward(AL, Y, caches)
    model.update(grads, lr)
    return J, grads


def first_non_finite(params: dict[str, np.ndarray]) -> str | None:
    """The name of the first parameter holding NaN or inf, or None."""
    return next((name for name, p in params.items() if not np.isfinite(p).all()), None)


def descend(model: Trainable, X: np.ndarray, Y: np.ndarray, lr: float,
            steps: Iterable[tuple[int, np.ndarray | None]], callback: Callback | None) -> list[float]:
    """Gradient descent over `steps`, (t, idx) pairs: one `step` on the samples idx (None:
    all of X, Y) for each; the costs J, or TrainingDiverged at the first non-finite value."""
    costs: list[float] = []
    for t, idx in steps:
        Xb, Yb = (X, Y) if idx is None else (X[:, idx], Y[:, idx])
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            try:
                J, grads = step(model, Xb, Yb, lr)
            except FloatingPointError as exc:
                raise TrainingDiverged(
                    "scratch", t, f"a value of the forward or backward pass ({exc})", lr) from None
        if not np.isfinite(J):
            raise TrainingDiverged("scratch", t, "the cost", lr)
        costs.append(J)
        if callback is not None:
            callback(t, J, grads)
    return costs


def fit(model: Model, X: object, Y: object, lr: float = 0.01, iterations: int = 1000,
        batch_size: int | None = None, seed: int = 1, progress: bool | None = None,
        callback: Callback | None = None, start_step: int = 0) -> list[float]:
    """Train `model` in place by gradient descent and return the cost J of every step.

    Args:
        model: a scratch model.
        X: [n_x, m] samples, one per column.
        Y: [1, m] 0/1 labels (sigmoid), or one-hot [K, m] / class indices [1, m] (softmax).
        lr: the learning rate alpha > 0.
        iterations: number of gradient steps (each on one batch).
        batch_size: None for batch gradient descent, else the mini-batch size (<= m).
        seed: seed of the mini-batch order.
        progress: show a progress bar; None shows one from 500 iterations on a terminal.
        callback: called as callback(step, J, grads) after every step.
        start_step: steps already taken (resuming from a checkpoint): the batches and the
            step numbers continue from there.

    Raises:
        InvalidArgument: a bad argument (named in the message).
        TrainingDiverged: the cost or a parameter became NaN or inf.
    """
    check_trainable(model, Model, "scratch")
    check_callback(callback, "callback(step, J, grads)")
    X = check_X(X, model.spec, model.dtype)
    Y = check_Y(Y, model.spec, X.shape[1], model.dtype)
    lr, iterations, batch_size = check_training(lr, iterations, batch_size, X.shape[1])
    start_step = check_int("start_step", start_step, 0)
    order = batch_order(X.shape[1], batch_size, iterations, check_seed(seed), start_step)
    show = iterations >= PROGRESS_FROM if progress is None else progress
    bar = tqdm(order, total=iterations, desc="scratch", disable=None if show else True)
    with blas_threads(spec.threads_for(model.spec.layer_dims, X.shape[1])):
        costs = descend(model, X, Y, lr, enumerate(bar, start=start_step), callback)
    bad = first_non_finite(model.params)  # a non-finite parameter shows in the next cost
    if bad is not None:
        raise TrainingDiverged("scratch", start_step + iterations - 1, bad, lr)
    return costs
