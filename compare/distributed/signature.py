"""What a wrong data-parallel setup looks like, told from the first steps: rank 0 gathers
what every rank trained on (`Witness`) and the all-reduced gradient, recomputes each shard's
mean gradient, and names the cause: ranks on different batches (an unsynchronised shuffle),
samples twice or never (DistributedSampler's padding or drop_last), or a gradient exactly N,
m/N times the whole batch's mean, or the shards' means averaged 1/N each.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch

from torch_ref.models import Net


@dataclass
class Witness:
    """What the ranks trained on over the first steps, and the DDP gradient: for `signature`."""

    step: int
    batches: list[str]                        # per rank, a digest of its whole batch
    rows: list[list[int]]                     # per rank, the rows of the batch it trained on
    weights: list[float]                      # per rank, its loss weight
    X: torch.Tensor
    y: torch.Tensor
    grads: list[torch.Tensor] = field(default_factory=list)   # the all-reduced gradients


def signature(witnesses: list[Witness], net: Net, rtol: float) -> str:
    """What the first witnessed step says of a wrong setup, in one phrase ('' when the ranks
    trained on the whole batch once, and the all-reduced gradient is its mean's)."""
    for w in witnesses:
        found = batch_signature(w) or gradient_signature(w, net, rtol)
        if found:
            return f"at step {w.step}, {found}"
    return ""


def batch_signature(w: Witness) -> str:
    """Ranks that trained on different batches, or samples trained on twice or never."""
    other = next((r for r, digest in enumerate(w.batches) if digest != w.batches[0]), None)
    if other is not None:
        return (f"rank {other} trained on another batch than rank 0: an unsynchronised shuffle "
                "(seed every rank's batch order alike)")
    m = w.X.shape[0]
    counts = np.bincount(np.concatenate([np.asarray(r, dtype=int) for r in w.rows]), minlength=m)
    twice, never = np.flatnonzero(counts > 1), np.flatnonzero(counts == 0)
    if twice.size or never.size:
        sizes, rows = "/".join(str(len(r)) for r in w.rows), int(counts.sum())
        cause = ("DistributedSampler's padding (it repeats samples to even the split)" if twice.size
                 else "DistributedSampler's drop_last (it leaves the last m % N samples out)")
        found = [f"{a.size} sample(s) {how} (e.g. {a[:3].tolist()})"
                 for a, how in ((twice, "twice"), (never, "never")) if a.size]
        return (f"the shards ({sizes} rows) hold {rows} rows of the batch of {m}, "
                f"{' and '.join(found)}: the gradient is a mean over m' = {rows} rows, not "
                f"m = {m}: {cause}; split into uneven shards instead")
    return ""


def combine(weights: list[float], grads: list[torch.Tensor]) -> torch.Tensor:
    """sum_r weights[r] grads[r]."""
    return torch.stack([w * g for w, g in zip(weights, grads, strict=True)]).sum(0)


def gradient_signature(w: Witness, net: Net, rtol: float) -> str:
    """The all-reduced gradient against each shard's mean gradient (rank 0 computes them all)."""
    m, n = w.X.shape[0], len(w.rows)
    local = copy.deepcopy(net)
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(w.grads[0], local.parameters())
    per_rank = []
    for rows in w.rows:
        index = torch.as_tensor(rows, device=w.X.device)
        local.zero_grad()
        local.loss(local(w.X.index_select(0, index)), w.y.index_select(0, index)).backward()
        per_rank.append(torch.cat([p.grad.reshape(-1) for p in local.parameters() if p.grad is not None]))
    got = torch.cat([g.reshape(-1) for g in w.grads[1:]])
    whole = combine([len(rows) / m for rows in w.rows], per_rank)
    scale = float(whole.abs().max()) or 1.0
    if float((got - whole).abs().max()) <= rtol * scale:
        return ""
    ratio = float(got @ whole / (whole @ whole)) if float(whole @ whole) else float("nan")
    hypotheses = {"x world size": (f"exactly {n} (the world size) times the whole batch's mean: "
                                   "each rank's loss multiplied by N on top of DDP's average"),
                  "sum": (f"{ratio:.4g} = m/N = {m}/{n} times the mean's: a sum over each shard "
                          "where the mean belongs"),
                  "unweighted": ("the plain average of the shards' means (1/N each, not m_r/m: "
                                 f"shards of {'/'.join(str(len(r)) for r in w.rows)} rows)")}
    weights = {"x world size": [n * len(r) / m for r in w.rows], "sum": [len(r) / n for r in w.rows],
               "unweighted": [1 / n] * n}
    for key, ws in weights.items():
        guess = combine(ws, per_rank)
        if float((got - guess).abs().max()) <= rtol * max(float(guess.abs().max()), 1e-300):
            return "the all-reduced gradient is " + hypotheses[key]
    return f"the all-reduced gradient is {ratio:.4g} times the whole batch's mean, and not parallel to it"
