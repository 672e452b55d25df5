"""Check one scratch model (ours or a user's) against the torch reference, end to end.

    torch model from the same architecture, parameters copied from scratch
    -> forward parity -> gradient parity -> finite differences (float64)
    -> lockstep training with the trajectory check -> final cost and accuracy.

`check_model` is the Python entry point; `nncompare` calls it for each model.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from compare import adapter
from compare.distributed import ddp
from compare.proof import dataparallel, directional, finite_diff, lockstep, parity
from compare.proof.metric import Comparison
from compare.proof.protocol import ScratchSide, failed_in, layer_dims_of, raised
from compare.proof.result import CHECKS, CheckResult, ModelReport, merge
from compare.proof.tolerances import FD_MAX_ENTRIES, FD_MODES, FD_RTOL, FD_STEP, Tolerance, tolerance
from scratch.datasets import Dataset
from scratch.errors import InvalidArgument
from scratch.model import accuracy_of, labels_from_output
from scratch.spec import ModelSpec, check_choice, check_int, check_real, check_seed
from scratch.spec import threads_for as spec_threads_for
from scratch.threads import blas_threads
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


def spec_of(model: Any, activation: object, output: object, alpha: object) -> tuple[ModelSpec, str]:
    """The model's own spec, or one read off its parameter shapes and what the model or the
    caller says; and a note for the report of what was inferred ('' when nothing was)."""
    spec = getattr(model, "spec", None)
    if isinstance(spec, ModelSpec):
        return spec, ""
    dims = layer_dims_of(model.params)
    hidden = len(dims) - 2
    activation = stated("activation", activation, getattr(model, "activation", None), hidden)
    output = stated("output", output, getattr(model, "output", None), 1)
    note = ""
    if activation is None and len(dims) > 2:
        raise InvalidArgument(
            "activation: the model has no `spec` and no `activation` attribute, so its hidden "
            "activation is unknown; pass activation= (e.g. 'relu', 'tanh', one per hidden layer)")
    if output is None:
        if dims[-1] != 1:
            raise InvalidArgument(
                f"output: the model has no `spec` and no `output` attribute and n[L] = {dims[-1]}; "
                "pass output='softmax' (or 'sigmoid')")
        output, note = "sigmoid", "sigmoid output inferred from n[L] = 1"
    return ModelSpec.build(dims, activation=activation or (), output=output, init="zeros",
                           alpha=alpha), note


def stated(arg: str, given: object, own: object, layers: int) -> object:
    """What the caller gave for `arg`, else what the model says (of `layers` layers); both,
    and they differ: an error."""
    def per_layer(names: object) -> tuple:
        return tuple(names) if isinstance(names, list | tuple) else (names,) * layers
    if given is not None and own is not None and per_layer(given) != per_layer(own):
        raise InvalidArgument(f"{arg}: got {given!r}, but the model says its {arg} is {own!r}; "
                              "pass the model's own (or leave it out)")
    return given if given is not None else own


def dtype_of(model: Any) -> str:
    """'float32' or 'float64', as the model's W1 is."""
    return "float32" if np.asarray(model.params["W1"]).dtype == np.float32 else "float64"


Data = Dataset | tuple[Any, ...]


@dataclass
class Setup:
    """Both sides of one check, from checked arguments: the model under test (through the
    protocol), its torch reference, the data in the model's dtype, the training settings."""

    model: ScratchSide
    spec: ModelSpec
    reference: Net
    X: np.ndarray                        # [n0, m] training samples
    Y: np.ndarray                        # [n_L, m]
    X_test: np.ndarray | None            # None when the data has no test split
    Y_test: np.ndarray | None
    lr: float
    iterations: int
    batch_size: int | None
    seed: int
    fd_max_entries: int
    tol: Tolerance
    description: str
    fd_mode: str = "entries"             # check 3 entry by entry, or along random directions


