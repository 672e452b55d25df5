"""`check_model(..., nproc=N)`: the torch reference trained by DistributedDataParallel on N
ranks (`compare.distributed`), checked against scratch's gradient descent as one process is.

Outside a process group, `check_model` starts N ranks on this machine (`launch.local`, PyTorch's
elastic launcher) and returns rank 0's report; under a launcher (torchrun, or the ranks it
started) it runs as its rank: rank 0 builds both sides, runs checks 1-3 at the reference's own
replica (as one process does) and the lockstep run with the DDP trainers, scratch stepping once
there; ranks 1..N-1 follow the torch side step for step. The trajectory check fails, besides,
when a rank's parameters are not bitwise rank 0's after a step, and a failed one names the
signature of a wrong data-parallel setup. Every rank returns rank 0's report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from compare.distributed import ddp, group, launch, shards, signature
from compare.proof.lockstep import Trajectory
from compare.proof.metric import Comparison
from compare.proof.result import ModelReport
from scratch.errors import InvalidArgument
from scratch.spec import check_int


@dataclass
class World:
    """Where one check runs: one process (size 1), as rank `rank` of a group, or to be launched."""

    size: int = 1
    rank: int = 0
    backend: str = ""
    launch_here: bool = False

    @property
    def note(self) -> str:
        """What the report's description adds: ', 2 ranks (gloo)'."""
        return f", {self.size} ranks ({self.backend})" if self.size > 1 else ""

    def launch(self, check: Callable[..., ModelReport], arguments: dict[str, Any]) -> ModelReport:
        """`check(**arguments)` on `size` local ranks; rank 0's report (RankFailed if one failed)."""
        hooks = [k for k in ("on_start", "on_step", "progress") if arguments.get(k) is not None]
        if hooks:
            raise InvalidArgument(f"nproc: {hooks[0]} runs in rank 0's process, which check_model "
                                  "starts here: run under torchrun (or nncompare --nproc) for hooks")
        return launch.local(self.size, self.backend, call, check, arguments, shards.mistake())[0]

    def agree(self, ok: bool) -> bool:
        """Rank 0's `ok` on every rank (whether training follows)."""
        if self.size == 1:
            return ok
        flag = torch.tensor([int(ok)], dtype=torch.int64, device=ddp.Coordinator(device_of(self)).device)
        dist.broadcast(flag, src=0)
        return bool(flag.item())

    def share(self, report: ModelReport) -> ModelReport:
        """Rank 0's report on every rank."""
        if self.size == 1:
            return report
        box: list[Any] = [report if self.rank == 0 else None]
        dist.broadcast_object_list(box, src=0, device=device_of(self))
        return box[0]

    @contextlib.contextmanager
    def trainers(self) -> Iterator[ddp.DataParallel | None]:
        """The DDP trainers of a lockstep run (None on one process), stopped and dropped after it;
        interrupted (Ctrl-C), the other ranks are told to leave the run too."""
        if self.size == 1:
            yield None
            return
        parallel = ddp.DataParallel(device_of(self))
        interrupted = False
        try:
            yield parallel
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            parallel.finish(leave=interrupted)


ONE = World()     # one process


def call(check: Callable[..., ModelReport], arguments: dict[str, Any], wrong: str | None) -> ModelReport:
    """A launched rank's work, committing the caller's data-parallel mistake `wrong` (module
    level: the launcher pickles it by name)."""
    with shards.committing(wrong):
        return check(**arguments)


def device_of(world: World) -> torch.device:
    return group.rank_device(torch.device("cuda")) if world.backend == "nccl" else torch.device("cpu")


def place(world: World, net: torch.nn.Module) -> None:
    """The reference on this rank's GPU (NCCL: one device per rank); on the CPU it stays."""
    if world.backend == "nccl":
        net.to(device_of(world))


def world_of(nproc: object, device: torch.device, m: int, batch_size: int | None) -> World:
    """The World for `nproc` (None: the launcher's WORLD_SIZE, else 1), checked: InvalidArgument
    for fewer than 1, a batch smaller than the world, NCCL without CUDA, or a launcher's
    WORLD_SIZE that is not `nproc`."""
    if nproc is None:
        nproc = group.world_size() if group.launched() else 1
    size = check_int("nproc", nproc, 1)
    if size == 1:
        return World()
    backend = group.backend_for(device)
    shards.check_batch_sizes(m, batch_size, size)
    if not group.launched():
        return World(size, 0, backend, launch_here=True)
    if group.world_size() != size:
        raise InvalidArgument(f"nproc: got {size}, but the launcher started {group.world_size()} "
                              "ranks (WORLD_SIZE); leave --nproc out under torchrun")
    group.ensure(backend)
    return World(size, group.rank(), backend)


def judge(trajectory: Trajectory, parallel: ddp.DataParallel | None, reference: Any, rtol: float) -> None:
    """The trajectory check, failed where a rank parted from rank 0; a failed one's detail names
    the data-parallel signature."""
    if parallel is None:
        return
    result = trajectory.result
    parting = parallel.parting
    if parting is not None:
        result.comparisons.insert(0, Comparison(
            f"{parting.name} of rank {parting.rank}", float("inf"), parting.max_abs, None, False,
            "not bitwise rank 0's (DDP keeps identical replicas)", where=f"at step {parting.step}",
            step=parting.step))
    if not result.passed:
        found = signature.signature(parallel.witnesses, reference, rtol)
        if found:
            result.detail += f"; data-parallel signature {found}"
