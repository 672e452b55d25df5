"""Experiment 4, §3.3: vanishing gradients in a deep sigmoid network.

Backprop multiplies by g'(Z[l]) once per layer, dZ[l] = W[l+1]^T dZ[l+1] * g'(Z[l]),
and sigmoid' = a(1 - a) <= 1/4 everywhere, so through L - 1 sigmoid layers the
gradient reaching layer 1 shrinks by up to 4^-(L-1): the first layers barely
learn. ReLU' is 1 wherever a unit is active, and He init (N(0, 2/n[l-1])) keeps
the signal's size from layer to layer. We measure ||dW[l]||_F for every layer l,
at initialization and during training, on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compare.experiments.base import SIDES, Experiment, Result, Settings, Table, finals, pair
from compare.experiments.probes import Probe, checkpoints
from compare.experiments.session import Session
from compare.proof.lockstep import StepRecord
from scratch import datasets
from scratch.deep import DeepNet

NAME = "vanishing-gradients"
NETS = (("sigmoid", "xavier"), ("relu", "he"))   # hidden g, its init


@dataclass(frozen=True)
class Config:
    dataset: str = "moons"
    hidden: tuple[int, ...] = (10,) * 10       # 10 hidden layers: L = 11 layers
    lr: float = 0.05             # at 0.1 the ReLU net's free-running runs part (edge of stability)
    iterations: int = 500


FULL = Config()
QUICK = Config(iterations=20)


def report_steps(iterations: int) -> list[int]:
    """Steps whose gradients are reported: 0 (initialization), 10, 100, ..., the last."""
    return [s for s in checkpoints(iterations - 1) if s != 1]


class GradNorms(Probe):
    """||dW[l]||_F of every layer at `steps`, per side."""

    def __init__(self, steps: list[int]) -> None:
        self.steps = set(steps)
        self.norms: dict[str, dict[int, list[float]]] = {side: {} for side in SIDES}

    def step(self, record: StepRecord) -> None:
        if record.step in self.steps:
            for side in SIDES:
                g = record.grads[side]
                L = len(g) // 2
                self.norms[side][record.step] = [float(np.linalg.norm(g[f"dW{l}"]))
                                                 for l in range(1, L + 1)]


def ratio(norms: list[float]) -> float:
    """||dW[1]|| / ||dW[L]||: far below 1 when the gradient vanishes on its way down."""
    return norms[0] / norms[-1] if norms[-1] > 0 else float("inf")


def run(settings: Settings) -> Result:
    cfg = QUICK if settings.quick else FULL
    data = datasets.load(cfg.dataset, seed=settings.seed)
    steps = report_steps(cfg.iterations)
    dims = [data.n_x, *cfg.hidden, 1]
    summary = Table(["hidden g", "init", "||dW1|| / ||dWL||, step 0 (s / t)",
                     f"same, step {steps[-1]} (s / t)", "final cost (s / t)", "test acc (s / t)"],
                    title="First over last layer")
    tables, facts = [summary], {}
    with Session(NAME, settings, len(NETS) * cfg.iterations) as session:
        for g, init in NETS:
            probe = GradNorms(steps)
            net = DeepNet(dims, activation=g, init=init, seed=settings.seed)
            report = session.train(net, data, variant=g, lr=cfg.lr, iterations=cfg.iterations,
                                   probes=[probe])
            norms = probe.norms
            ratios = {t: {s: ratio(norms[s][t]) for s in SIDES} for t in steps}
            final = finals(report)
            facts[g] = {"norms": norms, "ratio": ratios, **final}
            summary.add(g, init, pair(ratios[0], ".1e"), pair(ratios[steps[-1]], ".1e"),
                        pair(final["cost"], ".4f"), pair(final["test"]))
            layers = Table(["layer l", *(f"step {t} (s / t)" for t in steps)],
                           title=f"||dW[l]||_F, {g} hidden layers, {init} init")
            for l in range(len(dims) - 1):
                layers.add(l + 1, *(pair({s: norms[s][t][l] for s in SIDES}, ".1e")
                                    for t in steps))
            tables.append(layers)
    setup = (f"DeepNet {dims} ({len(dims) - 1} layers), sigmoid output, on {cfg.dataset} "
             f"(m_train = {data.X_train.shape[1]}), lr {cfg.lr}, {cfg.iterations} steps of batch "
             f"gradient descent, seed {settings.seed}; the gradient of step t is taken at the "
             "parameters after t updates (step 0: at initialization)")
    return Result(NAME, setup, tables,
                  f"{conclusion(facts, steps, len(dims) - 1)} {session.agreement()}", facts,
                  logs=session.folder)


LN2 = float(np.log(2))     # the cost of answering 1/2 for every sample
STALLED_GRAD = 1e-4        # no layer's ||dW|| above this: gradient descent has nothing to follow
PULLED_AWAY = 0.1          # the ReLU net's cost this far below the sigmoid net's: it learned


def _sigmoid_end(sig: dict, last: int) -> str:
    """Where the sigmoid net is at the last reported step; 'stalled' only when its numbers
    say so (cost at ln 2, no usable gradient anywhere)."""
    J, top = sig["cost"]["scratch"], max(sig["norms"]["scratch"][last])
    text = (f"By step {last} the sigmoid net's cost is {J:.4f} (ln 2 = {LN2:.4f} is the cost of "
            f"answering 1/2 for every sample), its largest layer gradient {top:.0e}")
    if abs(J - LN2) < 0.005 and top < STALLED_GRAD:
        return (text + ": the output layer has fitted the class prior, the layers below never "
                "got a usable gradient, and training has stalled")
    return (text + f", and the first layer's is {sig['ratio'][last]['scratch']:.1e} of the "
            f"last's: {last + 1} steps are too few to show whether training stalls")


def conclusion(facts: dict, steps: list[int], L: int) -> str:
    sig, relu = facts["sigmoid"], facts["relu"]
    last = steps[-1]
    J = relu["cost"]["scratch"]
    relu_end = (f"the ReLU net reaches J = {J:.4f} and test accuracy {relu['test']['scratch']:.3f}"
                if J < sig["cost"]["scratch"] - PULLED_AWAY else
                f"the ReLU net is at J = {J:.4f} (test accuracy {relu['test']['scratch']:.3f}), "
                "not yet clearly below the sigmoid net's: the run was too short to show how "
                "far apart the two train")
    return (
        f"At initialization the first layer of the {L}-layer sigmoid net gets "
        f"{sig['ratio'][0]['scratch']:.1e} of the last layer's gradient (sigmoid' <= 1/4 per "
        f"layer; 4^-{L - 1} = {4.0 ** -(L - 1):.1e}); with ReLU and He init the ratio is "
        f"{relu['ratio'][0]['scratch']:.2f}. {_sigmoid_end(sig, last)}; {relu_end}.")


EXPERIMENT = Experiment(
    name=NAME, section="§3.3", title="Vanishing gradients: deep sigmoid against ReLU",
    question="In a deep (>= 10 layers) network, how large is each layer's gradient with sigmoid "
             "hidden units compared with ReLU, at initialization and during training?",
    run=run)
