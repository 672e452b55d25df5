"""The four checks of one scratch model against its torch reference.

1. forward parity      Z[l], A[l] of every layer and the cost J
2. gradient parity     dZ[l], dW[l], db[l], dA[l-1], scratch's backprop against autograd
3. finite differences  central differences of the scratch cost, in float64 (third witness)
4. trajectory parity   (in `compare.proof.lockstep`) cost and parameters after every step

Quantities are compared in the order they are computed, so the first that
differs is where the two implementations part.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field

import numpy as np
import torch

from compare import adapter
from compare.proof.magnitude import magnitudes
from compare.proof.metric import Comparison, compare
from compare.proof.protocol import ScratchSide, layer_values
from scratch import activations
from scratch.spec import ModelSpec
from torch_ref.models import Net

KINKED = ("relu", "leaky_relu")  # hidden activations with no derivative at z = 0


@dataclass
class CheckResult:
    """One check of one model: every comparison in the order of computation."""

    check: str                                   # forward | gradients | finite_difference | trajectory
    comparisons: list[Comparison] = field(default_factory=list)
    detail: str = ""                             # what was covered, what was skipped
    error: str = ""                              # set when the check could not run to the end

    @property
    def passed(self) -> bool:
        return not self.error and all(c.passed for c in self.comparisons)

    @property
    def max_rel_err(self) -> float:
        if self.error:
            return float("inf")
        return max((c.rel_err for c in self.comparisons), default=0.0)

    @property
    def first_divergence(self) -> Comparison | None:
        return next((c for c in self.comparisons if not c.passed), None)


def merge(results: list[CheckResult]) -> CheckResult:
    """One check's results at several parameter points, in order, as one result."""
    merged = CheckResult(results[0].check)
    for r in results:
        merged.comparisons += r.comparisons
        merged.error = merged.error or r.error
    merged.detail = "; ".join(dict.fromkeys(r.detail for r in results if r.detail))
    return merged


def forward_order(L: int) -> list[str]:
    """Z1, A1, ..., ZL, AL, cost: the forward pass in order."""
    return [f"{q}{l}" for l in range(1, L + 1) for q in ("Z", "A")] + ["cost"]


def backward_order(L: int) -> list[str]:
    """dZL, dWL, dbL, dA(L-1), dZ(L-1), ..., dW1, db1: backprop in order."""
    names: list[str] = []
    for l in range(L, 0, -1):
        if l < L:
            names.append(f"dA{l}")
        names += [f"dZ{l}", f"dW{l}", f"db{l}"]
    return names


def scratch_pass(side: ScratchSide, X: np.ndarray, Y: np.ndarray) -> tuple[dict, dict]:
    """Forward values {Z1, A1, ..., cost} and backward values {dZL, dWL, ...} of the scratch side."""
    AL, caches = side.forward(X)
    forward = {name: np.array(v) for name, v in layer_values(caches).items()}  # copies: backward
    forward[f"A{len(side.params) // 2}"] = np.array(AL)                        # may write in them
    forward["cost"] = np.float64(side.cost(AL, Y, caches))
    return forward, side.backward(AL, Y, caches, intermediates=True)


def torch_pass(model: Net, Xt: torch.Tensor, yt: torch.Tensor) -> tuple[dict, dict]:
    """The same values from the torch model, through forward hooks and retain_grad, in scratch layout."""
    outputs: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(module, inputs, output):
            output.retain_grad()
            outputs[name] = output
        return hook

    handles = [m.register_forward_hook(keep(name)) for name, m in adapter.modules_in_order(model)]
    try:
        model.zero_grad(set_to_none=True)
        logits = model(Xt)                                    # [m, n_L]
        loss = model.loss(logits, yt)
        loss.backward()
    finally:
        for handle in handles:
            handle.remove()
    m = Xt.shape[0]
    L = model.spec.L
    forward = {name: adapter.batch_to_scratch(t) for name, t in outputs.items()}
    forward[f"A{L}"] = adapter.batch_to_scratch(model.output_activation(logits))
    forward["cost"] = np.float64(loss.item())
    backward = adapter.grads_from_torch(model)
    for name, t in outputs.items():
        if t.grad is not None:                                # dZ[l], dA[l] for l < L
            backward["d" + name] = adapter.delta_to_scratch(t.grad, m)
    return forward, backward


