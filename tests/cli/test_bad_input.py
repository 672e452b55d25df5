"""Bad input gets one clear message naming the argument, what came and what was expected,
at the boundary: the constructors, fit, the harness, the device and the plug-in loader."""

import numpy as np
import pytest
import torch

import scratch
import torch_ref
from compare import check_model
from compare.run import plugin
from scratch import datasets
from scratch.errors import InvalidArgument
from scratch.spec import ModelSpec
from torch_ref.device import resolve_device, resolve_dtype

X = np.random.default_rng(0).standard_normal((2, 10))
Y = (np.arange(10) % 2)[None, :]


def fit(model=None, X=X, Y=Y, **kwargs):
    kwargs = {"lr": 0.1, "iterations": 2, "progress": False, **kwargs}
    return scratch.fit(model or scratch.ShallowNet(2, 3), X, Y, **kwargs)


def softmax_fit(Y):
    return scratch.fit(scratch.DeepNet([2, 3, 3], output="softmax"), X, Y, lr=0.1, iterations=1)


def nan_at(i, j):
    bad = X.copy()
    bad[i, j] = np.nan
    return bad


CASES = {
    # arrays
    "X not 2-D": (lambda: fit(X=X[0]), r"X: got shape \(10,\), expected a 2-D array"),
    "Y not 2-D": (lambda: fit(Y=Y[0]), r"Y: got shape \(10,\), expected a 2-D array"),
    "X and Y sample counts": (lambda: fit(Y=Y[:, :7]), r"Y: got 7 samples.*expected m = 10"),
    "m = 0": (lambda: fit(X=X[:, :0], Y=Y[:, :0]), r"X: got shape \(2, 0\) with m = 0"),
    "NaN in X": (lambda: fit(X=nan_at(1, 3)), r"X: holds NaN or inf \(first at \[1, 3\]\)"),
    "inf in X": (lambda: fit(X=X * np.inf), r"X: holds NaN or inf"),
    "non-numeric X": (lambda: fit(X=np.array([["a"] * 10] * 2)), r"X: got dtype <U1, expected real"),
    "binary labels outside 0/1": (lambda: fit(Y=Y * 2), r"Y: holds labels \[2\] outside \{0, 1\}"),
    "class index out of range": (lambda: softmax_fit(Y * 5), r"Y: holds class indices \[5\] outside 0..2"),
    "malformed one-hot": (lambda: softmax_fit(np.ones((3, 10))), r"Y: column 0 is not one-hot"),
    "features count": (lambda: fit(model=scratch.ShallowNet(3, 2)), r"X: got 2 features.*expected n_x = 3"),
    "transposed X": (lambda: fit(X=X.T, Y=Y), r"X: got 10 features.*is it transposed"),
    # model
    "layer size 0": (lambda: scratch.DeepNet([2, 0, 1]), r"layer_dims\[1\]: got 0, expected an integer >= 1"),
    "negative layer size": (lambda: scratch.DeepNet([2, -3, 1]), r"layer_dims\[1\]: got -3"),
    "non-integer layer size": (lambda: scratch.DeepNet([2, 1.5, 1]), r"layer_dims\[1\]: got 1.5"),
    "layer sizes as a string": (lambda: scratch.DeepNet("2,4,1"), r"layer_dims: got '2,4,1', expected a list"),
    "one layer size": (lambda: scratch.DeepNet([2]), r"layer_dims: got \[2\], expected at least two"),
    "unknown activation": (lambda: scratch.DeepNet([2, 3, 1], "sigmod"), r"did you mean 'sigmoid'"),
    "unknown init": (lambda: scratch.ShallowNet(2, init="xavior"), r"init: unknown name 'xavior' \(did you mean 'xavier'"),
    "unknown output": (lambda: scratch.DeepNet([2, 3, 1], output="softmx"), r"did you mean 'softmax'"),
    "Leaky slope 0": (lambda: scratch.DeepNet([2, 3, 1], "leaky_relu", alpha=0), r"alpha: got 0, expected a finite number in \(0, 1\)"),
    "Leaky slope 1": (lambda: scratch.ShallowNet(2, activation="leaky_relu", alpha=1.0), r"alpha: got 1.0"),
    "softmax with one class": (lambda: scratch.DeepNet([2, 3, 1], output="softmax"), r"softmax output needs at least 2 classes"),
    "sigmoid with two outputs": (lambda: scratch.DeepNet([2, 3, 2]), r"sigmoid output has one unit"),
    "unknown dataset": (lambda: datasets.load("moon"), r"dataset: unknown name 'moon' \(did you mean 'moons'"),
    "unknown dtype": (lambda: scratch.DeepNet([2, 1], dtype="float16"), r"dtype: got 'float16'"),
    # training
    "lr 0": (lambda: fit(lr=0), r"lr: got 0, expected a finite number in \(0, inf\)"),
    "lr negative": (lambda: fit(lr=-0.1), r"lr: got -0.1"),
    "lr NaN": (lambda: fit(lr=float("nan")), r"lr: got nan"),
    "lr inf": (lambda: fit(lr=float("inf")), r"lr: got inf"),
    "iterations 0": (lambda: fit(iterations=0), r"iterations: got 0, expected an integer >= 1"),
    "iterations float": (lambda: fit(iterations=2.5), r"iterations: got 2.5"),
    "batch size 0": (lambda: fit(batch_size=0), r"batch_size: got 0, expected an integer >= 1"),
    "batch size above m": (lambda: fit(batch_size=11), r"batch_size: got 11, expected at most m = 10"),
    "negative seed": (lambda: scratch.ShallowNet(2, seed=-1), r"seed: got -1, expected an integer >= 0"),
    "negative fit seed": (lambda: fit(seed=-2), r"seed: got -2"),
    # environment
    "cuda absent": (lambda: resolve_device("cuda:7"), r"device: 'cuda:7' is not available on this machine; available: cpu"),
    "unknown device": (lambda: resolve_device("gpu"), r"device: got 'gpu', expected auto, cpu, cuda, cuda:N or mps"),
    "float64 on mps": (lambda: resolve_dtype("float64", torch.device("mps")), r"float64 is not supported on mps"),
    "torch model on absent cuda": (lambda: torch_ref.DeepNet([2, 1], device="cuda:7"), r"device: 'cuda:7'"),
    "ragged X": (lambda: fit(X=[[1.0, 2.0], [3.0]]), r"X: cannot be read as an array"),
    "X beyond float32": (lambda: fit(model=scratch.ShallowNet(2, dtype="float32"), X=X * 1e39),
                         r"X: holds \S+e\+3\d \(first at \[\d+, \d+\]\), beyond the largest float32, 3.4e\+38"),
    "Y as a column": (lambda: fit(Y=Y.T), r"Y: got 1 samples .*\(is it transposed\?"),
    "seed too large": (lambda: scratch.ShallowNet(2, seed=2**32), r"seed: got 4294967296, expected an integer in 0..4294967295"),
    "dataset seed too large": (lambda: datasets.load("flower", seed=2**32), r"seed: got 4294967296"),
    "torch seed too large": (lambda: torch_ref.DeepNet([2, 1], seed=2**64), r"seed: got 18446744073709551616"),
    "dataset too small to split": (lambda: datasets.load("flower", m=4), r"test_fraction: 0.2 of m = 4 samples gives 3 train and 1 test"),
    "test fraction leaving no train": (lambda: datasets.load("digits", test_fraction=0.9999), r"gives 0 train"),
    "odd flower size": (lambda: datasets.load("flower", m=401), r"m: got 401, expected an even number"),
    "a torch model in scratch.fit": (lambda: fit(model=torch_ref.ShallowNet(2)), r"model: got ShallowNet, expected a scratch model .*torch_ref.fit"),
    "a callback that is not a function": (lambda: fit(callback=3), r"callback: got 3, expected a function"),
    "cost of probabilities outside [0, 1]": (lambda: scratch.ShallowNet(2).cost(np.array([[1.2, 0.3]]), np.array([[0, 1]])),
                                             r"AL: holds values outside \[0, 1\]"),
    "cost of labels -1/1": (lambda: scratch.ShallowNet(2).cost(np.array([[0.2, 0.3]]), np.array([[-1, 1]])),
                            r"Y: holds labels \[-1\] outside \{0, 1\}"),
    "cost of a wrong m": (lambda: scratch.ShallowNet(2).cost(np.array([[0.2, 0.3]]), np.array([[0, 1, 1]])),
                          r"Y: got 3 samples .*expected m = 2 as in AL"),
    # the harness and the plug-in loader
    "harness data not a Dataset": (lambda: check_model(scratch.ShallowNet(2), "flower", lr=1, iterations=1),
                                   r"data: got str, expected a scratch.datasets.Dataset"),
    "harness lr": (lambda: check_model(scratch.ShallowNet(2), datasets.load("flower"), lr=-1, iterations=1), r"lr: got -1"),
    "harness features": (lambda: check_model(scratch.ShallowNet(3), datasets.load("flower"), lr=1, iterations=1),
                         r"X_train: got 2 features"),
    "not a protocol model": (lambda: check_model(object(), datasets.load("flower"), lr=1, iterations=1),
                             r"object does not follow the scratch protocol; missing: 'params', 'forward', 'cost', 'backward'"),
    "plug-in without colon": (lambda: plugin.load_class("examples.course_style"), r"expected 'package.module:ClassName'"),
    "plug-in module missing": (lambda: plugin.load_class("no_such_module:Net"), r"cannot import 'no_such_module': ModuleNotFoundError"),
    "plug-in class missing": (lambda: plugin.load_class("examples.course_style:CorseNet"), r"has no 'CorseNet' \(did you mean 'CourseNet'"),
    "plug-in breaks the protocol": (lambda: plugin.build("tests.cli.test_bad_input:HalfModel", ModelSpec.build([2, 1], ()), 0),
                                    r"HalfModel does not follow the scratch protocol; missing: 'backward'"),
}
CASES = {k: v for k, v in CASES.items() if not (k.startswith("cuda") and torch.cuda.device_count() > 7)}


class HalfModel:
    """Has params, forward and cost, but no backward."""

    def __init__(self, layer_dims):
        self.params = {"W1": np.zeros((1, 2)), "b1": np.zeros((1, 1))}

    def forward(self, X):
        return X[:1], []

    def cost(self, AL, Y):
        return 0.0


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_is_one_clear_message(case):
    action, pattern = CASES[case]
    with pytest.raises(InvalidArgument, match=pattern) as info:
        action()
    assert "\n" not in str(info.value)


def test_the_table_covers_every_kind_of_bad_input():
    assert len(CASES) >= 45
