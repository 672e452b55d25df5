"""One `nncompare` run over its models: each checked, trained in lockstep, logged, checkpointed
(`compare.run.resume` writes the checkpoints and reads them back for `--resume`).

A stop signal (Ctrl-C, SIGTERM, SIGHUP) asks training to stop after the step in progress, so
that both sides, the TensorBoard runs and the checkpoints all hold the same state; the logger
marks its runs as interrupted, the checkpoints are written, and the `Interrupted` goes on up
to the command line (exit 128 + the signal). A second one, or one during a model's checks,
stops at once, without a checkpoint of the model in progress. `nncompare --resume
<experiment>` goes on from the checkpoints: the same batches, step numbers and TensorBoard
charts an unbroken run would have.

`Runner` wires each harness run to its logger, its hooks, the progress callback and the
signals; the experiments (`compare.experiments.session`) run their models through it too,
without checkpoints. `log_plan` says where a run will log, for both.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from compare.output.tensorboard.logger import Cadence, ModelLogger
from compare.proof.harness import check_model
from compare.proof.lockstep import StepRecord
from compare.proof.protocol import ScratchSide
from compare.proof.result import ModelReport
from compare.run import rundir, signals
from compare.run.config import RunConfig
from compare.run.resume import Job, resumable, save_checkpoints
from scratch.datasets import Dataset
from scratch.errors import InvalidArgument
from torch_ref.models import Net

__all__ = ["Hook", "Job", "Runner", "Settings", "StopAtStep", "log_plan", "on_step",
           "refuse_without_logs", "run"]


class StopAtStep:
    """While active, the first stop signal (Ctrl-C, SIGTERM, SIGHUP: `compare.run.signals`)
    asks for a stop after the current training step; a second one, or one that comes before
    training has started (during the checks: nothing there is worth finishing), raises
    `Interrupted` at once (`forced`: no checkpoint is written for the model in progress).
    `check()` raises it at a step boundary once asked. A signal the parent set to be ignored
    stays ignored."""

    def __init__(self) -> None:
        self.requested = self.forced = False
        self.training = True                 # False while a model's checks run
        self.signum = int(signal.SIGINT)
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopAtStep:
        if threading.current_thread() is threading.main_thread():
            self._previous = signals.install(self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        signals.restore(self._previous)
        self._previous = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum
        if self.requested or not self.training:
            self.forced = True
            raise signals.Interrupted(signum)
        self.requested = True
        print(f"\nnncompare: {signals.name(signum)}: stopping after this step "
              "(Ctrl-C again to stop at once)", file=sys.stderr)

    def check(self) -> None:
        if self.requested:
            raise signals.Interrupted(self.signum)


class Hook(Protocol):
    """What a harness run calls besides its logger (the experiments' probes)."""

    def start(self, wrapped: ScratchSide, reference: Net, /) -> None: ...

    def step(self, record: StepRecord, /) -> None: ...


class Runner:
    """Harness runs, one after another, each wired to its logger, its hooks, the progress
    callback and Ctrl-C; `nncompare` (`run`) and the experiments (`compare.experiments.session`)
    both run their models through one. While it is open (a context manager), the first Ctrl-C
    stops the run in progress after its step (`StopAtStep`).

    Attributes:
        logger: the ModelLogger of the run in progress (None without logs).
        steps: the steps its model has taken (from its start step, when resumed): where its
            checkpoint stands.
        reference: its torch Net, once the harness has built it (None before).
        seconds: spent in the loggers' hooks, over every run that finished.
        stop: the Ctrl-C handling.
    """

    def __init__(self, progress: Callable[[int], None] | None = None) -> None:
        self.progress = progress
        self.stop = StopAtStep()
        self.logger: ModelLogger | None = None
        self.steps = 0
        self.reference: Net | None = None
        self.seconds = 0.0
        self.name = ""                          # the model in progress
        self.training_started = False           # False while its checks run
        self.periodic: Callable[[], None] | None = None   # a checkpoint, every `every` steps
        self.every = 0
        self.problems: list[str] = []           # what could not be written

    def __enter__(self) -> Runner:
        self.stop.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.__exit__(*exc)

    def check(self, model: object, data: Dataset, logger: ModelLogger | None,
              hooks: Sequence[Hook] = (), *, start_step: int = 0, **harness: Any) -> ModelReport:
        """`check_model(model, data, start_step=..., **harness)`, `logger` and `hooks` started
        with both sides and called every step; the report, which the logger records."""
        self.logger, self.steps, self.reference = logger, start_step, None
        self.name, self.training_started = str(harness.get("name") or type(model).__name__), False
        self.stop.training = False              # a signal during the checks stops at once
        listeners: list[Hook] = [*hooks, *([logger] if logger is not None else [])]

        def on_start(wrapped: ScratchSide, reference: Net) -> None:
            self.reference = reference
            for hook in listeners:
                hook.start(wrapped, reference)

        try:
            return self._checked(model, data, logger, listeners, on_start, start_step, harness)
        finally:
            self.stop.training = True

    def _checked(self, model: object, data: Dataset, logger: ModelLogger | None,
                 listeners: list[Hook], on_start: Callable[[ScratchSide, Net], None],
                 start_step: int, harness: dict[str, Any]) -> ModelReport:
        with logger if logger is not None else contextlib.nullcontext():
            report = check_model(model, data, on_start=on_start, on_step=on_step(listeners),
                                 progress=self._progress, start_step=start_step, **harness)
            if logger is not None:
                logger.finish(report)
                self.seconds += logger.seconds
        return report

    def _progress(self, t: int) -> None:      # after step t of both sides and of the hooks
        self.steps = t + 1
        self.training_started = self.stop.training = True
        if self.progress is not None:
            self.progress(t)
        self.stop.check()
        if self.periodic is not None and self.every and self.steps % self.every == 0:
            self.periodic()


def on_step(hooks: Sequence[Hook]) -> Callable[[StepRecord], None] | None:
    """One callback calling every hook's `step`; None for none (the harness then builds no
    StepRecord)."""
    if len(hooks) <= 1:
        return hooks[0].step if hooks else None

    def each(record: StepRecord) -> None:
        for hook in hooks:
            hook.step(record)
    return each


def log_plan(logdir: str | None, name: str | None, default: str, overwrite: bool,
             needs_logs: Mapping[str, bool] | None = None) -> rundir.Plan | None:
    """Where a run will log, checked, nothing created yet: LOGDIR/NAME, or a new
    LOGDIR/<default>-<time> for `name` None (`compare.run.rundir.plan`); None without logs
    (`logdir` None), where a flag of `needs_logs` that is given is an error."""
    if logdir is not None:
        return rundir.plan(logdir, name, default, overwrite)
    refuse_without_logs(needs_logs or {})
    return None


def refuse_without_logs(flags: Mapping[str, bool]) -> None:
    """InvalidArgument for the first of `flags` ({'--overwrite': given, ...}) that is given,
    in a run without logs."""
    flag = next((flag for flag, on in flags.items() if on), None)
    if flag is not None:
        raise InvalidArgument(f"no-log: {flag} needs the logs that --no-log turns off")


@dataclass
class Settings:
    """How `run` logs and checkpoints (None experiment: no logs, no checkpoints)."""

    experiment: Path | None
    cadence: Cadence
    log_config: dict
    run_id: str | None = None
    checkpoint_every: int = 0            # also checkpoint every N steps (0: at the end only)
    plugin: bool = False                 # a --scratch-impl model: no checkpoints (no format)


def run(jobs: list[Job], cfg: RunConfig, data: Dataset, experiment: Path | None, cadence: Cadence,
        log_config: dict, progress: Callable[[int], None], *, run_id: str | None = None,
        checkpoint_every: int = 0, problems: list[str] | None = None) -> tuple[list[ModelReport], float]:
    """Check and train every job, logging to `experiment` (None: no logs, no checkpoints);
    the reports, and the seconds spent logging. What could not be written (a checkpoint on a
    full disk) goes to `problems`; the run goes on. Interrupted: `signals.Interrupted`, its
    `where` saying what was kept."""
    how = Settings(experiment, cadence, log_config, run_id, checkpoint_every,
                   plugin=any(job.plugin for job in jobs))
    reports: list[ModelReport] = []
    with Runner(progress) as runner:
        runner.problems = problems if problems is not None else []
        try:
            for job in jobs:
                reports.append(run_job(job, cfg, data, how, runner))
        except KeyboardInterrupt as exc:
            raise interruption(exc, runner, how, reports) from None
        except InvalidArgument as exc:     # found late: did any training start? (the folder stays)
            exc.started = bool(reports) or runner.training_started  # type: ignore[attr-defined]
            raise
    return reports, runner.seconds


def interruption(exc: KeyboardInterrupt, runner: Runner, how: Settings,
                 reports: list[ModelReport]) -> signals.Interrupted:
    """The Interrupted to raise, saying where the run stopped and what exists."""
    signum = exc.signum if isinstance(exc, signals.Interrupted) else runner.stop.signum
    done = [r.model for r in reports]
    stopped = (f"during the checks of {runner.name}" if not runner.training_started
               else f"after step {runner.steps - 1} of {runner.name}")
    text = stopped + (f" ({', '.join(done)} finished)" if done else "")
    if how.experiment is None:
        return signals.Interrupted(signum, f"{text}; --no-log keeps no logs and no checkpoints")
    if resumable(how.experiment):
        return signals.Interrupted(signum, f"{text}; logs and checkpoints so far in "
                                   f"{how.experiment} (go on with: nncompare --resume "
                                   f"{how.experiment} --iterations N, N more steps of each model)")
    why = ("a --scratch-impl model keeps no checkpoints" if how.plugin
           else "no checkpoint was written")
    return signals.Interrupted(signum, f"{text}; logs so far in {how.experiment}; {why}, so the "
                               "run cannot be resumed")


def run_job(job: Job, cfg: RunConfig, data: Dataset, how: Settings, runner: Runner) -> ModelReport:
    """One job through `runner`, its checkpoints saved after it (or when a signal stops it at
    a step, and every `how.checkpoint_every` steps)."""
    experiment = how.experiment
    logger = (ModelLogger(experiment / job.kind, job.kind, data, lr=job.lr, iterations=cfg.iterations,
                          config=how.log_config, cadence=how.cadence, start_step=job.start_step)
              if experiment is not None else None)

    def save() -> None:
        if experiment is not None:
            problem = save_checkpoints(experiment, job, runner.reference, runner.steps, cfg, how.run_id)
            if problem is not None and problem not in runner.problems:
                runner.problems.append(problem)

    runner.periodic = save if how.checkpoint_every else None
    runner.every = how.checkpoint_every
    try:
        result = runner.check(
            job.model, data, logger, lr=job.lr, iterations=cfg.iterations, batch_size=cfg.batch_size,
            seed=cfg.seed, device=cfg.device, activation=cfg.activation, output=cfg.output_for(data),
            alpha=cfg.alpha, fd_max_entries=cfg.fd_max_entries, fd_mode=cfg.fd_mode, name=job.kind,
            start_step=job.start_step, torch_params=job.torch_params)
    except KeyboardInterrupt:
        if not runner.stop.forced:
            save()
        raise
    if not result.error:
        save()
    return result


