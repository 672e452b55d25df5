"""The precision audit: one model trained from one copied start by scratch in float64 (the
truth) and by torch in each precision, every state of every run measured against the truth.

State s is the model after s updates (state 0: the copied start, rounded to the run's
dtype). At each state s = 0 .. N, for each torch run:

    params       max over parameters of max|p - p_truth| / max(|W[l]|, |b[l]|, lr) of the
                 truth's layer: the trajectory check's measure (`compare.proof.lockstep`)
    cost         |J - J_truth| / max(|J_truth|, |J_truth at state 0|, 1), J on the training
                 split (at s < N the cost the step computes before its update)
    predictions  the fraction of test samples whose predicted label differs from the truth's

All runs take full-batch gradient descent steps in lockstep, so nothing is stored but
three numbers a state a run. A torch run whose cost or parameters become NaN or inf
stops there (its later states are NaN); the truth diverging is `TrainingDiverged`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from compare import adapter
from compare.precision.environment import saved_numerics, set_tf32
from compare.precision.regimes import REGIMES, Regime, forward, skip_reason
from compare.proof.lockstep import layer_scales
from compare.proof.metric import relative_error
from scratch import train as scratch_train
from scratch.datasets import Dataset
from scratch.errors import TrainingDiverged
from scratch.model import Model
from scratch.spec import threads_for as spec_threads_for
from scratch.threads import blas_threads
from scratch.validate import check_Y
from torch_ref.device import threads_for, torch_threads
from torch_ref.models import Net

Log = Callable[[str, str, float, int], None]     # (run, tag, value, state)
TRUTH = "scratch-float64"
MEASURES = ("params", "cost", "predictions")


@dataclass
class Curves:
    """One run's distance from the truth at every state 0 .. N (NaN after it diverged)."""

    params: list[float] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    predictions: list[float] = field(default_factory=list)

    def at(self, state: int) -> dict[str, float]:
        return {m: getattr(self, m)[state] for m in MEASURES}


@dataclass
class Scores:
    """J on the training split and train / test accuracy of a run's final parameters."""

    cost: float
    train: float
    test: float


def params_error(params: dict[str, np.ndarray], truth: dict[str, np.ndarray], lr: float) -> float:
    scales = layer_scales(truth, floor=lr)
    return max(relative_error(params[name], p, scales[name])[0] for name, p in truth.items())


def cost_error(J: float, J_truth: float, J_start: float) -> float:
    if not math.isfinite(J):
        return math.inf
    return abs(J - J_truth) / max(abs(J_truth), abs(J_start), 1.0)


class Truth:
    """The scratch model in float64, trained in place, one step at a time."""

    def __init__(self, model: Model, data: Dataset, lr: float) -> None:
        self.model, self.data, self.lr = model, data, lr
        m = data.X_train.shape[1]
        self.Y = check_Y(data.Y_train, model.spec, m, model.dtype)      # [1, m] or one-hot [K, m]
        self.J_start = math.nan

    def step(self, t: int) -> float:
        """J at state t, then the update (TrainingDiverged where a value blows up)."""
        [J] = scratch_train.descend(self.model, self.data.X_train, self.Y, self.lr, [(t, None)], None)
        if t == 0:
            self.J_start = J
        return J

    def predict(self, state: int = 0) -> np.ndarray:
        """Labels [1, m_test] at `state` (TrainingDiverged where the forward pass overflows)."""
        with np.errstate(over="raise", invalid="raise"):
            try:
                return self.model.predict(self.data.X_test)
            except FloatingPointError as exc:
                raise TrainingDiverged("scratch", max(state - 1, 0),
                                       f"a value of the forward pass ({exc})", self.lr) from None

    def scores(self) -> Scores:
        AL, caches = self.model.forward(self.data.X_train)
        return Scores(float(self.model.cost(AL, self.Y, caches)),
                      accuracy(self.model.predict(self.data.X_train), self.data.Y_train),
                      accuracy(self.predict(), self.data.Y_test))


def accuracy(labels: np.ndarray, Y: np.ndarray) -> float:
    """Share of the samples whose predicted label [1, m] is the class index in Y [1, m]."""
    return float(np.mean(labels == Y))


class TorchRun:
    """torch_ref's Net in one precision, from the truth's start, with torch.optim.SGD."""

    def __init__(self, regime: Regime, model: Model, data: Dataset, lr: float,
                 device: torch.device) -> None:
        self.regime, self.device, self.lr = regime, device, lr
        self.net = Net(model.spec, device=device, dtype=regime.dtype)
        adapter.copy_params_to_torch(model.params, self.net)             # the same start, rounded
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=lr)
        output = model.spec.output
        self.X = adapter.batch_to_torch(data.X_train, device, self.net.dtype)       # [m, n0]
        self.y = adapter.targets_to_torch(data.Y_train, output, device, self.net.dtype)
        self.X_test = adapter.batch_to_torch(data.X_test, device, self.net.dtype)   # [m_test, n0]
        self.curves = Curves()
        self.diverged: str | None = None                                 # 'at step 12: the cost'
        self.final: Scores | None = None

    def loss(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """J of the batch: the forward pass under the regime's autocast, the loss in float32
        (or float64) from the logits."""
        set_tf32(self.regime.tf32)
        with forward(self.regime, self.device):
            logits = self.net(X)                                         # [m, n_L]
        return self.net.loss(logits.to(self.net.dtype), y)

    def step(self) -> float:
        """J at the current state, then one SGD update."""
        self.optimizer.zero_grad()
        loss = self.loss(self.X, self.y)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    @torch.no_grad()
    def predict(self, X: torch.Tensor) -> np.ndarray:
        """Labels [1, m], by torch_ref's own predict, under the regime's numerics."""
        set_tf32(self.regime.tf32)
        with forward(self.regime, self.device):
            return adapter.labels_to_scratch(self.net.predict(X))

    @torch.no_grad()
    def scores(self, data: Dataset) -> Scores:
        return Scores(self.loss(self.X, self.y).item(),
                      accuracy(self.predict(self.X), data.Y_train),
                      accuracy(self.predict(self.X_test), data.Y_test))

    def finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.net.parameters())