def prepare(model: object, data: Data, lr: float, iterations: int, batch_size: int | None,
            seed: int, device: object, activation: object, output: object, alpha: float,
            fd_max_entries: int) -> Setup:
    """Check every argument once and build both sides (InvalidArgument naming the bad one)."""
    wrapped = ScratchSide(model)                  # the model under test, through the protocol
    spec, note = spec_of(model, activation, output, alpha)
    X, Y, X_test, Y_test = split_of(data)
    check_real("alpha", alpha, 0.0, 1.0)
    dtype_name = dtype_of(model)
    np_dtype = np.dtype(dtype_name)
    torch_device = resolve_device(device)
    # the model gets copies: whatever its code does to them, the caller's data stays as it was
    X = check_X(X, spec, np_dtype, "X_train").copy()
    Y = check_Y(Y, spec, X.shape[1], np_dtype, "Y_train").copy()
    if X_test is not None:
        X_test = check_X(X_test, spec, np_dtype, "X_test").copy()
        Y_test = check_Y(Y_test, spec, X_test.shape[1], np_dtype, "Y_test").copy()
    lr, iterations, batch_size = check_training(lr, iterations, batch_size, X.shape[1])
    seed = check_seed(seed)
    reference = Net(spec, seed=seed, device=torch_device, dtype=resolve_dtype(dtype_name, torch_device))
    description = describe(spec, dtype_name, torch_device, own_spec=hasattr(model, "spec"))
    return Setup(wrapped, spec, reference, X, Y, X_test, Y_test, lr, iterations, batch_size, seed,
                 check_int("fd_max_entries", fd_max_entries, 1), tolerance(dtype_name, torch_device.type),
                 description + (f" ({note})" if note else ""))


def split_of(data: Data) -> tuple[Any, Any, Any, Any]:
    """(X_train, Y_train, X_test, Y_test) of a Dataset, of (X, Y) (no test split: None, None),
    or of (X_train, Y_train, X_test, Y_test); arrays in the notes' layout, checked later."""
    if isinstance(data, Dataset):
        return data.X_train, data.Y_train, data.X_test, data.Y_test
    if isinstance(data, tuple | list) and len(data) in (2, 4):
        return (*data, None, None) if len(data) == 2 else tuple(data)
    raise InvalidArgument(f"data: got {type(data).__name__}, expected a scratch.datasets.Dataset "
                          "(e.g. scratch.datasets.load('flower')), (X, Y) or (X_train, Y_train, "
                          "X_test, Y_test) in the notes' layout (X [n, m], Y [1, m])")


def check_model(model: object, data: Data, *, lr: float, iterations: int,
                batch_size: int | None = None, seed: int = 1, device: object = "cpu",
                activation: object = None, output: object = None, alpha: float = 0.01,
                fd_max_entries: int = FD_MAX_ENTRIES, name: str | None = None,
                on_start: Callable[[ScratchSide, Net], None] | None = None,
                on_step: Callable[[lockstep.StepRecord], None] | None = None,
                progress: Callable[[int], None] | None = None, start_step: int = 0,
                torch_params: dict[str, np.ndarray] | None = None,
                nproc: int | None = None, fd_mode: str = "entries") -> ModelReport:
    """Run the four checks on `model` (a scratch-protocol object) and train it in lockstep.

    `model` is ours (scratch.DeepNet, ...) or any object of `compare.proof.protocol`; `data` a
    `scratch.datasets.Dataset` or arrays in the notes' layout, (X, Y) or (X_train, Y_train,
    X_test, Y_test). lr, iterations, batch_size, seed: the lockstep training (seed orders the
    mini-batches); `device` is where torch runs ('cpu', 'cuda', 'auto', ...). activation,
    output, alpha: the architecture of a model with no `spec` that does not say it itself (its
    `activation`/`output` attributes); an unsaid output of n[L] = 1 is sigmoid, and the report
    says so. Above `fd_max_entries` parameters, finite differences check a seeded sample;
    fd_mode 'directional' checks them along random directions instead (big models).
    on_start, on_step, progress: hooks for logs and progress bars. A run resumed after
    `start_step` steps checks 1-3 at scratch's parameters, then torch trains on from its own
    `torch_params` (scratch layout). nproc: torch trains by DistributedDataParallel on that many
    ranks (`compare.proof.dataparallel`; None: the launcher's WORLD_SIZE, else 1). Raises
    InvalidArgument naming a bad argument, dataset or a model that breaks the protocol.
    """
    arguments = dict(locals())               # for the ranks, when this call starts them
    setup = prepare(model, data, lr, iterations, batch_size, seed, device, activation, output,
                    alpha, fd_max_entries)
    setup.fd_mode = check_choice("fd_mode", fd_mode, FD_MODES)
    start_step = check_int("start_step", start_step, 0)
    world = dataparallel.world_of(nproc, setup.reference.device, setup.X.shape[1], setup.batch_size)
    if world.launch_here:
        return world.launch(check_model, arguments)
    return world.share(checked(setup, world, name or type(model).__name__, on_start, on_step,
                               progress, start_step, torch_params))


