"""Check one scratch model (ours or a user's) against the torch reference, end to end.

    torch model from the same architecture, parameters copied from scratch
    -> forward parity -> gradient parity -> finite differences (float64)
    -> lockstep training with the trajectory check -> final cost and accuracy.

`check_model` is the Python entry point; `nncompare` calls it for each model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from compare import adapter, checks, lockstep
from compare.checks import CheckResult
from compare.diagnosis import diagnose, first_divergence
from compare.protocol import ScratchSide, layer_dims_of
from compare.tolerances import FD_MAX_ENTRIES, FD_RTOL, FD_STEP, tolerance
from scratch.datasets import Dataset
from scratch.errors import InvalidArgument
from scratch.model import accuracy_of, labels_from_output
from scratch.spec import ModelSpec, check_int, check_real, check_seed
from scratch.validate import check_training, check_X, check_Y
from torch_ref.device import resolve_device, resolve_dtype
from torch_ref.models import Net

CHECKS = ("forward", "gradients", "finite_difference", "trajectory")


@dataclass
class ModelReport:
    """Everything known about one model after the checks and the training."""

    model: str                                        # 'logistic', 'shallow', 'deep', or a class name
    description: str
    checks: dict[str, CheckResult] = field(default_factory=dict)
    final: dict[str, dict] = field(default_factory=dict)   # per side: cost, accuracy train/test
    error: str = ""                                   # e.g. training diverged
    trajectory: lockstep.Trajectory | None = None

    @property
    def passed(self) -> bool:
        return not self.error and all(c.passed for c in self.checks.values())

    @property
    def first_divergence(self) -> dict | None:
        return first_divergence(self.checks)

    @property
    def diagnosis(self) -> str:
        return diagnose(self.checks, self.error)


@contextlib.contextmanager
def exact_float32():
    """Turn off TF32 for float32 matrix products (CUDA) while checking, restoring the setting."""
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn


def spec_of(model: object, activation: object, output: object, alpha: object) -> ModelSpec:
    """The model's own spec, or one read off its parameter shapes and the names given."""
    spec = getattr(model, "spec", None)
    if isinstance(spec, ModelSpec):
        return spec
    return ModelSpec.build(layer_dims_of(model.params), activation=activation or "relu",
                           output=output or "sigmoid", init="zeros", alpha=alpha)


def dtype_of(model: object) -> str:
    """'float32' or 'float64', as the model's W1 is."""
    return "float32" if np.asarray(model.params["W1"]).dtype == np.float32 else "float64"


def check_model(model: object, data: Dataset, *, lr: float, iterations: int,
                batch_size: int | None = None, seed: int = 0, device: object = "cpu",
                activation: object = None, output: object = None, alpha: float = 0.01,
                fd_max_entries: int = FD_MAX_ENTRIES, name: str | None = None,
                on_start: Callable[[ScratchSide, Net], None] | None = None,
                on_step: Callable[[lockstep.StepRecord], None] | None = None,
                progress: Callable[[int], None] | None = None) -> ModelReport:
    """Run the four checks on `model` (a scratch-protocol object) and train it in lockstep.

    Args:
        model: ours (scratch.DeepNet, ...) or any object following `compare.protocol`.
        data: the dataset (scratch layout); checks and training use its training split.
        lr, iterations, batch_size, seed: the lockstep training (seed orders mini-batches).
        device: where the torch reference runs ('cpu', 'cuda', 'auto', ...).
        activation, output, alpha: the architecture of a model that has no `spec`.
        fd_max_entries: above this many parameters, finite differences check a seeded sample.
        name: the model's name in the report (default: its class name).
        on_start, on_step, progress: hooks for logging and progress bars.

    Raises:
        InvalidArgument: a bad argument or dataset, or a model that breaks the protocol.
    """
    side = ScratchSide(model)
    spec = spec_of(model, activation, output, alpha)
    lr, iterations, batch_size = check_training(lr, iterations, batch_size, data.X_train.shape[1])
    seed = check_seed(seed)
    fd_max_entries = check_int("fd_max_entries", fd_max_entries, 1)
    check_real("alpha", alpha, 0.0, 1.0)
    dtype_name = dtype_of(model)
    np_dtype = np.dtype(dtype_name)
    torch_device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype_name, torch_device)
    X = check_X(data.X_train, spec, np_dtype, "X_train")
    Y = check_Y(data.Y_train, spec, X.shape[1], np_dtype, "Y_train")
    X_test = check_X(data.X_test, spec, np_dtype, "X_test")
    Y_test = check_Y(data.Y_test, spec, X_test.shape[1], np_dtype, "Y_test")
    tol = tolerance(dtype_name, torch_device.type)
    reference = Net(spec, seed=seed, device=torch_device, dtype=torch_dtype)
    adapter.copy_params_to_torch(side.params, reference)      # same start, by copying
    report = ModelReport(name or type(model).__name__, describe(spec, dtype_name, torch_device))
    if on_start is not None:
        on_start(side, reference)
    with exact_float32(), np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            forward, gradients = checks.parity(side, reference, X, Y, tol.forward, tol.gradients)
            report.checks.update(forward=forward, gradients=gradients)
            report.checks["finite_difference"] = checks.finite_differences(
                side, spec, X, Y, FD_STEP, FD_RTOL, fd_max_entries, seed)
        except (FloatingPointError, ValueError, TypeError, IndexError, KeyError) as exc:
            if isinstance(exc, InvalidArgument):
                raise
            report.error = f"the scratch model failed during the checks: {type(exc).__name__}: {exc}"
            return report
        trajectory = lockstep.run(side, reference, X, Y, lr, iterations, batch_size, seed,
                                  tol.trajectory, on_step, progress)
    report.trajectory = trajectory
    report.checks["trajectory"] = trajectory.result
    if trajectory.diverged is not None:
        report.error = str(trajectory.diverged)
        return report
    report.final = final_scores(side, spec, reference, X, Y, X_test, Y_test, trajectory)
    return report


def describe(spec: ModelSpec, dtype: str, device: torch.device) -> str:
    """'[2, 10, 5, 1] relu, sigmoid output, he init, float64 on cpu'."""
    hidden = "/".join(dict.fromkeys(spec.activations)) or "no hidden layer"
    return (f"{list(spec.layer_dims)} {hidden}, {spec.output} output, {spec.init} init, "
            f"{dtype} on {device}")


def final_scores(side: ScratchSide, spec: ModelSpec, reference: Net, X: np.ndarray,
                 Y: np.ndarray, X_test: np.ndarray, Y_test: np.ndarray,
                 trajectory: lockstep.Trajectory) -> dict[str, dict]:
    """Last cost and train/test accuracy of each side, each predicting with its own code."""
    def scratch_predict(Xs: np.ndarray) -> np.ndarray:
        return labels_from_output(side.forward(Xs)[0], spec.output)

    def torch_predict(Xs: np.ndarray) -> np.ndarray:
        Xt = adapter.batch_to_torch(Xs, reference.device, reference.dtype)
        return adapter.labels_to_scratch(reference.predict(Xt))

    return {
        side_name: {
            "cost": trajectory.costs[side_name][-1],
            "accuracy": {"train": accuracy_of(predict(X), Y, spec.output),
                         "test": accuracy_of(predict(X_test), Y_test, spec.output)},
        }
        for side_name, predict in (("scratch", scratch_predict), ("torch", torch_predict))
    }
