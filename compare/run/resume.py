"""A run's checkpoints: each model's pair written after its training (`save_checkpoints`),
and read back to go on with the run (`resumed_jobs`, for `nncompare --resume`).

    <experiment>/<model>/checkpoint.json          the manifest naming the current pair
    <experiment>/<model>/scratch/checkpoint.npz   each side's parameters after its last step
    <experiment>/<model>/torch/checkpoint.npz     (compare.run.checkpoint's format)

Both halves of a pair record its identity (`identity`: the run's random id, the model and the
training settings). A resume refuses a pair whose halves disagree with each other, with the
folder they sit in or with the rest of the run, and one whose two sides' parameters differ by
more than the trajectory tolerance: such a pair is not the two sides of one lockstep run. A
resume covers every model of the run: those with a pair go on from its step, those that never
started start from step 0.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compare.run import checkpoint, pair, rundir
from compare.run.config import RunConfig
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
    plugin: bool = False                             # a --scratch-impl model: no checkpoints


def checkpoint_path(experiment: Path, kind: str, side: str) -> Path:
    return experiment / kind / side / CHECKPOINT


def identity(cfg: RunConfig, kind: str, lr: float, run_id: str | None) -> dict:
    """What both halves of a checkpoint pair record, to be checked on resume: the run (its
    random id), the model (the folder it sits in) and the training settings."""
    return {"config": cfg.as_dict(), "kind": kind, "lr": lr, "run_id": run_id,
            "settings": {"lr": lr, "batch_size": cfg.batch_size, "seed": cfg.seed,
                         "dataset": cfg.dataset, "dtype": cfg.dtype}}


def save_checkpoints(experiment: Path, job: Job, reference: Net | None, steps: int,
                     cfg: RunConfig, run_id: str | None = None) -> str | None:
    """Both sides' parameters after `steps` steps, as one pair (`compare.run.pair`; our models
    only: a plug-in has no format; none before the harness built `reference`). What could not
    be written (None: all was, or there was nothing to write); the old pair is kept then."""
    if job.plugin or not isinstance(job.model, Model) or reference is None:
        return None                       # (a plug-in, even a subclass of ours, has its own code)
    if not all(np.all(np.isfinite(p)) for p in job.model.params.values()):
        return None                                  # a diverged run: nothing worth resuming
    try:
        pair.save(experiment / job.kind, job.model, reference, steps,
                  identity(cfg, job.kind, job.lr, run_id))
    except InvalidArgument as exc:
        return str(exc).removeprefix("checkpoint: ")
    return None


def resumable(experiment: Path) -> bool:
    """Whether `nncompare --resume experiment` would start (its checkpoints all check)."""
    try:
        resumed_jobs(experiment)
    except (InvalidArgument, OSError):
        return False
    return True


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


def resumed_jobs(experiment: Path) -> tuple[RunConfig, list[Job]]:
    """The config and jobs of a run to resume from its checkpoints (InvalidArgument if none,
    or if a pair does not belong to this run and this model): one job for every model of the
    run, those that never started with `model` None (the caller builds them)."""
    if not experiment.is_dir():
        raise InvalidArgument(f"resume: {experiment} is not a folder of an nncompare run")
    found = [d.name for d in sorted(experiment.iterdir())
             if d.is_dir() and not d.is_symlink() and pair.exists(d)]
    if not found:
        raise InvalidArgument(f"resume: {experiment} holds no checkpoints "
                              f"(expected {experiment}/<model>/scratch/{CHECKPOINT}; a run of "
                              "a --scratch-impl model keeps none, so it cannot be resumed)")
    pairs = {kind: _pair(experiment, kind) for kind in found}
    first = pairs[found[0]][0]
    with _as_invalid(str(experiment / found[0] / pair.MANIFEST)):
        cfg = _saved_config(first.extra["config"])
    run_id = rundir.run_id(experiment)
    for kind, (ours, theirs) in pairs.items():
        _check_belongs(experiment / kind, kind, ours, theirs, first, run_id)
        _check_agree(experiment / kind, ours, theirs, cfg)
    jobs = [Job(kind, checkpoint.to_scratch(pairs[kind][0]), float(pairs[kind][0].extra["lr"]),
                pairs[kind][0].step, pairs[kind][1].params)
            if kind in pairs else Job(kind, None, cfg.lr_for(kind)) for kind in cfg.models]
    stray = sorted(set(pairs) - set(cfg.models))
    if stray:
        raise InvalidArgument(f"resume: {experiment / stray[0]} holds checkpoints of a model "
                              f"that the run ({', '.join(cfg.models)}) does not have")
    return cfg, jobs


def _pair(experiment: Path, kind: str) -> tuple[checkpoint.Checkpoint, checkpoint.Checkpoint]:
    """The scratch and torch checkpoints of `kind`, checked to be one model after one step."""
    mine, other = checkpoint_path(experiment, kind, "scratch"), checkpoint_path(experiment, kind, "torch")
    with _as_invalid(str(mine)):
        ours, theirs = pair.load(experiment / kind)
        shown = [(c.side, list(c.spec.layer_dims), c.step) for c in (ours, theirs)]
        sides = ours.side == "scratch" and theirs.side == "torch"
        if not sides or (ours.spec, ours.step) != (theirs.spec, theirs.step):
            raise InvalidArgument(
                f"resume: {mine} and {other} are not the scratch and torch sides of one model "
                "after the same steps (got, as (side, layer_dims, step): "
                f"{shown[0]} and {shown[1]})")
        pair.verify(experiment / kind)
        float(ours.extra["lr"])
        ours.extra["config"]
    return ours, theirs


def _check_belongs(folder: Path, kind: str, ours: checkpoint.Checkpoint,
                   theirs: checkpoint.Checkpoint, first: checkpoint.Checkpoint,
                   run_id: str | None) -> None:
    """InvalidArgument naming the difference unless the pair's two halves record the same
    run, model and settings as each other, as the folder they sit in and as the run's first."""
    for key in ("run_id", "kind", "settings", "lr"):
        if ours.extra.get(key) != theirs.extra.get(key):
            raise InvalidArgument(f"resume: the two sides in {folder} are of different runs: "
                                  f"{key} is {ours.extra.get(key)!r} on the scratch side and "
                                  f"{theirs.extra.get(key)!r} on the torch side")
    if ours.extra.get("kind", kind) != kind:
        raise InvalidArgument(f"resume: {folder} holds the checkpoints of the "
                              f"{ours.extra.get('kind')!r} model, not of {kind!r}")
    if run_id is not None and ours.extra.get("run_id", run_id) != run_id:
        raise InvalidArgument(f"resume: {folder} holds the checkpoints of another run (run id "
                              f"{ours.extra.get('run_id')}, the folder's is {run_id})")
    mine = {k: v for k, v in ours.extra.get("settings", {}).items() if k != "lr"}
    theirs_first = {k: v for k, v in first.extra.get("settings", {}).items() if k != "lr"}
    if mine != theirs_first or ours.extra.get("config") != first.extra.get("config"):
        raise InvalidArgument(f"resume: {folder} was trained with other settings than the rest "
                              f"of the run ({mine} against {theirs_first})")


def _check_agree(folder: Path, ours: checkpoint.Checkpoint, theirs: checkpoint.Checkpoint,
                 cfg: RunConfig) -> None:
    """InvalidArgument unless the two sides' parameters agree within the trajectory tolerance
    (each layer against its size, at least lr, as the trajectory check measures them)."""
    from compare.proof.lockstep import layer_scales
    from compare.proof.metric import relative_error
    from compare.proof.tolerances import tolerance
    from torch_ref.device import resolve_device

    tol = tolerance(cfg.dtype, resolve_device(cfg.device).type).trajectory
    scales = layer_scales(theirs.params, float(ours.extra.get("lr", 0.0)))
    for name, value in ours.params.items():
        err = relative_error(value, theirs.params[name], scales[name])[0]
        if not err <= tol:
            raise InvalidArgument(f"resume: the scratch and torch {name} in {folder} differ by "
                                  f"{err:.1e}, more than the trajectory tolerance {tol:.0e}: "
                                  "they are not the two sides of one lockstep run")
