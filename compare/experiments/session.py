"""Train both implementations for an experiment: the harness, a progress bar, the TensorBoard
logs, and the assertion that they agree.

Every training run of an experiment goes through `Session.train`, which calls
`compare.proof.harness.check_model` (forward, gradients, finite differences, and the
lockstep trajectory of both sides) and raises `ExperimentFailed` unless all four
checks pass: every number an experiment reports is backed by both implementations.
Each run is logged by `compare.output.tensorboard.logger.ModelLogger` to
<logdir>/exp-<experiment>[-<timestamp>]/<variant>/{scratch,torch,diff}. The runs go
through `compare.run.job.Runner`, as `nncompare`'s do: a first Ctrl-C stops the run in
progress after its step (its logs say so), a second one at once.

Threads follow the policy every check follows (`scratch.spec.threads_for`, applied by the
harness to both sides): the experiments' models are small, so one thread each.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from compare.experiments.base import ExperimentFailed, Settings, trajectory
from compare.experiments.probes import Probe
from compare.output.tensorboard.logger import Cadence, ModelLogger
from compare.proof.result import ModelReport
from compare.proof.tolerances import tolerance
from compare.run import rundir
from compare.run.job import Runner, log_plan
from scratch.datasets import Dataset

FD_ENTRIES = 200   # finite differences check a seeded sample of this many entries per point
SHOWN = 1e-4       # a drift below this is invisible in the tables (3 to 4 significant digits)


def cadence(iterations: int) -> Cadence:
    """Lighter than nncompare's: ~100 points a chart, ~10 histograms, 3 decision boundaries
    (start, middle, end), since an experiment logs dozens of runs (each state logged costs a
    forward pass of each side on both splits)."""
    return Cadence.auto(iterations, scalars=max(1, iterations // 100),
                        images=max(1, iterations // 2))


def folder_plan(name: str, settings: Settings) -> rundir.Plan | None:
    """Where the experiment `name` will log (checked, nothing created), or None without logs:
    a new LOGDIR/exp-NAME-<time>, or LOGDIR/exp-NAME with `overwrite`."""
    folder = f"exp-{name}"
    return log_plan(settings.logdir, folder if settings.overwrite else None, folder,
                    settings.overwrite)


class Session:
    """The runs of one experiment. Use as a context manager.

    Args:
        name: the experiment's name (its TensorBoard folder is exp-<name>...).
        settings: seed, logdir, progress.
        total_steps: training steps the experiment will take in all (for the progress bar).

    Attributes:
        logs: the experiment's TensorBoard folder (None without logs).
        runs: {variant: (largest step error, largest drift, first step the drift passed the
            trajectory tolerance or None)} of every trained run.
    """

    def __init__(self, name: str, settings: Settings, total_steps: int) -> None:
        self.name = name
        self.settings = settings
        self.total_steps = total_steps
        self.plan = folder_plan(name, settings)
        self.logs: Path | None = None
        self.bar: tqdm | None = None
        self.runs: dict[str, tuple[float, float, int | None]] = {}
        self.runner = Runner(progress=self._tick)

    def __enter__(self) -> Session:
        self.bar = tqdm(total=self.total_steps, desc=self.name, unit="step", file=sys.stderr,
                        disable=None if self.settings.progress else True, leave=False)
        self.runner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.runner.__exit__(*exc)
        if self.bar is not None:
            self.bar.close()

    def check(self, model: object, data: Dataset, *, variant: str, lr: float, iterations: int,
              probes: Sequence[Probe] = (), fd_max_entries: int = FD_ENTRIES) -> ModelReport:
        """Run the harness on `model` (logged) and return its report, passed or not."""
        if self.bar is not None:
            self.bar.set_postfix_str(variant)
        logger = self._logger(variant, data, lr, iterations)
        for p in probes:
            p.writers = logger.writers if logger is not None else None
        return self.runner.check(model, data, logger, probes, lr=lr, iterations=iterations,
                                 seed=self.settings.seed, fd_max_entries=fd_max_entries,
                                 name=variant)

    def train(self, model: object, data: Dataset, *, variant: str, lr: float, iterations: int,
              probes: Sequence[Probe] = ()) -> ModelReport:
        """Train both sides in lockstep; raise `ExperimentFailed` unless every check agrees."""
        report = self.check(model, data, variant=variant, lr=lr, iterations=iterations,
                            probes=probes)
        if not report.passed:
            raise ExperimentFailed(
                f"{self.name}, {variant}: the two implementations disagree: {report.diagnosis}")
        tol = tolerance("float64", "cpu").trajectory
        t = trajectory(report)
        over = next((i for i, d in enumerate(t.drift) if d > tol), None)
        self.runs[variant] = (max(t.step_error, default=0.0), max(t.drift, default=0.0), over)
        return report

    def agreement(self) -> str:
        """How closely the two sides agreed over the session's trained runs, in one sentence.

        The step error (one step from a common state) is what the trajectory check judges; the
        drift compares the two free-running runs, which gradient descent may pull apart by
        amplifying rounding even while every step agrees (see `compare.proof.lockstep`).
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
        runs = ", ".join(f"{v} (from step {r[2]}, up to {r[1]:.0e})" for v, r in parted.items())
        text += (f"the free-running runs of {runs} drifted apart by more than that bound, as "
                 "gradient descent amplified the two implementations' rounding differences")
        if max(r[1] for r in parted.values()) <= SHOWN:
            return text + ("; the drift is below the precision of the tables, so every number "
                           "above is the same on both sides.")
        return text + ("; those runs' later numbers differ between the sides (each is a correct run "
                       "from slightly different rounding); every other number is the same on both.")

    def _logger(self, variant: str, data: Dataset, lr: float, iterations: int) -> ModelLogger | None:
        """The three TensorBoard runs of `variant`, creating the experiment's folder on first use."""
        if self.plan is None:
            return None
        if self.logs is None:
            self.logs = rundir.create(self.plan)
        config = {"experiment": self.name, "variant": variant, "dataset": data.name,
                  "m_train": data.X_train.shape[1], "m_test": data.X_test.shape[1],
                  "seed": self.settings.seed, "quick": self.settings.quick}
        return ModelLogger(self.logs / variant, variant, data, lr=lr, iterations=iterations,
                           config=config, cadence=cadence(iterations))

    @property
    def folder(self) -> str | None:
        """The experiment's TensorBoard folder as text, None without logs."""
        return None if self.logs is None else str(self.logs)

    def _tick(self, t: int) -> None:
        if self.bar is not None:
            self.bar.update(1)
