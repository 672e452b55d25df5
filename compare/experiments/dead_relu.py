"""Experiment 5, §3.3: dead ReLUs at a high learning rate, and Leaky ReLU beside them.

A ReLU unit i of layer l whose pre-activation Z[l][i, :] is <= 0 for every sample
outputs 0 for every sample, and gets dZ[l][i, :] = dA * ReLU'(Z) = 0 (ReLU'(z) = 0
for z <= 0, PyTorch's convention at 0): its row of dW[l] and its db[l] are exactly
zero. In the first hidden layer, whose input X never changes, such a unit is dead
for good under batch gradient descent. A large step can push many units there at
once ("use ReLU with a carefully set learning rate", the notes say). Leaky ReLU
passes alpha dA (alpha = 0.01) through the same units, so they keep a gradient.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from compare.experiments.base import SIDES, Experiment, Result, Settings, Table, finals, pair
from compare.experiments.probes import Probe, checkpoints, torch_layers
from compare.experiments.session import Session
from compare.proof.lockstep import StepRecord
from compare.proof.protocol import ScratchSide, layer_values
from scratch import datasets
from scratch.deep import DeepNet
from torch_ref.models import Net

NAME = "dead-relu"


@dataclass(frozen=True)
class Config:
    dataset: str = "moons"
    hidden: tuple[int, ...] = (50,)    # one hidden layer: its input X is fixed, death is final
    runs: tuple[tuple[str, float], ...] = (("relu", 0.1), ("relu", 6.0),
                                           ("leaky_relu", 0.1), ("leaky_relu", 6.0))
    init: str = "he"
    iterations: int = 300


FULL = Config()
QUICK = Config(iterations=20, runs=(("relu", 6.0), ("leaky_relu", 6.0)))


class DeadUnits(Probe):
    """Per side: the fraction of hidden units with Z <= 0 on every sample at `states`, and the
    largest gradient entry (dW row or db) of such a unit in the step taken from that state
    (the largest over the off units, and the smallest unit's largest entry)."""

    def __init__(self, X: np.ndarray, states: list[int], every: int = 0) -> None:
        self.X = X                                                   # [n0, m]
        self.states = set(states)
        self.every = every                                           # also every this many (logs)
        self.fraction: dict[str, dict[int, float]] = {side: {} for side in SIDES}
        self.off_grad = {side: 0.0 for side in SIDES}                # max |grad| of an off unit
        self.off_grad_min = {side: float("inf") for side in SIDES}   # ... of the least-moved one
        self.off_seen = 0                                            # off units whose grad was read
        self._masks: dict[str, list[np.ndarray]] = {}
        self._masks_at: int | None = None

    def start(self, side: ScratchSide, reference: Net) -> None:
        self.side, self.reference = side, reference
        self._measure(0)

    def step(self, record: StepRecord) -> None:
        # grads of step t are taken at state t; read at the reported states only, so that
        # the numbers do not depend on the extra states measured for the logs
        if record.step == self._masks_at and record.step in self.states:
            self._read_grads(record.grads)
        s = record.step + 1
        if s in self.states or (self.writers is not None and self.every and s % self.every == 0):
            self._measure(s)

    def _measure(self, state: int) -> None:
        values = {"scratch": layer_values(self.side.forward(self.X)[1]),
                  "torch": torch_layers(self.reference, self.X)}
        L = len(self.side.params) // 2
        for s in SIDES:
            self._masks[s] = [np.all(values[s][f"Z{l}"] <= 0, axis=1) for l in range(1, L)]  # [n_l]
            share = float(np.mean(np.concatenate(self._masks[s])))
            if state in self.states:
                self.fraction[s][state] = share
            self.emit(s, "dead/off_units", share, state)
        self._masks_at = state

    def _read_grads(self, grads: Mapping[str, dict[str, np.ndarray]]) -> None:
        for s in SIDES:
            for l, off in enumerate(self._masks[s], start=1):
                if off.any():
                    rows = np.hstack([grads[s][f"dW{l}"][off], grads[s][f"db{l}"][off]])
                    per_unit = np.max(np.abs(rows), axis=1)          # [off units]
                    self.off_grad[s] = max(self.off_grad[s], float(np.max(per_unit)))
                    self.off_grad_min[s] = min(self.off_grad_min[s], float(np.min(per_unit)))
                    if s == "scratch":
                        self.off_seen += int(off.sum())


def run(settings: Settings) -> Result:
    cfg = QUICK if settings.quick else FULL
    data = datasets.load(cfg.dataset, seed=settings.seed)
    states = checkpoints(cfg.iterations)
    table = Table(["hidden g", "lr", *(f"off units, step {t} (s / t)" for t in states),
                   "max |grad| of an off unit (s / t)", "final cost (s / t)", "test acc (s / t)"])
    dims = [data.n_x, *cfg.hidden, 1]
    facts: dict[tuple[str, float], dict] = {}
    with Session(NAME, settings, len(cfg.runs) * cfg.iterations) as session:
        for g, lr in cfg.runs:
            probe = DeadUnits(data.X_train, states, every=max(1, cfg.iterations // 100))
            net = DeepNet(dims, activation=g, init=cfg.init, seed=settings.seed)
            report = session.train(net, data, variant=f"{g}-lr{lr:g}", lr=lr,
                                   iterations=cfg.iterations, probes=[probe])
            final = finals(report)
            facts[(g, lr)] = {"fraction": probe.fraction, "off_grad": probe.off_grad,
                              "off_grad_min": probe.off_grad_min, "off_seen": probe.off_seen,
                              **final}
            shares = [{s: probe.fraction[s][t] for s in SIDES} for t in states]
            off_grad = pair(probe.off_grad, ".1e") if probe.off_seen else "- (no unit was off)"
            table.add(g, f"{lr:g}", *(pair(f, ".2f") for f in shares), off_grad,
                      pair(final["cost"], ".4f"), pair(final["test"]))
    setup = (f"DeepNet {dims}, {cfg.init} init, sigmoid output, on {cfg.dataset} (m_train = "
             f"{data.X_train.shape[1]}), {cfg.iterations} steps of batch gradient descent, seed "
             f"{settings.seed}; an 'off' unit has Z <= 0 on every training sample (for ReLU it "
             f"is dead: output 0); the share is over the {sum(cfg.hidden)} hidden units")
    return Result(NAME, setup, [table], f"{conclusion(facts, cfg)} {session.agreement()}", facts,
                  logs=session.folder)


def _relu_text(facts: dict) -> str:
    """The ReLU runs' off units: exactly zero gradient (stated only if it was)."""
    seen = [f for (g, _), f in facts.items() if g == "relu" and f["off_seen"]]
    if not seen:
        return ""
    top = max(max(f["off_grad"].values()) for f in seen)
    if top == 0.0:
        return ("At every reported step, each ReLU unit that was off on every sample got a "
                "gradient of exactly 0, on both sides: its weights never move again, and with X "
                "fixed it stays dead. ")
    return (f"The ReLU units that were off on every sample got gradients of up to {top:.1e}, "
            "not exactly 0. ")


def _leaky_text(facts: dict) -> str:
    """The Leaky ReLU runs' off units: each still got a gradient (stated only if each did)."""
    seen = [f for (g, _), f in facts.items() if g == "leaky_relu" and f["off_seen"]]
    if not seen:
        return ""
    top = max(f["off_grad"]["scratch"] for f in seen)
    if min(min(f["off_grad_min"].values()) for f in seen) > 0.0:
        return ("Leaky ReLU does not keep a large step from pushing units below zero, but every "
                f"such unit still got a gradient (up to {top:.1e}, alpha = 0.01 times a "
                "ReLU's), so it keeps learning and can come back, slowly. ")
    return ("Leaky ReLU does not keep a large step from pushing units below zero, and some of "
            f"those units got no gradient at all (the largest any got: {top:.1e}). ")


def conclusion(facts: dict, cfg: Config) -> str:
    end = cfg.iterations
    rows = [f"{g} at lr {lr:g}: {f['fraction']['scratch'][end]:.0%} of the units off at the end, "
            f"J = {f['cost']['scratch']:.3f}" for (g, lr), f in facts.items()]
    return ("; ".join(rows) + ". " + _relu_text(facts) + _leaky_text(facts)).rstrip()


EXPERIMENT = Experiment(
    name=NAME, section="§3.3", title="Dead ReLUs at a high learning rate, Leaky ReLU beside them",
    question="What fraction of hidden ReLU units output 0 for every sample during training at a "
             "high learning rate, and what does Leaky ReLU change?",
    run=run)
