"""Experiment 7, §1.3: accuracy against training-set size, logistic regression against deeper nets.

The notes: performance grows with data up to a ceiling, and a neural network's
ceiling, a deep one's especially, is higher than a simpler model's. The data are
Gaussian quantiles: two classes split by a circle around the mean, so no straight
line separates them and logistic regression (whose boundary w^T x + b = 0 is a
line) is stuck near chance however much data it sees. Each model trains on nested
subsets of one training pool and is scored on one fixed test set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compare.experiments.base import Experiment, Result, Settings, Table, finals, pair
from compare.experiments.session import Session
from scratch import datasets
from scratch.datasets import Dataset
from scratch.deep import DeepNet
from scratch.logistic import LogisticRegression
from scratch.model import Model
from scratch.shallow import ShallowNet

NAME = "more-data"
MODELS = ("logistic", "shallow", "deep")


@dataclass(frozen=True)
class Config:
    dataset: str = "gaussian_quantiles"
    pool: int = 5000                      # samples generated: 80% training pool, 20% test set
    sizes: tuple[int, ...] = (20, 50, 100, 200, 400, 1000)
    iterations: int = 1000
    lr: tuple[float, float, float] = (1.2, 1.2, 0.3)   # logistic, shallow, deep
    n_h: int = 4
    deep_hidden: tuple[int, ...] = (20, 10, 5)


FULL = Config()
QUICK = Config(pool=1000, sizes=(20, 400), iterations=150)


def build(kind: str, cfg: Config, n_x: int, seed: int) -> Model:
    """Each model with the course's defaults: zeros / small tanh / He ReLU."""
    if kind == "logistic":
        return LogisticRegression(n_x, init="zeros", seed=seed)
    if kind == "shallow":
        return ShallowNet(n_x, cfg.n_h, activation="tanh", init="small", seed=seed)
    return DeepNet([n_x, *cfg.deep_hidden, 1], activation="relu", init="he", seed=seed)


def subset(pool: Dataset, m: int, order: np.ndarray) -> Dataset:
    """The first m samples of the pool's training split in `order`, with the pool's test set."""
    idx = order[:m]                                                        # [m]
    return Dataset(pool.name, pool.X_train[:, idx], pool.Y_train[:, idx], pool.X_test,
                   pool.Y_test, pool.n_classes)


def describe(kind: str, cfg: Config) -> str:
    return {"logistic": "LogisticRegression (zeros init)",
            "shallow": f"ShallowNet n_h = {cfg.n_h} (tanh, small init)",
            "deep": f"DeepNet [2, {', '.join(map(str, cfg.deep_hidden))}, 1] (ReLU, He init)"}[kind]


def run(settings: Settings) -> Result:
    cfg = QUICK if settings.quick else FULL
    pool = datasets.load(cfg.dataset, seed=settings.seed, m=cfg.pool)
    order = np.random.default_rng([settings.seed, 1]).permutation(pool.X_train.shape[1])  # [m_pool]
    test = Table(["m_train", *(f"{k} test acc (s / t)" for k in MODELS)], title="Test accuracy")
    train = Table(["m_train", *(f"{k} train acc (s / t)" for k in MODELS)], title="Train accuracy")
    facts: dict[int, dict] = {}
    lrs = dict(zip(MODELS, cfg.lr, strict=True))
    with Session(NAME, settings, len(cfg.sizes) * len(MODELS) * cfg.iterations) as session:
        for m in cfg.sizes:
            data = subset(pool, m, order)
            facts[m] = {}
            for kind in MODELS:
                report = session.train(build(kind, cfg, data.n_x, settings.seed), data,
                                       variant=f"{kind}-m{m}", lr=lrs[kind],
                                       iterations=cfg.iterations)
                facts[m][kind] = finals(report)
            test.add(m, *(pair(facts[m][k]["test"]) for k in MODELS))
            train.add(m, *(pair(facts[m][k]["train"]) for k in MODELS))
    setup = (f"{cfg.dataset}: {cfg.pool} samples, a fixed test set of {pool.X_test.shape[1]}, "
             f"nested training sets drawn from the other {pool.X_train.shape[1]}; "
             + "; ".join(f"{describe(k, cfg)} at lr {lrs[k]}" for k in MODELS)
             + f"; {cfg.iterations} steps of batch gradient descent each, seed {settings.seed}")
    return Result(NAME, setup, [test, train], f"{conclusion(facts)} {session.agreement()}", facts,
                  logs=session.folder)


GAIN = 0.05        # test accuracy gained (or lost) from the smallest to the largest set


def _drop(facts: dict[int, dict], kind: str) -> str:
    """Where `kind` scored lower on the largest set than on the smallest: what its own
    training accuracy says about it."""
    small, large = min(facts), max(facts)
    if facts[large][kind]["test"]["scratch"] >= facts[small][kind]["test"]["scratch"] - GAIN:
        return ""
    fit = facts[large][kind]["train"]["scratch"]
    return (f" (lower with more data: it fits only {fit:.3f} of the larger training set, so the "
            "run was too short for it)" if fit < 0.75 else " (lower with more data)")


def _verdict(facts: dict[int, dict], stuck: bool) -> str:
    deep = {m: facts[m]["deep"]["test"]["scratch"] for m in facts}
    small, large = min(deep), max(deep)
    if not stuck:
        return "logistic regression is not stuck at chance in this run"
    if deep[large] <= deep[small] + GAIN:
        return "the deep net did not improve much with data in this run"
    if deep[large] >= max(deep.values()) - 0.01:
        return "yes: the deep net keeps improving with data where logistic regression stopped"
    best = max(deep, key=lambda m: deep[m])
    return (f"the deep net improves with data where logistic regression stopped, though not at "
            f"every size: its best, {deep[best]:.3f}, is at m_train = {best}")


def conclusion(facts: dict[int, dict]) -> str:
    sizes = sorted(facts)
    small, large = sizes[0], sizes[-1]

    def acc(m: int, kind: str) -> float:
        return facts[m][kind]["test"]["scratch"]

    logistic = [acc(m, "logistic") for m in sizes]
    stuck = max(logistic) < 0.65
    where = (", near chance" if all(abs(a - 0.5) <= 0.1 for a in logistic) else
             ", never far above chance (0.5)")
    return (
        f"Logistic regression stays between {min(logistic):.3f} and {max(logistic):.3f} at "
        f"every size{where + ': more data cannot bend its straight boundary' if stuck else ''}. "
        f"From m_train = {small} to {large} the shallow net goes from "
        f"{acc(small, 'shallow'):.3f} to {acc(large, 'shallow'):.3f}{_drop(facts, 'shallow')} "
        f"and the deep net from {acc(small, 'deep'):.3f} to {acc(large, 'deep'):.3f}"
        f"{_drop(facts, 'deep')}: {_verdict(facts, stuck)}.")


EXPERIMENT = Experiment(
    name=NAME, section="§1.3", title="More data: accuracy against training-set size",
    question="Does a deeper model keep improving with more training data where logistic "
             "regression stops?",
    run=run)
