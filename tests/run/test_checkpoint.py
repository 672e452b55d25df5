"""Checkpoints: one file format for both sides; resuming equals never stopping."""

import errno
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import scratch
import torch_ref
from compare import adapter
from compare.cli import main
from compare.run import checkpoint
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
    with pytest.raises(InvalidArgument, match="is not a checkpoint of nncompare"):
        checkpoint.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", meta=np.array(json.dumps({"format": "x"})))
    with pytest.raises(InvalidArgument, match="format 'x'"):
        checkpoint.load(tmp_path / "other.npz")



# -- damaged, foreign and inconsistent files: one-line InvalidArgument naming the file ---------

def good_file(tmp_path, name="good.npz"):
    return checkpoint.save(tmp_path / name, scratch.ShallowNet(2, 3, seed=1), step=4, extra={"lr": 0.5})


def contents(path):
    """The meta (a dict) and the parameter arrays of a checkpoint file."""
    with np.load(path) as f:
        return json.loads(str(f["meta"])), {k: f[k] for k in f.files if k != "meta"}


def rewrite(tmp_path, meta, arrays, name="bad.npz"):
    np.savez(tmp_path / name, meta=np.array(json.dumps(meta)), **arrays)
    return tmp_path / name


def refused(path, *words):
    """load(path) is an InvalidArgument of one line naming the file and each of `words`."""
    with pytest.raises(InvalidArgument) as info:
        checkpoint.load(path)
    message = str(info.value)
    assert "\n" not in message and repr(str(path)) in message, message
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize("damage, words", [
    (lambda b: b[: len(b) // 2], ["is not a checkpoint of nncompare (truncated"]),
    (lambda b: b"", ["is not a checkpoint of nncompare (truncated"]),
    (lambda b: b"W1 = [[1, 2]]\nnot a checkpoint\n", ["is not a checkpoint of nncompare (truncated"]),
    (lambda b: b[:200] + bytes(200) + b[400:], ["is not a checkpoint of nncompare (truncated"]),
])
def test_a_damaged_or_foreign_file_is_named_with_what_was_expected(tmp_path, damage, words):
    path = good_file(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    message = refused(path, *words)
    assert "pickled" not in message


def test_a_npy_file_and_a_npz_without_meta_are_not_checkpoints(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((3, 2)))
    refused(tmp_path / "a.npy", ".npy", "expected a checkpoint of nncompare")
    np.savez(tmp_path / "plain.npz", W1=np.zeros((3, 2)))
    refused(tmp_path / "plain.npz", "has no 'meta'")
    np.savez(tmp_path / "num.npz", meta=np.zeros(3))
    refused(tmp_path / "num.npz", "'meta' is not a string")
    np.savez(tmp_path / "text.npz", meta=np.array("{not json"))
    refused(tmp_path / "text.npz", "'meta' is not JSON")


@pytest.mark.parametrize("change, words", [
    (lambda m: [m], ["a JSON list, expected a JSON object"]),
    (lambda m: "just a string", ["a JSON str, expected a JSON object"]),
    (lambda m: {**m, "version": True}, ["version True, expected 'nncompare-checkpoint' version 1"]),
    (lambda m: {k: v for k, v in m.items() if k != "layer_dims"}, ["meta has no 'layer_dims'"]),
    (lambda m: {k: v for k, v in m.items() if k != "step"}, ["meta has no 'step'"]),
    (lambda m: {k: v for k, v in m.items() if k != "side"}, ["meta has no 'side'"]),
    (lambda m: {**m, "model": "Foo"}, ["meta model: got 'Foo'", "DeepNet"]),
    (lambda m: {**m, "model": "LogisticRegression"}, ["LogisticRegression", "0 hidden layers"]),
    (lambda m: {**m, "step": -1}, ["meta step: got -1, expected an integer >= 0"]),
    (lambda m: {**m, "step": 2.5}, ["meta step: got 2.5"]),
    (lambda m: {**m, "step": "4"}, ["meta step: got '4'"]),
    (lambda m: {**m, "dtype": "int8"}, ["meta dtype", "'int8'", "float64"]),
    (lambda m: {**m, "activations": ["swish"]}, ["meta activation", "'swish'"]),
    (lambda m: {**m, "output": "linear"}, ["meta output", "'linear'"]),
    (lambda m: {**m, "init": "bogus"}, ["meta init", "'bogus'"]),
    (lambda m: {**m, "alpha": "x"}, ["meta alpha"]),
    (lambda m: {**m, "side": "gpu"}, ["meta side: got 'gpu'", "scratch, torch"]),
    (lambda m: {**m, "extra": [1]}, ["meta extra: got a JSON list"]),
    (lambda m: {**m, "layer_dims": [2, 3, 0]}, ["meta layer_dims[2]"]),
])
def test_a_meta_with_a_missing_or_unknown_value_is_refused(tmp_path, change, words):
    meta, arrays = contents(good_file(tmp_path))
    refused(rewrite(tmp_path, change(meta), arrays), *words)


def with_array(arrays, name, value):
    return {**{k: v for k, v in arrays.items() if k != name}, **({name: value} if value is not None else {})}


@pytest.mark.parametrize("name, value, words", [
    ("W1", np.full((3, 2), np.nan), ["parameter W1 holds NaN or inf"]),
    ("b2", np.array([[np.inf]]), ["parameter b2 holds NaN or inf"]),
    ("W1", np.zeros((2, 3)), ["W1 has shape (2, 3), expected (3, 2)", "W[l] is [n[l], n[l-1]]"]),
    ("b1", np.zeros(3), ["b1 has shape (3,), expected (3, 1)"]),
    ("b1", None, ["parameter b1 is missing, expected shape (3, 1)"]),
    ("W9", np.zeros((1, 1)), ["holds 'W9', expected only W1, b1, W2, b2"]),
    ("W2", np.zeros((1, 3), dtype=np.int64), ["parameter W2 is int64, expected floating-point"]),
    ("W2", np.array([["a", "b", "c"]]), ["parameter W2 is <U1, expected floating-point"]),
])
def test_parameters_must_be_finite_and_of_the_shapes_layer_dims_give(tmp_path, name, value, words):
    meta, arrays = contents(good_file(tmp_path))
    refused(rewrite(tmp_path, meta, with_array(arrays, name, value)), *words)


def test_a_checkpoint_naming_an_unknown_class_is_refused_when_built(tmp_path):
    ckpt = checkpoint.load(good_file(tmp_path))
    ckpt.model = "Foo"
    for build in (checkpoint.to_scratch, checkpoint.to_torch):
        with pytest.raises(InvalidArgument, match="model: got 'Foo', expected one of"):
            build(ckpt)


def test_resume_from_a_truncated_checkpoint_is_a_usage_error_of_one_line(tmp_path, capsys):
    args = ["--model", "logistic", "--iterations", "3", "--no-progress", "--logdir", str(tmp_path)]
    assert main([*args, "--experiment", "r"]) == 0
    path = tmp_path / "r" / "logistic" / "scratch" / "checkpoint.npz"
    path.write_bytes(path.read_bytes()[:100])
    capsys.readouterr()
    assert main(["--resume", str(tmp_path / "r"), "--iterations", "2", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nncompare: error: checkpoint: "), err
    assert str(path) in err and "is not a checkpoint of nncompare (truncated" in err


def test_resume_refuses_a_torch_checkpoint_of_another_model(tmp_path, capsys):
    args = ["--iterations", "3", "--no-progress", "--logdir", str(tmp_path)]
    assert main([*args, "--model", "logistic", "--experiment", "r"]) == 0
    assert main([*args, "--model", "shallow", "--experiment", "s"]) == 0
    torch_side = tmp_path / "r" / "logistic" / "torch" / "checkpoint.npz"
    torch_side.write_bytes((tmp_path / "s" / "shallow" / "torch" / "checkpoint.npz").read_bytes())
    capsys.readouterr()
    assert main(["--resume", str(tmp_path / "r"), "--iterations", "2", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "are not the scratch and torch sides of one model" in err, err
    assert str(torch_side) in err


# -- save: clear errors, nothing lost, the mode open() would give, the path it wrote ----------

def saving_refused(path, model, *words, extra=None):
    with pytest.raises(InvalidArgument) as info:
        checkpoint.save(path, model, step=1, extra=extra)
    message = str(info.value)
    assert "\n" not in message, message
    for word in words:
        assert word in message, message


def test_save_where_no_file_can_be_written_names_the_path_and_why(tmp_path):
    model = scratch.DeepNet([2, 3, 1], seed=1)
    (tmp_path / "file").write_text("x")
    saving_refused(tmp_path / "file" / "c.npz", model, repr(str(tmp_path / "file" / "c.npz")),
                   "is a file, not a folder")
    saving_refused(tmp_path / "file" / "sub" / "c.npz", model, "is a file, not a folder")
    (tmp_path / "dir.npz").mkdir()
    saving_refused(tmp_path / "dir.npz", model, repr(str(tmp_path / "dir.npz")), "it is a folder")
    assert (tmp_path / "dir.npz").is_dir() and not list((tmp_path / "dir.npz").iterdir())


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_save_into_a_place_that_takes_no_files_names_the_path():
    saving_refused("/proc/e.npz", scratch.DeepNet([2, 3, 1]), "cannot write '/proc/e.npz'",
                   "cannot create a file in '/proc'")


def test_save_of_what_is_not_a_model_says_what_is_accepted(tmp_path):
    saving_refused(tmp_path / "c.npz", "a model", "model: got str", "scratch model", "torch_ref model")
    assert not (tmp_path / "c.npz").exists()


def test_save_refuses_parameters_that_load_would_refuse(tmp_path):
    model = scratch.DeepNet([2, 3, 1], seed=1)
    model.params["W2"] = np.full((1, 3), np.inf)
    saving_refused(tmp_path / "c.npz", model, "parameter W2 holds NaN or inf")
    model.params["W2"] = np.zeros((3, 1))
    saving_refused(tmp_path / "c.npz", model, "W2 has shape (3, 1), expected (1, 3)")
    assert not (tmp_path / "c.npz").exists()


def test_numpy_values_in_extra_are_stored_as_json_numbers_and_lists(tmp_path):
    extra = {"a": np.int64(3), "b": np.float32(0.5), "c": np.arange(3), "d": {"e": [np.bool_(True)]},
             "f": (1, 2)}
    path = checkpoint.save(tmp_path / "c.npz", scratch.DeepNet([2, 3, 1]), 1, extra=extra)
    assert checkpoint.load(path).extra == {"a": 3, "b": 0.5, "c": [0, 1, 2], "d": {"e": [True]},
                                           "f": [1, 2]}


def test_extra_that_is_not_json_names_the_key_and_keeps_the_old_file(tmp_path):
    path = good_file(tmp_path)
    before = path.read_bytes()
    model = scratch.DeepNet([2, 3, 1])
    saving_refused(path, model, "extra['cfg']", "not JSON serializable", extra={"lr": 1, "cfg": object()})
    saving_refused(path, model, "extra: key 3 is a int, expected str keys", extra={3: 1})
    saving_refused(path, model, "extra: got list, expected a dict", extra=[1])
    assert path.read_bytes() == before


def test_a_save_that_fails_while_writing_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = good_file(tmp_path)
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez", disk_full)
    saving_refused(path, scratch.DeepNet([2, 3, 1]), repr(str(path)), os.strerror(errno.ENOSPC))
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == [path.name]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_a_new_file_gets_the_mode_open_would_give(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = checkpoint.save(tmp_path / "c.npz", scratch.DeepNet([2, 3, 1]), 1)
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask == (tmp_path / "plain").stat().st_mode & 0o777


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_overwriting_keeps_the_mode_of_the_file_as_open_would(tmp_path):
    path = good_file(tmp_path)
    path.chmod(0o640)
    checkpoint.save(path, scratch.DeepNet([2, 3, 1]), 2)
    assert path.stat().st_mode & 0o777 == 0o640 and checkpoint.load(path).step == 2


@pytest.mark.parametrize("name, written", [("c.txt", "c.txt.npz"), ("run.1", "run.1.npz"),
                                           ("C.NPZ", "C.NPZ")])
def test_save_writes_the_path_it_returns_and_never_a_neighbour(tmp_path, name, written):
    neighbour = tmp_path / (Path(name).stem + ".npz")          # what replacing the suffix would write
    neighbour.write_bytes(b"someone else's file")
    path = checkpoint.save(tmp_path / name, scratch.DeepNet([2, 3, 1]), 3)
    assert path == tmp_path / written and checkpoint.load(path).step == 3
    assert neighbour.read_bytes() == b"someone else's file"


def test_npz_path_tells_the_file_save_will_write(tmp_path):
    for name, written in [("c.npz", "c.npz"), ("c", "c.npz"), ("c.txt", "c.txt.npz"), ("C.NPZ", "C.NPZ")]:
        assert checkpoint.npz_path(tmp_path / name) == tmp_path / written
        assert checkpoint.save(tmp_path / name, scratch.DeepNet([2, 3, 1]), 1) == tmp_path / written


def test_paths_that_name_no_file_are_refused(tmp_path):
    saving_refused(3, scratch.DeepNet([2, 3, 1]), "path: got int, expected a file path")
    saving_refused("", scratch.DeepNet([2, 3, 1]), "path: got '', expected a file path")
    with pytest.raises(InvalidArgument, match="path: got NoneType"):
        checkpoint.load(None)
