"""The torch reference trained by DistributedDataParallel, one step at a time, as
`torch_ref.train.Trainer` does on one process.

Every rank sees the whole batch (the same samples in the same order: the batch order is
seeded alike on every rank) and keeps its shard: rank r of N the rows `shard(m, r, N)`,
contiguous, sizes m_r differing by at most one, every sample exactly once (no padding,
unlike DistributedSampler). Its loss is the mean over its shard J_r, weighted by N m_r / m:
DDP's all-reduce averages the N gradients, so

    (1/N) sum_r (N m_r / m) grad J_r = sum_r (m_r / m) grad J_r = grad J   (the whole batch's mean)

exactly in real arithmetic; in floating point the sum over the m samples is reassociated into N
partial sums and one sum over ranks (one product by the weight, one division by N), which
keeps the error within the bound of one sum over m terms: the one-process tolerances hold.

Each step is a fixed sequence of collectives on every rank, so that the ranks cannot part: a
go flag from rank 0 (0: stop here), the probe's parameters broadcast from rank 0 (the
lockstep's probe starts each step from scratch's parameters, which only rank 0 has), DDP's
all-reduce of the gradients, the all-reduce of the weighted losses (J of the whole batch),
and, for the free-running reference, every rank's parameters gathered to rank 0 and compared
bitwise (DDP promises identical replicas). Over the first `WITNESS_STEPS` steps rank 0 also
gathers what each rank trained on and tells a wrong setup by its signature (`signature`).

NNCOMPARE_DDP_MISTAKE (one of MISTAKES) makes every rank commit a common data-parallel
mistake, for the demonstrations and tests that show each one caught.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from compare import adapter
from compare.distributed import group
from scratch import train as scratch_train
from scratch.errors import InvalidArgument
from torch_ref.models import Net

WITNESS_STEPS = 2
MISTAKES = {
    "loss_x_world": "each rank's loss multiplied by the world size on top of the weight",
    "sum": "each rank's loss a sum over its shard, not a mean",
    "unweighted": "each rank's mean loss unweighted on an uneven split",
    "sampler_padding": "DistributedSampler's split: padded to a multiple of N by repeating samples",
    "unsynced_shuffle": "each rank's batch order seeded with seed + rank",
}


def mistake() -> str | None:
    """The mistake NNCOMPARE_DDP_MISTAKE asks for (None: the correct setup)."""
    name = os.environ.get("NNCOMPARE_DDP_MISTAKE") or None
    if name is not None and name not in MISTAKES:
        raise InvalidArgument(f"NNCOMPARE_DDP_MISTAKE: got {name!r}, expected one of {', '.join(MISTAKES)}")
    return name


def shard(m: int, r: int, n: int) -> np.ndarray:
    """Rank r's rows of a batch of m: contiguous, the first m % n ranks one more."""
    base, extra = divmod(m, n)
    lo = r * base + min(r, extra)
    return np.arange(lo, lo + base + (r < extra))


