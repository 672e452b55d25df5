"""Experiment 3, §3.3: sigmoid, tanh, ReLU and Leaky ReLU in the hidden layer.

The notes: tanh = 2 sigma(2z) - 1 is centred on 0 and "in practice almost always
better than sigmoid" in hidden layers; ReLU "converges very fast". Each activation
gets the same network, the same Xavier init (N(0, 1/n[l-1])), the same learning
rate and the same steps; we count the steps until the cost J first reaches a
threshold, and the final accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

from compare.experiments.base import SIDES, Experiment, Result, Settings, Table, finals, pair, trajectory
from compare.experiments.session import Session
from scratch import datasets
from scratch.shallow import ShallowNet

NAME = "activations"
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


@dataclass(frozen=True)
class Config:
    datasets: tuple[str, ...] = ("flower", "moons")
    n_h: int = 8
    init: str = "xavier"
    lr: float = 0.5
    iterations: int = 1000
    threshold: float = 0.3     # J to reach


FULL = Config()
QUICK = Config(iterations=150, threshold=0.5)


def steps_text(steps: int | None, iterations: int) -> str:
    return f"never (in {iterations} steps)" if steps is None else f"{steps} steps"


def steps_to(costs: list[float], threshold: float) -> int | None:
    """The first step t whose cost J (before its update, i.e. after t updates) is <= threshold."""
    return next((t for t, J in enumerate(costs) if J <= threshold), None)


def run(settings: Settings) -> Result:
    cfg = QUICK if settings.quick else FULL
    table = Table(["dataset", "hidden g", f"steps to J <= {cfg.threshold} (s / t)",
                   "final cost (s / t)", "train acc (s / t)", "test acc (s / t)"])
    facts: dict[str, dict[str, dict]] = {}
    total = len(cfg.datasets) * len(ACTIVATIONS) * cfg.iterations
    with Session(NAME, settings, total) as session:
        for name in cfg.datasets:
            data = datasets.load(name, seed=settings.seed)
            facts[name] = {}
            for g in ACTIVATIONS:
                net = ShallowNet(data.n_x, cfg.n_h, activation=g, init=cfg.init, seed=settings.seed)
                report = session.train(net, data, variant=f"{name}-{g}", lr=cfg.lr,
                                       iterations=cfg.iterations)
                costs = trajectory(report).costs
                steps = {s: steps_to(costs[s], cfg.threshold) for s in SIDES}
                final = finals(report)
                facts[name][g] = {"steps": steps, **final}
                table.add(name, g, pair(steps, "d"), pair(final["cost"], ".4f"),
                          pair(final["train"]), pair(final["test"]))
    setup = (f"ShallowNet [2, {cfg.n_h}, 1] with each hidden activation, sigmoid output, "
             f"{cfg.init} init, lr {cfg.lr}, {cfg.iterations} steps of batch gradient descent on "
             f"{' and '.join(cfg.datasets)} (default sizes), seed {settings.seed}; '-' = the "
             f"threshold J <= {cfg.threshold} was never reached")
    return Result(NAME, setup, [table], f"{conclusion(facts, cfg)} {session.agreement()}", facts,
                  logs=session.folder)


def tanh_beats_sigmoid(f: dict[str, dict]) -> bool:
    """tanh reached the threshold first (or sigmoid never did) and ended at a lower cost."""
    big = float("inf")
    t, s = f["tanh"]["steps"]["scratch"], f["sigmoid"]["steps"]["scratch"]
    return (big if t is None else t) < (big if s is None else s) and \
        f["tanh"]["cost"]["scratch"] < f["sigmoid"]["cost"]["scratch"]


def _one_set(name: str, f: dict[str, dict], cfg: Config) -> str:
    fastest = min(ACTIVATIONS, key=lambda g: (f[g]["steps"]["scratch"] is None,
                                              f[g]["steps"]["scratch"] or 0,
                                              f[g]["cost"]["scratch"]))
    first = (f"the fastest was {fastest}" if f[fastest]["steps"]["scratch"] is not None else
             f"no activation reached it; the lowest final cost was {fastest}'s")
    return (f"On {name}, tanh reached J <= {cfg.threshold} in "
            f"{steps_text(f['tanh']['steps']['scratch'], cfg.iterations)}, sigmoid "
            f"{steps_text(f['sigmoid']['steps']['scratch'], cfg.iterations)}; tanh ended at "
            f"J = {f['tanh']['cost']['scratch']:.3f} against {f['sigmoid']['cost']['scratch']:.3f} "
            f"(test accuracy {f['tanh']['test']['scratch']:.3f} against "
            f"{f['sigmoid']['test']['scratch']:.3f}); {first}.")


def _answer(facts: dict[str, dict[str, dict]]) -> str:
    """Does tanh beat sigmoid (sooner to the threshold, lower final cost), and where does
    sigmoid still score higher on the test set?"""
    won = [n for n, f in facts.items() if tanh_beats_sigmoid(f)]
    answer = ("Yes: tanh beats sigmoid on every set here" if len(won) == len(facts) else
              f"Not everywhere: tanh beats sigmoid on {', '.join(won) or 'no set'} here")
    higher = [f"{n} ({f['sigmoid']['test']['scratch']:.3f} against "
              f"{f['tanh']['test']['scratch']:.3f})" for n, f in facts.items()
              if n in won and f["sigmoid"]["test"]["scratch"] > f["tanh"]["test"]["scratch"] + 0.02]
    if higher:
        answer += (" in speed and final cost, though sigmoid's test accuracy is higher on "
                   + ", ".join(higher))
    return answer + "."


def conclusion(facts: dict[str, dict[str, dict]], cfg: Config) -> str:
    return " ".join([*(_one_set(n, f, cfg) for n, f in facts.items()), _answer(facts)])


EXPERIMENT = Experiment(
    name=NAME, section="§3.3", title="Activation functions in the hidden layer",
    question="How fast does each hidden activation bring the cost down, how accurate is it at "
             "the end, and does tanh beat sigmoid as the notes say?",
    run=run)
