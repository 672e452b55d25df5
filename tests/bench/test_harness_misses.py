"""A missed harness-cost target is explained with its own row's numbers (it once raised)."""

from compare.bench import targets


def test_a_missed_harness_target_names_its_dataset_condition_and_times():
    cost = {"iterations": 1000, "rows": [
        {"dataset": "digits", "layers": [64, 10, 5, 10], "m": 1437, "busy": True,
         "wall_s": 30.0, "ideal_s": 10.0, "ratio": 3.0}]}
    result = {"harness_cost": cost, "targets": targets.harness_targets(cost)}
    (line,) = targets.misses(result)
    assert line.startswith("harness cost on digits [64, 10, 5, 10] (busy cores)")
    assert "30.0 s against the ideal 10.0 s (3.00x), 20.00 ms a step" in line
