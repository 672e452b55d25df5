"""Property tests: over random architectures, activations, inits, outputs and sample counts
(m = 1 included), the correct implementations never raise a false alarm."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scratch
from compare import check_model
from scratch.datasets import Dataset
from scratch.spec import HIDDEN_ACTIVATIONS, INITS


@st.composite
def problems(draw):
    n_x = draw(st.integers(1, 5))
    hidden = draw(st.lists(st.integers(1, 6), min_size=0, max_size=3))
    output = draw(st.sampled_from(["sigmoid", "softmax"]))
    K = draw(st.integers(2, 4)) if output == "softmax" else 2
    activations = [draw(st.sampled_from(HIDDEN_ACTIVATIONS)) for _ in hidden]
    init = draw(st.sampled_from(INITS))
    m = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m + 3))                         # standardized, so not all saturated
    y = rng.integers(0, K, size=(1, m + 3))
    data = Dataset("random", X[:, :m], y[:, :m], X[:, m:], y[:, m:], n_classes=K)
    n_y = 1 if output == "sigmoid" else K
    model = scratch.DeepNet([n_x, *hidden, n_y], activation=activations, output=output, init=init,
                            seed=seed, alpha=draw(st.sampled_from([0.01, 0.2])))
    return model, data, seed


@given(problems(), st.sampled_from([0.05, 1.0]))
def test_no_false_alarm_in_float64(problem, lr):
    model, data, seed = problem
    report = check_model(model, data, lr=lr, iterations=3, seed=seed)
    assert report.passed, (model, report.diagnosis)
    for check in report.checks.values():
        assert check.max_rel_err <= 1e-12 or check.check == "finite_difference", check


@given(problems())
def test_no_false_alarm_in_float32(problem):
    model, data, seed = problem
    model32 = scratch.DeepNet(model.spec.layer_dims, activation=list(model.spec.activations),
                              output=model.spec.output, init=model.spec.init, seed=seed,
                              alpha=model.spec.alpha, dtype="float32")
    report = check_model(model32, data, lr=0.1, iterations=3, seed=seed)
    assert report.passed, (model32, report.diagnosis)


@given(st.integers(1, 4), st.integers(1, 30), st.integers(0, 1000))
def test_shallow_and_logistic_never_false_alarm(n_h, m, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, m + 2))
    y = rng.integers(0, 2, size=(1, m + 2))
    data = Dataset("random", X[:, :m], y[:, :m], X[:, m:], y[:, m:], n_classes=2)
    for model in (scratch.ShallowNet(2, n_h, seed=seed), scratch.LogisticRegression(2, seed=seed)):
        report = check_model(model, data, lr=1.2, iterations=3, seed=seed)
        assert report.passed, (model, report.diagnosis)


@pytest.mark.parametrize("dims, activations, dtype, X", [
    ([1, 1, 1, 1], ["tanh", "sigmoid"], "float32", [[2.04091912]]),
    ([1, 1, 1, 1, 1], ["tanh", "sigmoid", "sigmoid"], "float32", [[2.04091912]]),
])
def test_a_saturated_unit_is_no_false_alarm(dims, activations, dtype, X):
    """Found by the thorough profile: at a saturated tanh, one ulp of A between NumPy and torch
    moves g' = 1 - A^2 by 2 A^2 u; dZ is measured against the size of g''s terms (1 + A^2)."""
    model = scratch.DeepNet(dims, activation=activations, init="xavier", dtype=dtype, seed=3)
    report = check_model(model, (np.array(X), np.array([[0]])), lr=0.1, iterations=3, seed=3)
    assert report.passed, report.diagnosis
