"""Check 4: train both sides in lockstep and compare them after every step.

Both start from the same parameters (copied), see the same batches in the same
order, and take a step each. Two things are measured after every step:

* the step error: a probe copy of the torch model is set to scratch's parameters
  before the step and takes the same step; scratch's cost J and new parameters are
  compared with the probe's. This is what the check judges: at every point of the
  training run, both implementations compute the same update.
* the drift: the free-running torch run against the scratch run. Gradient descent
  can amplify any difference, rounding included (exponentially, at a learning
  rate near the edge of stability), so the drift of two correct implementations
  may grow even while every step agrees; it is reported (largest drift, first step
  over the tolerance), not judged.

A parameter's error is measured against the size of its layer, max(|W[l]|, |b[l]|),
so a bias still near zero is not judged by its own rounding noise, and never against
less than the learning rate, the size of one step on a gradient of size 1
(|dZ[L]| = |A[L] - Y| <= 1): under zero init a layer can stay all zero but for the
rounding noise of its bias (W[2] = 0 and db[2] = 0 on balanced classes); the cost
against the cost's scale in this run, max(|J|, |J at step 0|, 1): a cost that
training has driven near zero is the mean of log(1 + e^-|z|) terms, each accurate to
about u absolute, not relative (torch's log(1 + t) rounds e^-40 away, log1p does not).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from compare import adapter
from compare.proof.metric import Comparison, compare
from compare.proof.protocol import ScratchSide, params_problem, raised
from compare.proof.result import CheckResult
from scratch import train as scratch_train
from scratch.errors import TrainingDiverged
from torch_ref.models import Net
from torch_ref.train import Trainer


@dataclass
class StepRecord:
    """What both sides did in one step, for the logs."""

    step: int
    cost: dict[str, float]                         # {'scratch': J, 'torch': J}, before the update
    grads: dict[str, dict[str, np.ndarray]]        # per side, {'dW1': ...}
    params: dict[str, dict[str, np.ndarray]]       # per side, after the update
    drift: dict[str, float]                        # {'cost': ..., 'W1': ..., ...} free-running
    step_error: float                              # largest error of this step from a common state


@dataclass
class Trajectory:
    """The lockstep run: both cost histories, the errors of every step, the check's result."""

    costs: dict[str, list[float]] = field(default_factory=lambda: {"scratch": [], "torch": []})
    step_error: list[float] = field(default_factory=list)   # one-step error at each step
    drift: list[float] = field(default_factory=list)        # free-running drift after each step
    result: CheckResult = field(default_factory=lambda: CheckResult("trajectory"))
    diverged: TrainingDiverged | None = None


def layer_scales(params: dict[str, np.ndarray], floor: float = 0.0) -> dict[str, float]:
    """{'W1': s1, 'b1': s1, ...} with s_l = max(|W[l]|, |b[l]|, floor)."""
    L = len(params) // 2
    scale = {l: max(float(np.abs(params[f"W{l}"]).max()), float(np.abs(params[f"b{l}"]).max()),
                    floor)
             for l in range(1, L + 1)}
    return {name: scale[int(name[1:])] for name in params}


def state_errors(J: float, params: dict[str, np.ndarray], J_ref: float,
                 ref: dict[str, np.ndarray], tol: float, J_scale: float,
                 floor: float = 0.0) -> list[Comparison]:
    """The cost (against `J_scale`) and each parameter (against its layer's size in `ref`,
    at least `floor`)."""
    scales = layer_scales(ref, floor)
    found = [compare("cost", np.float64(J), np.float64(J_ref), tol, max(abs(J_ref), J_scale))]
    return found + [compare(name, p, ref[name], tol, scales[name]) for name, p in params.items()]


def _at_step(c: Comparison, t: int) -> Comparison:
    return dataclasses.replace(c, where=f"at step {t}", step=t)


