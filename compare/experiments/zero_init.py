"""Experiment 1, §3.4: zero or constant initialization keeps every hidden unit the same.

If every hidden unit starts with the same parameters, u_i = (W1[i, :], b1[i], W2[:, i]),
every unit computes the same a1_i, so the rows of
    dZ1 = W2^T dZ2 * g1'(Z1)    and    dW1 = (1/m) dZ1 X^T
are equal too, and gradient descent keeps the units equal forever: the network
has, in effect, one hidden unit, W1 has rank <= 1, and its decision boundary is a
line. With zeros and tanh it is worse: A1 = tanh(0) = 0 and W2 = 0 give dW2 = 0 and
dZ1 = 0, so only b2 ever moves. Small random weights (N(0, 1) x 0.01) break the tie.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from compare import adapter
from compare.experiments.base import SIDES, Experiment, Result, Settings, Table, finals, pair
from compare.experiments.probes import Probe, checkpoints
from compare.experiments.session import Session
from compare.proof.lockstep import StepRecord
from compare.proof.protocol import ScratchSide
from scratch import datasets
from scratch.shallow import ShallowNet
from torch_ref.models import Net

NAME = "zero-init"
VARIANTS = ("zeros", "constant", "small")
SYMMETRY_TOL = 8 * np.finfo(np.float64).eps   # "equal to floating-point precision"


@dataclass(frozen=True)
class Config:
    dataset: str = "circles"     # concentric: any straight boundary is at chance
    n_h: int = 4
    activation: str = "tanh"
    lr: float = 1.2
    iterations: int = 1000
    constant: float = 0.5        # every weight of the constant init; biases 0


FULL = Config()
QUICK = Config(iterations=60)


def build(variant: str, cfg: Config, n_x: int, seed: int) -> ShallowNet:
    """The shallow net with `variant` init: 'zeros', 'constant' (every W entry cfg.constant) or 'small'."""
    net = ShallowNet(n_x, cfg.n_h, activation=cfg.activation,
                     init="small" if variant == "small" else "zeros", seed=seed)
    if variant == "constant":
        for name, W in net.params.items():
            if name.startswith("W"):
                W[...] = cfg.constant                          # [n_l, n_{l-1}], all equal
    return net


def unit_spread(params: dict[str, np.ndarray]) -> float:
    """max_i |u_i - u_1| / max |u| with u_i = (W1[i, :], b1[i], W2[:, i]): 0 when every
    hidden unit holds the same parameters (0 too when they are all zero)."""
    U = np.hstack([params["W1"], params["b1"], params["W2"].T])     # [n_h, n_x + 1 + n_y]
    size = float(np.max(np.abs(U)))
    return 0.0 if size == 0.0 else float(np.max(np.abs(U - U[0])) / size)


class Symmetry(Probe):
    """The largest unit spread over training and the rank of W1 at `states`, per side."""

    def __init__(self, states: list[int]) -> None:
        self.states = set(states)
        self.rank: dict[str, dict[int, int]] = {side: {} for side in SIDES}
        self.spread = {side: 0.0 for side in SIDES}

    def start(self, side: ScratchSide, reference: Net) -> None:
        self._measure(0, {"scratch": side.params, "torch": adapter.params_from_torch(reference)})

    def step(self, record: StepRecord) -> None:
        self._measure(record.step + 1, record.params)

    def _measure(self, state: int, params: Mapping[str, dict[str, np.ndarray]]) -> None:
        for side in SIDES:
            spread = unit_spread(params[side])
            rank = int(np.linalg.matrix_rank(params[side]["W1"]))        # W1 [n_h, n_x]: cheap
            self.spread[side] = max(self.spread[side], spread)
            if state in self.states:
                self.rank[side][state] = rank
            self.emit(side, "symmetry/w1_rank", rank, state)
            self.emit(side, "symmetry/unit_spread", spread, state)


def run(settings: Settings) -> Result:
    cfg = QUICK if settings.quick else FULL
    data = datasets.load(cfg.dataset, seed=settings.seed)
    states = checkpoints(cfg.iterations)
    table = Table(["init", *(f"rank W1, step {s}" for s in states), "unit spread",
                   "train acc", "test acc"])
    facts: dict = {}
    with Session(NAME, settings, len(VARIANTS) * cfg.iterations) as session:
        for variant in VARIANTS:
            probe = Symmetry(states)
            report = session.train(build(variant, cfg, data.n_x, settings.seed), data,
                                   variant=variant, lr=cfg.lr, iterations=cfg.iterations,
                                   probes=[probe])
            final = finals(report)
            facts[variant] = {"rank": probe.rank, "spread": probe.spread,
                              "accuracy": {k: final[k] for k in ("train", "test")}}
            ranks = [{s: probe.rank[s][t] for s in SIDES} for t in states]
            table.add(variant, *(pair(r, "d") for r in ranks), pair(probe.spread, ".1e"),
                      pair(final["train"]), pair(final["test"]))
    setup = (f"ShallowNet [{data.n_x}, {cfg.n_h}, 1], {cfg.activation} hidden units, sigmoid "
             f"output, on {cfg.dataset} (m_train = {data.X_train.shape[1]}), lr {cfg.lr}, "
             f"{cfg.iterations} steps of batch gradient descent, seed {settings.seed}; 'constant' "
             f"sets every weight to {cfg.constant}, biases start at 0")
    return Result(NAME, setup, [table], f"{conclusion(facts, cfg)} {session.agreement()}", facts,
                  logs=session.folder)


LEARNED = 0.1     # above chance (0.5) and above the tied inits by this much: small init learned


def _tied_text(facts: dict, cfg: Config) -> str:
    """What the zeros and constant runs show: tied units, W1's rank, accuracy near chance."""
    tied = [f"{v} init" for v in ("zeros", "constant")
            if max(facts[v]["spread"].values()) <= SYMMETRY_TOL]
    worst = max(max(facts[v]["spread"].values()) for v in ("zeros", "constant"))
    tied_acc = [facts[v]["accuracy"]["test"]["scratch"] for v in ("zeros", "constant")]
    chance = ("near chance (0.5): the network draws a straight boundary through concentric "
              "classes" if all(abs(a - 0.5) <= 0.1 for a in tied_acc) else "(chance is 0.5)")
    rank = {v: max(facts[v]["rank"]["scratch"].values()) for v in ("zeros", "constant")}
    zeros = " (zeros: W1 never moves)" if rank["zeros"] == 0 else ""
    constant = (f" (constant: one unit, copied {cfg.n_h} times)"
                if rank["constant"] <= 1 and "constant init" in tied else "")
    return (f"{' and '.join(tied).capitalize() or 'Neither zeros nor constant init'} kept every "
            f"hidden unit identical for all {cfg.iterations} steps in both implementations "
            f"(largest spread between two units, relative to their size: {worst:.1e}; 'equal' "
            f"means <= {SYMMETRY_TOL:.1e}). W1 kept rank {rank['zeros']}{zeros} and "
            f"{rank['constant']}{constant}, and test accuracy stayed at {tied_acc[0]:.3f} and "
            f"{tied_acc[1]:.3f}, {chance}.")


