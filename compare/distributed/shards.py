"""How a batch is split across the ranks, each rank's loss weight, and the mistakes a
data-parallel setup commits (for the demonstrations that show each one caught).

Every rank sees the whole batch (the same samples in the same order: the batch order is
seeded alike on every rank) and keeps its shard: rank r of N the rows `shard(m, r, N)`,
contiguous, sizes m_r differing by at most one, every sample exactly once (no padding,
unlike DistributedSampler). Its loss is the mean over its shard J_r, weighted by N m_r / m:
DDP's all-reduce averages the N gradients, so

    (1/N) sum_r (N m_r / m) grad J_r = sum_r (m_r / m) grad J_r = grad J   (the whole batch's mean)

`committing(name)` (one of MISTAKES) makes the trainers of this process commit a common
data-parallel mistake instead (`compare.proof.dataparallel` carries it to the ranks it starts).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from compare.distributed import group
from scratch import train as scratch_train
from scratch.errors import InvalidArgument

MISTAKES = {
    "loss_x_world": "each rank's loss multiplied by the world size on top of the weight",
    "sum": "each rank's loss a sum over its shard, not a mean",
    "unweighted": "each rank's mean loss unweighted on an uneven split",
    "sampler_padding": "DistributedSampler's split: padded to a multiple of N by repeating samples",
    "sampler_drop_last": "DistributedSampler(drop_last=True)'s split: the last m % N samples dropped",
    "unsynced_shuffle": "each rank's batch order seeded with seed + rank",
}
_COMMITTED: list[str | None] = [None]   # the mistake of this process's trainers


def check_mistake(name: object) -> str | None:
    """`name` if it is one of MISTAKES or None (InvalidArgument otherwise)."""
    if name is not None and name not in MISTAKES:
        raise InvalidArgument(f"mistake: got {name!r}, expected one of {', '.join(MISTAKES)} "
                              "(or None: the correct setup)")
    return name  # type: ignore[return-value]


@contextlib.contextmanager
def committing(name: str | None) -> Iterator[None]:
    """The trainers made in the block (on this process) commit the mistake `name`."""
    previous, _COMMITTED[0] = _COMMITTED[0], check_mistake(name)
    try:
        yield
    finally:
        _COMMITTED[0] = previous


def mistake() -> str | None:
    """The mistake this process's trainers commit (None: the correct setup)."""
    return _COMMITTED[0]


def shard(m: int, r: int, n: int) -> np.ndarray:
    """Rank r's rows of a batch of m: contiguous, the first m % n ranks one more."""
    base, extra = divmod(m, n)
    lo = r * base + min(r, extra)
    return np.arange(lo, lo + base + (r < extra))


def sampler_shard(m: int, r: int, n: int, drop_last: bool = False) -> np.ndarray:
    """DistributedSampler(shuffle=False)'s rows: padded to ceil(m/n) * n by repeating the first
    samples (drop_last: cut to floor(m/n) * n), then every n-th."""
    total = m // n * n if drop_last else -(-m // n) * n
    return np.concatenate([np.arange(m), np.arange(max(total - m, 0))])[r:total:n]


def rows_of(m: int, r: int, n: int, wrong: str | None) -> np.ndarray:
    """Rank r's rows of a batch of m: its shard, or DistributedSampler's for those mistakes."""
    if wrong in ("sampler_padding", "sampler_drop_last"):
        return sampler_shard(m, r, n, drop_last=wrong == "sampler_drop_last")
    return shard(m, r, n)


def weight_of(m_r: int, m: int, n: int, wrong: str | None) -> float:
    """The factor of rank r's mean loss (n m_r / m; the mistakes' own)."""
    return {"loss_x_world": n * n * m_r / m, "sum": float(m_r), "unweighted": 1.0,
            "sampler_padding": 1.0, "sampler_drop_last": 1.0}.get(wrong or "", n * m_r / m)


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
