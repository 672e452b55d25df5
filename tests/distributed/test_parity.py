"""check_model(nproc=N): torch trained by DDP on N gloo ranks agrees with scratch's gradient
descent for every model, float64 and float32, full batch and mini-batches of odd size; every
rank holds rank 0's parameters bitwise; the report names the world. One launch per world size
(the ranks run every configuration), each bounded in time."""

from __future__ import annotations

import pytest

from compare.distributed import launch
from tests.distributed import ranks

CONFIGS = [(kind, dtype, batch, 12) for kind in ("logistic", "shallow", "deep")
           for dtype in ("float64", "float32") for batch in (None, 101)]   # 320 = 3 x 101 + 17: uneven shards


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("world", [2, 3])
def test_every_model_agrees_over_ranks(world):
    results = launch.local(world, "gloo", ranks.parity_suite, CONFIGS)
    assert set(results) == set(range(world))
    assert all(results[r] == results[0] for r in results)      # every rank returns rank 0's report
    for (kind, dtype, batch, _), found in zip(CONFIGS, results[0], strict=True):
        assert found["passed"], (kind, dtype, batch, found)
        assert f"{world} ranks (gloo)" in found["description"]
        assert found["final"]["scratch"]["cost"] == pytest.approx(found["final"]["torch"]["cost"],
                                                                  rel=1e-5 if dtype == "float32" else 1e-12)
