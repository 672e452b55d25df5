"""Checks 1 and 2 of one scratch model against its torch reference, from the same parameters.

1. forward parity      Z[l], A[l] of every layer and the cost J
2. gradient parity     dZ[l], dW[l], db[l], dA[l-1], scratch's backprop against autograd

Quantities are compared in the order they are computed, so the first that
differs is where the two implementations part. Check 3 (finite differences) is in
`compare.proof.finite_diff`, check 4 (the trajectory) in `compare.proof.lockstep`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from compare import adapter
from compare.proof.magnitude import magnitudes
from compare.proof.metric import compare
from compare.proof.protocol import ScratchSide, layer_values
from compare.proof.result import CheckResult
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


