"""Check one scratch model (ours or a user's) against the torch reference, end to end.

    torch model from the same architecture, parameters copied from scratch
    -> forward parity -> gradient parity -> finite differences (float64)
    -> lockstep training with the trajectory check -> final cost and accuracy.

`check_model` is the Python entry point; `nncompare` calls it for each model.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from compare import adapter
from compare.proof import finite_diff, lockstep, parity
from compare.proof.metric import Comparison
from compare.proof.protocol import ScratchSide, failed_in, layer_dims_of, raised
from compare.proof.result import CHECKS, CheckResult, ModelReport, merge
from compare.proof.tolerances import FD_MAX_ENTRIES, FD_RTOL, FD_STEP, tolerance
from scratch.datasets import Dataset
from scratch.errors import InvalidArgument
from scratch.model import accuracy_of, labels_from_output
from scratch.spec import ModelSpec, check_int, check_real, check_seed
from scratch.validate import check_training, check_X, check_Y
from torch_ref.device import resolve_device, resolve_dtype, threads_for, torch_threads
from torch_ref.models import Net


@contextlib.contextmanager
def exact_float32():
    """Turn off TF32 for float32 matrix products (CUDA) while checking, restoring the setting."""
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn


def spec_of(model: Any, activation: object, output: object, alpha: object) -> ModelSpec:
    """The model's own spec, or one read off its parameter shapes and the names given."""
    spec = getattr(model, "spec", None)
    if isinstance(spec, ModelSpec):
        return spec
    return ModelSpec.build(layer_dims_of(model.params), activation=activation or "relu",
                           output=output or "sigmoid", init="zeros", alpha=alpha)


def dtype_of(model: Any) -> str:
    """'float32' or 'float64', as the model's W1 is."""
    return "float32" if np.asarray(model.params["W1"]).dtype == np.float32 else "float64"


