"""NCCL on CUDA, one GPU per rank: every model agrees with scratch as on gloo, each rank on its
own GPU. Marked `cuda`: skipped, with the reason, where torch sees no GPU (tests/conftest.py),
and skipped with fewer GPUs than ranks (NCCL takes one device per rank)."""

from __future__ import annotations

import pytest
import torch

from compare.distributed import launch
from tests.distributed import ranks

CONFIGS = [(kind, dtype, batch, 12) for kind in ("logistic", "shallow", "deep")
           for dtype in ("float64", "float32") for batch in (None, 101)]


@pytest.mark.cuda
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_every_model_agrees_over_nccl_ranks_one_gpu_each():
    if torch.cuda.device_count() < 2:
        pytest.skip(f"NCCL needs a GPU per rank: 2 ranks, {torch.cuda.device_count()} GPU(s) here")
    results = launch.local(2, "nccl", ranks.parity_suite, CONFIGS, "cuda")
    assert results[1] == results[0]
    for config, found in zip(CONFIGS, results[0], strict=True):
        assert found["passed"], (config, found)
        assert "2 ranks (nccl)" in found["description"] and "cuda" in found["description"]
