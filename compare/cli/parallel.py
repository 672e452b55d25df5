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

Ctrl-C (or SIGTERM, SIGHUP) reaches this process alone and goes on to rank 0
(`compare.distributed.signals`): rank 0 stops after its step as one process does, writes its
checkpoints, closes its logs and tells the other ranks, which leave with it; the command says
in one line what rank 0 kept and exits with 128 + the signal. Any rank still alive
`signals.GRACE_S` after the signal is killed (then the line says only that every rank stopped;
the checkpoints are the last complete pair, `compare.run.pair`).
"""

from __future__ import annotations

import argparse
import signal
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
    from compare.distributed import group, shards
    from torch_ref.device import resolve_device

    if nproc > 1:
        group.backend_for(resolve_device(device))
        shards.check_batch_sizes(m, batch_size, nproc)
    if launched() and group.world_size() != nproc:
        raise InvalidArgument(f"nproc: got {nproc}, but the launcher started {group.world_size()} "
                              "ranks (WORLD_SIZE); leave --nproc out under torchrun")
    return nproc > 1 and not launched()


STOPPED = ("every rank stopped before rank 0 could finish its step; what was written is kept "
           "(the checkpoints are the last complete pair)")


def run_ranks(args: argparse.Namespace, run: Callable[[argparse.Namespace], int], device: object) -> int:
    """`run(args)` on --nproc local ranks; rank 0's exit code (1, in one line, if a rank failed;
    `compare.run.signals.Interrupted`, saying what rank 0 kept, if a stop signal came)."""
    from compare.distributed import group, launch
    from compare.run import signals
    from torch_ref.device import resolve_device

    try:
        codes = launch.local(args.nproc, group.backend_for(resolve_device(device)), rank_run, run, args)
    except launch.RankFailed as exc:
        print(f"nncompare: error: {exc}", file=sys.stderr)
        return 1
    except launch.Stopped as exc:
        said = (exc.values or {}).get(0)
        raise signals.Interrupted(exc.signum, said if isinstance(said, str) else STOPPED) from None
    if isinstance(codes[0], str):      # rank 0 was signalled itself, not through this process
        raise signals.Interrupted(int(signal.SIGINT), codes[0])
    return int(codes[0])


def rank_run(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int | str:
    """One rank of `nncompare --nproc N`: the main job, its exit code returned to the launcher
    (rank 0 says what went wrong, as the command would). Interrupted: rank 0 returns what it
    kept (the command says it), once the others were told to leave with it; before that, it
    raises, and the launcher stops every rank."""
    from compare.distributed import ddp, group
    from compare.run import signals

    signals.install_raising()        # a stop signal outside training raises (not an exit at once)
    try:
        return run(args)
    except InvalidArgument as exc:
        if group.rank() == 0:
            print(f"nncompare: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        if group.rank() > 0:
            return 130
        if not ddp.released():         # the others may wait in any collective
            raise
        return str(getattr(exc, "where", "") or "rank 0 stopped")


def environment() -> dict:
    """What the JSON's environment says of the ranks: world_size and backend."""
    from compare.distributed import group
    if not launched():
        return {"world_size": 1, "backend": None}
    import torch.distributed as dist
    return {"world_size": group.world_size(),
            "backend": dist.get_backend() if dist.is_initialized() else None}