def _small_text(facts: dict, cfg: Config) -> str:
    """What the small-init run shows, its claims checked: the symmetry broken, and learning
    that the tied inits cannot do (or that the run was too short to show it)."""
    small = facts["small"]
    spread, rank0 = small["spread"]["scratch"], small["rank"]["scratch"][0]
    if spread <= SYMMETRY_TOL or rank0 < 2:
        broke = (f"Small random init did not break the symmetry (W1 rank {rank0} at step 0, "
                 f"units apart by at most {spread:.1e} of their size)")
    else:
        broke = (f"Small random init broke the symmetry from step 0 (W1 rank {rank0}, units "
                 f"apart by {spread:.2f} of their size)")
    acc = small["accuracy"]["test"]["scratch"]
    tied = max(facts[v]["accuracy"]["test"]["scratch"] for v in ("zeros", "constant"))
    if acc >= max(0.5, tied) + LEARNED:
        return f"{broke} and reached test accuracy {acc:.3f}."
    return (f"{broke}, but its test accuracy after {cfg.iterations} steps is {acc:.3f}, no "
            f"better than chance (0.5) or the tied inits (best {tied:.3f}): the run was too "
            "short to show what breaking the symmetry buys.")


def conclusion(facts: dict, cfg: Config) -> str:
    return f"{_tied_text(facts, cfg)} {_small_text(facts, cfg)}"


EXPERIMENT = Experiment(
    name=NAME, section="§3.4", title="Zero and constant initialization: the symmetry problem",
    question="Does zero (or any constant) initialization keep every hidden unit identical "
             "through training, and does small random initialization break the symmetry?",
    run=run)