def sampler_shard(m: int, r: int, n: int) -> np.ndarray:
    """DistributedSampler(shuffle=False, drop_last=False)'s rows: padded to ceil(m/n) * n by
    repeating the first samples, then every n-th."""
    total = -(-m // n) * n
    return np.concatenate([np.arange(m), np.arange(total - m)])[r:total:n]


def rows_of(m: int, r: int, n: int, wrong: str | None) -> np.ndarray:
    return sampler_shard(m, r, n) if wrong == "sampler_padding" else shard(m, r, n)


def weight_of(m_r: int, m: int, n: int, wrong: str | None) -> float:
    """The factor of rank r's mean loss (n m_r / m; the mistakes' own)."""
    return {"loss_x_world": n * n * m_r / m, "sum": float(m_r), "unweighted": 1.0,
            "sampler_padding": 1.0}.get(wrong or "", n * m_r / m)


def check_batch_sizes(m: int, batch_size: int | None, n: int) -> None:
    """InvalidArgument when a batch has fewer samples than ranks (a rank would get none)."""
    smallest = m if batch_size is None else min(batch_size, m - (m // batch_size) * batch_size or batch_size)
    if smallest < n:
        raise InvalidArgument(f"nproc: {n} ranks, but a batch has only {smallest} sample(s) "
                              f"(m = {m}, batch size {batch_size or m}): every rank needs at "
                              "least one; use fewer ranks or larger batches")


def batch_order(m: int, batch_size: int | None, iterations: int, seed: int,
                start_step: int) -> Iterator[np.ndarray | None]:
    """The lockstep's batch order, as this rank draws it (the mistake: seeded by rank)."""
    wrong = mistake() == "unsynced_shuffle"
    return scratch_train.batch_order(m, batch_size, iterations, seed + (group.rank() if wrong else 0),
                                     start_step)


@dataclass
class Parting:
    """The first step at which a rank's parameters were not bitwise rank 0's."""

    step: int
    rank: int
    name: str
    max_abs: float


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


class Coordinator:
    """The go flags, shared by the two trainers of one lockstep run (rank 0 decides). A probe
    step's flag travels with the probe's parameters (one broadcast); `stop` sends the one the
    followers wait for next."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.stopped = False
        self.next_probe: torch.Tensor | None = None   # the probe's [flag, parameters] template

    def go(self, more: bool = True, carry: torch.Tensor | None = None) -> bool:
        """Rank 0 says whether a step follows ([flag, *carry] when `carry` is given, broadcast
        into `carry` on the others); every rank returns what rank 0 said."""
        flag = torch.tensor([1 if more else 0], dtype=torch.int64 if carry is None else carry.dtype,
                            device=self.device)
        message = flag if carry is None else torch.cat([flag, carry.to(self.device)])
        dist.broadcast(message, src=0)
        if carry is not None:
            carry.copy_(message[1:])
        return bool(message[0].item())

    def stop(self) -> None:
        """Rank 0: no step follows (once; the followers leave their loop)."""
        if not self.stopped and dist.is_initialized():
            self.stopped = True
            self.go(False, self.next_probe)


def flat(net: Net) -> torch.Tensor:
    return torch.nn.utils.parameters_to_vector(net.parameters()).detach()


class DataParallelTrainer:
    """`torch_ref.train.Trainer`'s `step` on this rank's shard of the batch, through DDP: after
    it, each parameter's `.grad` is the all-reduced gradient and `step` returns the whole batch's
    J (on every rank). A `probe` first takes rank 0's parameters; the others' are compared."""

    def __init__(self, net: Net, lr: float, coordinator: Coordinator, probe: bool) -> None:
        self.net, self.coordinator, self.probe = net, coordinator, probe
        self.n, self.rank = dist.get_world_size(), dist.get_rank()
        ids = [net.device.index] if net.device.type == "cuda" else None
        self.ddp: DistributedDataParallel | None = DistributedDataParallel(
            net, device_ids=ids)                      # rank 0's parameters to all ranks
        self.optimizer = torch.optim.SGD(net.parameters(), lr=lr)
        self.wrong = mistake()
        self.t = 0
        self.parting: Parting | None = None
        self.witnesses: list[Witness] = []

    def step(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Rank 0's step (the lockstep's): `advance`, which rank 0 never stops."""
        J = self.advance(X, y)
        if J is None:
            raise RuntimeError("rank 0 told itself to stop")
        return J

    def advance(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor | None:
        """One DDP step on the whole batch (X [m, n], y) of this rank; None: rank 0 said stop."""
        if self.ddp is None:
            raise RuntimeError("step after close")
        if not self.begin():
            return None
        before = flat(self.net) if self.t < WITNESS_STEPS and self.probe else None
        rows = rows_of(X.shape[0], self.rank, self.n, self.wrong)
        index = torch.as_tensor(rows, device=X.device)
        Xs, ys = X.index_select(0, index), y.index_select(0, index)
        self.optimizer.zero_grad()
        loss = self.net.loss(self.ddp(Xs), ys)
        (loss * weight_of(len(rows), X.shape[0], self.n, self.wrong)).backward()   # DDP all-reduces
        if before is not None:
            self.witness(X, y, rows, before)
        self.optimizer.step()
        J = loss.detach().reshape(1) * (len(rows) / X.shape[0])
        if self.probe:
            dist.all_reduce(J)                           # the whole batch's mean cost
        else:
            J = self.compare_ranks(J)
        self.t += 1
        return J[0]

    def begin(self) -> bool:
        """The step's go flag from rank 0 (the probe's with rank 0's parameters: scratch's
        state); False: stop."""
        vector = flat(self.net) if self.probe else None
        more = self.coordinator.go(True, vector)
        self.coordinator.next_probe = None if self.probe else torch.zeros_like(flat(self.net))
        if more and vector is not None and self.rank != 0:
            with torch.no_grad():
                torch.nn.utils.vector_to_parameters(vector, self.net.parameters())
        return more

    def compare_ranks(self, J: torch.Tensor) -> torch.Tensor:
        """Every rank's parameters (and weighted loss) gathered to rank 0, compared bitwise with
        its own; the whole batch's J (on rank 0)."""
        vector = torch.cat([flat(self.net), J])
        gathered = [torch.empty_like(vector) for _ in range(self.n)] if self.rank == 0 else None
        dist.gather(vector, gathered, dst=0)
        if self.rank != 0 or gathered is None:
            return J
        for r, other in enumerate(gathered[1:], start=1):
            if self.parting is None and not torch.equal(other[:-1], vector[:-1]):
                self.parting = self.first_parting(r, other)
        return torch.stack([g[-1] for g in gathered]).sum().reshape(1)

    def first_parting(self, r: int, other: torch.Tensor) -> Parting:
        """Which parameter of rank r differs from rank 0's, and by how much."""
        offset = 0
        for name, p in self.net.notes_params().items():
            size = p.numel()
            mine, theirs = p.detach().reshape(-1), other[offset:offset + size]
            if not torch.equal(mine, theirs):
                return Parting(self.t, r, name, float((mine - theirs).abs().max()))
            offset += size
        return Parting(self.t, r, "?", float("nan"))

    def witness(self, X: torch.Tensor, y: torch.Tensor, rows: np.ndarray, before: torch.Tensor) -> None:
        """What every rank trained on at this step, gathered to rank 0 with the DDP gradient."""
        digest = hashlib.sha1(X.detach().cpu().numpy().tobytes()).hexdigest()
        mine = (digest, rows.tolist(), weight_of(len(rows), X.shape[0], self.n, self.wrong))
        seen: list[tuple] = [None] * self.n     # type: ignore[list-item]  # filled by the gather
        dist.all_gather_object(seen, mine)
        if self.rank == 0:
            grads = [p.grad.detach().clone() for p in self.net.parameters() if p.grad is not None]
            self.witnesses.append(Witness(self.t, [s[0] for s in seen], [s[1] for s in seen],
                                          [s[2] for s in seen], X, y, [before, *grads]))

    def close(self) -> None:
        """Drop the DDP module and its reducer (before the group is torn down)."""
        self.ddp = None


class DataParallel:
    """The lockstep's two trainers (`compare.proof.lockstep.train(trainers=...)`): the reference
    and the probe, made in that order on every rank; `finish` stops the followers."""

    def __init__(self, device: torch.device) -> None:
        self.coordinator = Coordinator(torch.device("cpu") if device.type == "cpu" else device)
        self.made: list[DataParallelTrainer] = []

    def __call__(self, reference: Net, probe: Net,
                 lr: float) -> tuple[DataParallelTrainer, DataParallelTrainer]:
        self.made = [DataParallelTrainer(reference, lr, self.coordinator, probe=False),
                     DataParallelTrainer(probe, lr, self.coordinator, probe=True)]
        self.coordinator.next_probe = torch.zeros_like(flat(probe))     # a step starts with it
        return self.made[0], self.made[1]

    @property
    def parting(self) -> Parting | None:
        return self.made[0].parting if self.made else None

    @property
    def witnesses(self) -> list[Witness]:
        return self.made[1].witnesses if self.made else []

    def finish(self) -> None:
        """Rank 0: tell the followers no step follows; every rank: drop the DDP modules."""
        if group.rank() == 0 and self.made:
            self.coordinator.stop()
        for trainer in self.made:
            trainer.close()


def follow(reference: Net, X: np.ndarray, Y: np.ndarray, lr: float, iterations: int,
           batch_size: int | None, seed: int, start_step: int) -> None:
    """Ranks 1..N-1: the torch side of the lockstep run, step for step with rank 0, until rank 0
    says stop (or the steps run out, and rank 0 says so too)."""
    parallel = DataParallel(reference.device)
    trainer, probe = parallel(reference, copy.deepcopy(reference), lr)
    Xt = adapter.batch_to_torch(X, reference.device, reference.dtype)
    yt = adapter.targets_to_torch(Y, reference.spec.output, reference.device, reference.dtype)
    try:
        for idx in batch_order(X.shape[1], batch_size, iterations, seed, start_step):
            it = adapter.indices_to_torch(idx, reference.device)
            Xb, yb = (Xt, yt) if it is None else (Xt[it], yt[it])
            if probe.advance(Xb, yb) is None or trainer.advance(Xb, yb) is None:
                return
        parallel.coordinator.go(True, torch.zeros_like(flat(reference)))   # rank 0's last stop
    finally:
        parallel.finish()


def signature(parallel: DataParallel, net: Net, rtol: float) -> str:
    """What the first witnessed step says of a wrong setup, in one phrase ('' when the ranks
    trained on the whole batch once, and the all-reduced gradient is its mean's)."""
    for w in parallel.witnesses:
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
        sizes = "/".join(str(len(r)) for r in w.rows)
        return (f"the shards ({sizes} rows) cover the batch of {m} with {int(counts.sum())}: "
                f"{twice.size} sample(s) twice (e.g. {twice[:3].tolist()}), {never.size} never: "
                "DistributedSampler's padding (split without padding)")
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
