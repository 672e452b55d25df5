"""The 1/m convention: a hand-written backward whose dZ, dA are dJ/dZ, dJ/dA themselves (the
notes' dZ = m dJ/dZ divided by m) while its dW, db are right is a convention, not a failure;
a tensor scaled by mistake (one of a kind, by another factor, a hard-coded m, the factor m in
a dW) still fails. Every verdict is the harness's own, at its float64 / float32 tolerances."""

import numpy as np
import pytest

from compare import check_model
from examples import course_style as cs
from scratch import datasets

FLOWER = datasets.load("flower", seed=1)
M_TRAIN = FLOWER.X_train.shape[1]             # the first check point's m; the second has about half


def check(model, data=FLOWER):
    return check_model(model, data, lr=0.3, iterations=2, activation="tanh", output="sigmoid")


class TrueDerivatives(cs.CourseNet):
    """Correct, written with autograd's convention: dA, dZ are dJ/dA, dJ/dZ (the 1/m already in
    dA[L]), so dW = dZ A_prev^T and db = sum(dZ) carry no 1/m of their own."""

    def __init__(self, layer_dims, dtype=np.float64, with_dZ=False):
        super().__init__(layer_dims, "tanh", seed=3)
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}
        self.with_dZ = with_dZ

    def backward(self, AL, Y, caches):
        grads, L, m = {}, len(caches), Y.shape[1]
        dA = -(Y / AL - (1 - Y) / (1 - AL)) / m                        # dJ/dA[L], [1, m]
        for l in range(L, 0, -1):
            (A_prev, W, _), Z = caches[l - 1]
            dZ = cs.BACKWARD["sigmoid" if l == L else "tanh"](dA, Z)   # dJ/dZ[l], [n_l, m]
            if self.with_dZ:
                grads[f"dZ{l}"] = dZ
            grads[f"dW{l}"] = dZ @ A_prev.T
            grads[f"db{l}"] = np.sum(dZ, axis=1, keepdims=True)
            dA = W.T @ dZ                                              # dJ/dA[l-1]
            if l > 1:
                grads[f"dA{l - 1}"] = dA
        return grads


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dj_da_intermediates_are_a_convention(dtype):
    report = check(TrueDerivatives([2, 5, 3, 1], dtype))
    assert report.passed, report.diagnosis
    assert report.diagnosis == ("all checks agree; dA2, dA1 follow the 1/m convention "
                                "(dJ/dA, without the notes' factor m)")
    assert "dA2, dA1 are the notes' values divided by m" in report.checks["gradients"].detail


def test_dj_dz_is_named_with_dj_da():
    report = check(TrueDerivatives([2, 4, 1], with_dZ=True))
    assert report.passed, report.diagnosis
    assert "dZ2, dZ1, dA1 follow the 1/m convention (dJ/dZ and dJ/dA" in report.diagnosis


def test_the_notes_convention_is_no_convention_to_report():
    report = check(cs.CourseNet([2, 5, 3, 1], "tanh", seed=3))
    assert report.passed and report.diagnosis == "all checks agree"


def test_one_sample_cannot_tell_the_conventions_apart():
    """At m = 1 both are the same numbers: agreed, and no convention claimed."""
    X, Y = FLOWER.X_train[:, :1], FLOWER.Y_train[:, :1]
    report = check(TrueDerivatives([2, 5, 3, 1]), (X, Y))
    assert report.passed and report.diagnosis == "all checks agree"


class Rescaled(cs.CourseNet):
    """The notes' backward (right dW, db), with some reported intermediates multiplied by
    `factor(m)`: each one a mistake in the values it reports."""

    def __init__(self, layer_dims, factor, names=None):
        super().__init__(layer_dims, "tanh", seed=3)
        self.factor, self.names = factor, names

    def backward(self, AL, Y, caches):
        grads = super().backward(AL, Y, caches)
        for name in self.names or [k for k in grads if k.startswith("dA")]:
            grads[name] = grads[name] * self.factor(Y.shape[1])
        return grads


@pytest.mark.parametrize("factor, why", [
    (lambda m: m, "m times the notes' value: no convention gives m^2 dJ/dA"),
    (lambda m: 1 / M_TRAIN, "a hard-coded m: right at the first check point only"),
    (lambda m: 0.5, "a factor other than m"),
    (lambda m: 1 / (m - 1), "off by one sample"),
])
def test_a_factor_that_is_not_this_batchs_1_over_m_fails(factor, why):
    report = check(Rescaled([2, 5, 3, 1], factor))
    assert not report.passed, why
    assert report.first_divergence["quantity"] == "dA2", report.diagnosis


def test_the_boundary_itself_every_da_times_this_batchs_1_over_m_passes():
    report = check(Rescaled([2, 5, 3, 1], lambda m: 1 / m))
    assert report.passed and "dA2, dA1 follow the 1/m convention" in report.diagnosis


def test_one_intermediate_scaled_alone_fails():
    """dA1 divided by m while dA2 is the notes': not uniform over the kind."""
    report = check(Rescaled([2, 5, 3, 1], lambda m: 1 / m, names=["dA1"]))
    assert not report.passed
    assert report.first_divergence["quantity"] == "dA1", report.diagnosis
    assert "convention" not in report.diagnosis


class PartlyScaled(cs.CourseNet):
    """dA1's first row divided by m, the rest the notes': not uniform within the tensor."""

    def backward(self, AL, Y, caches):
        grads = super().backward(AL, Y, caches)
        grads["dA1"] = grads["dA1"].copy()
        grads["dA1"][0] /= Y.shape[1]
        return grads


def test_a_tensor_scaled_in_part_fails():
    report = check(PartlyScaled([2, 5, 3, 1], "tanh", seed=3))
    assert not report.passed and report.first_divergence["quantity"] == "dA1", report.diagnosis


class MissingOneOverMInDW1(cs.CourseNet):
    """The usual mistake: dW1 without its 1/m, exactly m times the right value."""

    def backward(self, AL, Y, caches):
        grads = super().backward(AL, Y, caches)
        grads["dW1"] = grads["dW1"] * Y.shape[1]
        return grads


def test_the_factor_m_in_a_parameter_gradient_fails():
    report = check(MissingOneOverMInDW1([2, 5, 3, 1], "tanh", seed=3))
    assert not report.passed and report.first_divergence["quantity"] == "dW1", report.diagnosis


class TrueDerivativesWrongDb1(TrueDerivatives):
    """The 1/m convention, but every entry of db1 set to their total (summed over both axes)."""

    def backward(self, AL, Y, caches):
        grads = super().backward(AL, Y, caches)
        grads["db1"] = grads["db1"] * 0 + np.sum(grads["db1"])
        return grads


def test_the_convention_is_not_granted_when_a_parameter_gradient_is_wrong():
    report = check(TrueDerivativesWrongDb1([2, 5, 3, 1]))
    assert not report.passed and "convention" not in report.diagnosis
    assert report.first_divergence["quantity"] == "dA2", report.diagnosis