def compare_in_order(check: str, names: list[str], ours: dict, theirs: dict, tol: float,
                     scales: dict, optional: set[str], where: str) -> CheckResult:
    """Compare each named quantity against its magnitude; those in `optional` are skipped
    when scratch does not give them."""
    result = CheckResult(check)
    for name in names:
        if name in optional and name not in ours:
            continue
        c = compare(name, ours.get(name), theirs[name], tol, scales[name])
        result.comparisons.append(dataclasses.replace(c, where=where))
    return result


def parity(side: ScratchSide, model: Net, X: np.ndarray, Y: np.ndarray, forward_tol: float,
           gradient_tol: float, where: str = "") -> tuple[CheckResult, CheckResult]:
    """Checks 1 and 2 from the current parameters of both sides (which the caller made equal);
    `where` names that point in the report ('at random parameters')."""
    Xt = adapter.batch_to_torch(X, model.device, model.dtype)
    yt = adapter.targets_to_torch(Y, model.spec.output, model.device, model.dtype)
    s_fwd, s_bwd = scratch_pass(side, X, Y)
    t_fwd, t_bwd = torch_pass(model, Xt, yt)
    scales = magnitudes(model.spec, adapter.params_from_torch(model), X, Y, t_fwd, t_bwd)
    L = model.spec.L
    layer_names = set(forward_order(L)) - {f"A{L}", "cost"}
    forward = compare_in_order("forward", forward_order(L), s_fwd, t_fwd, forward_tol, scales,
                               layer_names, where)
    if len(forward.comparisons) < len(forward_order(L)):
        forward.detail = "the caches hold no Z/A: compared A[L] and the cost only"
    optional = {n for n in backward_order(L) if n.startswith(("dZ", "dA"))}
    gradients = compare_in_order("gradients", backward_order(L), s_bwd, t_bwd, gradient_tol,
                                 scales, optional, where)
    missing = [kind for kind in ("dZ", "dA") if L > 1 or kind == "dZ"
               if not any(c.name.startswith(kind) for c in gradients.comparisons)]
    if missing:
        gradients.detail = f"backward gives no {'/'.join(missing)}: compared the rest"
    return forward, gradients


def kink_signs(params: dict[str, np.ndarray], X: np.ndarray, spec: ModelSpec) -> list[np.ndarray]:
    """The signs (Z > 0) of every pre-activation that enters a ReLU or Leaky ReLU, computed
    from the parameters by the notes' forward pass (whatever the model keeps in its caches)."""
    kinked = [l for l, g in enumerate(spec.activations, start=1) if g in KINKED]
    signs, A = [], X                                                  # A[0] = X [n0, m]
    for l, g in enumerate(spec.activations[:max(kinked, default=0)], start=1):
        Z = np.asarray(params[f"W{l}"]) @ A + np.asarray(params[f"b{l}"])   # [n_l, m]
        if g in KINKED:
            signs.append(Z > 0)
        A = activations.get(g, spec.alpha).forward(Z)                # [n_l, m]
    return signs


