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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch

from compare import adapter
from compare.proof import parity
from compare.proof.finite_diff import KINKED
from compare.proof.metric import Comparison, compare
from compare.proof.protocol import ScratchSide, params_problem, raised
from compare.proof.result import CheckResult
from compare.proof.state import StateMeter, notes_order
from scratch import train as scratch_train
from scratch.errors import TrainingDiverged
from torch_ref.models import Net
from torch_ref.train import Trainer


class Sides(Mapping[str, dict[str, np.ndarray]]):
    """{'scratch': ..., 'torch': ...} of a record: the torch side read off its model when first
    asked for (the logs read a record every 50 steps or so; the others cost nothing)."""

    def __init__(self, scratch: dict[str, np.ndarray],
                 torch_side: Callable[[], dict[str, np.ndarray]]) -> None:
        self.found, self.read = {"scratch": scratch}, torch_side

    def __getitem__(self, side: str) -> dict[str, np.ndarray]:
        if side == "torch" and side not in self.found:
            self.found[side] = self.read()
        return self.found[side]

    def __iter__(self) -> Iterator[str]:
        return iter(("scratch", "torch"))

    def __len__(self) -> int:
        return 2


@dataclass
class StepRecord:
    """What both sides did in one step, for the logs: read it in the hook it is given to (the
    scratch side's arrays are its model's own, the torch side's are read when first asked for)."""

    step: int
    cost: dict[str, float]                         # {'scratch': J, 'torch': J}, before the update
    grads: Mapping[str, dict[str, np.ndarray]]     # per side, {'dW1': ...}
    params: Mapping[str, dict[str, np.ndarray]]    # per side, after the update
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


def layer_scale(W: np.ndarray, b: np.ndarray, floor: float = 0.0) -> float:
    """s_l = max(|W[l]|, |b[l]|, floor): the size a parameter of layer l is measured against."""
    return max(float(np.abs(W).max()), float(np.abs(b).max()), floor)


def layer_scales(params: dict[str, np.ndarray], floor: float = 0.0) -> dict[str, float]:
    """{'W1': s1, 'b1': s1, ...} with s_l = max(|W[l]|, |b[l]|, floor)."""
    L = len(params) // 2
    scale = {l: layer_scale(params[f"W{l}"], params[f"b{l}"], floor) for l in range(1, L + 1)}
    return {name: scale[int(name[1:])] for name in params}


def state_errors(J: float, params: dict[str, np.ndarray], J_ref: float,
                 ref: dict[str, np.ndarray], tol: float, J_scale: float,
                 floor: float = 0.0) -> list[Comparison]:
    """The cost (against `J_scale`) and each parameter (against its layer's size in `ref`,
    at least `floor`)."""
    scales = layer_scales(ref, floor)
    found = [compare("cost", np.float64(J), np.float64(J_ref), tol, max(abs(J_ref), J_scale))]
    return found + [compare(name, p, ref[name], tol, scales[name]) for name, p in params.items()]


