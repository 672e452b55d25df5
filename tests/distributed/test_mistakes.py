"""The common data-parallel mistakes, each caught at step 0 or 1 and named by its signature,
while the correct setup passes: m = 209 samples over 2 ranks (shards 105 / 104)."""

from __future__ import annotations

import pytest

from compare.distributed import launch
from tests.distributed import ranks

CASES = [  # (mistake, batch size, iterations, what the signature says)
    (None, None, 5, None),
    ("loss_x_world", None, 5, "exactly 2 (the world size) times"),
    ("sum", None, 5, "m/N = 209/2"),
    ("unweighted", None, 5, "1/N each, not m_r/m"),
    ("sampler_padding", None, 5, "DistributedSampler's padding"),
    ("unsynced_shuffle", 64, 5, "unsynchronised shuffle"),
]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_each_mistake_is_caught_and_named():
    found = launch.local(2, "gloo", ranks.mistakes_suite, [c[:3] for c in CASES])[0]
    for (wrong, _, _, signature), result in zip(CASES, found, strict=True):
        if wrong is None:
            assert result["passed"], result
            continue
        assert not result["passed"], result
        assert result["first_step"] in (0, 1), result
        assert signature in result["detail"], result
