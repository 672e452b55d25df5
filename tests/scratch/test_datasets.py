"""Datasets: shapes, labels, the seeded split, standardization with training statistics."""

import numpy as np
import pytest

from scratch import datasets
from scratch.errors import InvalidArgument


@pytest.mark.parametrize("name, n_x, m, K", [
    ("flower", 2, 400, 2), ("circles", 2, 200, 2), ("moons", 2, 200, 2), ("blobs", 2, 200, 2),
    ("gaussian_quantiles", 2, 200, 2), ("breast_cancer", 30, 569, 2), ("digits", 64, 1797, 10),
])
def test_shapes_and_labels(name, n_x, m, K):
    d = datasets.load(name)
    assert d.X_train.shape[0] == d.X_test.shape[0] == n_x
    assert d.X_train.shape[1] + d.X_test.shape[1] == m
    assert d.X_test.shape[1] == pytest.approx(0.2 * m, abs=1)
    assert d.Y_train.shape == (1, d.X_train.shape[1]) and d.Y_test.shape == (1, d.X_test.shape[1])
    assert d.n_classes == K
    assert set(np.unique(d.Y_train)) == set(range(K))
    assert np.isfinite(d.X_train).all() and d.X_train.flags.c_contiguous


def test_flower_is_the_course_construction():
    X, y = datasets.flower(400, seed=0, noise=0.0)
    assert X.shape == (2, 400) and (y == np.repeat([0, 1], 200)).all()
    r = np.hypot(X[0], X[1])
    theta = np.linspace(0, 3.12, 200)
    np.testing.assert_allclose(r[:200], np.abs(4 * np.sin(4 * theta)), atol=1e-12)


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = datasets.load("moons", seed=3), datasets.load("moons", seed=3), datasets.load("moons", seed=4)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.Y_test, b.Y_test)
    assert not np.array_equal(a.X_train, c.X_train)


def test_split_is_stratified():
    d = datasets.load("flower", seed=2)
    assert d.Y_train.mean() == 0.5 and d.Y_test.mean() == 0.5


@pytest.mark.parametrize("name", ["breast_cancer", "digits"])
def test_real_sets_are_standardized_with_training_statistics_only(name):
    d = datasets.load(name, seed=0)
    np.testing.assert_allclose(d.X_train.mean(axis=1), 0, atol=1e-12)
    std = d.X_train.std(axis=1)
    assert np.all((np.abs(std - 1) < 1e-12) | (std == 0))       # constant pixels stay constant
    assert np.abs(d.X_test.mean(axis=1)).max() > 1e-3             # test statistics were not used


def test_m_sets_the_size_of_synthetic_sets():
    d = datasets.load("circles", m=1000)
    assert d.X_train.shape[1] + d.X_test.shape[1] == 1000


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="flowers"), "did you mean 'flower'"),
    (dict(name="digits", m=100), "fixed size"),
    (dict(name="moons", m=2), "m"),
    (dict(name="moons", seed=-1), "seed"),
    (dict(name="moons", test_fraction=1.0), "test_fraction"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(InvalidArgument, match=match):
        datasets.load(**kwargs)
