"""One `nncompare` run over its models: each checked, trained in lockstep, logged, checkpointed.

    <experiment>/<model>/scratch/checkpoint.npz   each side's parameters after its last step
    <experiment>/<model>/torch/checkpoint.npz     (compare.run.checkpoint's format)

Ctrl-C (SIGINT) asks training to stop after the step in progress, so that both
sides, the TensorBoard runs and the checkpoints all hold the same state; the
logger marks its runs as interrupted, the checkpoints are written, and
KeyboardInterrupt goes on up to the command line (exit 130). A second Ctrl-C stops
at once, without checkpoints. `nncompare --resume <experiment>` goes on from the
checkpoints: the same batches, step numbers and TensorBoard charts an unbroken run
would have.

`Runner` wires each harness run to its logger, its hooks, the progress callback and Ctrl-C;
the experiments (`compare.experiments.session`) run their models through it too, without
checkpoints. `log_plan` says where a run will log, for both.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

import numpy as np

from compare.output.tensorboard.logger import Cadence, ModelLogger
from compare.proof.harness import check_model
from compare.proof.lockstep import StepRecord
from compare.proof.protocol import ScratchSide
from compare.proof.result import ModelReport
from compare.run import checkpoint, rundir
from compare.run.config import RunConfig
from scratch.datasets import Dataset
from scratch.errors import InvalidArgument
from scratch.model import Model
from torch_ref.models import Net

CHECKPOINT = "checkpoint.npz"


@dataclass
class Job:
    """One model of the run, and where it starts."""

    kind: str                                        # 'logistic', 'shallow', 'deep' or a class name
    model: Any                                       # a scratch-protocol model
    lr: float
    start_step: int = 0                              # > 0 when resumed from checkpoints
    torch_params: dict[str, np.ndarray] | None = None


class StopAtStep:
    """While active, the first SIGINT asks for a stop after the current step; a second one
    raises KeyboardInterrupt at once. `check()` raises it at a step boundary once asked."""

    def __init__(self) -> None:
        self.requested = self.forced = False
        self._previous: Any = None

    def __enter__(self) -> StopAtStep:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            self.forced = True
            raise KeyboardInterrupt
        self.requested = True
        print("\nnncompare: stopping after this step (Ctrl-C again to stop at once)", file=sys.stderr)

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt


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
        listeners: list[Hook] = [*hooks, *([logger] if logger is not None else [])]

        def on_start(wrapped: ScratchSide, reference: Net) -> None:
            self.reference = reference
            for hook in listeners:
                hook.start(wrapped, reference)

        with logger if logger is not None else contextlib.nullcontext():
            report = check_model(model, data, on_start=on_start, on_step=on_step(listeners),
                                 progress=self._progress, start_step=start_step, **harness)
            if logger is not None:
                logger.finish(report)
                self.seconds += logger.seconds
        return report

    def _progress(self, t: int) -> None:      # after step t of both sides and of the hooks
        self.steps = t + 1
        if self.progress is not None:
            self.progress(t)
        self.stop.check()


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


def checkpoint_path(experiment: Path, kind: str, side: str) -> Path:
    return experiment / kind / side / CHECKPOINT


def save_checkpoints(experiment: Path, job: Job, reference: Net | None, steps: int,
                     cfg: RunConfig) -> None:
    """Both sides' parameters after `steps` steps (our models only: a plug-in has no format;
    none before the harness built `reference`)."""
    if not isinstance(job.model, Model) or reference is None:
        return
    if not all(np.all(np.isfinite(p)) for p in job.model.params.values()):
        return                                       # a diverged run: nothing worth resuming
    extra = {"config": cfg.as_dict(), "kind": job.kind, "lr": job.lr}
    checkpoint.save(checkpoint_path(experiment, job.kind, "scratch"), job.model, steps, extra)
    checkpoint.save(checkpoint_path(experiment, job.kind, "torch"), reference, steps, extra)


def run(jobs: list[Job], cfg: RunConfig, data: Dataset, experiment: Path | None, cadence: Cadence,
        log_config: dict, progress: Callable[[int], None]) -> tuple[list[ModelReport], float]:
    """Check and train every job, logging to `experiment` (None: no logs, no checkpoints);
    the reports, and the seconds spent logging."""
    with Runner(progress) as runner:
        reports = [run_job(job, cfg, data, experiment, cadence, log_config, runner) for job in jobs]
    return reports, runner.seconds


def run_job(job: Job, cfg: RunConfig, data: Dataset, experiment: Path | None, cadence: Cadence,
            log_config: dict, runner: Runner) -> ModelReport:
    """One job through `runner`, its checkpoints saved after it (or when Ctrl-C stops it)."""
    logger = (ModelLogger(experiment / job.kind, job.kind, data, lr=job.lr, iterations=cfg.iterations,
                          config=log_config, cadence=cadence, start_step=job.start_step)
              if experiment is not None else None)
    try:
        result = runner.check(
            job.model, data, logger, lr=job.lr, iterations=cfg.iterations, batch_size=cfg.batch_size,
            seed=cfg.seed, device=cfg.device, activation=cfg.activation, output=cfg.output_for(data),
            alpha=cfg.alpha, fd_max_entries=cfg.fd_max_entries, name=job.kind,
            start_step=job.start_step, torch_params=job.torch_params)
    except KeyboardInterrupt:
        if experiment is not None and not runner.stop.forced:
            save_checkpoints(experiment, job, runner.reference, runner.steps, cfg)
        raise
    if experiment is not None and not result.error:
        save_checkpoints(experiment, job, runner.reference, runner.steps, cfg)
    return result


@contextlib.contextmanager
def _as_invalid(what: str) -> Iterator[None]:
    try:
        yield
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InvalidArgument):
            raise
        raise InvalidArgument(f"resume: {what} is not a checkpoint of nncompare ({exc})") from None


def _saved_config(saved: Mapping[str, Any]) -> RunConfig:
    """The RunConfig a checkpoint's extra["config"] holds (its JSON lists back as tuples)."""
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()
                              if k != "extra"}      # an unused field that older runs saved
    return RunConfig(**fields)


