"""Proof that the harness catches mistakes: every broken variant fails, and the report names
the quantity its mistake first makes wrong; the correct models pass."""

import numpy as np
import pytest

import scratch
from compare import check_model
from scratch import datasets
from scratch.datasets import Dataset
from tests.proof.broken_variants import VARIANTS


def dataset(kind):
    if kind == "flower":
        return datasets.load("flower", seed=1)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 60)) * (1e3 if kind == "huge" else 1.0)    # [4, m]
    y = (np.arange(60) % 4)[None, :]                                      # 4 classes
    return Dataset(kind, X[:, :48], y[:, :48], X[:, 48:], y[:, 48:], n_classes=4)


def test_there_are_at_least_twelve_variants_and_every_erratum():
    assert len(VARIANTS) >= 20
    assert sum(v.name.startswith("§") for v in VARIANTS) == 8


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_each_broken_variant_is_caught_and_named(variant):
    data = dataset(variant.data)
    n_y = 1 if data.n_classes == 2 else data.n_classes
    model = variant.build(data.n_x, n_y)
    report = check_model(model, data, lr=0.1, iterations=3)
    assert not report.passed
    first = report.first_divergence
    assert first["check"] == variant.check, report.diagnosis
    if variant.quantity is not None:
        assert first["quantity"] == variant.quantity, report.diagnosis
    if variant.check == "trajectory":
        assert first["step"] == 0 and first["quantity"] in model.params, report.diagnosis
    assert variant.message in report.diagnosis
    assert variant.quantity is None or report.diagnosis.count(f"{variant.quantity} ") >= 1


@pytest.mark.parametrize("data_kind", ["flower", "square4"])
def test_the_correct_models_pass_on_the_same_data(data_kind):
    data = dataset(data_kind)
    n_y = 1 if data.n_classes == 2 else data.n_classes
    output = "sigmoid" if n_y == 1 else "softmax"
    for model in (scratch.DeepNet([data.n_x, 10, 5, n_y], "tanh", output=output, init="xavier", seed=3),
                  scratch.DeepNet([data.n_x, 4, 4, n_y], "leaky_relu", output=output, seed=3),
                  scratch.ShallowNet(data.n_x, 4, n_y, output=output, init="xavier")):
        report = check_model(model, data, lr=0.1, iterations=3)
        assert report.passed, report.diagnosis
