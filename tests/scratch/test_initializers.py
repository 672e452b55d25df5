"""Initialization (§3.4): each rule's scale, zero biases, determinism, dtype."""

import numpy as np
import pytest

from scratch.initializers import initialize

DIMS = (400, 300, 200, 1)


@pytest.mark.parametrize("init, std_of", [
    ("small", lambda fan_in: 0.01),
    ("xavier", lambda fan_in: np.sqrt(1 / fan_in)),
    ("he", lambda fan_in: np.sqrt(2 / fan_in)),
])
def test_weights_have_the_rule_s_standard_deviation(init, std_of):
    params = initialize(DIMS, init, np.random.default_rng(0))
    for l in (1, 2):
        W = params[f"W{l}"]
        assert W.shape == (DIMS[l], DIMS[l - 1])
        # 60,000+ draws: the sample std is within 1% of the true one (its relative sd is ~0.3%)
        assert W.std() == pytest.approx(std_of(DIMS[l - 1]), rel=0.01)
        assert abs(W.mean()) < 4 * std_of(DIMS[l - 1]) / np.sqrt(W.size)


def test_zeros_and_biases_are_zero():
    params = initialize(DIMS, "zeros", np.random.default_rng(0))
    assert all(not p.any() for p in params.values())
    params = initialize(DIMS, "he", np.random.default_rng(0))
    assert all(not params[f"b{l}"].any() and params[f"b{l}"].shape == (DIMS[l], 1) for l in (1, 2, 3))


def test_same_seed_same_draws_other_seed_other_draws():
    a = initialize((3, 4, 1), "he", np.random.default_rng(7))
    b = initialize((3, 4, 1), "he", np.random.default_rng(7))
    c = initialize((3, 4, 1), "he", np.random.default_rng(8))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["W1"], c["W1"])


def test_float32_holds_the_float64_draws_rounded():
    p64 = initialize((3, 4, 1), "xavier", np.random.default_rng(3), np.float64)
    p32 = initialize((3, 4, 1), "xavier", np.random.default_rng(3), np.float32)
    assert p32["W1"].dtype == np.float32
    np.testing.assert_array_equal(p32["W1"], p64["W1"].astype(np.float32))
