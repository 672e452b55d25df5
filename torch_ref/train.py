"""Gradient descent with `torch.optim.SGD`: zero_grad, forward, loss, backward, step."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from tqdm.auto import tqdm

from scratch import spec
from scratch.errors import TrainingDiverged
from scratch.spec import (
    PROGRESS_FROM,
    check_callback,
    check_int,
    check_real,
    check_seed,
    check_trainable,
    check_training,
)
from torch_ref.device import threads_for, torch_threads
from torch_ref.models import Net
from torch_ref.validate import check_X, check_y


class Trainer:
    """One SGD step at a time over `model` (plain SGD: p := p - lr * p.grad).

    After `step`, each parameter's `.grad` holds the gradient of that step.
    """

    def __init__(self, model: Net, lr: float) -> None:
        self.model = model
        self.lr = check_real("lr", lr, 0.0)
        self.optimizer = torch.optim.SGD(model.parameters(), lr=self.lr)

    def step(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One iteration on the batch (X [m, n], y); returns J before the update (detached)."""
        self.optimizer.zero_grad()
        loss = self.model.loss(self.model(X), y)
        loss.backward()
        self.optimizer.step()
        return loss.detach()


def permutations(seed: int) -> Callable[[int], torch.Tensor]:
    """The mini-batch order's source of randomness (`scratch.spec.batch_order`): a fresh
    `torch.randperm(m)` at each call, from one CPU torch.Generator seeded with `seed`."""
    generator = torch.Generator().manual_seed(seed)
    return lambda m: torch.randperm(m, generator=generator)


def check_batch(model: Net, X: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    """X [m, n_x] and y (float [m, 1] of 0/1, or class indices [m]) on the model's device."""
    X = check_X(X, model.spec, model.device, model.dtype)
    return X, check_y(y, model.spec, X.shape[0], model.device, model.dtype)


def fit(model: Net, X: torch.Tensor, y: torch.Tensor, lr: float = 0.01, iterations: int = 1000,
        batch_size: int | None = None, seed: int = 1, progress: bool | None = None,
        callback: Callable[[int, float], None] | None = None, start_step: int = 0) -> list[float]:
    """Train `model` in place with torch.optim.SGD and return the cost J of every step.

    Args mirror `scratch.fit` (start_step included); X is [m, n_x], y is float [m, 1]
    (sigmoid) or class indices [m] (softmax). Raises InvalidArgument or TrainingDiverged.
    A model whose products are too small to share trains on one CPU thread
    (`torch_ref.device.threads_for`): the same results, without a fork and join per op.
    """
    check_trainable(model, Net, "torch_ref")
    check_callback(callback, "callback(step, J)")
    X, y = check_batch(model, X, y)
    lr, iterations, batch_size = check_training(lr, iterations, batch_size, X.shape[0])
    trainer = Trainer(model, lr)
    start_step = check_int("start_step", start_step, 0)
    order = spec.batch_order(X.shape[0], batch_size, iterations, permutations(check_seed(seed)),
                             start_step)
    show = iterations >= PROGRESS_FROM if progress is None else progress
    costs: list[float] = []
    bar = tqdm(order, total=iterations, desc="torch", disable=None if show else True)
    with torch_threads(threads_for(model.spec.layer_dims, X.shape[0], model.device)):
        for t, idx in enumerate(bar, start=start_step):
            Xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            J = trainer.step(Xb, yb).item()
            if not math.isfinite(J):
                raise TrainingDiverged("torch", t, "the cost", trainer.lr)
            costs.append(J)
            if callback is not None:
                callback(t, J)
    bad = next((name for name, p in model.notes_params().items()
                if not torch.isfinite(p).all()), None)
    if bad is not None:
        raise TrainingDiverged("torch", start_step + iterations - 1, bad, trainer.lr)
    return costs