def checked(setup: Setup, world: dataparallel.World, name: str,
            on_start: Callable[[ScratchSide, Net], None] | None,
            on_step: Callable[[lockstep.StepRecord], None] | None,
            progress: Callable[[int], None] | None, start_step: int,
            torch_params: dict[str, np.ndarray] | None) -> ModelReport:
    """The four checks of `setup`, as rank `world.rank` (ranks 1..N-1 only train torch)."""
    report = ModelReport(name, setup.description + world.note)
    dataparallel.place(world, setup.reference)        # cuda:LOCAL_RANK on NCCL
    if not shapes_agree(setup, report):
        return report
    # the same start, by copying (a resumed run's torch side goes on from its own parameters)
    adapter.copy_params_to_torch(setup.model.params if torch_params is None else torch_params,
                                 setup.reference)
    if on_start is not None:
        on_start(setup.model, setup.reference)
    with numerics(setup):
        if not world.agree(world.rank > 0 or check_points(setup, report)):
            return report
        train(setup, report, on_step, progress, start_step, world)
    if world.rank == 0 and not report.error and not report.checks["trajectory"].error:
        score(setup, report)
    return report


@contextlib.contextmanager
def numerics(setup: Setup) -> Iterator[None]:
    """Exact float32 products, the threads the sizes call for (both sides alike, by
    `scratch.spec.threads_for`), and NumPy raising on
    overflow, invalid values and division by zero (a divergence is caught where it starts)."""
    dims, m = setup.spec.layer_dims, setup.X.shape[1]
    with (exact_float32(), torch_threads(threads_for(dims, m, setup.reference.device)),
          blas_threads(spec_threads_for(dims, m)),
          np.errstate(over="raise", invalid="raise", divide="raise")):
        yield


def check_points(setup: Setup, report: ModelReport) -> bool:
    """Checks 1-3 at scratch's parameters on all samples, then at random ones on half of them;
    False when the model's own code failed (the report says where)."""
    model, reference, X, Y = setup.model, setup.reference, setup.X, setup.Y
    points = [("", {k: p.copy() for k, p in model.params.items()}, np.arange(X.shape[1])),
              ("at random parameters", random_point(setup.spec, setup.seed, X.dtype),
               random_samples(X.shape[1], setup.seed))]
    results: dict[str, list[CheckResult]] = {c: [] for c in CHECKS[:3]}
    try:
        for where, values, samples in points:
            Xp, Yp = X[:, samples], Y[:, samples]
            with parameters_at(model, reference, values):
                forward, gradients = parity.parity(model, reference, Xp, Yp, setup.tol.forward,
                                                   setup.tol.gradients, where)
                fd = witness(setup, Xp, Yp, where)
            for check, result in zip(CHECKS, (forward, gradients, fd), strict=False):
                results[check].append(result)
    except Exception as exc:  # the scratch model's own code failed: say where, go no further
        check = "gradients" if failed_in(exc) == "backward" else "forward"
        report.checks[check] = CheckResult(check, error=raised(exc))
        return False
    report.checks.update({check: merge(found) for check, found in results.items()})
    return True


def witness(setup: Setup, X: np.ndarray, Y: np.ndarray, where: str) -> CheckResult:
    """Check 3 in the chosen mode: entry by entry (a seeded sample above fd_max_entries), or
    along random directions (`compare.proof.directional`: two forward passes a direction)."""
    if setup.fd_mode == "directional":
        return directional.directional_differences(setup.model, setup.spec, X, Y, FD_STEP,
                                                   FD_RTOL, seed=setup.seed, where=where)
    return finite_diff.finite_differences(setup.model, setup.spec, X, Y, FD_STEP, FD_RTOL,
                                          setup.fd_max_entries, setup.seed, where)


