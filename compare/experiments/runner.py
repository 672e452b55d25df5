"""Train both implementations for an experiment: the harness, a progress bar, the logs,
and the assertion that they agree.

Every training run of an experiment goes through `Session.train`, which calls
`compare.harness.check_model` (forward, gradients, finite differences, and the
lockstep trajectory of both sides) and raises `ExperimentFailed` unless all four
checks pass: every number an experiment reports is backed by both implementations.

The models are tiny, so torch runs on one thread while a session is open: on a
2-core machine, thread hand-offs cost more than the arithmetic (measured: ~10x
slower per step with 2 threads on a loaded machine).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import torch
from tqdm.auto import tqdm

from compare.experiments.base import ExperimentFailed, Settings
from compare.experiments.probes import Probe
from compare.harness import ModelReport, check_model
from compare.lockstep import StepRecord
from compare.protocol import ScratchSide
from compare.tolerances import tolerance
from scratch.datasets import Dataset
from torch_ref.models import Net

FD_ENTRIES = 200   # finite differences check a seeded sample of this many entries per point


class Session:
    """The runs of one experiment. Use as a context manager.

    Args:
        name: the experiment's name (the TensorBoard folder under the logdir).
        settings: seed, logdir, progress.
        total_steps: training steps the experiment will take in all (for the progress bar).
    """

    def __init__(self, name: str, settings: Settings, total_steps: int) -> None:
        self.name = name
        self.settings = settings
        self.total_steps = total_steps
        self.bar: tqdm | None = None
        self.runs: dict[str, tuple[float, float, int | None]] = {}   # variant: step err, drift, over
        self._threads = torch.get_num_threads()

    def __enter__(self) -> Session:
        torch.set_num_threads(1)
        self.bar = tqdm(total=self.total_steps, desc=self.name, unit="step", file=sys.stderr,
                        disable=None if self.settings.progress else True, leave=False)
        return self

    def __exit__(self, *exc: object) -> None:
        torch.set_num_threads(self._threads)
        if self.bar is not None:
            self.bar.close()

    def check(self, model: object, data: Dataset, *, variant: str, lr: float, iterations: int,
              probes: Sequence[Probe] = (), fd_max_entries: int = FD_ENTRIES) -> ModelReport:
        """Run the harness on `model` and return its report, passed or not."""
        if self.bar is not None:
            self.bar.set_postfix_str(variant)

        def on_start(side: ScratchSide, reference: Net) -> None:
            for p in probes:
                p.start(side, reference)

        def on_step(record: StepRecord) -> None:
            for p in probes:
                p.step(record)

        return check_model(model, data, lr=lr, iterations=iterations, seed=self.settings.seed,
                           fd_max_entries=fd_max_entries, name=variant, on_start=on_start,
                           on_step=on_step, progress=self._tick)

    def train(self, model: object, data: Dataset, *, variant: str, lr: float, iterations: int,
              probes: Sequence[Probe] = ()) -> ModelReport:
        """Train both sides in lockstep; raise `ExperimentFailed` unless every check agrees."""
        report = self.check(model, data, variant=variant, lr=lr, iterations=iterations,
                            probes=probes)
        if not report.passed:
            raise ExperimentFailed(
                f"{self.name}, {variant}: the two implementations disagree: {report.diagnosis}")
        tol = tolerance("float64", "cpu").trajectory
        t = report.trajectory
        over = next((i for i, d in enumerate(t.drift) if d > tol), None)
        self.runs[variant] = (max(t.step_error, default=0.0), max(t.drift, default=0.0), over)
        return report

    def agreement(self) -> str:
        """How closely the two sides agreed over the session's trained runs, in one or two sentences.

        The step error (one step from a common state) is what the trajectory check judges; the
        drift compares the two free-running runs, which gradient descent may pull apart by
        amplifying rounding even while every step agrees (see `compare.lockstep`).
        """
        if not self.runs:
            return ""
        tol = tolerance("float64", "cpu").trajectory
        step = max(r[0] for r in self.runs.values())
        parted = {v: r for v, r in self.runs.items() if r[2] is not None}
        text = (f"Every step of every run agreed between scratch and torch to {step:.0e} (relative; "
                f"the trajectory check's bound is {tol:.0e}); ")
        if not parted:
            return text + (f"the free-running runs stayed within "
                           f"{max(r[1] for r in self.runs.values()):.0e} of each other, so every "
                           "number above is the same on both sides.")
        runs = ", ".join(f"{v} (from step {r[2]}, largest drift {r[1]:.0e})" for v, r in parted.items())
        return text + (f"but the free-running runs of {runs} parted: gradient descent amplified "
                       "rounding differences of the two implementations, so the later numbers of "
                       "those runs differ between the sides; every other number is the same on both.")

    def _tick(self, t: int) -> None:
        if self.bar is not None:
            self.bar.update(1)