class StepTrainer(Protocol):
    """What the lockstep steps each torch side with: `torch_ref.train.Trainer`'s `step`."""

    def step(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor: ...


# (reference, probe, lr) -> their trainers
Trainers = Callable[[Net, Net, float], tuple[StepTrainer, StepTrainer]]


def _at_step(c: Comparison, t: int) -> Comparison:
    return dataclasses.replace(c, where=f"at step {t}", step=t)


class Lockstep:
    """Scratch's model, the torch reference and a probe copy of it, stepping together.

    `step(t, idx)` takes step t on the samples idx (None: all) on every side and
    measures it; `record(t)` is what the logs get; `finish()` the check's result."""

    def __init__(self, model: ScratchSide, reference: Net, X: np.ndarray, Y: np.ndarray,
                 lr: float, tol: float, forward_tol: float, trainers: Trainers | None = None) -> None:
        self.model, self.reference, self.X, self.Y, self.lr, self.tol = model, reference, X, Y, lr, tol
        self.forward_tol = forward_tol
        self.kinked = any(g in KINKED for g in reference.spec.activations)   # ReLU or Leaky ReLU
        self.before: dict[str, np.ndarray] = {}       # scratch's parameters before the step
        self.kinks: list[str] = []                    # steps not judged, and why
        self.overflow = ""                            # what NumPy raised, when it did
        self.non_finite = ""                          # a non-finite value no overflow raised
        self.Xt = adapter.batch_to_torch(X, reference.device, reference.dtype)          # [m, n0]
        self.yt = adapter.targets_to_torch(Y, reference.spec.output, reference.device, reference.dtype)
        self.probe = copy.deepcopy(reference)
        self.trainer, self.probe_trainer = (Trainer(reference, lr), Trainer(self.probe, lr)) \
            if trainers is None else trainers(reference, self.probe, lr)   # data-parallel ones
        self.names = list(model.params)
        self.out = Trajectory()
        self.first_bad: Comparison | None = None      # the first step whose step error is over tol
        self.worst_step: Comparison | None = None     # the largest step error
        self.worst_drift: Comparison | None = None    # the largest free-running drift
        self.drift_over: int | None = None            # the first step the drift is over tol
        self.start_scale = max_abs(model.params)
        self.grads: dict[str, np.ndarray] = {}
        self.drifts: dict[str, float] = {}             # this step's drift of each quantity
        order = notes_order(self.names)
        self.meter = None if order is None else StateMeter(
            {n: np.shape(p) for n, p in model.params.items()}, order)
        self.views = {} if order is None else {       # each torch side's parameters, that order
            net: adapter.ParamViews(net, order) for net in (self.reference, self.probe)}

    def step(self, t: int, idx: np.ndarray | None) -> bool:
        """Step t on both sides (and the probe from scratch's state); False: stop here."""
        Xb, Yb = (self.X, self.Y) if idx is None else (self.X[:, idx], self.Y[:, idx])
        it = adapter.indices_to_torch(idx, self.reference.device)
        Xtb, ytb = (self.Xt, self.yt) if it is None else (self.Xt[it], self.yt[it])
        self.reset_probe(self.model.params)
        J_p = self.probe_trainer.step(Xtb, ytb).item()      # both torch steps, then scratch's:
        J_t = self.trainer.step(Xtb, ytb).item()            # each side's code stays in the caches
        if self.kinked:
            self.before = {k: p.copy() for k, p in self.model.params.items()}
        J_s = self.scratch_step(t, Xb, Yb)
        if J_s is None:
            return False
        self.out.costs["scratch"].append(J_s)
        self.out.costs["torch"].append(J_t)
        if not math.isfinite(J_t) or not math.isfinite(J_s):
            self.out.diverged = (diverged("torch", t, "the cost", self.lr) if math.isfinite(J_s) else
                                 self.why_non_finite(t, Xb, Yb))
            self.out.result.error = str(self.out.diverged)
            return False
        self.measure(t, J_s, J_p, J_t, Xb, Yb)
        return True

    def reset_probe(self, params: dict[str, np.ndarray]) -> None:
        """The probe set to scratch's `params`, to take the step scratch takes from them."""
        if self.probe in self.views:
            self.views[self.probe].assign(params)
        else:
            adapter.copy_params_to_torch(params, self.probe)

    def scratch_step(self, t: int, Xb: np.ndarray, Yb: np.ndarray) -> float | None:
        """Scratch's step: its cost before the update (NaN when a value overflowed), or None
        when its own code failed (the check's error says where)."""
        try:                                      # step by step: a non-finite value stops before the update
            AL, caches = self.model.forward(Xb)
            if not np.all(np.isfinite(AL)):       # (no overflow raised: the model made it so)
                self.non_finite = "A[L] of forward"
                return math.nan
            J = self.model.cost(AL, Yb, caches)
            if not math.isfinite(J):
                return math.nan
            self.grads = self.model.backward(AL, Yb, caches)
            grads = [self.grads.get("d" + n, 0.0) for n in self.names]
            if not np.isfinite(np.concatenate([np.ravel(g) for g in grads])).all():   # (one call)
                self.non_finite = next(f"d{n} of backward" for n, g in zip(self.names, grads, strict=True)
                                       if not np.all(np.isfinite(g)))
                return math.nan
            self.model.update(self.grads, self.lr)
        except FloatingPointError as exc:         # np.errstate(..., "raise") of the caller
            self.overflow = f"a value of the forward or backward pass ({exc})"
            return math.nan
        except Exception as exc:                  # the scratch model's own code failed
            self.out.result.error = f"at step {t}, {raised(exc)}"
            return None
        problem = params_problem(self.model.params, self.names)
        if problem is not None:
            self.out.result.error = f"at step {t}, after the scratch model's update, {problem}"
            return None
        return J

    def why_non_finite(self, t: int, Xb: np.ndarray, Yb: np.ndarray) -> TrainingDiverged:
        """Scratch's step t gave a non-finite value (its parameters are still those before the
        step, unless the update itself overflowed): what the evidence says happened."""
        costs, now = self.out.costs["scratch"], max_abs(self.model.params)
        # the evidence of a learning rate too large: parameters non-finite or grown 100-fold, or
        # a cost that rose to twice where it started
        blew_up = (not math.isfinite(now) or now > 100 * max(self.start_scale, 1.0)
                   or (len(costs) > 2 and math.isfinite(costs[-2]) and costs[-2] > 2 * costs[0]))
        if blew_up:
            return diverged("scratch", t, self.overflow or "the cost", self.lr)
        if self.non_finite:                       # the model's own function, no overflow raised
            function = self.non_finite.split()[-1]
            finite = "the parameters" + (" and A[L]" if function == "backward" else "")
            return TrainingDiverged("scratch", t, f"{self.non_finite} ({finite} are finite)",
                                    self.lr, f"check {function}: it made NaN or inf from finite "
                                    "values, with no overflow raised")
        what, advice = saturation(self.model, Xb, Yb)
        return TrainingDiverged("scratch", t, what, self.lr, advice)

    def measure(self, t: int, J_s: float, J_p: float, J_t: float, Xb: np.ndarray, Yb: np.ndarray) -> None:
        """Step t's error (scratch against the probe) and drift (against the free-running torch
        run); a step over the tolerance from a Z within rounding of a ReLU kink is not judged.
        The rel_err of every quantity comes from `errors`; a `Comparison` (where the largest
        difference is) is made only for a step that is reported: a new largest, or a failure."""
        J_scale = max(abs(self.out.costs["torch"][0]), 1.0)
        step, self.drifts = self.errors(J_s, J_p, J_t, J_scale)
        step_name, drift_name = max(step, key=step.__getitem__), max(self.drifts, key=self.drifts.__getitem__)
        step_err, drift = step[step_name], self.drifts[drift_name]
        self.out.step_error.append(step_err)
        self.out.drift.append(drift)
        passed = step_err <= self.tol
        judged = passed or not self.at_kink(t, Xb, Yb)
        new_worst = judged and (self.worst_step is None or step_err > self.worst_step.rel_err)
        if new_worst or (judged and self.first_bad is None and not passed):
            found = self.comparison(step_name, J_s, J_p, self.probe, J_scale, t)
            self.worst_step = found if new_worst else self.worst_step
            self.first_bad = found if self.first_bad is None and not passed else self.first_bad
        if self.worst_drift is None or drift > self.worst_drift.rel_err:
            self.worst_drift = self.comparison(drift_name, J_s, J_t, self.reference, J_scale, t)
        if self.drift_over is None and drift > self.tol:
            self.drift_over = t

    def errors(self, J_s: float, J_p: float, J_t: float,
               J_scale: float) -> tuple[dict[str, float], dict[str, float]]:
        """({name: rel_err} against the probe, the same against the reference): by the
        `StateMeter`, or one by one where the parameters are not laid out as the torch ones."""
        meter, params = self.meter, self.model.params
        theta = None if meter is None else meter.vector(params)
        found = []
        for J, net in ((J_p, self.probe), (J_t, self.reference)):
            if meter is not None and theta is not None:
                found.append(meter.errors(J_s, theta, J, self.views[net].vector(),
                                          J_scale, self.lr))
            else:
                found.append({c.name: c.rel_err for c in state_errors(
                    J_s, params, J, adapter.params_from_torch(net), self.tol, J_scale, self.lr)})
        return found[0], found[1]

    def comparison(self, name: str, J_s: float, J_ref: float, net: Net, J_scale: float,
                   t: int) -> Comparison:
        """The full comparison of one quantity of this step against `net` (the probe or the
        reference), as `state_errors` makes it, for that quantity alone."""
        if name == "cost":
            found = compare("cost", np.float64(J_s), np.float64(J_ref), self.tol, max(abs(J_ref), J_scale))
        else:
            torch_params, l = net.notes_params(), name[1:]
            W, b = (adapter.param_to_scratch(k + l, torch_params[k + l]) for k in "Wb")
            found = compare(name, self.model.params[name], W if name[0] == "W" else b, self.tol,
                            layer_scale(W, b, self.lr))
        return _at_step(found, t)

    def at_kink(self, t: int, Xb: np.ndarray, Yb: np.ndarray) -> bool:
        """Whether step t started (both sides at scratch's parameters before it) from a Z within
        rounding of a ReLU kink, where the sides may take different one-sided derivatives."""
        if not self.before:
            return False
        after = {k: p.copy() for k, p in self.model.params.items()}
        try:
            for k, p in self.model.params.items():
                p[...] = self.before[k]
            self.reset_probe(self.before)
            kink = parity.kink_between(self.model, self.probe, Xb, Yb, self.forward_tol)
        finally:
            for k, p in self.model.params.items():
                p[...] = after[k]
        if kink is not None:
            self.kinks.append(f"step {t} (Z{kink[0]}[{kink[1]}] = {kink[2]:.1e})")
        return kink is not None

    def record(self, t: int) -> StepRecord:
        """Step t as the logs see it (a plug-in's dA, dZ left out)."""
        dparams = {"d" + n: self.grads["d" + n] for n in self.model.params if "d" + n in self.grads}
        reference = self.reference
        return StepRecord(t, {side: costs[-1] for side, costs in self.out.costs.items()},
                          Sides(dparams, lambda: adapter.grads_from_torch(reference)),
                          Sides(self.model.params, lambda: adapter.params_from_torch(reference)),
                          dict(self.drifts), self.out.step_error[-1])

    def finish(self) -> Trajectory:
        out = self.out
        out.result.comparisons = [c for c in (self.first_bad, self.worst_step) if c is not None]
        if self.first_bad is not None and self.first_bad == self.worst_step:
            out.result.comparisons = [self.first_bad]
        out.result.detail = describe(out, self.worst_step, self.worst_drift, self.drift_over, self.tol,
                                     bool(self.kinks))
        if self.kinks:
            shown = ", ".join(self.kinks[:3]) + (" ..." if len(self.kinks) > 3 else "")
            out.result.detail += f"; not judged, from a Z within rounding of a ReLU kink: {shown}"
        return out


def train(model: ScratchSide, reference: Net, X: np.ndarray, Y: np.ndarray, lr: float,
          iterations: int, batch_size: int | None, seed: int, tol: float,
          on_step: Callable[[StepRecord], None] | None = None,
          progress: Callable[[int], None] | None = None, start_step: int = 0,
          forward_tol: float = 0.0, trainers: Trainers | None = None) -> Trajectory:
    """Train `model` and `reference` together for `iterations` steps, comparing after each; a
    run resumed after `start_step` steps sees the batches and step numbers an unbroken one would.
    `forward_tol` is the forward check's bound (for telling a ReLU kink's rounding); `trainers`
    makes the reference's and the probe's trainers (default `Trainer`; DDP ones on N ranks)."""
    run = Lockstep(model, reference, X, Y, lr, tol, forward_tol, trainers)
    order = scratch_train.batch_order(X.shape[1], batch_size, iterations, seed, start_step)
    for t, idx in enumerate(order, start=start_step):
        if not run.step(t, idx):
            break
        if on_step is not None:
            on_step(run.record(t))
        if progress is not None:
            progress(t)
    return run.finish()


def max_abs(params: dict[str, np.ndarray]) -> float:
    """The largest |entry| of any parameter (inf or NaN when one is not finite)."""
    values = [float(np.max(np.abs(p))) for p in params.values() if np.size(p)]
    return math.nan if any(math.isnan(v) for v in values) else max(values, default=0.0)


def diverged(side: str, t: int, what: str, lr: float) -> TrainingDiverged:
    """The parameters blew up: the learning rate is the first thing to lower."""
    return TrainingDiverged(side, t, what, lr, advice=f"lower the learning rate (lr={lr:g})")


def saturation(model: ScratchSide, Xb: np.ndarray, Yb: np.ndarray) -> tuple[str, str]:
    """(what, advice) when finite parameters gave a non-finite value: which function produced
    it, and, for a cost of log(0), the sample whose A[L] saturated to exactly 0 or 1 (where
    y log(a) + (1 - y) log(1 - a) is -inf, or 0 * -inf = NaN)."""
    with np.errstate(all="ignore"):
        try:
            AL, caches = model.forward(Xb)
        except Exception as exc:                  # its forward raises even without errstate
            return f"forward, {raised(exc)}", "check forward for a division or an exp that overflows"
        AL = np.asarray(AL, dtype=np.float64)
        if not np.all(np.isfinite(AL)):
            return ("A[L] of forward (the parameters are finite)",
                    "check forward for an exp that overflows (compute sigmoid and softmax stably)")
        saturated = np.flatnonzero(np.any((AL == 0) | (AL == 1), axis=0))   # 0 log 0 is NaN too
    if saturated.size:
        i = int(saturated[0])
        return (f"the cost (log(0): A[L] saturated to exactly 0 or 1 at sample {i} of the batch, "
                f"A[L] = {AL[:, i].tolist()}; the parameters are finite)",
                "compute the cost from the logits Z[L] (log(1 + e^-z) by logaddexp/log1p) or clip "
                "A[L] to [eps, 1 - eps] before the log")
    return ("a value of cost or backward (the parameters and A[L] are finite)",
            "check cost and backward for a log or a division of 0")


def describe(out: Trajectory, worst_step: Comparison | None, worst_drift: Comparison | None,
             drift_over: int | None, tol: float, kinked: bool = False) -> str:
    """One line: steps, largest step error, largest drift and when it passed the tolerance."""
    if worst_step is None or worst_drift is None:
        return "no steps"
    n = len(out.step_error)
    text = (f"{n} step{'' if n == 1 else 's'}; largest step error {worst_step.rel_err:.1e} "
            f"({worst_step.name} {worst_step.where}); largest drift {worst_drift.rel_err:.1e} "
            f"({worst_drift.name} {worst_drift.where})")
    if drift_over is not None:
        text += (f"; drift first over {tol:.0e} at step {drift_over}"
                 + (" while every step agreed: the dynamics amplify rounding" if out.result.passed
                    and not kinked else " after a step the sides took on either side of a kink"
                    if out.result.passed else ""))
    return text
