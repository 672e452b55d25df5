"""Directional finite differences (check 3's mode for big models): no false alarm on correct
models, every broken variant that the entry-by-entry differences catch caught too, and the
documented blind spot (an error confined to few entries of a big model) where the maths
puts it."""

from __future__ import annotations

import numpy as np
import pytest

import scratch
from compare.proof.directional import directional_differences
from compare.proof.finite_diff import finite_differences
from compare.proof.protocol import ScratchSide
from compare.proof.tolerances import FD_RTOL, FD_STEP
from scratch import datasets
from scratch.losses import one_hot
from tests.proof.broken_variants import VARIANTS
from tests.proof.test_broken_variants import dataset


def targets(data):
    return data.Y_train if data.n_classes == 2 else one_hot(data.Y_train[0], data.n_classes,
                                                            np.dtype("float64"))


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_correct_models_pass_in_every_direction(seed, activation):
    data = datasets.load("flower", seed=seed)
    model = scratch.DeepNet([2, 10, 5, 1], activation=activation, seed=seed)
    found = directional_differences(ScratchSide(model), model.spec, data.X_train, data.Y_train,
                                    FD_STEP, FD_RTOL, directions=8, seed=seed)
    assert found.passed and found.checked == 8, found.detail
    assert "directional mode" in found.detail


CAUGHT_BY_ENTRIES = []
for _v in VARIANTS:
    try:
        _data = dataset(_v.data)
        _model = _v.build(_data.n_x, 1 if _data.n_classes == 2 else _data.n_classes)
        with np.errstate(all="ignore"):
            _found = finite_differences(ScratchSide(_model), _model.spec, _data.X_train,
                                        targets(_data), FD_STEP, FD_RTOL)
    except ValueError:            # a variant whose backward cannot even run (shapes)
        continue
    if not _found.passed:
        CAUGHT_BY_ENTRIES.append(_v)


def test_most_broken_variants_are_caught_by_the_entries():
    assert len(CAUGHT_BY_ENTRIES) >= 15


@pytest.mark.parametrize("variant", CAUGHT_BY_ENTRIES, ids=[v.name for v in CAUGHT_BY_ENTRIES])
def test_each_variant_the_entries_catch_is_caught_in_four_directions(variant):
    data = dataset(variant.data)
    model = variant.build(data.n_x, 1 if data.n_classes == 2 else data.n_classes)
    with np.errstate(all="ignore"):
        found = directional_differences(ScratchSide(model), model.spec, data.X_train,
                                        targets(data), FD_STEP, FD_RTOL)
    assert not found.passed, found.detail


class OneEntryWrong(scratch.DeepNet):
    """dW1[0, 0] off by `delta` times ||grad J||: an error confined to one entry."""

    delta = 0.0

    def backward(self, AL, Y, caches, intermediates=False):
        grads = super().backward(AL, Y, caches, intermediates)
        norm = np.sqrt(sum(np.sum(g * g) for k, g in grads.items() if k[1:] in self.params))
        grads["dW1"] = grads["dW1"].copy()
        grads["dW1"][0, 0] += self.delta * norm
        return grads


def one_entry_detections(delta, trials=20):
    data = datasets.load("flower", seed=1)
    caught = 0
    for seed in range(trials):
        model = OneEntryWrong([2, 64, 64, 1], activation="tanh", seed=1)
        model.delta = delta
        found = directional_differences(ScratchSide(model), model.spec, data.X_train,
                                        data.Y_train, FD_STEP, FD_RTOL, directions=4, seed=seed)
        caught += not found.passed
    return caught


def test_an_error_in_one_entry_is_seen_through_its_component_of_v():
    # N = 4,417 parameters: a unit direction's entry is about 1 / sqrt(N) = 0.015, so an error
    # of delta ||g|| shows as about 0.015 delta against rtol = 1e-7 (FD_RTOL): delta = 1e-3
    # gives 1.5e-5, seen in every trial; delta = 1e-8 gives 1.5e-10, far below rtol, unseen
    # (the entry-by-entry check sees it: that is what its sampled entries are for).
    assert FD_RTOL == 1e-7
    assert one_entry_detections(1e-3) == 20
    assert one_entry_detections(1e-8) == 0


def test_check_model_runs_the_mode_asked_and_says_which():
    from compare import check_model
    from scratch.errors import InvalidArgument
    from tests.proof.broken_variants import buggy

    data = datasets.load("flower", seed=1)
    good = check_model(scratch.DeepNet([2, 10, 5, 1], seed=1), data, lr=0.1, iterations=3,
                       fd_mode="directional")
    assert good.passed and "directional mode" in good.checks["finite_difference"].detail
    bad = check_model(buggy("dW without 1/m", [2, 10, 5, 1], seed=1), data, lr=0.1, iterations=3,
                      fd_mode="directional")
    assert not bad.checks["finite_difference"].passed
    with pytest.raises(InvalidArgument, match="fd_mode: .*expected one of entries, directional"):
        check_model(scratch.DeepNet([2, 4, 1]), data, lr=0.1, iterations=1, fd_mode="direction")


def test_the_command_line_runs_the_directional_mode_and_records_it(tmp_path, capsys):
    import json

    from compare.cli import main

    out = tmp_path / "r.json"
    assert main(["--model", "deep", "--iterations", "3", "--no-log", "--no-progress",
                 "--fd-mode", "directional", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["config"]["fd_mode"] == "directional"
    assert "directional mode" in capsys.readouterr().out
    assert main(["--fd-mode", "direction", "--no-log"]) == 2
    assert "fd_mode: unknown name 'direction'" in capsys.readouterr().err