def check_model(model: object, data: Dataset, *, lr: float, iterations: int,
                batch_size: int | None = None, seed: int = 0, device: object = "cpu",
                activation: object = None, output: object = None, alpha: float = 0.01,
                fd_max_entries: int = FD_MAX_ENTRIES, name: str | None = None,
                on_start: Callable[[ScratchSide, Net], None] | None = None,
                on_step: Callable[[lockstep.StepRecord], None] | None = None,
                progress: Callable[[int], None] | None = None, start_step: int = 0,
                torch_params: dict[str, np.ndarray] | None = None) -> ModelReport:
    """Run the four checks on `model` (a scratch-protocol object) and train it in lockstep.

    Args:
        model: ours (scratch.DeepNet, ...) or any object following `compare.proof.protocol`.
        data: the dataset (scratch layout); checks and training use its training split.
        lr, iterations, batch_size, seed: the lockstep training (seed orders mini-batches).
        device: where the torch reference runs ('cpu', 'cuda', 'auto', ...).
        activation, output, alpha: the architecture of a model that has no `spec`.
        fd_max_entries: above this many parameters, finite differences check a seeded sample.
        name: the model's name in the report (default: its class name).
        on_start, on_step, progress: hooks for logging and progress bars.
        start_step, torch_params: resuming a run after `start_step` steps: checks 1-3 run at
            scratch's parameters (copied into torch as always), then the torch side trains on
            from its own `torch_params` (scratch layout), each side where it stopped.

    Raises:
        InvalidArgument: a bad argument or dataset, or a model that breaks the protocol.
    """
    if not isinstance(data, Dataset):
        raise InvalidArgument(f"data: got {type(data).__name__}, expected a scratch.datasets."
                              "Dataset, e.g. scratch.datasets.load('flower')")
    side = ScratchSide(model)
    spec = spec_of(model, activation, output, alpha)
    lr, iterations, batch_size = check_training(lr, iterations, batch_size, data.X_train.shape[1])
    seed = check_seed(seed)
    start_step = check_int("start_step", start_step, 0)
    fd_max_entries = check_int("fd_max_entries", fd_max_entries, 1)
    check_real("alpha", alpha, 0.0, 1.0)
    dtype_name = dtype_of(model)
    np_dtype = np.dtype(dtype_name)
    torch_device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype_name, torch_device)
    # the model gets copies: whatever its code does to them, the caller's dataset stays as it was
    X = check_X(data.X_train, spec, np_dtype, "X_train").copy()
    Y = check_Y(data.Y_train, spec, X.shape[1], np_dtype, "Y_train").copy()
    X_test = check_X(data.X_test, spec, np_dtype, "X_test").copy()
    Y_test = check_Y(data.Y_test, spec, X_test.shape[1], np_dtype, "Y_test").copy()
    tol = tolerance(dtype_name, torch_device.type)
    reference = Net(spec, seed=seed, device=torch_device, dtype=torch_dtype)
    report = ModelReport(name or type(model).__name__,
                         describe(spec, dtype_name, torch_device, own_spec=hasattr(model, "spec")))
    shapes = shape_check(side.params, spec)
    if shapes is not None:
        report.checks["forward"] = shapes
        return report
    # the same start, by copying (a resumed run's torch side goes on from its own parameters)
    adapter.copy_params_to_torch(side.params if torch_params is None else torch_params, reference)
    if on_start is not None:
        on_start(side, reference)
    everyone = np.arange(X.shape[1])
    points = [("", {name: p.copy() for name, p in side.params.items()}, everyone),   # scratch's
              ("at random parameters", random_point(spec, seed, np_dtype),
               random_samples(X.shape[1], seed))]
    results: dict[str, list[CheckResult]] = {c: [] for c in CHECKS[:3]}
    threads = threads_for(spec.layer_dims, X.shape[1], torch_device)
    with (exact_float32(), torch_threads(threads),
          np.errstate(over="raise", invalid="raise", divide="raise")):
        try:
            for where, values, samples in points:
                Xp, Yp = X[:, samples], Y[:, samples]
                with parameters_at(side, reference, values):
                    forward, gradients = parity.parity(side, reference, Xp, Yp, tol.forward,
                                                       tol.gradients, where)
                    fd = finite_diff.finite_differences(side, spec, Xp, Yp, FD_STEP, FD_RTOL,
                                                   fd_max_entries, seed, where)
                for check, result in zip(CHECKS, (forward, gradients, fd), strict=False):
                    results[check].append(result)
        except Exception as exc:  # the scratch model's own code failed: say where, go no further
            check = "gradients" if failed_in(exc) == "backward" else "forward"
            report.checks[check] = CheckResult(check, error=raised(exc))
            return report
        report.checks.update({check: merge(found) for check, found in results.items()})
        trajectory = lockstep.run(side, reference, X, Y, lr, iterations, batch_size, seed,
                                  tol.trajectory, on_step, progress, start_step)
    report.trajectory = trajectory
    report.checks["trajectory"] = trajectory.result
    if trajectory.diverged is not None:
        report.error = str(trajectory.diverged)
        return report
    if trajectory.result.error:
        return report
    try:
        report.final = final_scores(side, spec, reference, X, Y, X_test, Y_test)
    except Exception as exc:      # the scratch model's own code failed on the whole split
        report.error = f"scoring the trained model, {raised(exc)}"
    return report


def shape_check(params: dict[str, np.ndarray], spec: ModelSpec) -> CheckResult | None:
    """A failed forward check naming each parameter whose shape is not the notes', or None."""
    wrong = [Comparison(name, float("inf"), float("inf"), None, False,
                        f"shape {list(np.shape(params[name]))}, expected {list(shape)}",
                        where="in params")
             for name, shape in spec.param_shapes().items() if np.shape(params[name]) != shape]
    return CheckResult("forward", wrong) if wrong else None


