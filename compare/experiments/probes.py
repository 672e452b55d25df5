"""Per-step measurements on both sides of a lockstep run, each side with its own code.

A probe plugs into `compare.proof.harness.check_model`: `start(side, reference)` gets the
scratch model and the torch `Net` once both hold the initial parameters, and
`step(record)` gets each `compare.proof.lockstep.StepRecord` (the grads of step t and the
parameters after it, of both sides). Anything a probe keeps it copies: the record
holds live arrays.

State s is the model after s updates: `start` sees state 0, `step` with
record.step = t sees state t + 1. A probe's own quantities also go to TensorBoard,
beside the standard tags, through `emit` (at state s, as the logger's steps are).
"""

from __future__ import annotations

import numpy as np
import torch

from compare import adapter
from compare.proof.lockstep import StepRecord
from compare.proof.protocol import ScratchSide
from torch_ref.models import Net


class Probe:
    """Does nothing; subclasses measure something at the start and after each step.

    Attributes:
        writers: {'scratch': SummaryWriter, 'torch': ...} of the run's logger, set by the
            session while it runs (None without logs).
    """

    writers: dict | None = None

    def emit(self, side: str, tag: str, value: float, state: int) -> None:
        """Log `value` as scalar `tag` of `side`'s TensorBoard run at state `state`."""
        if self.writers is not None:
            self.writers[side].add_scalar(tag, value, state)

    def start(self, side: ScratchSide, reference: Net) -> None:
        """Called once, at state 0, with both models holding the same parameters."""

    def step(self, record: StepRecord) -> None:
        """Called after every step t (state t + 1)."""


def checkpoints(iterations: int) -> list[int]:
    """States to report: 0, 1, 10, 100, ... below `iterations`, and `iterations` itself."""
    states, s = [0], 1
    while s < iterations:
        states.append(s)
        s *= 10
    return states + [iterations]


@torch.no_grad()
def torch_layers(reference: Net, X: np.ndarray) -> dict[str, np.ndarray]:
    """{'Z1': [n1, m], 'A1': [n1, m], ..., 'ZL'} of the torch model, each computed by its own
    modules on X [n0, m], in the notes' layout (the output activation is in the loss)."""
    H = adapter.batch_to_torch(X, reference.device, reference.dtype)   # [m, n0]
    values: dict[str, np.ndarray] = {}
    for name, module in adapter.modules_in_order(reference):
        H = module(H)                                                  # [m, n_l]
        values[name] = adapter.batch_to_scratch(H)                     # [n_l, m]
    return values

