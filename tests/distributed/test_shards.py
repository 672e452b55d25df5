"""The split of a batch across ranks and the loss weights, without processes."""

from __future__ import annotations

import numpy as np
import pytest

from compare.distributed import shards
from scratch.errors import InvalidArgument


@pytest.mark.parametrize("m, n", [(209, 2), (320, 3), (17, 3), (5, 5), (101, 4)])
def test_shards_cover_the_batch_once_and_the_weights_give_its_mean(m, n):
    rows = [shards.shard(m, r, n) for r in range(n)]
    assert np.array_equal(np.concatenate(rows), np.arange(m))            # in order, each once
    assert max(map(len, rows)) - min(map(len, rows)) <= 1
    weights = [shards.weight_of(len(r), m, n, None) for r in rows]
    assert sum(w / n for w in weights) == pytest.approx(1.0, rel=1e-15)  # DDP's mean of N terms
    if m % n == 0:
        assert weights == [1.0] * n                                       # exactly, even split


def test_distributed_samplers_padding_repeats_samples():
    rows = np.concatenate([shards.sampler_shard(209, r, 2) for r in range(2)])
    assert len(rows) == 210 and np.bincount(rows).max() == 2


@pytest.mark.parametrize("m, batch, n, ok", [(320, None, 2, True), (320, 101, 17, True),
                                             (320, 101, 18, False), (3, None, 4, False)])
def test_a_batch_smaller_than_the_world_is_refused(m, batch, n, ok):
    if ok:
        shards.check_batch_sizes(m, batch, n)
    else:
        with pytest.raises(InvalidArgument, match="nproc: "):
            shards.check_batch_sizes(m, batch, n)


def test_an_unknown_mistake_is_refused_and_a_known_one_lasts_for_the_block():
    with pytest.raises(InvalidArgument, match="mistake: got 'nonsense', expected one of loss_x_world"):
        with shards.committing("nonsense"):
            pass
    assert shards.mistake() is None
    with shards.committing("sum"):
        assert shards.mistake() == "sum"
    assert shards.mistake() is None


def test_drop_last_leaves_the_tail_out():
    rows = np.concatenate([shards.sampler_shard(209, r, 2, drop_last=True) for r in range(2)])
    assert len(rows) == 208 and np.bincount(rows, minlength=209).tolist().count(0) == 1
