"""Checkpoints: one file format for both sides; resuming equals never stopping."""

import json

import numpy as np
import pytest
import torch

import scratch
import torch_ref
from compare import adapter, checkpoint
from scratch import datasets
from scratch.errors import InvalidArgument

CPU = torch.device("cpu")


def flower():
    d = datasets.load("flower", seed=1)
    return d, adapter.batch_to_torch(d.X_test, CPU, torch.float64)


@pytest.mark.parametrize("build", [
    lambda: torch_ref.DeepNet([2, 6, 3, 1], activation=["relu", "tanh"], seed=2),
    lambda: torch_ref.ShallowNet(2, 5, activation="leaky_relu", alpha=0.1, seed=2),
    lambda: torch_ref.LogisticRegression(2, init="small", seed=2),
])
def test_a_torch_trained_model_loads_into_scratch_and_predicts_identically(tmp_path, build):
    d, X_test = flower()
    net = build()
    X = adapter.batch_to_torch(d.X_train, CPU, torch.float64)
    y = adapter.targets_to_torch(d.Y_train, "sigmoid", CPU, torch.float64)
    torch_ref.fit(net, X, y, lr=0.5, iterations=200, progress=False)
    path = checkpoint.save(tmp_path / "net", net, step=200)
    ckpt = checkpoint.load(path)
    assert (ckpt.side, ckpt.step, ckpt.model) == ("torch", 200, type(net).__name__)
    model = checkpoint.to_scratch(ckpt)
    assert type(model).__name__ == type(net).__name__ and model.spec == net.spec
    np.testing.assert_array_equal(model.predict(d.X_test), adapter.labels_to_scratch(net.predict(X_test)))
    np.testing.assert_allclose(model.predict_proba(d.X_test),
                               adapter.batch_to_scratch(net.predict_proba(X_test)), rtol=1e-14)


def test_a_scratch_model_loads_into_torch_and_predicts_identically(tmp_path):
    d, X_test = flower()
    model = scratch.DeepNet([2, 8, 1], activation="tanh", init="xavier", seed=4)
    scratch.fit(model, d.X_train, d.Y_train, lr=0.5, iterations=300, progress=False)
    net = checkpoint.to_torch(checkpoint.load(checkpoint.save(tmp_path / "m.npz", model, 300)))
    np.testing.assert_array_equal(adapter.labels_to_scratch(net.predict(X_test)), model.predict(d.X_test))
    for name, p in adapter.params_from_torch(net).items():
        np.testing.assert_array_equal(p, model.params[name])


def test_the_file_holds_the_documented_metadata(tmp_path):
    model = scratch.ShallowNet(2, 3, dtype="float32")
    path = checkpoint.save(tmp_path / "s", model, step=7, extra={"lr": 1.2})
    with np.load(path) as f:
        meta = json.loads(str(f["meta"]))
        assert sorted(f.files) == ["W1", "W2", "b1", "b2", "meta"] and f["b1"].shape == (3, 1)
    assert meta["model"] == "ShallowNet" and meta["dtype"] == "float32" and meta["step"] == 7
    assert meta["layer_dims"] == [2, 3, 1] and meta["activations"] == ["tanh"]
    assert meta["extra"] == {"lr": 1.2}


@pytest.mark.parametrize("batch_size", [None, 64])
def test_resuming_scratch_continues_exactly(tmp_path, batch_size):
    d = datasets.load("flower", seed=1)
    whole = scratch.DeepNet([2, 6, 1], activation="relu", seed=5)
    costs_whole = scratch.fit(whole, d.X_train, d.Y_train, lr=0.3, iterations=60, batch_size=batch_size,
                              seed=2, progress=False)
    first = scratch.DeepNet([2, 6, 1], activation="relu", seed=5)
    costs_a = scratch.fit(first, d.X_train, d.Y_train, lr=0.3, iterations=25, batch_size=batch_size,
                          seed=2, progress=False)
    ckpt = checkpoint.load(checkpoint.save(tmp_path / "c", first, step=25))
    resumed = checkpoint.to_scratch(ckpt)
    steps = []
    costs_b = scratch.fit(resumed, d.X_train, d.Y_train, lr=0.3, iterations=35, batch_size=batch_size,
                          seed=2, progress=False, start_step=ckpt.step,
                          callback=lambda t, J, g: steps.append(t))
    assert steps == list(range(25, 60))
    assert costs_a + costs_b == costs_whole
    assert all(np.array_equal(resumed.params[k], whole.params[k]) for k in whole.params)


def test_resuming_torch_continues_exactly(tmp_path):
    d = datasets.load("moons", seed=0)
    X = adapter.batch_to_torch(d.X_train, CPU, torch.float64)
    y = adapter.targets_to_torch(d.Y_train, "sigmoid", CPU, torch.float64)
    whole = torch_ref.DeepNet([2, 5, 1], seed=3)
    costs_whole = torch_ref.fit(whole, X, y, lr=0.3, iterations=40, batch_size=50, seed=1, progress=False)
    first = torch_ref.DeepNet([2, 5, 1], seed=3)
    costs_a = torch_ref.fit(first, X, y, lr=0.3, iterations=15, batch_size=50, seed=1, progress=False)
    resumed = checkpoint.to_torch(checkpoint.load(checkpoint.save(tmp_path / "t", first, step=15)))
    costs_b = torch_ref.fit(resumed, X, y, lr=0.3, iterations=25, batch_size=50, seed=1, progress=False,
                            start_step=15)
    assert costs_a + costs_b == costs_whole
    for a, b in zip(resumed.parameters(), whole.parameters(), strict=True):
        assert torch.equal(a, b)


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(InvalidArgument, match="does not exist"):
        checkpoint.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(InvalidArgument, match="not an nncompare checkpoint"):
        checkpoint.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", meta=np.array(json.dumps({"format": "x"})))
    with pytest.raises(InvalidArgument, match="format 'x'"):
        checkpoint.load(tmp_path / "other.npz")
