"""Experiment 2, §3: how many hidden units does the flower need?

One hidden layer of n_h tanh units, Z1 = W1 X + b1, A1 = tanh(Z1), A2 = sigma(W2 A1 + b2),
trained as the course does (small init, lr 1.2, 5,000 steps of batch gradient
descent) for n_h in {1, 2, 3, 4, 5, 20, 50}. One unit gives a straight boundary
(sigma(w2 tanh(w1 x + b1) + b2) > 1/2 is a half-plane); a few units can bend it
around the petals; many can also fit the noise.
"""

from __future__ import annotations

from dataclasses import dataclass

from compare.experiments.base import Experiment, Result, Settings, Table, finals, pair
from compare.experiments.session import Session
from scratch import datasets
from scratch.shallow import ShallowNet

NAME = "hidden-size"


@dataclass(frozen=True)
class Config:
    dataset: str = "flower"
    sizes: tuple[int, ...] = (1, 2, 3, 4, 5, 20, 50)
    activation: str = "tanh"
    init: str = "small"
    lr: float = 1.2
    iterations: int = 5000


FULL = Config()
QUICK = Config(iterations=300)


def run(settings: Settings) -> Result:
    cfg = QUICK if settings.quick else FULL
    data = datasets.load(cfg.dataset, seed=settings.seed)
    table = Table(["n_h", "train acc (s / t)", "test acc (s / t)", "final cost (s / t)"])
    facts: dict[int, dict] = {}
    with Session(NAME, settings, len(cfg.sizes) * cfg.iterations) as session:
        for n_h in cfg.sizes:
            net = ShallowNet(data.n_x, n_h, activation=cfg.activation, init=cfg.init,
                             seed=settings.seed)
            report = session.train(net, data, variant=f"n_h={n_h}", lr=cfg.lr,
                                   iterations=cfg.iterations)
            final = finals(report)
            facts[n_h] = final
            table.add(n_h, pair(final["train"]), pair(final["test"]), pair(final["cost"], ".4f"))
    setup = (f"ShallowNet [{data.n_x}, n_h, 1], {cfg.activation} hidden units, {cfg.init} init, "
             f"on {cfg.dataset} (m_train = {data.X_train.shape[1]}, m_test = "
             f"{data.X_test.shape[1]}), lr {cfg.lr}, {cfg.iterations} steps of batch gradient "
             f"descent, seed {settings.seed}")
    return Result(NAME, setup, [table], f"{conclusion(facts)} {session.agreement()}", facts,
                  logs=session.folder)


HANDFUL = 5       # "a handful of units"
CLEAR = 0.02      # accuracy differences below this are noise on 80 test samples


def _verdict(test: dict[int, float], train: dict[int, float], best: int) -> str:
    """What the largest net's numbers show against the best one's."""
    largest = max(test)
    gap = train[largest] - test[largest]
    if test[largest] < test[best] - CLEAR:
        return ("more units fit the training set's noise rather than the flower" if gap > CLEAR
                else f"the largest net scores lower on the test set than n_h = {best}")
    return "more units neither help nor hurt much here"


def conclusion(facts: dict[int, dict]) -> str:
    test = {n: f["test"]["scratch"] for n, f in facts.items()}
    train = {n: f["train"]["scratch"] for n, f in facts.items()}
    best = max(test, key=lambda n: (test[n], -n))
    smallest, largest = min(facts), max(facts)
    gap = train[largest] - test[largest]
    first = (f"n_h = {smallest} reaches only {train[smallest]:.3f} on the training set (one unit "
             "draws a straight line)" if train[smallest] < max(train.values()) - CLEAR else
             f"n_h = {smallest} reaches {train[smallest]:.3f} on the training set, as far as "
             "the larger nets in this run")
    enough = ("a handful of units is enough for the flower" if best <= HANDFUL else
              f"fewer than {best} units are not enough here")
    return (
        f"{first}; the best test accuracy is {test[best]:.3f}, first reached at "
        f"n_h = {best}; n_h = {largest} fits the training set to {train[largest]:.3f} and scores "
        f"{test[largest]:.3f} on the test set (train - test = {gap:+.3f}): {enough}, and "
        f"{_verdict(test, train, best)}.")


EXPERIMENT = Experiment(
    name=NAME, section="§3", title="Hidden-layer size on the flower set",
    question="How do train and test accuracy change with the number of hidden units n_h?",
    run=run)
