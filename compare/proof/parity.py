"""Checks 1 and 2 of one scratch model against its torch reference, from the same parameters.

1. forward parity      Z[l], A[l] of every layer and the cost J
2. gradient parity     dZ[l], dW[l], db[l], dA[l-1], scratch's backprop against autograd
                       (intermediates given as dJ/dZ, dJ/dA, without the notes' factor m,
                       are recognised as that convention: `per_sample_convention`)

Quantities are compared in the order they are computed, so the first that
differs is where the two implementations part. Check 3 (finite differences) is in
`compare.proof.finite_diff`, check 4 (the trajectory) in `compare.proof.lockstep`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from compare import adapter
from compare.proof.finite_diff import KINKED
from compare.proof.magnitude import magnitudes
from compare.proof.metric import compare
from compare.proof.protocol import ScratchSide, layer_values
from compare.proof.result import CheckResult
from scratch.spec import ModelSpec
from torch_ref.models import Net


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


def scratch_pass(model: ScratchSide, X: np.ndarray, Y: np.ndarray) -> tuple[dict, dict]:
    """Forward values {Z1, A1, ..., cost} and backward values {dZL, dWL, ...} of the scratch side."""
    AL, caches = model.forward(X)
    forward = {name: np.array(v) for name, v in layer_values(caches).items()}  # copies: backward
    forward[f"A{len(model.params) // 2}"] = np.array(AL)                       # may write in them
    forward["cost"] = np.float64(model.cost(AL, Y, caches))
    return forward, model.backward(AL, Y, caches, intermediates=True)


def torch_pass(reference: Net, Xt: torch.Tensor, yt: torch.Tensor) -> tuple[dict, dict]:
    """The same values from the torch model, through forward hooks and retain_grad, in scratch layout."""
    outputs: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(module, inputs, output):
            output.retain_grad()
            outputs[name] = output
        return hook

    handles = [m.register_forward_hook(keep(name)) for name, m in adapter.modules_in_order(reference)]
    try:
        reference.zero_grad(set_to_none=True)
        logits = reference(Xt)                                # [m, n_L]
        loss = reference.loss(logits, yt)
        loss.backward()
    finally:
        for handle in handles:
            handle.remove()
    m = Xt.shape[0]
    L = reference.spec.L
    forward = {name: adapter.batch_to_scratch(t) for name, t in outputs.items()}
    forward[f"A{L}"] = adapter.batch_to_scratch(reference.output_activation(logits))
    forward["cost"] = np.float64(loss.item())
    backward = adapter.grads_from_torch(reference)
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


def parity(model: ScratchSide, reference: Net, X: np.ndarray, Y: np.ndarray, forward_tol: float,
           gradient_tol: float, where: str = "") -> tuple[CheckResult, CheckResult]:
    """Checks 1 and 2 from the current parameters of both sides (which the caller made equal);
    `where` names that point in the report ('at random parameters')."""
    Xt = adapter.batch_to_torch(X, reference.device, reference.dtype)
    yt = adapter.targets_to_torch(Y, reference.spec.output, reference.device, reference.dtype)
    s_fwd, s_bwd = scratch_pass(model, X, Y)
    t_fwd, t_bwd = torch_pass(reference, Xt, yt)
    scales = magnitudes(reference.spec, adapter.params_from_torch(reference), X, Y, t_fwd, t_bwd)
    L = reference.spec.L
    layer_names = set(forward_order(L)) - {f"A{L}", "cost"}
    forward = compare_in_order("forward", forward_order(L), s_fwd, t_fwd, forward_tol, scales,
                               layer_names, where)
    if len(forward.comparisons) < len(forward_order(L)):
        forward.detail = "the caches hold no Z/A: compared A[L] and the cost only"
    names, kink = backward_order(L), rounded_kink(reference.spec, s_fwd, t_fwd, scales, forward_tol)
    if kink:
        names = names[:names.index(f"dZ{kink[0]}")]
    optional = {n for n in names if n.startswith(("dZ", "dA"))}
    gradients = compare_in_order("gradients", names, s_bwd, t_bwd, gradient_tol, scales,
                                 optional, where)
    missing = [kind for kind in ("dZ", "dA") if L > 1 or kind == "dZ"
               if not any(c.name.startswith(kind) for c in gradients.comparisons)]
    notes = [f"backward gives no {'/'.join(missing)}: compared the rest"] if missing and not kink else []
    if kink:
        l, index, z = kink
        notes.append(f"{where or 'at the initial parameters'}: dZ{l} and what backprop computes "
                     f"from it not compared: Z{l}[{index}] = {z:.1e} is within rounding of the "
                     "kink at 0, where the two sides may take different one-sided derivatives")
    convention = per_sample_convention(gradients, s_bwd, t_bwd, gradient_tol, scales, X.shape[1])
    if convention:
        gradients.convention = ", ".join(convention)
        notes.append(f"{gradients.convention} are the notes' values divided by m (the 1/m "
                     "convention): compared times m")
    gradients.detail = "; ".join(notes)
    return forward, gradients


def per_sample_convention(result: CheckResult, ours: dict, theirs: dict, tol: float,
                          scales: dict, m: int) -> list[str]:
    """The intermediates compared again times m, when they follow the 1/m convention: dJ/dZ
    and dJ/dA themselves (autograd's values), where the notes keep dZ = m dJ/dZ.

    Recognised only with every dW, db agreeing, per kind (dZ, dA) and for all of that kind at
    once: each, times this batch's m, within the tolerance. A kind partly scaled, scaled by
    another factor (a hard-coded m shows at the second check point, of another m) or a
    wrong dW/db stays a failure. Returns the names rescaled ([] when none were)."""
    comparisons = result.comparisons
    if m == 1 or not all(c.passed for c in comparisons if c.name.startswith(("dW", "db"))):
        return []
    followed: list[str] = []
    for kind in ("dZ", "dA"):
        positions = [i for i, c in enumerate(comparisons) if c.name.startswith(kind)]
        if all(comparisons[i].passed for i in positions) or any(comparisons[i].note
                                                                for i in positions):
            continue                       # nothing to explain, or a shape no factor mends
        rescaled = [dataclasses.replace(
            compare(c.name, np.asarray(ours[c.name]) * m, theirs[c.name], tol, scales[c.name]),
            where=c.where) for c in (comparisons[i] for i in positions)]
        if all(c.passed for c in rescaled):
            for i, c in zip(positions, rescaled, strict=True):
                comparisons[i] = c
            followed += [c.name for c in rescaled]
    return followed


def kink_between(model: ScratchSide, reference: Net, X: np.ndarray, Y: np.ndarray,
                 tol: float) -> tuple[int, str, float] | None:
    """`rounded_kink` of the two sides' passes over (X, Y) from their current parameters."""
    Xt = adapter.batch_to_torch(X, reference.device, reference.dtype)
    yt = adapter.targets_to_torch(Y, reference.spec.output, reference.device, reference.dtype)
    s_fwd, _ = scratch_pass(model, X, Y)
    t_fwd, t_bwd = torch_pass(reference, Xt, yt)
    scales = magnitudes(reference.spec, adapter.params_from_torch(reference), X, Y, t_fwd, t_bwd)
    return rounded_kink(reference.spec, s_fwd, t_fwd, scales, tol)


def rounded_kink(spec: ModelSpec, ours: dict, theirs: dict, scales: dict,
                 tol: float) -> tuple[int, str, float] | None:
    """(l, index, Z) of the top ReLU/Leaky ReLU layer whose Z sits within the forward check's
    rounding of 0 where the sides' signs differ (or may: a model whose caches hold no Z),
    else None. Backprop from that layer's dZ down may then legitimately differ."""
    for l in range(spec.L - 1, 0, -1):
        if spec.activations[l - 1] not in KINKED:
            continue
        Z = theirs[f"Z{l}"]                                            # [n_l, m]
        near = np.abs(Z) <= tol * float(np.max(scales[f"Z{l}"]))
        if f"Z{l}" in ours and np.shape(ours[f"Z{l}"]) == Z.shape:
            near &= (np.asarray(ours[f"Z{l}"]) > 0) != (Z > 0)
        if near.any():
            i, j = (int(k) for k in np.argwhere(near)[0])
            return l, f"{i}, {j}", float(Z[i, j])
    return None


