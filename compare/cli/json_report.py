"""The JSON report of the main job (`--json PATH`, or `-` for standard output): every
model's report, and what it ran on: the config (with each model's start and total steps,
for a resumed run), the environment and its tolerances, the dataset, the log folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

from compare.cli import parallel
from compare.output import report
from compare.run import files
from compare.run.config import RunConfig
from scratch.errors import InvalidArgument

if TYPE_CHECKING:
    from compare.cli.main_job import RunPlan
    from compare.proof.result import ModelReport


def environment(cfg: RunConfig) -> dict:
    """What the run's numbers depend on: library versions, device, threads, tolerances."""
    import torch

    from compare.precision import numerics_environment
    from compare.proof.tolerances import tolerance
    from torch_ref.device import resolve_device

    device = resolve_device(cfg.device)
    tol = tolerance(cfg.dtype, device.type)
    return {"numpy": np.__version__, "torch": torch.__version__, "device": str(device),
            "dtype": cfg.dtype, "threads": torch.get_num_threads(), **parallel.environment(),
            "tolerances": {"forward": tol.forward, "gradients": tol.gradients,
                           "trajectory": tol.trajectory},
            "numerics": numerics_environment(device)}


def write(args: argparse.Namespace, plan: RunPlan, reports: list[ModelReport],
          experiment: Path | None, log_seconds: float, json_out: TextIO) -> None:
    """The JSON report to `--json` (standard output for '-', else the file, atomically)."""
    cfg, data = plan.cfg, plan.data
    steps = {job.kind: {"start_step": job.start_step, "total_steps": job.start_step + cfg.iterations}
             for job in plan.jobs}
    meta = {"config": {**cfg.as_dict(), "resumed": plan.resumed is not None, "steps": steps},
            "environment": environment(cfg),
            "dataset": {"name": data.name, "n_x": data.n_x, "n_classes": data.n_classes,
                        "m_train": data.X_train.shape[1], "m_test": data.X_test.shape[1]},
            "logdir": str(experiment) if experiment is not None else None,
            "logging_seconds": round(log_seconds, 3)}
    text = report.json_text(report.to_json(reports, meta))
    if args.json == "-":
        json_out.write(text)
        json_out.flush()
        return
    try:
        files.write_text(args.json, text)
    except OSError as exc:      # checked up front; the disk may still fill or change
        kept = f"; the logs are kept in {experiment}" if experiment is not None else ""
        raise InvalidArgument(f"json: cannot write {args.json} ({exc.strerror or exc}); "
                              f"the table above is the report{kept}") from None
    print(f"report written to {args.json}")
