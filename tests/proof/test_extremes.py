"""Numerical extremes: logits of +-1e4, all-equal logits, perfectly separated data trained long.
Costs and gradients stay finite and agree with torch in float64; no NumPy warning escapes
(pytest turns warnings into errors)."""

import numpy as np
import pytest

import scratch
from compare import check_model
from scratch import datasets
from scratch.datasets import Dataset


def separable(m=80, gap=6.0, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(m) % 2
    X = rng.standard_normal((2, m)) * 0.5 + np.where(y == 1, gap / 2, -gap / 2)
    return Dataset("separable", X[:, :60], y[None, :60], X[:, 60:], y[None, 60:], n_classes=2)


@pytest.mark.parametrize("scale", [1e2, 1e3, 5e3])
def test_sigmoid_logits_up_to_1e4_agree_with_torch(scale):
    data = separable()
    model = scratch.LogisticRegression(2)
    model.params["W1"][...] = [[scale, scale]]                       # |z| up to ~1e4
    model.params["b1"][...] = -scale / 10
    Z = model.params["W1"] @ data.X_train + model.params["b1"]
    assert np.abs(Z).max() > scale
    report = check_model(model, data, lr=1e-6, iterations=3)
    assert report.passed, report.diagnosis
    costs = report.trajectory.costs["scratch"]
    assert np.isfinite(costs).all()


def test_confidently_wrong_logits_give_the_exact_large_cost():
    data = separable()
    model = scratch.LogisticRegression(2)
    model.params["W1"][...] = [[-2e3, -2e3]]                          # every sample on the wrong side
    AL, caches = model.forward(data.X_train)
    J = model.cost(AL, data.Y_train.astype(float), caches)
    Z = caches[0].Z
    expected = np.mean(np.where(data.Y_train == 1, -Z, Z))           # log(1 + e^|z|) ~ |z|
    assert J == pytest.approx(expected, rel=1e-12)
    assert check_model(model, data, lr=1e-6, iterations=2).passed


def test_softmax_logits_up_to_1e4_and_all_equal_logits():
    data = datasets.load("blobs", seed=0)
    model = scratch.DeepNet([2, 3], output="softmax")                 # zero biases, he weights
    model.params["W1"] *= 3e3                                         # logits in the thousands
    assert check_model(model, data, lr=1e-6, iterations=2).passed
    flat = scratch.DeepNet([2, 4, 3], output="softmax", init="zeros")  # every logit equal
    report = check_model(flat, data, lr=0.1, iterations=3)
    assert report.passed, report.diagnosis
    assert report.trajectory.costs["scratch"][0] == pytest.approx(np.log(3), rel=1e-15)


def test_perfectly_separated_data_after_long_training():
    """The logits grow without bound as J -> 0; both sides still agree at every step."""
    data = separable(gap=8.0)
    model = scratch.ShallowNet(2, 3, activation="tanh", init="xavier", seed=1)
    report = check_model(model, data, lr=20.0, iterations=500)
    assert report.passed, report.diagnosis
    costs = report.trajectory.costs
    assert costs["scratch"][-1] < 1e-8 and np.isfinite(costs["torch"]).all()
    assert report.final["scratch"]["accuracy"]["train"] == 1.0