def random_point(spec: ModelSpec, seed: int, dtype: np.dtype) -> dict[str, np.ndarray]:
    """A second place to check at: W[l] ~ N(0, 1/n[l-1]) and b[l] ~ N(0, 0.5^2), seeded
    (on `random_samples`).

    The model's own start often hides mistakes: zero biases make a forward pass that
    forgets b look right, and zero weights make dW of every layer below exactly zero.
    """
    rng = np.random.default_rng([seed, 2])
    values = {}
    for name, (rows, cols) in spec.param_shapes().items():
        std = (1.0 / cols) ** 0.5 if name.startswith("W") else 0.5
        values[name] = (rng.standard_normal((rows, cols)) * std).astype(dtype)
    return values


def random_samples(m: int, seed: int) -> np.ndarray:
    """A seeded half of the m samples (in order; all of them when m < 2): the second check
    point runs on a batch of another size, so a hard-coded or remembered m shows."""
    if m < 2:
        return np.arange(m)
    rng = np.random.default_rng([seed, 3])
    return np.sort(rng.choice(m, size=(m + 1) // 2, replace=False))


@contextlib.contextmanager
def parameters_at(side: ScratchSide, reference: Net, values: dict[str, np.ndarray]):
    """Set both sides to `values` (copied, in place) for the block, then restore each side's own."""
    saved = {name: p.copy() for name, p in side.params.items()}
    saved_torch = adapter.params_from_torch(reference)
    try:
        for name, p in side.params.items():
            p[...] = values[name]
        adapter.copy_params_to_torch(side.params, reference)
        yield
    finally:
        for name, p in side.params.items():
            p[...] = saved[name]
        adapter.copy_params_to_torch(saved_torch, reference)


def describe(spec: ModelSpec, dtype: str, device: torch.device, own_spec: bool = True) -> str:
    """'[2, 10, 5, 1] relu, sigmoid output, he init, float64 on cpu'."""
    hidden = "/".join(dict.fromkeys(spec.activations)) or "no hidden layer"
    init = f", {spec.init} init" if own_spec else ""
    return f"{list(spec.layer_dims)} {hidden}, {spec.output} output{init}, {dtype} on {device}"


def final_scores(side: ScratchSide, spec: ModelSpec, reference: Net, X: np.ndarray,
                 Y: np.ndarray, X_test: np.ndarray, Y_test: np.ndarray) -> dict[str, dict]:
    """Cost J of the final parameters on the whole training split, and train/test accuracy,
    of each side, each computed by its own code."""
    def scratch_predict(Xs: np.ndarray) -> np.ndarray:
        return labels_from_output(side.forward(Xs)[0], spec.output)

    def torch_predict(Xs: np.ndarray) -> np.ndarray:
        Xt = adapter.batch_to_torch(Xs, reference.device, reference.dtype)
        return adapter.labels_to_scratch(reference.predict(Xt))

    AL, caches = side.forward(X)
    Xt = adapter.batch_to_torch(X, reference.device, reference.dtype)
    yt = adapter.targets_to_torch(Y, spec.output, reference.device, reference.dtype)
    with torch.no_grad():
        cost = {"scratch": float(side.cost(AL, Y, caches)),
                "torch": reference.loss(reference(Xt), yt).item()}
    params = {"scratch": side.params, "torch": adapter.params_from_torch(reference)}
    return {
        side_name: {
            "cost": cost[side_name],
            "accuracy": {"train": accuracy_of(predict(X), Y, spec.output),
                         "test": accuracy_of(predict(X_test), Y_test, spec.output)},
            "params_sha256": fingerprint(params[side_name]),
        }
        for side_name, predict in (("scratch", scratch_predict), ("torch", torch_predict))
    }


def fingerprint(params: dict[str, np.ndarray]) -> str:
    """SHA-256 of the parameters' bytes, W1, b1, ... in order: equal iff bitwise equal."""
    digest = hashlib.sha256()
    for name in sorted(params, key=lambda k: (int(k[1:]), k[0])):
        digest.update(name.encode() + np.ascontiguousarray(params[name]).tobytes())
    return digest.hexdigest()
