"""The `precision` experiment (the audit on the CPU as an experiment of docs/EXPERIMENTS.md),
quick configuration: the rows that run on a CPU, measured against the float64 truth, in the
order the unit roundoffs imply, and logged one TensorBoard run per precision."""

from __future__ import annotations

import pytest

from compare.experiments import EXPERIMENTS, Settings
from compare.experiments.precision_drift import PRECISIONS


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return EXPERIMENTS["precision"].run(Settings(quick=True, logdir=str(root))), root


def test_the_cpu_precisions_are_measured_in_the_order_of_their_unit_roundoffs(logged):
    result, _ = logged
    runs = result.facts["flower"]
    final = {name: runs[name].params[-1] for name in PRECISIONS}
    # float64 against float64 differs only by the order of the sums: a few ulps of 2^-53
    assert final["float64"] < 1e-14
    # 2^-24 = 6e-8 and bfloat16's 2^-8 = 4e-3 per product: orders of magnitude apart
    assert final["float64"] < final["float32"] < final["bfloat16"]
    assert all(v["passed"] for v in runs["judged"].values())
    assert [row[0] for row in result.tables[0].rows] == ["float64 (truth)", *PRECISIONS]


def test_the_conclusion_states_the_measured_ordering(logged):
    result, _ = logged
    assert "(smallest first: float64, float32, bfloat16)" in result.conclusion


def test_each_precision_is_one_tensorboard_run(logged):
    result, root = logged
    (folder,) = root.iterdir()                      # exp-precision-<time>
    runs = sorted(p.name for p in (folder / "flower").iterdir())
    assert runs == sorted([*PRECISIONS, "scratch-float64"])
    assert result.logs is not None
