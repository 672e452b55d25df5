"""This process's place in a torch.distributed process group, and its teardown.

A launcher (torchrun, `torch.distributed.run`, or `launch.local`) sets RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR and MASTER_PORT; `ensure` initialises the default group from them
(env://) once per process, with `TIMEOUT` on every collective, so that a rank whose peer died
stops within that time instead of hanging. `teardown` is the order that ends a gloo group
without "terminate called without an active exception" (SIGABRT) or "Connection closed by
peer": the DDP modules and their reducers dropped first (`close` of each trainer, then a garbage
collection), a barrier, then every rank's word in the store that it has left the barrier (a
rank out of a gloo barrier first may otherwise close its sockets while a peer still reads),
then `destroy_process_group`, then the process may exit.
"""

from __future__ import annotations

import atexit
import datetime
import gc
import os

import torch
import torch.distributed as dist

from compare.distributed import launched
from scratch.errors import InvalidArgument

TIMEOUT_S = 30.0          # a collective waits at most this long for a rank that is gone
_STORE: list[dist.Store] = []   # the store of the group `ensure` made (for the teardown)


class RankFailed(RuntimeError):
    """A rank raised or was killed; the message is one line naming it."""


class Stopped(KeyboardInterrupt):
    """A stop signal ended the ranks' work (`signum`; exit code 128 + it). `values`: what each
    rank returned, None when they were stopped before they could; `where`: what is known."""

    def __init__(self, signum: int, values: dict[int, object] | None = None,
                 where: str = "every rank stopped") -> None:
        super().__init__(where)
        self.signum, self.values, self.where = int(signum), values, where

    @property
    def code(self) -> int:
        return 128 + self.signum


def world_size() -> int:
    """The launcher's WORLD_SIZE, 1 when this process was not launched as a rank."""
    return dist.get_world_size() if dist.is_initialized() else (
        int(os.environ["WORLD_SIZE"]) if launched() else 1)


def rank() -> int:
    """This process's global rank (0 outside a group)."""
    return dist.get_rank() if dist.is_initialized() else int(os.environ.get("RANK", "0"))


def backend_for(device: torch.device) -> str:
    """gloo for CPU tensors, NCCL for CUDA ones (InvalidArgument for others, or NCCL without CUDA)."""
    if device.type == "cpu":
        return "gloo"
    if device.type == "cuda":
        if not (torch.cuda.is_available() and dist.is_nccl_available()):
            raise InvalidArgument("nproc: NCCL (the backend of --device cuda) needs CUDA and a "
                                  "torch built with NCCL; this torch has none: use --device cpu (gloo)")
        return "nccl"
    raise InvalidArgument(f"nproc: data-parallel runs need --device cpu (gloo) or cuda (NCCL), "
                          f"not {device.type}")


def rank_device(device: torch.device) -> torch.device:
    """The device of this rank: the CPU, or cuda:LOCAL_RANK (one GPU per rank)."""
    if device.type != "cuda":
        return device
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if local >= torch.cuda.device_count():
        raise InvalidArgument(f"nproc: rank {rank()} has LOCAL_RANK {local}, but this machine has "
                              f"{torch.cuda.device_count()} GPU(s): one GPU per rank")
    return torch.device("cuda", local)


def ensure(backend: str, prefix: str = "nncompare") -> None:
    """The default group from the launcher's environment, initialised once (a teardown at exit);
    one of another backend already there is an error."""
    if dist.is_initialized():
        if dist.get_backend() != backend:
            raise InvalidArgument(f"nproc: the process group uses {dist.get_backend()}, this run "
                                  f"needs {backend}")
        return
    if not launched():
        raise RuntimeError("no launcher environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT)")
    timeout = datetime.timedelta(seconds=TIMEOUT_S)
    store, rank_, size = next(dist.rendezvous("env://", timeout=timeout))
    device = rank_device(torch.device("cuda")) if backend == "nccl" else None
    # each initialisation's keys under their own prefix: a group may be made again in a process
    _STORE[:] = [dist.PrefixStore(prefix, store)]
    dist.init_process_group(backend, store=_STORE[0], rank=rank_, world_size=size,
                            timeout=timeout, device_id=device)
    atexit.register(teardown)


def abandon() -> None:
    """This rank failed: no teardown at exit (its collectives would wait on ranks that are
    elsewhere); the launcher stops the others."""
    atexit.unregister(teardown)
    _STORE.clear()


def teardown() -> None:
    """End the group: the DDP reducers dropped (callers `close` their trainers first), every rank
    at a barrier, the group destroyed. Safe to call twice, and without a group."""
    if not dist.is_initialized():
        return
    gc.collect()                       # a reducer still referenced by a cycle goes now
    try:
        dist.barrier()                 # no collective of this group still in flight ...
        if _STORE:                     # ... nor a rank still inside the barrier: a rank that has
            size, me = dist.get_world_size(), dist.get_rank()   # left it may close its sockets
            _STORE[0].set(f"teardown/{me}", "1")
            _STORE[0].wait([f"teardown/{r}" for r in range(size)],
                           datetime.timedelta(seconds=TIMEOUT_S))
    finally:
        dist.destroy_process_group()
        _STORE.clear()
