"""Costs (§2.2): J against PyTorch's losses, finite for saturated outputs; one-hot labels."""

import math

import numpy as np
import pytest
import torch

from scratch import losses


def torch_bce(Z, Y):
    return torch.nn.BCEWithLogitsLoss()(torch.tensor(Z.T), torch.tensor(Y.T)).item()


def torch_ce(Z, Y):
    return torch.nn.CrossEntropyLoss()(torch.tensor(Z.T), torch.tensor(np.argmax(Y, axis=0))).item()


def test_bce_from_logits_equals_the_printed_formula_for_moderate_logits():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((1, 50)) * 3
    Y = (rng.random((1, 50)) > 0.5).astype(float)
    A = 1 / (1 + np.exp(-Z))
    printed = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    assert losses.binary_cross_entropy_with_logits(Z, Y) == pytest.approx(printed, rel=1e-13)
    assert losses.binary_cross_entropy(A, Y) == pytest.approx(printed, rel=1e-15)


@pytest.mark.parametrize("z", [1e4, -1e4, 50.0, -50.0, 0.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_bce_from_logits_is_finite_and_equals_torch_for_saturated_logits(z, y):
    Z, Y = np.array([[z, -z / 2]]), np.array([[y, 1 - y]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        J = losses.binary_cross_entropy_with_logits(Z, Y)
    assert np.isfinite(J)
    exact = np.mean([max(z, 0) - z * y + math.log1p(math.exp(-abs(z)))
                     for z, y in zip(Z[0], Y[0], strict=True)])
    assert J == pytest.approx(exact, rel=1e-15, abs=1e-300)
    # torch computes log(1 + e^-|z|) with log, not log1p: exact to about 1e-16 absolute only
    assert J == pytest.approx(torch_bce(Z, Y), rel=1e-15, abs=2.5e-16)


def test_printed_bce_from_probabilities_is_infinite_once_sigmoid_saturates():
    """Why the models compute J from the logits: a = 1 exactly makes log(1 - a) = -inf."""
    assert losses.binary_cross_entropy(np.array([[1.0]]), np.array([[0.0]])) == np.inf


def test_softmax_cross_entropy_equals_torch_including_huge_and_equal_logits():
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((4, 9)) * 2                        # [K, m]
    Z[:, 0] = [1e4, -1e4, 0.0, 3.0]                            # saturated column
    Z[:, 1] = 7.0                                              # all-equal logits
    Y = losses.one_hot(rng.integers(0, 4, size=(1, 9)), 4)
    Y[:, 0] = [0, 1, 0, 0]                                     # the wrong class at 1e4: J ~ 2e4
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        J = losses.softmax_cross_entropy_with_logits(Z, Y)
    assert J == pytest.approx(torch_ce(Z, Y), rel=1e-14)


def test_output_delta_is_a_minus_y():
    AL, Y = np.array([[0.2, 0.9]]), np.array([[0.0, 1.0]])
    np.testing.assert_allclose(losses.output_delta(AL, Y), [[0.2, -0.1]], rtol=1e-15)


def test_one_hot_columns():
    Y = losses.one_hot(np.array([[2, 0, 1]]), 3)
    np.testing.assert_array_equal(Y, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert Y.dtype == np.float64
    assert losses.one_hot(np.array([1, 0]), 2, np.float32).dtype == np.float32


def test_costs_from_probabilities_take_0_log_0_as_0():
    """Certain, right predictions cost exactly 0 (the limit of y log a), not NaN or -0.0."""
    assert math.copysign(1, losses.binary_cross_entropy(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]))) == 1
    assert losses.binary_cross_entropy(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]])) == 0.0
    AL = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    J = losses.cross_entropy_from_probabilities(AL, losses.one_hot(np.array([[0, 1]]), 3))
    assert J == 0.0 and math.copysign(1, J) == 1
    # and agree with the logits version where both are finite
    Z = np.array([[-1.5, 0.2, 3.0]])
    Y = np.array([[0.0, 1.0, 1.0]])
    A = 1 / (1 + np.exp(-Z))
    assert losses.binary_cross_entropy(A, Y) == pytest.approx(losses.binary_cross_entropy_with_logits(Z, Y),
                                                               rel=1e-15)


def test_a_model_cost_of_probabilities_takes_class_indices_for_softmax():
    from scratch import DeepNet
    net = DeepNet([2, 3, 3], output="softmax")
    AL = np.array([[0.7, 0.1], [0.2, 0.3], [0.1, 0.6]])
    expected = -(math.log(0.7) + math.log(0.6)) / 2
    assert net.cost(AL, np.array([[0, 2]])) == pytest.approx(expected, rel=1e-15)
    assert net.cost(AL.tolist(), losses.one_hot(np.array([[0, 2]]), 3)) == pytest.approx(expected, rel=1e-15)