def run(side: ScratchSide, model: Net, X: np.ndarray, Y: np.ndarray, lr: float,
        iterations: int, batch_size: int | None, seed: int, tol: float,
        on_step: Callable[[StepRecord], None] | None = None,
        progress: Callable[[int], None] | None = None, start_step: int = 0) -> Trajectory:
    """Train `side` and `model` together for `iterations` steps, comparing after each; a run
    resumed after `start_step` steps sees the batches and step numbers an unbroken one would."""
    device = model.device
    Xt = adapter.batch_to_torch(X, device, model.dtype)
    yt = adapter.targets_to_torch(Y, model.spec.output, device, model.dtype)
    trainer = Trainer(model, lr)
    probe = copy.deepcopy(model)
    probe_trainer = Trainer(probe, lr)
    out = Trajectory()
    first_bad: Comparison | None = None      # the first step whose step error is over tol
    worst_step: Comparison | None = None     # the largest step error
    worst_drift: Comparison | None = None    # the largest free-running drift
    drift_over: int | None = None            # the first step the drift is over tol
    names = list(side.params)
    order = scratch_train.batch_order(X.shape[1], batch_size, iterations, seed, start_step)
    for t, idx in enumerate(order, start=start_step):
        Xb, Yb = (X, Y) if idx is None else (X[:, idx], Y[:, idx])
        it = adapter.indices_to_torch(idx, device)
        Xtb, ytb = (Xt, yt) if it is None else (Xt[it], yt[it])
        adapter.copy_params_to_torch(side.params, probe)
        J_p = probe_trainer.step(Xtb, ytb).item()
        try:
            J_s, grads_s = scratch_train.step(side, Xb, Yb, lr)
        except FloatingPointError as exc:          # np.errstate(..., "raise") of the caller
            J_s, grads_s = math.nan, {}
            cause = f"a value of the forward or backward pass ({exc})"
        except Exception as exc:                   # the scratch model's own code failed
            out.result.error = f"at step {t}, {raised(exc)}"
            break
        else:
            cause = "the cost"
            problem = params_problem(side.params, names)
            if problem is not None:
                out.result.error = f"at step {t}, after the scratch model's update, {problem}"
                break
        J_t = trainer.step(Xtb, ytb).item()
        out.costs["scratch"].append(J_s)
        out.costs["torch"].append(J_t)
        for name, J in (("scratch", J_s), ("torch", J_t)):
            if not math.isfinite(J):
                what = cause if name == "scratch" else "the cost"
                out.diverged = TrainingDiverged(name, t, what, lr)
                out.result.error = str(out.diverged)
                return out
        J_scale = max(abs(out.costs["torch"][0]), 1.0)
        probe_params = adapter.params_from_torch(probe)
        step_err = max(state_errors(J_s, side.params, J_p, probe_params, tol, J_scale, lr),
                       key=lambda c: c.rel_err)
        params_t = adapter.params_from_torch(model)
        drifts = state_errors(J_s, side.params, J_t, params_t, tol, J_scale, lr)
        drift = max(drifts, key=lambda c: c.rel_err)
        out.step_error.append(step_err.rel_err)
        out.drift.append(drift.rel_err)
        if worst_step is None or step_err.rel_err > worst_step.rel_err:
            worst_step = _at_step(step_err, t)
        if first_bad is None and not step_err.passed:
            first_bad = _at_step(step_err, t)
        if worst_drift is None or drift.rel_err > worst_drift.rel_err:
            worst_drift = _at_step(drift, t)
        if drift_over is None and not drift.passed:
            drift_over = t
        if on_step is not None:
            dparams = {"d" + n: grads_s["d" + n] for n in side.params if "d" + n in grads_s}
            on_step(StepRecord(t, {"scratch": J_s, "torch": J_t},   # a plug-in's dA, dZ left out
                               {"scratch": dparams, "torch": adapter.grads_from_torch(model)},
                               {"scratch": side.params, "torch": params_t},
                               {c.name: c.rel_err for c in drifts}, step_err.rel_err))
        if progress is not None:
            progress(t)
    out.result.comparisons = [c for c in (first_bad, worst_step) if c is not None]
    if first_bad is not None and first_bad == worst_step:
        out.result.comparisons = [first_bad]
    out.result.detail = describe(out, worst_step, worst_drift, drift_over, tol)
    return out


def describe(out: Trajectory, worst_step: Comparison | None, worst_drift: Comparison | None,
             drift_over: int | None, tol: float) -> str:
    """One line: steps, largest step error, largest drift and when it passed the tolerance."""
    if worst_step is None or worst_drift is None:
        return "no steps"
    text = (f"{len(out.step_error)} steps; largest step error {worst_step.rel_err:.1e} "
            f"({worst_step.name} {worst_step.where}); largest drift {worst_drift.rel_err:.1e} "
            f"({worst_drift.name} {worst_drift.where})")
    if drift_over is not None:
        text += (f"; drift first over {tol:.0e} at step {drift_over}"
                 + (" while every step agreed: the dynamics amplify rounding"
                    if out.result.passed else ""))
    return text