def train(setup: Setup, report: ModelReport, on_step: Callable[[lockstep.StepRecord], None] | None,
          progress: Callable[[int], None] | None, start_step: int,
          world: dataparallel.World = dataparallel.ONE) -> None:
    """Check 4: both sides trained in lockstep, every step compared (ranks 1..N-1: their
    torch side only, step for step with rank 0)."""
    if world.rank > 0:
        return ddp.follow(setup.reference, setup.X, setup.Y, setup.lr, setup.iterations,
                          setup.batch_size, setup.seed, start_step)
    with world.trainers() as trainers:
        trajectory = lockstep.train(setup.model, setup.reference, setup.X, setup.Y, setup.lr,
                                    setup.iterations, setup.batch_size, setup.seed,
                                    setup.tol.trajectory, on_step, progress, start_step,
                                    setup.tol.forward, trainers)
    dataparallel.judge(trajectory, trainers, setup.reference, setup.tol.trajectory ** 0.5)
    report.trajectory = trajectory
    report.checks["trajectory"] = trajectory.result
    if trajectory.diverged is not None:
        report.error = str(trajectory.diverged)


def score(setup: Setup, report: ModelReport) -> None:
    """The final cost and accuracies of both sides (each by its own code) into the report."""
    try:
        report.final = final_scores(setup.model, setup.spec, setup.reference, setup.X, setup.Y,
                                    setup.X_test, setup.Y_test)
    except Exception as exc:      # the scratch model's own code failed on the whole split
        report.error = f"scoring the trained model, {raised(exc)}"


def shapes_agree(setup: Setup, report: ModelReport) -> bool:
    """False, with a failed forward check naming them, when params' shapes are not the notes'."""
    shapes = shape_check(setup.model.params, setup.spec)
    if shapes is not None:
        report.checks["forward"] = shapes
    return shapes is None


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
def parameters_at(model: ScratchSide, reference: Net, values: dict[str, np.ndarray]):
    """Set both sides to `values` (copied, in place) for the block, then restore each side's own."""
    saved = {name: p.copy() for name, p in model.params.items()}
    saved_torch = adapter.params_from_torch(reference)
    try:
        for name, p in model.params.items():
            p[...] = values[name]
        adapter.copy_params_to_torch(model.params, reference)
        yield
    finally:
        for name, p in model.params.items():
            p[...] = saved[name]
        adapter.copy_params_to_torch(saved_torch, reference)


def describe(spec: ModelSpec, dtype: str, device: torch.device, own_spec: bool = True) -> str:
    """'[2, 10, 5, 1] relu, sigmoid output, he init, float64 on cpu'."""
    hidden = "/".join(dict.fromkeys(spec.activations)) or "no hidden layer"
    init = f", {spec.init} init" if own_spec else ""
    return f"{list(spec.layer_dims)} {hidden}, {spec.output} output{init}, {dtype} on {device}"


def final_scores(model: ScratchSide, spec: ModelSpec, reference: Net, X: np.ndarray,
                 Y: np.ndarray, X_test: np.ndarray | None, Y_test: np.ndarray | None) -> dict[str, dict]:
    """Cost J of the final parameters on the whole training split, and train/test accuracy,
    of each side, each computed by its own code."""
    def scratch_predict(Xs: np.ndarray) -> np.ndarray:
        return labels_from_output(model.forward(Xs)[0], spec.output)

    def torch_predict(Xs: np.ndarray) -> np.ndarray:
        Xt = adapter.batch_to_torch(Xs, reference.device, reference.dtype)
        return adapter.labels_to_scratch(reference.predict(Xt))

    AL, caches = model.forward(X)
    Xt = adapter.batch_to_torch(X, reference.device, reference.dtype)
    yt = adapter.targets_to_torch(Y, spec.output, reference.device, reference.dtype)
    with torch.no_grad():
        cost = {"scratch": float(model.cost(AL, Y, caches)),
                "torch": reference.loss(reference(Xt), yt).item()}
    params = {"scratch": model.params, "torch": adapter.params_from_torch(reference)}
    return {
        side_name: {
            "cost": cost[side_name],
            "accuracy": {"train": accuracy_of(predict(X), Y, spec.output),
                         "test": (None if X_test is None or Y_test is None
                                  else accuracy_of(predict(X_test), Y_test, spec.output))},
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
