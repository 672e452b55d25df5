"""torch_ref: shapes, the notes' parameter names, device and dtype placement, the SGD step."""

from unittest import mock

import pytest
import torch

import scratch
import torch_ref
from scratch.errors import InvalidArgument
from torch_ref.device import resolve_device, resolve_dtype


def test_models_return_logits_of_the_right_shape():
    X = torch.randn(7, 3, dtype=torch.float64)
    assert torch_ref.LogisticRegression(3)(X).shape == (7, 1)
    assert torch_ref.ShallowNet(3, 5, 4, output="softmax")(X).shape == (7, 4)
    assert torch_ref.DeepNet([3, 6, 5, 1], activation="tanh")(X).shape == (7, 1)


def test_notes_params_are_the_linear_layers_in_order():
    net = torch_ref.DeepNet([3, 6, 5, 2], output="softmax")
    params = net.notes_params()
    assert list(params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert [tuple(p.shape) for p in params.values()] == [(6, 3), (6,), (5, 6), (5,), (2, 5), (2,)]
    assert params["W2"] is net.linears()[1].weight


def test_hidden_activations_are_the_asked_modules():
    net = torch_ref.DeepNet([2, 3, 3, 3, 3, 1], activation=["sigmoid", "tanh", "relu", "leaky_relu"],
                            alpha=0.2)
    kinds = [type(m).__name__ for m in net.layers if not isinstance(m, torch.nn.Linear)]
    assert kinds == ["Sigmoid", "Tanh", "ReLU", "LeakyReLU"]
    assert net.layers[7].negative_slope == 0.2


@pytest.mark.parametrize("init, std", [("small", 0.01), ("he", (2 / 400) ** 0.5),
                                       ("xavier", (1 / 400) ** 0.5)])
def test_init_rules_and_zero_biases(init, std):
    net = torch_ref.DeepNet([400, 300, 1], init=init, seed=0)
    W = net.notes_params()["W1"].detach()
    assert W.std().item() == pytest.approx(std, rel=0.01)
    assert not net.notes_params()["b1"].any()
    assert torch.equal(W, torch_ref.DeepNet([400, 300, 1], init=init, seed=0).notes_params()["W1"])


def test_one_sgd_step_equals_the_manual_update():
    torch.manual_seed(0)
    X, y = torch.randn(20, 3, dtype=torch.float64), (torch.rand(20, 1) > 0.5).double()
    net = torch_ref.DeepNet([3, 4, 1], activation="tanh", init="xavier")
    before = {k: p.detach().clone() for k, p in net.notes_params().items()}
    loss = net.loss(net(X), y)
    grads = torch.autograd.grad(loss, list(net.notes_params().values()))
    J = torch_ref.Trainer(net, lr=0.3).step(X, y)
    assert J.item() == loss.item()
    eps = torch.finfo(torch.float64).eps
    for (name, p), g in zip(net.notes_params().items(), grads, strict=True):
        # p - lr g, up to the one rounding a fused multiply-add saves
        ulp = eps * (before[name].abs() + 0.3 * g.abs()).max().item()
        torch.testing.assert_close(p.detach(), before[name] - 0.3 * g, rtol=0, atol=ulp)


def test_mean_reduction_is_the_notes_cost():
    logits = torch.tensor([[2.0], [-1.0], [0.5]], dtype=torch.float64)
    y = torch.tensor([[1.0], [0.0], [0.0]], dtype=torch.float64)
    a = torch.sigmoid(logits)
    J = -(y * a.log() + (1 - y) * (1 - a).log()).mean()
    net = torch_ref.LogisticRegression(1)
    torch.testing.assert_close(net.loss(logits, y), J, rtol=1e-15, atol=0)


def test_fit_trains_and_keeps_dtype():
    from compare import adapter
    from scratch import datasets
    data = datasets.load("flower", seed=1)
    X = adapter.batch_to_torch(data.X_train, torch.device("cpu"), torch.float32)
    y = adapter.targets_to_torch(data.Y_train, "sigmoid", torch.device("cpu"), torch.float32)
    net = torch_ref.ShallowNet(2, 4, seed=1, dtype="float32")
    costs = torch_ref.fit(net, X, y, lr=1.2, iterations=1000, progress=False)
    assert net.dtype == torch.float32
    assert costs[-1] < 0.35 < costs[0]
    assert net.accuracy(X, y) > 0.85


def test_device_auto_picks_cpu_without_accelerators():
    with mock.patch("torch.cuda.is_available", return_value=False), \
            mock.patch("torch_ref.device.mps_available", return_value=False):
        assert resolve_device("auto") == torch.device("cpu")


def test_absent_devices_are_clear_errors():
    with mock.patch("torch.cuda.is_available", return_value=False), \
            mock.patch("torch_ref.device.mps_available", return_value=False):
        for name in ("cuda", "cuda:1", "mps"):
            with pytest.raises(InvalidArgument, match=rf"'{name}' is not available.*available: cpu"):
                resolve_device(name)
    with pytest.raises(InvalidArgument, match="expected auto, cpu"):
        resolve_device("tpu")


def test_float64_on_mps_is_refused():
    with pytest.raises(InvalidArgument, match="float64 is not supported on mps"):
        resolve_dtype("float64", torch.device("mps"))
    assert resolve_dtype("float32", torch.device("mps")) == torch.float32
    with pytest.raises(InvalidArgument, match="dtype"):
        resolve_dtype("float16", torch.device("cpu"))


@pytest.mark.cuda
def test_cuda_placement_and_parity_of_a_step():
    net = torch_ref.DeepNet([3, 4, 1], device="cuda", dtype="float64", seed=0)
    cpu = torch_ref.DeepNet([3, 4, 1], device="cpu", dtype="float64", seed=0)
    assert all(p.device.type == "cuda" for p in net.parameters())
    X, y = torch.randn(16, 3, dtype=torch.float64), (torch.rand(16, 1) > 0.5).double()
    torch_ref.Trainer(net, 0.1).step(X.cuda(), y.cuda())
    torch_ref.Trainer(cpu, 0.1).step(X, y)
    for a, b in zip(net.parameters(), cpu.parameters(), strict=True):
        torch.testing.assert_close(a.detach().cpu(), b.detach(), rtol=1e-12, atol=0)


def test_the_readme_path_from_a_multi_class_dataset_keeps_the_labels():
    """datasets give class indices [1, m]; moved to torch they stay the same labels."""
    from compare import adapter
    from scratch import datasets
    data = datasets.load("digits", seed=0)
    cpu = torch.device("cpu")
    y = adapter.targets_to_torch(data.Y_train, "softmax", cpu, torch.float64)
    assert y.tolist() == data.Y_train[0].tolist()
    assert len(set(y.tolist())) == 10


@pytest.mark.parametrize("make, message", [
    (lambda net, X, y: torch_ref.fit(net, X, y * 0.5, iterations=1), r"y: holds \[0.5"),
    (lambda net, X, y: torch_ref.fit(net, X.float() * 1e38 * 9, y, iterations=1), "X: holds NaN or inf"),
    (lambda net, X, y: net.predict(X.numpy()), "X: got ndarray, expected a real tensor .*batch_to_torch"),
    (lambda net, X, y: net.predict(X.T), r"is it transposed"),
    (lambda net, X, y: net.accuracy(X, y[:, None]), r"y: got \(6, 1\), expected a tensor \[6\] of class"),
    (lambda net, X, y: torch_ref.fit(scratch.DeepNet([2, 3, 3], output="softmax"), X, y), "scratch.fit"),
])
def test_bad_tensors_are_named(make, message):
    net = torch_ref.DeepNet([2, 3, 3], output="softmax")
    X = torch.randn(6, 2, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    with pytest.raises(InvalidArgument, match=message):
        make(net, X, y)


def test_a_float64_x_beyond_float32_is_named_for_a_float32_model():
    net = torch_ref.ShallowNet(2, dtype="float32")
    X = torch.full((4, 2), 1e39, dtype=torch.float64)
    with pytest.raises(InvalidArgument, match="beyond the largest torch.float32"):
        torch_ref.fit(net, X, torch.ones(4, 1), iterations=1)


def test_predict_moves_x_to_the_model_dtype():
    net = torch_ref.ShallowNet(2, dtype="float64", init="xavier", seed=3)
    X = torch.randn(5, 2)
    assert torch.equal(net.predict(X), net.predict(X.double()))
