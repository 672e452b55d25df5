"""The torch reference trained by DistributedDataParallel, one step at a time, as
`torch_ref.train.Trainer` does on one process.

Every rank sees the whole batch and trains on its shard, its mean loss weighted so that DDP's
average of the N gradients is the whole batch's (`compare.distributed.shards`): exactly so in
real arithmetic; in floating point the sum over the m samples is reassociated into N
partial sums and one sum over ranks (one product by the weight, one division by N), which
keeps the error within the bound of one sum over m terms: the one-process tolerances hold.

Each step is a fixed sequence of collectives on every rank, so that the ranks cannot part: a
go flag from rank 0 (0: stop here), the probe's parameters broadcast from rank 0 (the
lockstep's probe starts each step from scratch's parameters, which only rank 0 has), DDP's
all-reduce of the gradients, the all-reduce of the weighted losses (J of the whole batch),
and, for the free-running reference, every rank's parameters gathered to rank 0 and compared
bitwise (DDP promises identical replicas). Over the first `WITNESS_STEPS` steps rank 0 also
gathers what each rank trained on, for `compare.distributed.signature` to tell a wrong setup
(the mistake of `shards.committing`, if any, committed by every trainer).

Rank 0 stops the others at a step boundary (the go flag); when it stops because it was
interrupted (Ctrl-C), the flag says so (`LEAVE`) and the others raise `group.Stopped` once out
of the lockstep, so that every rank leaves the run at the same point; `released()` tells rank 0
whether they were told.
"""

from __future__ import annotations

import copy
import hashlib
import signal
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from compare import adapter
from compare.distributed import group
from compare.distributed.shards import batch_order, mistake, rows_of, weight_of
from compare.distributed.signature import Witness
from torch_ref.models import Net

WITNESS_STEPS = 2
GO, STOP, LEAVE = 1, 0, 2         # the go flag: a step follows; none does; rank 0 was interrupted
_RELEASED = [False]                     # rank 0 sent LEAVE: the others leave at a boundary


def released() -> bool:
    """Whether rank 0 told the other ranks it was interrupted, at a step boundary."""
    return _RELEASED[0]


@dataclass
class Parting:
    """The first step at which a rank's parameters were not bitwise rank 0's."""

    step: int
    rank: int
    name: str
    max_abs: float


class Coordinator:
    """The go flags, shared by the two trainers of one lockstep run (rank 0 decides). A probe
    step's flag travels with the probe's parameters (one broadcast); `stop` sends the one the
    followers wait for next."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.stopped = False
        self.leaving = False                          # rank 0's last flag was LEAVE
        self.busy = False                             # inside a step's collectives
        self.next_probe: torch.Tensor | None = None   # the probe's [flag, parameters] template

    def go(self, flag: int = GO, carry: torch.Tensor | None = None) -> bool:
        """Rank 0 says whether a step follows (GO) or not (STOP, LEAVE) ([flag, *carry] when
        `carry` is given, broadcast into `carry` on the others); every rank returns whether a
        step follows."""
        head = torch.tensor([flag], dtype=torch.int64 if carry is None else carry.dtype,
                            device=self.device)
        message = head if carry is None else torch.cat([head, carry.to(self.device)])
        dist.broadcast(message, src=0)
        if carry is not None:
            carry.copy_(message[1:])
        said = int(message[0].item())
        self.leaving = said == LEAVE
        return said == GO

    def stop(self, leave: bool = False) -> None:
        """Rank 0: no step follows (once; the followers leave their loop, and with `leave` the
        run). Not in the middle of a step: the others wait in one of its collectives."""
        if not self.stopped and not self.busy and dist.is_initialized():
            self.stopped = True
            self.go(LEAVE if leave else STOP, self.next_probe)
            _RELEASED[0] = leave


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
        self.coordinator.busy = True                 # from the go flag to the step's last collective
        if not self.begin():
            self.coordinator.busy = False
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
        self.coordinator.busy = False
        return J[0]

    def begin(self) -> bool:
        """The step's go flag from rank 0 (the probe's with rank 0's parameters: scratch's
        state); False: stop."""
        vector = flat(self.net) if self.probe else None
        more = self.coordinator.go(GO, vector)
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

    def finish(self, leave: bool = False) -> None:
        """Rank 0: tell the followers no step follows (`leave`: nor anything else of the run);
        every rank: drop the DDP modules."""
        if group.rank() == 0 and self.made:
            self.coordinator.stop(leave)
        for trainer in self.made:
            trainer.close()


def follow(reference: Net, X: np.ndarray, Y: np.ndarray, lr: float, iterations: int,
           batch_size: int | None, seed: int, start_step: int) -> None:
    """Ranks 1..N-1: the torch side of the lockstep run, step for step with rank 0, until rank 0
    says stop (or the steps run out, and rank 0 says so too); `group.Stopped` when rank 0 said
    it was interrupted."""
    parallel = DataParallel(reference.device)
    trainer, probe = parallel(reference, copy.deepcopy(reference), lr)
    Xt = adapter.batch_to_torch(X, reference.device, reference.dtype)
    yt = adapter.targets_to_torch(Y, reference.spec.output, reference.device, reference.dtype)
    try:
        for idx in batch_order(X.shape[1], batch_size, iterations, seed, start_step):
            it = adapter.indices_to_torch(idx, reference.device)
            Xb, yb = (Xt, yt) if it is None else (Xt[it], yt[it])
            if probe.advance(Xb, yb) is None or trainer.advance(Xb, yb) is None:
                break
        else:
            parallel.coordinator.go(GO, torch.zeros_like(flat(reference)))   # rank 0's last stop
    finally:
        parallel.finish()
    if parallel.coordinator.leaving:
        raise group.Stopped(signal.SIGINT, where="rank 0 was interrupted")
