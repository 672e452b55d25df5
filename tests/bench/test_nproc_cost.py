"""`nncompare bench`'s cost of --nproc 2 against one process, at tiny sizes: only the medium
and large configurations are measured, both contenders in the same rounds of one launch, the
ratio of their medians, the report's section written from it. No timing is asserted: only
structure, and that the numbers are finite and > 0."""

import math

import pytest

from compare.bench import nproc_cost, steps
from compare.bench import report as bench_report

TINY = (steps.BenchConfig("toy", (2, 3, 1), "tanh", "sigmoid", 7, "shallow"),
        steps.BenchConfig("medium", (6, 5, 3), "relu", "softmax", 9),
        steps.BenchConfig("large", (4, 7, 1), "relu", "sigmoid", 11))
QUICKEST = steps.Settings(rounds=3, min_rounds=3, budget_s=0.002, warmup=1)


def positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_the_cost_of_two_ranks_is_timed_against_one_process_in_the_same_rounds():
    logged: list[str] = []
    found = nproc_cost.cost(TINY, "float64", QUICKEST, steps.make_data, steps.make_scratch,
                            log=logged.append)
    assert found["world_size"] == 2 and found["backend"] == "gloo" and found["dtype"] == "float64"
    assert [r["config"] for r in found["rows"]] == ["medium", "large"]          # not the toy
    assert logged == ["bench: --nproc 2 against one process, medium, large float64 ..."]
    for row in found["rows"]:
        one, two = row["times"]["one process"], row["times"]["2 ranks"]
        assert one["rounds"] == two["rounds"] == QUICKEST.rounds       # interleaved, round by round
        assert all(positive(t[k]) for t in (one, two) for k in ("median_s", "min_s", "max_s"))
        ratio = row["ratio"]
        assert ratio["of_medians"] == pytest.approx(two["median_s"] / one["median_s"])
        assert ratio["rounds_min"] <= ratio["median"] <= ratio["rounds_max"]
        assert row["threads"] >= 1 and row["m"] in (9, 11)
    lines = "\n".join(bench_report.nproc_lines({"nproc": found}))
    assert "### The cost of `--nproc 2`" in lines and "| medium |" in lines and "| large |" in lines


def test_no_launch_without_the_medium_or_large_configuration():
    assert nproc_cost.cost(TINY[:1], "float64", QUICKEST, steps.make_data, steps.make_scratch,
                           log=lambda line: pytest.fail(line)) is None
    assert bench_report.nproc_lines({}) == []          # the committed results have none