def resumed_jobs(experiment: Path, models: tuple[str, ...]) -> tuple[RunConfig, list[Job]]:
    """The config and jobs of a run to resume from its checkpoints (InvalidArgument if none)."""
    if not experiment.is_dir():
        raise InvalidArgument(f"resume: {experiment} is not a folder of an nncompare run")
    found = [kind for kind in models if checkpoint_path(experiment, kind, "scratch").is_file()]
    if not found:
        raise InvalidArgument(f"resume: {experiment} holds no checkpoints "
                              f"(expected {experiment}/<model>/scratch/{CHECKPOINT}; a run of "
                              "a --scratch-impl model keeps none, so it cannot be resumed)")
    jobs, cfg = [], None
    for kind in found:
        mine, other = checkpoint_path(experiment, kind, "scratch"), checkpoint_path(experiment, kind, "torch")
        with _as_invalid(str(mine)):
            ours, theirs = checkpoint.load(mine), checkpoint.load(other)
            pair = [(c.side, list(c.spec.layer_dims), c.step) for c in (ours, theirs)]
            sides = ours.side == "scratch" and theirs.side == "torch"
            if not sides or (ours.spec, ours.step) != (theirs.spec, theirs.step):
                raise InvalidArgument(
                    f"resume: {mine} and {other} are not the scratch and torch sides of one model "
                    "after the same steps (got, as (side, layer_dims, step): "
                    f"{pair[0]} and {pair[1]})")
            cfg = _saved_config(ours.extra["config"])
            jobs.append(Job(kind, checkpoint.to_scratch(ours), float(ours.extra["lr"]), ours.step,
                            theirs.params))
    assert cfg is not None
    return cfg, jobs
