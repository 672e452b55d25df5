"""The adapter: every layout change between the two worlds, both ways, on the CPU."""

import numpy as np
import pytest
import torch

import scratch
import torch_ref
from compare import adapter
from scratch.errors import InvalidArgument
from scratch.losses import one_hot

CPU = torch.device("cpu")


def test_batches_are_transposed_both_ways():
    X = np.arange(6.0).reshape(2, 3)                        # [n, m]
    Xt = adapter.batch_to_torch(X, CPU, torch.float64)
    assert Xt.shape == (3, 2) and Xt[2, 1].item() == X[1, 2]
    np.testing.assert_array_equal(adapter.batch_to_scratch(Xt), X)
    assert adapter.batch_to_torch(X, CPU, torch.float32).dtype == torch.float32


def test_targets_binary_and_one_hot():
    y = adapter.targets_to_torch(np.array([[0.0, 1.0, 1.0]]), "sigmoid", CPU, torch.float64)
    assert y.shape == (3, 1) and y.dtype == torch.float64 and y[:, 0].tolist() == [0, 1, 1]
    Y = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1.0]])      # one-hot [K, m]
    idx = adapter.targets_to_torch(Y, "softmax", CPU, torch.float64)
    assert idx.dtype == torch.long and idx.tolist() == [1, 0, 2]
    np.testing.assert_array_equal(adapter.labels_to_scratch(idx), [[1, 0, 2]])


def test_parameters_copy_both_ways_and_are_copies():
    net = scratch.DeepNet([3, 4, 2], output="softmax", seed=2)
    net.params["b1"] += 0.5
    ref = torch_ref.Net(net.spec, seed=99)
    adapter.copy_params_to_torch(net.params, ref)
    assert ref.notes_params()["b1"].shape == (4,)
    back = adapter.params_from_torch(ref)
    assert all(np.array_equal(back[k], net.params[k]) for k in net.params)
    net.params["W1"][0, 0] += 1.0                            # a copy: torch does not move with it
    assert ref.notes_params()["W1"][0, 0].item() != net.params["W1"][0, 0]


def test_deltas_carry_the_notes_factor_m():
    grad = torch.tensor([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], dtype=torch.float64)   # [m, n] = dJ/dZ
    np.testing.assert_allclose(adapter.delta_to_scratch(grad, 3), grad.numpy().T * 3, rtol=0)


def test_grads_come_back_by_the_notes_names():
    net = torch_ref.DeepNet([2, 3, 1], init="xavier")
    X, y = torch.randn(5, 2, dtype=torch.float64), torch.ones(5, 1, dtype=torch.float64)
    net.loss(net(X), y).backward()
    grads = adapter.grads_from_torch(net)
    assert sorted(grads) == ["dW1", "dW2", "db1", "db2"] and grads["db1"].shape == (3, 1)


def test_modules_in_order_name_the_notes_quantities():
    net = torch_ref.DeepNet([2, 3, 3, 1], activation="tanh")
    assert [name for name, _ in adapter.modules_in_order(net)] == ["Z1", "A1", "Z2", "A2", "Z3"]


@pytest.mark.cuda
def test_round_trip_through_cuda():
    X = np.random.default_rng(0).standard_normal((3, 5))
    Xt = adapter.batch_to_torch(X, torch.device("cuda"), torch.float64)
    assert Xt.is_cuda
    np.testing.assert_array_equal(adapter.batch_to_scratch(Xt), X)


def test_values_read_from_torch_do_not_change_when_torch_trains_on():
    net = torch_ref.DeepNet([2, 3, 1], init="xavier")
    before = adapter.params_from_torch(net)
    kept = {k: v.copy() for k, v in before.items()}
    X, y = torch.randn(4, 2, dtype=torch.float64), torch.ones(4, 1, dtype=torch.float64)
    torch_ref.Trainer(net, 0.5).step(X, y)
    assert all(np.array_equal(before[k], kept[k]) for k in kept)
    assert not np.array_equal(adapter.params_from_torch(net)["W1"], kept["W1"])


def test_softmax_targets_from_class_indices_or_one_hot_are_the_same_indices():
    labels = np.array([[3, 0, 2, 2, 1]])
    cpu = torch.device("cpu")
    from_indices = adapter.targets_to_torch(labels, "softmax", cpu, torch.float64)
    from_one_hot = adapter.targets_to_torch(one_hot(labels, 4), "softmax", cpu, torch.float64)
    assert from_indices.tolist() == from_one_hot.tolist() == [3, 0, 2, 2, 1]


@pytest.mark.parametrize("Y, output, message", [
    (np.array([[0, 1]]), "Sigmoidd", "output: unknown name"),
    (np.array([[0.5, 1]]), "softmax", "not whole numbers"),
    (np.array([[1, 0], [1, 1]]), "softmax", "not one-hot"),
    (np.array([0, 1]), "sigmoid", r"Y: got shape \(2,\)"),
    (np.array([[0, 1], [1, 0]]), "sigmoid", "0/1 labels \\[1, m\\]"),
])
def test_targets_that_cannot_be_moved_are_named(Y, output, message):
    with pytest.raises(InvalidArgument, match=message):
        adapter.targets_to_torch(Y, output, torch.device("cpu"), torch.float64)


def test_ragged_samples_are_named():
    with pytest.raises(InvalidArgument, match="X: cannot be read as an array"):
        adapter.batch_to_torch([[1.0, 2.0], [3.0]], torch.device("cpu"), torch.float64)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_param_views_read_and_write_what_torch_copies_read_and_write(dtype):
    """ParamViews (the lockstep's every-step path) against params_vector and
    copy_params_to_torch, bit for bit: float64 scratch rounded into a float32 model as
    copy_ rounds it, and the vector a copy."""
    net = scratch.DeepNet([3, 4, 2, 1], seed=5)
    ref, twin = (torch_ref.Net(net.spec, seed=s, dtype=dtype) for s in (1, 1))
    order = ["W1", "b1", "W2", "b2", "W3", "b3"]
    views = adapter.ParamViews(ref, order)
    assert views.views is not None                       # the CPU path is what runs here
    views.assign(net.params)
    adapter.copy_params_to_torch(net.params, twin)
    for name, p in ref.notes_params().items():
        assert torch.equal(p, twin.notes_params()[name]), name
    theta = views.vector()
    assert theta.dtype == np.float64
    assert np.array_equal(theta, adapter.params_vector([twin.notes_params()[n] for n in order]))
    theta[0] = 123.0                                      # a copy, not a view
    assert ref.notes_params()["W1"][0, 0].item() != 123.0


def test_param_views_follow_a_parameter_whose_memory_was_replaced():
    net = scratch.DeepNet([3, 4, 1], seed=5)
    ref = torch_ref.Net(net.spec, seed=1)
    order = ["W1", "b1", "W2", "b2"]
    views = adapter.ParamViews(ref, order)
    W1 = ref.notes_params()["W1"]
    W1.data = torch.zeros_like(W1)                       # new memory: the old view looks elsewhere
    views.assign(net.params)
    assert np.array_equal(adapter.params_from_torch(ref)["W1"], net.params["W1"])
    assert views.vector()[0] == net.params["W1"][0, 0]
