"""The checks themselves: what they compare, the magnitudes they measure against, the ReLU kinks
of finite differences, the trajectory's step error and drift, and the diagnosis line."""

import numpy as np
import pytest
import torch

import scratch
import torch_ref
from compare import adapter, check_model
from compare.proof import finite_diff, lockstep, parity
from compare.proof.metric import Comparison, compare, relative_error
from compare.proof.protocol import ScratchSide
from compare.proof.result import CheckResult, diagnose, first_divergence
from scratch import datasets
from scratch.validate import check_X, check_Y


def pair(model):
    ref = torch_ref.Net(model.spec)
    adapter.copy_params_to_torch(model.params, ref)
    return ScratchSide(model), ref


def test_relative_error_agrees_with_torch_testing():
    r = np.array([[1.0, -2.0], [0.5, 4.0]])
    q = r + np.array([[0.0, 1e-9], [0.0, 0.0]])
    rel, max_abs, index = relative_error(q, r)
    assert rel == pytest.approx(1e-9 / 4) and index == (0, 1)
    torch.testing.assert_close(torch.tensor(q), torch.tensor(r), rtol=0, atol=rel * 4 * 1.0001)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(torch.tensor(q), torch.tensor(r), rtol=0, atol=rel * 4 * 0.99)


def test_shape_mismatch_and_nan_fail_with_a_note():
    assert compare("dW1", np.zeros((2, 3)), np.zeros((3, 2)), 1e-12).note == "shape [2, 3], expected [3, 2]"
    bad = compare("A1", np.array([np.nan]), np.array([1.0]), 1e-12)
    assert not bad.passed and bad.rel_err == np.inf


def test_parity_compares_every_layer_in_order():
    data = datasets.load("flower", seed=1)
    model = scratch.DeepNet([2, 4, 3, 1], activation="tanh", init="xavier")
    side, ref = pair(model)
    X, Y = data.X_train, data.Y_train.astype(float)
    fwd, grads = parity.parity(side, ref, X, Y, 1e-12, 1e-12)
    assert [c.name for c in fwd.comparisons] == ["Z1", "A1", "Z2", "A2", "Z3", "A3", "cost"]
    assert [c.name for c in grads.comparisons] == \
        ["dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1"]
    assert fwd.passed and grads.passed
    assert fwd.max_rel_err < 1e-14 and grads.max_rel_err < 1e-14


def test_a_sum_that_cancels_is_judged_by_its_terms_not_its_size():
    """Zero init on a balanced set: db1 = mean(0.5 - y) is 0 in exact arithmetic; rounding leaves
    ~1e-17 on one side and something else on the other. Against |db1| that is a 100% error;
    against the magnitude of its terms, (1/m) sum |0.5 - y| = 0.5, it is ~1e-17."""
    data = datasets.load("flower", seed=1)
    model = scratch.LogisticRegression(2, init="zeros")
    side, ref = pair(model)
    _, grads = parity.parity(side, ref, data.X_train, data.Y_train.astype(float), 1e-12, 1e-12)
    db1 = next(c for c in grads.comparisons if c.name == "db1")
    assert db1.passed and db1.rel_err < 1e-15


def test_finite_differences_skip_entries_next_to_a_relu_kink():
    """Zero init puts every pre-activation exactly at 0: any step in W1 crosses the kink."""
    data = datasets.load("moons", seed=0)
    model = scratch.DeepNet([2, 3, 1], activation="relu", init="zeros")
    side = ScratchSide(model)
    X, Y = data.X_train, data.Y_train.astype(float)
    result = finite_diff.finite_differences(side, model.spec, X, Y, 1e-6, 1e-7)
    assert result.passed
    assert "skipped 9 next to a ReLU kink" in result.detail              # W1's 6 and b1's 3


def test_finite_differences_catch_a_backward_that_agrees_with_nothing():
    class Wrong(scratch.ShallowNet):
        def backward(self, AL, Y, caches, intermediates=False):
            grads = super().backward(AL, Y, caches, intermediates)
            grads["dW1"] = grads["dW1"] * 1.001
            return grads

    data = datasets.load("flower", seed=1)
    model = Wrong(2, 4, init="xavier")
    result = finite_diff.finite_differences(ScratchSide(model), model.spec, data.X_train,
                                       data.Y_train.astype(float), 1e-6, 1e-7)
    assert not result.passed and result.first_divergence.name == "dW1"


