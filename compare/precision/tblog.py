"""The audit's TensorBoard logs: one run per precision, all with the same tags, so that
TensorBoard draws every precision's curve on one chart per tag.

    <logdir>/precision-<YYYYmmdd-HHMMSS>/
        float64/  float32/  tf32/  bfloat16/  float16/     drift/params, drift/cost,
                                                           drift/predictions
        scratch-float64/                                   loss/train (the truth's J),
                                                           text precision/report

States 0 .. 100 are all written (where the early growth is), then every N/500-th and the last.
"""

from __future__ import annotations

import math
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter

EVERY_STATE_UP_TO = 100
POINTS = 500


class Writers:
    """A `SummaryWriter` per run under `folder`, made on first use; `close` closes them all."""

    def __init__(self, folder: Path, iterations: int) -> None:
        self.folder, self.iterations = folder, iterations
        self.every = max(1, iterations // POINTS)
        self.writers: dict[str, SummaryWriter] = {}

    def kept(self, state: int) -> bool:
        return state <= EVERY_STATE_UP_TO or state % self.every == 0 or state == self.iterations

    def writer(self, run: str) -> SummaryWriter:
        if run not in self.writers:
            self.writers[run] = SummaryWriter(log_dir=str(self.folder / run))
        return self.writers[run]

    def __call__(self, run: str, tag: str, value: float, state: int) -> None:
        """Scalar `tag` of `run` at `state` (a NaN, after a run diverged, is left out)."""
        if self.kept(state) and not math.isnan(value):
            self.writer(run).add_scalar(tag, value, state)

    def text(self, run: str, tag: str, markdown: str) -> None:
        self.writer(run).add_text(tag, markdown, 0)

    def close(self) -> None:
        for w in self.writers.values():
            w.close()