def sample_entries(params: dict[str, np.ndarray], max_entries: int | None,
                   rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Flat indices to check in each parameter: all of them, or a seeded sample of about
    `max_entries` in all (each tensor keeps its share, and at least 8 entries or all it has)."""
    total = sum(p.size for p in params.values())
    chosen = {}
    for name, p in params.items():
        if max_entries is None or total <= max_entries:
            chosen[name] = np.arange(p.size)
        else:
            k = min(p.size, max(8, round(max_entries * p.size / total)))
            chosen[name] = np.sort(rng.choice(p.size, size=k, replace=False))
    return chosen


def finite_differences(side: ScratchSide, spec: ModelSpec, X: np.ndarray, Y: np.ndarray,
                       h: float, rtol: float, max_entries: int | None = None,
                       seed: int = 0, where: str = "") -> CheckResult:
    """Check 3: scratch's backward against (J(p + h) - J(p - h)) / 2h for each checked entry,
    on a float64 copy of the model.

    Entries must agree to `rtol` relative to max(|numeric|, atol / rtol), where
    atol = 8 eps64 max(|J|, 1) / h bounds the rounding error of the difference quotient
    (so gradients smaller than atol / rtol are checked to atol absolute).
    Entries whose +-h step moves a ReLU / Leaky ReLU pre-activation across 0 make a
    one-sided difference; they are reported and not counted.
    """
    witness = ScratchSide(copy.deepcopy(side.model))      # a deep copy keeps aliases of params
    for name, p in list(witness.params.items()):
        if not (isinstance(p, np.ndarray) and p.dtype == np.float64):
            witness.params[name] = np.array(p, dtype=np.float64)   # entries are set in place
    X64, Y64 = np.array(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    AL, caches = witness.forward(X64)
    if np.asarray(AL).dtype != np.float64:
        return CheckResult("finite_difference", detail=(
            f"{where or 'at the initial parameters'}: not run: the model computes in "
            f"{np.asarray(AL).dtype} even from float64 parameters, and central differences "
            "need float64"))
    J = witness.cost(AL, Y64, caches)
    analytic = witness.backward(AL, Y64, caches)
    base_signs = kink_signs(witness.params, X64, spec)
    atol = 8 * np.finfo(np.float64).eps * max(abs(J), 1.0) / h
    chosen = sample_entries(witness.params, max_entries, np.random.default_rng(seed))
    result = CheckResult("finite_difference")
    checked = kinks = 0
    for name in spec.param_names():
        p = witness.params[name]
        numeric = np.full(p.size, np.nan)
        for i in chosen[name]:
            idx = np.unravel_index(i, p.shape)
            old = p[idx]
            costs, crossed = [], False
            for step in (h, -h):
                p[idx] = old + step
                AL, caches = witness.forward(X64)
                costs.append(witness.cost(AL, Y64, caches))
                signs = kink_signs(witness.params, X64, spec)
                crossed |= any(np.any(s != b) for s, b in zip(signs, base_signs, strict=False))
            p[idx] = old
            if crossed:
                kinks += 1
                continue
            numeric[i] = (costs[0] - costs[1]) / (2 * h)
            checked += 1
        keep = ~np.isnan(numeric)
        grad = analytic.get("d" + name)
        if grad is None or np.shape(grad) != p.shape:
            c = compare("d" + name, grad, p, 0.0)
        else:
            c = _fd_compare("d" + name, np.asarray(grad).reshape(-1), numeric, keep, p.shape,
                            rtol, atol)
        result.comparisons.append(dataclasses.replace(c, where=where))
    total = sum(p.size for p in witness.params.values())
    result.detail = (f"{where or 'at the initial parameters'}: checked {checked} of {total} "
                     f"entries (h = {h:g}, atol = {atol:.1e})"
                     + (f"; skipped {kinks} next to a ReLU kink" if kinks else ""))
    return result


def _fd_compare(name: str, analytic: np.ndarray, numeric: np.ndarray, keep: np.ndarray,
                shape: tuple[int, ...], rtol: float, atol: float) -> Comparison:
    """Compare the kept entries like `compare`, against max(|numeric|, atol / rtol): below
    atol / rtol a gradient is smaller than central differences can resolve. The index
    reported is the entry's place in the parameter."""
    scale = max(float(np.max(np.abs(numeric[keep]), initial=0.0)), atol / rtol)
    c = compare(name, analytic[keep], numeric[keep], rtol, scale)
    if c.index is None:
        return c
    index = tuple(int(i) for i in np.unravel_index(np.flatnonzero(keep)[c.index[0]], shape))
    return Comparison(c.name, c.rel_err, c.max_abs_err, index, c.passed, c.note)
