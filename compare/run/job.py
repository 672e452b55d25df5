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
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from compare.output.tensorboard.logger import Cadence, ModelLogger
from compare.proof.harness import check_model
from compare.proof.protocol import ScratchSide
from compare.proof.result import ModelReport
from compare.run import checkpoint
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


def checkpoint_path(experiment: Path, kind: str, side: str) -> Path:
    return experiment / kind / side / CHECKPOINT


def save_checkpoints(experiment: Path, job: Job, side: ScratchSide, reference: Net, steps: int,
                     cfg: RunConfig) -> None:
    """Both sides' parameters after `steps` steps (our models only: a plug-in has no format)."""
    if not isinstance(job.model, Model):
        return
    if not all(np.all(np.isfinite(p)) for p in side.params.values()):
        return                                       # a diverged run: nothing worth resuming
    extra = {"config": cfg.as_dict(), "kind": job.kind, "lr": job.lr}
    checkpoint.save(checkpoint_path(experiment, job.kind, "scratch"), job.model, steps, extra)
    checkpoint.save(checkpoint_path(experiment, job.kind, "torch"), reference, steps, extra)


def run(jobs: list[Job], cfg: RunConfig, data: Dataset, experiment: Path | None, cadence: Cadence,
        log_config: dict, progress: Callable[[int], None]) -> tuple[list[ModelReport], float]:
    """Check and train every job, logging to `experiment` (None: no logs, no checkpoints);
    the reports, and the seconds spent logging."""
    reports: list[ModelReport] = []
    seconds = [0.0]
    with StopAtStep() as stop:
        for job in jobs:
            reports.append(run_job(job, cfg, data, experiment, cadence, log_config, progress, stop,
                                   seconds))
    return reports, seconds[0]


def run_job(job: Job, cfg: RunConfig, data: Dataset, experiment: Path | None, cadence: Cadence,
            log_config: dict, progress: Callable[[int], None], stop: StopAtStep,
            seconds: list[float]) -> ModelReport:
    logger = (ModelLogger(experiment / job.kind, job.kind, data, lr=job.lr, iterations=cfg.iterations,
                          config=log_config, cadence=cadence, start_step=job.start_step)
              if experiment is not None else None)
    state: dict[str, Any] = {"steps": job.start_step}

    def on_start(side: ScratchSide, reference: Net) -> None:
        state.update(side=side, reference=reference)
        if logger is not None:
            logger.start(side, reference)

    def on_progress(t: int) -> None:          # after step t of both sides and of the logger
        state["steps"] = t + 1
        progress(t)
        stop.check()

    with logger if logger is not None else contextlib.nullcontext():
        try:
            result = check_model(
                job.model, data, lr=job.lr, iterations=cfg.iterations, batch_size=cfg.batch_size,
                seed=cfg.seed, device=cfg.device, activation=cfg.activation,
                output=cfg.output_for(data), alpha=cfg.alpha, fd_max_entries=cfg.fd_max_entries,
                name=job.kind, on_start=on_start, on_step=logger.step if logger is not None else None,
                progress=on_progress, start_step=job.start_step, torch_params=job.torch_params)
        except KeyboardInterrupt:
            if experiment is not None and "side" in state and not stop.forced:
                save_checkpoints(experiment, job, state["side"], state["reference"], state["steps"], cfg)
            raise
        if logger is not None:
            logger.finish(result)
            seconds[0] += logger.seconds
    if experiment is not None and "side" in state and not result.error:
        save_checkpoints(experiment, job, state["side"], state["reference"], state["steps"], cfg)
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
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()}
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
