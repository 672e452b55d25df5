"""Activations (§3.3): values against closed forms, backward against central differences,
the kink convention at z = 0, and stability at |z| = 1e4."""

import math

import numpy as np
import pytest
import torch

from scratch import activations
from scratch.errors import InvalidArgument

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu"]
ALL = HIDDEN + ["softmax"]


def closed_form(name, z, alpha=0.01):
    """Each g(z) written from its textbook definition, one scalar at a time."""
    if name == "sigmoid":
        return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
    if name == "tanh":
        return (math.exp(z) - math.exp(-z)) / (math.exp(z) + math.exp(-z))
    if name == "relu":
        return max(0.0, z)
    return max(alpha * z, z)


@pytest.mark.parametrize("name", HIDDEN)
def test_forward_matches_the_closed_form(name):
    Z = np.linspace(-6, 6, 25).reshape(5, 5)
    A = activations.get(name).forward(Z)
    expected = np.vectorize(lambda z: closed_form(name, z))(Z)
    np.testing.assert_allclose(A, expected, rtol=1e-14, atol=1e-16)


def test_softmax_matches_exp_over_sum_per_column():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((4, 7)) * 3                       # [K, m]
    E = np.exp(Z)
    np.testing.assert_allclose(activations.softmax(Z), E / E.sum(axis=0), rtol=1e-14)
    np.testing.assert_allclose(activations.softmax(Z).sum(axis=0), np.ones(7), rtol=1e-15)


@pytest.mark.parametrize("name", ALL)
def test_backward_matches_central_differences(name):
    """dZ = dA * g'(Z) is the gradient of sum(dA * g(Z)) with respect to Z."""
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((3, 4)) + 0.3                     # away from 0: no kink in reach
    Z[np.abs(Z) < 0.05] = 0.5
    dA = rng.standard_normal((3, 4))
    g = activations.get(name)
    dZ = g.backward(dA, Z, g.forward(Z))
    h = 1e-6
    numeric = np.zeros_like(Z)
    for i in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[i] += h
        Zm[i] -= h
        numeric[i] = (np.sum(dA * g.forward(Zp)) - np.sum(dA * g.forward(Zm))) / (2 * h)
    np.testing.assert_allclose(dZ, numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name, slope_at_zero", [("relu", 0.0), ("leaky_relu", 0.01)])
def test_derivative_at_exactly_zero_follows_pytorch(name, slope_at_zero):
    Z = np.zeros((2, 3))
    g = activations.get(name)
    dZ = g.backward(np.ones_like(Z), Z, g.forward(Z))
    np.testing.assert_array_equal(dZ, np.full_like(Z, slope_at_zero))
    z = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    module = torch.nn.ReLU() if name == "relu" else torch.nn.LeakyReLU(0.01)
    module(z).sum().backward()
    np.testing.assert_array_equal(dZ, z.grad.numpy())


def test_leaky_relu_uses_its_slope():
    g = activations.get("leaky_relu", alpha=0.2)
    Z = np.array([[-2.0, 3.0]])
    np.testing.assert_array_equal(g.forward(Z), [[-0.4, 3.0]])
    np.testing.assert_array_equal(g.backward(np.ones_like(Z), Z, g.forward(Z)), [[0.2, 1.0]])


@pytest.mark.parametrize("z", [1e4, -1e4, 700.0, -700.0, 40.0, -40.0])
def test_sigmoid_is_stable_and_exact_for_large_z(z):
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        a = activations.sigmoid(np.array([[z]]))[0, 0]
    expected = torch.sigmoid(torch.tensor(z, dtype=torch.float64)).item()
    assert a == pytest.approx(expected, rel=1e-15, abs=0)
    assert 0.0 <= a <= 1.0


def test_sigmoid_keeps_relative_precision_in_the_left_tail():
    """sigma(-30) = 9.357622968839e-14; 1 - sigma(30) in float64 would lose it."""
    a = activations.sigmoid(np.array([[-30.0]]))[0, 0]
    assert a == pytest.approx(math.exp(-30) / (1 + math.exp(-30)), rel=1e-15)


def test_softmax_is_stable_for_huge_logits_and_all_equal_columns():
    Z = np.array([[1e4, -1e4, 5.0], [1e4 - 1, -1e4, 5.0], [-1e4, 1e4, 5.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        A = activations.softmax(Z)
    expected = torch.softmax(torch.tensor(Z), dim=0).numpy()
    np.testing.assert_allclose(A, expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(A[:, 2], [1 / 3] * 3, rtol=1e-15)


@pytest.mark.parametrize("name", HIDDEN)
def test_float32_stays_float32(name):
    Z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    g = activations.get(name)
    A = g.forward(Z)
    assert A.dtype == np.float32
    assert g.backward(np.ones_like(Z), Z, A).dtype == np.float32


def test_unknown_activation_suggests_the_closest_name():
    with pytest.raises(InvalidArgument, match=r"'tanhh'.*did you mean 'tanh'"):
        activations.get("tanhh")


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, float("nan")])
def test_leaky_slope_outside_zero_one_is_refused(alpha):
    with pytest.raises(InvalidArgument, match="alpha"):
        activations.get("leaky_relu", alpha=alpha)