@dataclass
class Audit:
    """What the audit measured."""

    iterations: int
    lr: float
    truth: Scores
    runs: dict[str, TorchRun]                 # by precision name, in PRECISIONS order
    skipped: dict[str, str]                   # precision -> why it did not run
    truth_curve: list[float]                  # the truth's J at every state (for the logs)


def build_runs(model: Model, data: Dataset, lr: float, device: torch.device,
               precisions: Sequence[str]) -> tuple[dict[str, TorchRun], dict[str, str]]:
    runs, skipped = {}, {}
    for name in precisions:
        regime = REGIMES[name]
        why = skip_reason(regime, device)
        if why is None:
            runs[name] = TorchRun(regime, model, data, lr, device)
        else:
            skipped[name] = why
    return runs, skipped


def measure_state(run: TorchRun, state: int, truth: Truth, labels: np.ndarray) -> None:
    """The distance of `run` from the truth in parameters and test predictions at `state`."""
    if run.diverged is not None:
        run.curves.params.append(math.nan)
        run.curves.predictions.append(math.nan)
        return
    run.curves.params.append(params_error(adapter.params_from_torch(run.net), truth.model.params,
                                          run.lr))
    run.curves.predictions.append(float(np.mean(run.predict(run.X_test) != labels)))


def advance(run: TorchRun, t: int, J_truth: float, J_start: float) -> None:
    """Step t of one torch run: its cost at state t against the truth's, then its update."""
    if run.diverged is not None:
        run.curves.cost.append(math.nan)
        return
    J = run.step()
    run.curves.cost.append(cost_error(J, J_truth, J_start))
    if not math.isfinite(J) or not run.finite():
        run.diverged = f"at step {t}: {'the cost' if not math.isfinite(J) else 'a parameter'} " \
                       "became NaN or inf"


def run_audit(model: Model, data: Dataset, lr: float, iterations: int, device: torch.device,
          precisions: Sequence[str] = tuple(REGIMES), log: Log | None = None,
          progress: Callable[[int], None] | None = None) -> Audit:
    """Train `model` (scratch, float64: the truth, trained in place) and a torch copy of it in each
    precision that runs on `device`, in lockstep for `iterations` steps; every global torch
    setting is restored afterwards."""
    truth = Truth(model, data, lr)
    runs, skipped = build_runs(model, data, lr, device, precisions)
    costs: list[float] = []
    dims, m = model.spec.layer_dims, data.X_train.shape[1]
    with saved_numerics(), torch_threads(threads_for(dims, m, device)), \
            blas_threads(spec_threads_for(dims, m)):
        observe(runs, truth, 0, log)
        for t in range(iterations):
            costs.append(truth.step(t))
            for run in runs.values():
                advance(run, t, costs[-1], truth.J_start)
            observe(runs, truth, t + 1, log, costs[-1])
            if progress is not None:
                progress(t)
        final = finish(runs, truth, data, log, iterations)
    return Audit(iterations, lr, final, runs, skipped, [*costs, final.cost])


def observe(runs: dict[str, TorchRun], truth: Truth, state: int, log: Log | None,
            J_before: float | None = None) -> None:
    """Measure every run at `state`; log it, with the cost of state - 1 (known only now)."""
    labels = truth.predict(state)
    for name, run in runs.items():
        measure_state(run, state, truth, labels)
        if log is not None:
            log(name, "drift/params", run.curves.params[-1], state)
            log(name, "drift/predictions", run.curves.predictions[-1], state)
            if state > 0:
                log(name, "drift/cost", run.curves.cost[-1], state - 1)
    if log is not None and J_before is not None:
        log(TRUTH, "loss/train", J_before, state - 1)


def finish(runs: dict[str, TorchRun], truth: Truth, data: Dataset, log: Log | None,
           N: int) -> Scores:
    """The final state's cost distance and every run's final scores; the truth's scores."""
    final = truth.scores()
    for name, run in runs.items():
        if run.diverged is None:
            run.final = run.scores(data)
            run.curves.cost.append(cost_error(run.final.cost, final.cost, truth.J_start))
        else:
            run.curves.cost.append(math.nan)
        if log is not None:
            log(name, "drift/cost", run.curves.cost[-1], N)
    if log is not None:
        log(TRUTH, "loss/train", final.cost, N)
    return final
