"""`nncompare --nproc N`: the main job with the torch side trained by DistributedDataParallel
on N ranks (`compare.proof.dataparallel`), each rank a process running this same command.

    nncompare --nproc 2                       N ranks here, on 127.0.0.1, through PyTorch's
                                              elastic launcher (what torchrun uses)
    torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d --rdzv-endpoint HOST:29400 \\
        -m compare [options]                  the same ranks over machines; no --nproc

Rank 0 is the run people see: it prints the table, writes the JSON, the TensorBoard logs and
the checkpoints, and scratch trains there; ranks 1..N-1 run the torch side silently (no logs).
Every rank ends with rank 0's exit code; a rank that raised or was killed stops the others
(the launcher's agent, within `launch.STOP_WITHIN_S`; the process group's timeout,
`group.TIMEOUT_S`, bounds any wait across machines) and the command exits 1 naming it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from compare.distributed import launched  # torch-free: --help stays fast
from scratch.errors import InvalidArgument
from scratch.spec import check_int


def is_follower() -> bool:
    """Whether this process is rank 1..N-1 of a launched run."""
    if not launched():
        return False
    from compare.distributed import group
    return group.rank() > 0


def quiet(args: argparse.Namespace) -> argparse.Namespace:
    """A follower's arguments: no logs, no JSON, no server, no progress bar (a resumed run
    keeps its folder options, which only say where rank 0 logs)."""
    changes: dict[str, Any] = {"json": None, "tensorboard": False, "no_progress": True}
    if args.resume is None:
        changes.update(no_log=True, experiment=None, overwrite=False)
    return argparse.Namespace(**{**vars(args), **changes})


def starts_ranks(args: argparse.Namespace, m: int, batch_size: int | None, device: object) -> bool:
    """Whether this command starts N > 1 ranks here (--nproc checked: InvalidArgument)."""
    if args.nproc is None:
        return False
    nproc = check_int("nproc", args.nproc, 1)
    from compare.distributed import ddp, group
    from torch_ref.device import resolve_device

    if nproc > 1:
        group.backend_for(resolve_device(device))
        ddp.check_batch_sizes(m, batch_size, nproc)
    if launched() and group.world_size() != nproc:
        raise InvalidArgument(f"nproc: got {nproc}, but the launcher started {group.world_size()} "
                              "ranks (WORLD_SIZE); leave --nproc out under torchrun")
    return nproc > 1 and not launched()


def run_ranks(args: argparse.Namespace, run: Callable[[argparse.Namespace], int], device: object) -> int:
    """`run(args)` on --nproc local ranks; rank 0's exit code (1, in one line, if a rank failed)."""
    from compare.distributed import group, launch
    from torch_ref.device import resolve_device

    try:
        codes = launch.local(args.nproc, group.backend_for(resolve_device(device)), rank_run, run, args)
    except launch.RankFailed as exc:
        print(f"nncompare: error: {exc}", file=sys.stderr)
        return 1
    return int(codes[0])


def rank_run(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """One rank of `nncompare --nproc N`: the main job, its exit code returned to the launcher
    (rank 0 says what went wrong, as the command would)."""
    from compare.distributed import group
    try:
        return run(args)
    except InvalidArgument as exc:
        if group.rank() == 0:
            print(f"nncompare: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def environment() -> dict:
    """What the JSON's environment says of the ranks: world_size and backend."""
    from compare.distributed import group
    if not launched():
        return {"world_size": 1, "backend": None}
    import torch.distributed as dist
    return {"world_size": group.world_size(),
            "backend": dist.get_backend() if dist.is_initialized() else None}