def test_sampled_finite_differences_report_the_sample():
    data = datasets.load("digits", seed=0)
    model = scratch.DeepNet([64, 16, 10], activation="tanh", output="softmax", init="xavier")
    report = check_model(model, data, lr=0.1, iterations=2, fd_max_entries=300)
    assert report.passed, report.diagnosis
    assert "of 1210 entries" in report.checks["finite_difference"].detail


def test_trajectory_reports_drift_that_the_dynamics_amplify_without_failing():
    """At lr 6 this net is chaotic: rounding differences grow to O(1), while every step,
    taken from the same state by both sides, agrees to rounding."""
    data = datasets.load("circles", seed=0)
    model = scratch.ShallowNet(2, 4, activation="tanh", seed=1)
    side, ref = pair(model)
    X = check_X(data.X_train, model.spec, model.dtype)
    Y = check_Y(data.Y_train, model.spec, X.shape[1], model.dtype)
    traj = lockstep.train(side, ref, X, Y, lr=6.0, iterations=300, batch_size=None, seed=0, tol=1e-11)
    assert max(traj.step_error) < 1e-13
    assert max(traj.drift) > 1e-6                       # the free-running runs did part
    assert traj.result.passed
    assert "the dynamics amplify rounding" in traj.result.detail


def test_trajectory_with_mini_batches_uses_the_same_batches_on_both_sides():
    data = datasets.load("flower", seed=1)
    model = scratch.DeepNet([2, 5, 1], activation="relu")
    report = check_model(model, data, lr=0.5, iterations=25, batch_size=32)
    assert report.passed and max(report.trajectory.drift) < 1e-13


def test_diagnosis_names_the_first_divergence_in_order():
    ok = lambda n: Comparison(n, 1e-16, 1e-16, (0, 0), True)            # noqa: E731
    bad = lambda n, e: Comparison(n, e, e, (0, 2), False)                # noqa: E731
    results = {
        "forward": CheckResult("forward", [ok("Z1"), ok("A1"), ok("cost")]),
        "gradients": CheckResult("gradients", [ok("dZ2"), bad("dW2", 0.31), ok("db2"), bad("dW1", 0.2)]),
        "finite_difference": CheckResult("finite_difference", [bad("dW2", 0.3)]),
    }
    assert diagnose(results) == \
        "forward ok; dZ2 ok; dW2 differs: max rel err 3.1e-01 at [0, 2]; layers below follow from it"
    first = first_divergence(results)
    assert (first["check"], first["quantity"], first["layer"]) == ("gradients", "dW2", 2)
    assert first["index"] == [0, 2]


def test_a_model_whose_code_raises_is_reported_with_its_line():
    class Raises(scratch.ShallowNet):
        def backward(self, AL, Y, caches, intermediates=False):
            raise ZeroDivisionError("boom")

    report = check_model(Raises(2, 3), datasets.load("flower"), lr=0.1, iterations=2)
    assert not report.passed
    assert "ZeroDivisionError: boom" in report.diagnosis and "test_checks.py" in report.diagnosis
    assert report.first_divergence["check"] == "gradients"


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_all_four_checks_pass_with_the_reference_on_a_cuda_gpu(dtype):
    """cuBLAS sums in its own order: the bounds of `compare.proof.tolerances` for cuda must hold."""
    data = datasets.load("flower", seed=1)
    model = scratch.DeepNet([2, 6, 4, 1], activation="relu", init="he", dtype=dtype)
    report = check_model(model, data, lr=0.3, iterations=50, device="cuda")
    assert report.passed, report.diagnosis
    assert "on cuda" in report.description


def test_the_final_cost_is_j_of_the_trained_parameters_on_the_whole_training_split():
    """Not the last mini-batch's cost before the last update: J of the final parameters."""
    data = datasets.load("flower", seed=1)
    model = scratch.DeepNet([2, 5, 1], activation="tanh", init="xavier")
    report = check_model(model, data, lr=0.5, iterations=30, batch_size=8)
    assert report.passed, report.diagnosis
    A = torch.tensor(data.X_train.T)                                  # [m, n_x], by hand
    for l in (1, 2):
        Z = A @ torch.tensor(model.params[f"W{l}"]).T + torch.tensor(model.params[f"b{l}"][:, 0])
        A = torch.tanh(Z) if l == 1 else Z
    y = torch.tensor(data.Y_train.T, dtype=torch.float64)
    J = torch.nn.functional.binary_cross_entropy_with_logits(A, y)
    for side in ("scratch", "torch"):
        assert report.final[side]["cost"] == pytest.approx(J.item(), rel=1e-13)
    assert report.final["scratch"]["cost"] != report.trajectory.costs["scratch"][-1]
